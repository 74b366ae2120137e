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


@cli.command(context_settings={"ignore_unknown_options": True})
@url_option
@click.option("--used", "used", multiple=True, type=click.Path(exists=True, dir_okay=False), help="An input file.")
@click.option("--generated", "generated", multiple=True, type=click.Path(dir_okay=False), help="An output file.")
@click.option("--config", "configs", multiple=True, type=click.Path(exists=True, dir_okay=False), help="A config file.")
@click.option("--name", default=None, help="The activity's name (default: the command's name).")
@click.option("--software", multiple=True, help="A distribution whose version to record (importlib.metadata).")
@click.option("--spool", default=None, type=click.Path(file_okay=False), help="Spool here what cannot be sent.")
@click.option("--rights", type=click.Choice(["public", "proprietary"]), default=None, help="Who may read it.")
@click.option("--group", default=None, help="Owner group of a proprietary document.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(url, used, generated, configs, name, software, spool, rights, group, command):
    """Run COMMAND, record it as one activity and post it: provhub run --used IN --generated OUT -- CMD ARGS.

    The command's exit code is provhub's; a failing command is recorded as failed."""
    import subprocess
    from pathlib import Path

    from provhub import capture

    client = _client(url, spool)
    act = capture.activity(
        name or Path(command[0]).name, description=None, client=client, software=software, rights=rights, group=group
    )
    act.attributes["commandLine"] = " ".join(command)
    with act:
        for path in used:
            act.used(path)
        for path in configs:
            act.config(path)
        code = subprocess.call(list(command))
        act.attributes["exitCode"] = code
        for path in generated:
            if Path(path).is_file():
                act.generated(path)
        if code:
            act.fail(f"exit code {code}")
    where = (
        act.result.id if act.result and act.result.id else f"the spool ({act.result.spooled})" if act.result else "?"
    )
    click.echo(f"recorded {act.id} ({act.status}) as {where}", err=True)
    raise SystemExit(code)
