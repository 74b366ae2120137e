"""The ``provhub`` command. Commands live in modules of this package, each imported by name at
start (a missing one is an ImportError, not a command that quietly is not there): ``core`` (serve,
ingest, provsap, validate), ``importers``, ``visual`` and ``admin`` (tokens, export)."""

from __future__ import annotations

import click

from provhub.provdm.errors import ProvhubError

from ..config import Settings


class ProvhubGroup(click.Group):
    """Turns provhub errors into one clear line on stderr and exit code 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ProvhubError as exc:
            where = f" (at {exc.where})" if exc.where else ""
            raise click.ClickException(f"{exc.code}: {exc.message}{where}") from None


@click.group(cls=ProvhubGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="provhub")
def cli():
    """provhub: a provenance store for astronomy (IVOA ProvenanceDM on W3C PROV).

    The store is chosen by --store or PROVHUB_STORE_URL (default sqlite:///provhub.db).
    """


store_option = click.option(
    "--store",
    "store_url",
    metavar="URL",
    default=None,
    help="Store URL (sqlite:///FILE or bolt://HOST:PORT); default PROVHUB_STORE_URL.",
)


def settings_from(store_url: str | None = None) -> Settings:
    return Settings.from_env(store_url=store_url)


def open_store_from(store_url: str | None = None, settings: Settings | None = None):
    from ..stores import open_store

    settings = settings or settings_from(store_url)
    return open_store(settings.store_url, settings)


def _load():
    """Import the command modules; each registers its commands on ``cli``."""
    from . import admin, bundle, core, importers, lifecycle, obscore, pipeline, questions, visual  # noqa: F401


def main(argv=None):
    _load()
    return cli.main(args=argv, prog_name="provhub")


_load_done = False


def load_commands():
    """Register every command module (CliRunner tests call this before invoking ``cli``)."""
    global _load_done
    if not _load_done:
        _load()
        _load_done = True
    return cli
