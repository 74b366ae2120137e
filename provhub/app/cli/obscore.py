"""``provhub import-obscore``: join an ObsCore table's rows to the records they describe."""

from __future__ import annotations

import json

import click

from .. import obscore
from . import cli, open_store_from, settings_from, store_option


@cli.command("import-obscore")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--rights", default=None, help="public (default) or proprietary.")
@click.option("--group", default=None, help="Owner group (needed for proprietary).")
@click.option("--dry-run", is_flag=True, help="Report the joins, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@store_option
def import_obscore(path, rights, group, dry_run, as_json, store_url):
    """Read an ObsCore table (VOTable or FITS): each row's obs_publisher_did becomes a name of the
    file it describes (matched by DID, access_url file name, or obs_id) and access_url its
    location. Ambiguous and unmatched rows are reported, never guessed (exit 2 when any)."""
    settings = settings_from(store_url)
    store = open_store_from(store_url, settings)
    try:
        report = obscore.import_obscore(store, path, settings=settings, dry_run=dry_run, rights=rights, group=group)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        for m in report.matched:
            click.echo(f"row {m['row']}\t{m['obs_publisher_did']}\t{m['record']}\tby {m['by']}")
        for a in report.ambiguous:
            click.echo(f"row {a['row']}\tambiguous ({a['why']})\t{', '.join(a['candidates'])}", err=True)
        for u in report.unmatched:
            click.echo(f"row {u['row']}\tunmatched\t{u['why']}", err=True)
        click.echo(
            f"{len(report.matched)} matched, {len(report.ambiguous)} ambiguous, {len(report.unmatched)} unmatched"
            + (f"; document {report.document}" if report.document else ""),
            err=True,
        )
    if report.ambiguous or report.unmatched:
        raise SystemExit(2)
