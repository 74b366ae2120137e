"""Pictures and audits of lineage: ``provhub render`` and ``provhub audit``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from provhub.provdm import registry
from provhub.provdm.audit_report import REPORT_FORMATS, format_report
from provhub.provdm.provsap import ProvSapQuery
from provhub.provdm.render import DIRECTIONS, FORMATS, render

from .. import services
from . import cli, open_store_from, settings_from, store_option


@cli.command(
    "render",
    help="Draw the lineage of ID (entity, activity or agent) as "
    + registry.spoken(name.upper() for name in FORMATS)
    + ".",
)
@click.argument("ident", metavar="ID")
@click.option("--depth", default="ALL", show_default=True, help="Relations to follow: N or ALL.")
@click.option(
    "--direction",
    default="BACK",
    show_default=True,
    type=click.Choice(["BACK", "FORTH"], case_sensitive=False),
    help="BACK: what it came from; FORTH: what came of it.",
)
@click.option(
    "--layout",
    default="BT",
    show_default=True,
    type=click.Choice(DIRECTIONS, case_sensitive=False),
    help="Graphviz rank direction.",
)
@click.option(
    "--format",
    "fmt",
    default=None,
    type=click.Choice(sorted(FORMATS)),
    help="Picture format (default: from the -o suffix, else svg).",
)
@click.option(
    "--node-cap",
    type=int,
    default=None,
    help="Collapse siblings above this many nodes (default PROVHUB_RENDER_NODE_CAP).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="File to write (- for standard output).",
)
@store_option
def render_command(ident, depth, direction, layout, fmt, node_cap, output, store_url):
    if fmt is None:
        picture = registry.by_suffix(registry.PICTURE, Path(output).suffix)
        fmt = picture.name if picture else "svg"
    settings = settings_from(store_url)
    store = open_store_from(store_url, settings)
    try:
        query = ProvSapQuery.from_args(
            {"ID": ident, "DEPTH": depth, "DIRECTION": direction.upper()}, max_depth=settings.max_depth
        )
        doc = services.trace(store, query, settings=settings)
        highlight = {services.resolve_id(store, ident)}
    finally:
        store.close()
    body = render(
        doc,
        fmt,
        direction=layout.upper(),
        highlight=highlight,
        node_cap=node_cap if node_cap is not None else settings.render_node_cap,
    )
    if output == "-":
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        Path(output).write_bytes(body)
        click.echo(f"wrote {output} ({len(body):,} bytes, {fmt})", err=True)


@cli.command("audit")
@click.argument("idents", metavar="ID", nargs=-1, required=True)
@click.option(
    "--format", "fmt", default="text", show_default=True, type=click.Choice(list(REPORT_FORMATS)), help="Report format."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="File to write (- for standard output).",
)
@click.option("--as-of", "as_of", default=None, metavar="TIME", help="Audit as the store knew it at this ISO time.")
@store_option
def audit_command(idents, fmt, output, as_of, store_url):
    """Audit the full backward lineage of a product: summary, completeness, consistency.

    Exits with status 1 when the report has errors."""
    settings = settings_from(store_url)
    store = open_store_from(store_url, settings)
    try:
        from .. import asof

        at = asof.store_as_of(store, asof.parse_as_of(as_of, where="--as-of"), settings)
        report = services.audit_product(at, list(idents), settings=settings)
    finally:
        store.close()
    text = format_report(report, fmt)
    if output == "-":
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    if report.has_errors:
        sys.exit(1)
