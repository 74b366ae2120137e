"""``provhub impact``, ``provhub diff`` and ``provhub manifest`` (docs/impact.md)."""

from __future__ import annotations

import sys

import click

from provhub.provdm.errors import ProvhubError
from provhub.provdm.reports import DIFF_FORMATS, IMPACT_FORMATS, write_diff, write_impact

from . import cli, open_store_from, settings_from, store_option


def _write(text: str, output: str) -> None:
    if output == "-":
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)


class _Failed(click.ClickException):
    """An error of a command whose status 1 means "found something": status 2."""

    exit_code = 2

    def __init__(self, exc: ProvhubError):
        where = f" (at {exc.where})" if exc.where else ""
        super().__init__(f"{exc.code}: {exc.message}{where}")


as_of_option = click.option(
    "--as-of", "as_of", default=None, metavar="TIME", help="Answer as the store knew it at this ISO time."
)


def _at(store, as_of, settings):
    from .. import asof

    try:
        return asof.store_as_of(store, asof.parse_as_of(as_of, where="--as-of"), settings)
    except ProvhubError as exc:
        raise _Failed(exc) from None


output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="-",
    show_default=True,
    help="File to write (- for standard output).",
)


@cli.command("impact")
@click.argument("idents", metavar="ID", nargs=-1)
@click.option(
    "--where",
    "selectors",
    multiple=True,
    metavar="SELECTOR",
    help="Start from the records a selector selects (repeatable, any one), e.g. "
    "'software=ctapipe & version<0.20' (docs/impact.md).",
)
@click.option("--level", "levels", multiple=True, metavar="DL", help="Only products of this data level (repeatable).")
@click.option(
    "--format", "fmt", default="text", show_default=True, type=click.Choice(list(IMPACT_FORMATS)), help="Report format."
)
@as_of_option
@output_option
@store_option
def impact_command(idents, selectors, levels, fmt, as_of, output, store_url):
    """What depends on the inputs ID (any alias) or those --where selects, at any depth:
    affected products by data level and what to re-run.

    Exits with status 1 when anything is affected, 0 when nothing is, 2 on an error."""
    from .. import impact

    if not idents and not selectors:
        raise click.UsageError("give at least one ID or --where")
    settings = settings_from(store_url)
    store = open_store_from(settings=settings)
    try:
        report = impact.impact(
            _at(store, as_of, settings), list(idents), list(selectors), settings=settings, levels=list(levels)
        )
    except ProvhubError as exc:
        raise _Failed(exc) from None
    finally:
        store.close()
    _write(write_impact(report.to_dict(), fmt), output)
    sys.exit(1 if report.affected else 0)


@cli.command("diff")
@click.argument("a", metavar="A")
@click.argument("b", metavar="B")
@click.option(
    "--format", "fmt", default="text", show_default=True, type=click.Choice(list(DIFF_FORMATS)), help="Report format."
)
@as_of_option
@output_option
@store_option
def diff_command(a, b, fmt, as_of, output, store_url):
    """How the provenance of products A and B differs: observations, IRFs, software, analysis
    parameters, configuration files, agents.

    Exits with status 1 when they differ, 0 when they do not, 2 on an error."""
    from .. import diff

    settings = settings_from(store_url)
    store = open_store_from(settings=settings)
    try:
        report = diff.diff(_at(store, as_of, settings), a, b, settings=settings)
    except ProvhubError as exc:
        raise _Failed(exc) from None
    finally:
        store.close()
    _write(write_diff(report.to_dict(), fmt), output)
    sys.exit(1 if report.count else 0)


@cli.command("manifest")
@click.argument("ident", metavar="ID")
@click.option("--format", "fmt", default="yaml", show_default=True, type=click.Choice(["yaml", "json"]))
@as_of_option
@output_option
@store_option
def manifest_command(ident, fmt, as_of, output, store_url):
    """What is needed to make product ID again: input files with checksums, software and a
    requirements list, parameters and configuration (gammapy-style when from gammapy),
    observation ids."""
    from .. import manifest

    settings = settings_from(store_url)
    store = open_store_from(settings=settings)
    try:
        data = manifest.manifest(_at(store, as_of, settings), ident, settings=settings)
    finally:
        store.close()
    _write(manifest.write(data, fmt), output)
