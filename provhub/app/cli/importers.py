"""Importer commands: import-fits, import-datastore, import-analysis, import-ctapipe-log.

Each import becomes one PROV document, ingested into the store (``--store`` or
PROVHUB_STORE_URL) like any other, or written as PROV-JSON with ``--output`` without touching a
store. Warnings (numbered, see docs/importers.md) and a per-file summary go to stderr; the exit
code is 1 when a file could not be imported.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from provhub.importers import import_analysis, import_ctapipe_log, import_datastore, import_fits
from provhub.importers.fits import expand_paths

from .. import services
from . import cli, open_store_from, settings_from, store_option

output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Write the PROV-JSON document to this file ('-' for stdout) instead of storing it.",
)


def ingest_options(command):
    """--rights/--group/--release, as for `provhub ingest` (the command gets them as **ingest)."""
    for option in reversed(
        [
            click.option(
                "--rights",
                type=click.Choice(["public", "proprietary"]),
                default="public",
                show_default=True,
                help="Who may read the stored document.",
            ),
            click.option("--group", default=None, help="Owner group of a proprietary document."),
            click.option("--release", default=None, help="Date (YYYY-MM-DD) a proprietary document becomes public."),
        ]
    ):
        command = option(command)
    return command


def summary_table(files) -> str:
    """The per-file summary: status, HDUs, keywords, path, entity IRI (or the problem)."""
    rows = [("status", "hdus", "keywords", "file", "entity")]
    rows += [
        (f.status, str(f.hdus), str(f.keywords), f.path, f.entity or "" if f.status != "failed" else f"({f.message})")
        for f in files
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:<{widths[3]}}  {r[4]}".rstrip()
        for r in rows
    )


def finish(result, *, output: str | None, store_url: str | None, started: float, **ingest) -> None:
    """Store or write the document, report warnings, the summary and the rate; exit 1 on failure."""
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(summary_table(result.files), err=True)
    seconds = max(time.perf_counter() - started, 1e-9)
    read = [f for f in result.files if f.status != "failed"]
    keywords = sum(f.keywords for f in read)
    click.echo(
        f"{len(read)} file(s), {keywords} keyword(s) in {seconds:.2f} s "
        f"({len(read) / seconds:.1f} files/s, {keywords / seconds:.0f} keywords/s)",
        err=True,
    )
    if not result.document.get_records():
        click.echo("nothing to import", err=True)
    elif output:
        text = services.to_provjson(result.document)
        if output == "-":
            click.echo(text)
        else:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"wrote {output}")
    else:
        settings = settings_from(store_url)
        store = open_store_from(store_url, settings)
        try:
            ingested = services.ingest_prov(store, result.document, settings=settings, **ingest)
        finally:
            store.close()
        for warning in ingested.warnings:
            click.echo(f"warning: {warning}", err=True)
        state = "created" if ingested.created else "unchanged"
        click.echo(f"document {ingested.id}: {ingested.records} records, {state}")
    if result.failed:
        raise SystemExit(1)


@cli.command("import-fits")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=False))
@click.option("--recursive", "-r", is_flag=True, help="Also import FITS files in subdirectories.")
@output_option
@ingest_options
@store_option
def import_fits_command(paths, recursive, output, store_url, **ingest):
    """Import the headers of FITS files (and directories of them) as one PROV document."""
    started = time.perf_counter()
    files = expand_paths(paths, recursive)
    if len(files) > 1:
        with click.progressbar(length=len(files), label="reading FITS headers", file=sys.stderr) as bar:
            result = import_fits(files, on_file=lambda _path: bar.update(1))
    else:
        result = import_fits(files)
    finish(result, output=output, store_url=store_url, started=started, **ingest)


def _single_input_command(name: str, importer, argument, help_text: str):
    """A command importing one directory or file with ``importer(path)``."""

    @cli.command(name, help=help_text)
    @argument
    @output_option
    @ingest_options
    @store_option
    def command(path, output, store_url, **ingest):
        started = time.perf_counter()
        finish(importer(path), output=output, store_url=store_url, started=started, **ingest)

    return command


import_datastore_command = _single_input_command(
    "import-datastore",
    import_datastore,
    click.argument("path", metavar="DIR", type=click.Path(exists=True, file_okay=False)),
    "Import a gammapy DataStore (obs-index, hdu-index and the DL3 files they list).",
)
import_ctapipe_log_command = _single_input_command(
    "import-ctapipe-log",
    import_ctapipe_log,
    click.argument("path", metavar="LOGFILE", type=click.Path(exists=True, dir_okay=False)),
    "Import a ctapipe provenance log (*.provenance.log, JSON arrays back to back).",
)


@cli.command("import-analysis")
@click.argument("config", type=click.Path(exists=True, dir_okay=False))
@click.argument("product", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--datastore",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="DataStore directory (default: the config's observations.datastore, env vars expanded).",
)
@output_option
@ingest_options
@store_option
def import_analysis_command(config, product, datastore, output, store_url, **ingest):
    """Import a gammapy analysis: its config YAML, its DL5 product and the DL3 observations used."""
    started = time.perf_counter()
    finish(
        import_analysis(config, product, datastore=datastore),
        output=output,
        store_url=store_url,
        started=started,
        **ingest,
    )
