"""Pipeline commands, through :mod:`provhub.client` (HTTP to a running service, not a store):
``push`` sends a client spool."""

from __future__ import annotations

import click

from . import cli

url_option = click.option("--url", default=None, metavar="URL", help="The service's URL; default PROVHUB_URL.")


def _client(url, spool=None, retry_for=60.0):
    from provhub.client import Client, ClientError

    try:
        return Client(url, spool=spool, retry_for=retry_for)
    except ClientError as exc:
        raise click.UsageError(str(exc)) from None


@cli.command()
@url_option
@click.option(
    "--spool",
    "spool",
    required=True,
    type=click.Path(file_okay=False),
    help="The spool directory a Client(spool=...) wrote.",
)
@click.option("--retry-for", default=60.0, show_default=True, help="Seconds to keep trying an unreachable service.")
def push(url, spool, retry_for):
    """Send the documents of a client spool, oldest first, each once; exit 1 if some are left."""
    from provhub.client import ServiceError

    client = _client(url, spool, retry_for)
    try:
        sent = client.flush(retry_for=retry_for)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    left = len(client.spool) if client.spool is not None else 0
    click.echo(f"sent {sent} document(s); {left} left in {spool}", err=True)
    if left:
        raise SystemExit(1)
