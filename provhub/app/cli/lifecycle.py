"""Identity and lifecycle commands: retract, history, resolve."""

from __future__ import annotations

import json
import sys

import click

from provhub.provdm.errors import AmbiguousId

from .. import identity, services
from . import cli, open_store_from, store_option


@cli.command()
@click.argument("doc_id")
@store_option
def retract(doc_id, store_url):
    """Retract a document: records only it asserted leave lineage, search and pictures; records
    that other documents also assert stay, with only what those say. The history is kept."""
    store = open_store_from(store_url)
    try:
        out = identity.retract(store, doc_id)
    finally:
        store.close()
    click.echo(f"{out['id']}\tretracted\t{out['records_removed']} records removed\t{out['records_rebuilt']} rebuilt")


@cli.command()
@click.argument("doc_id")
@store_option
def history(doc_id, store_url):
    """What happened to a document: ingested, superseded (by), supersedes, retracted."""
    store = open_store_from(store_url)
    try:
        out = identity.history(store, doc_id)
    finally:
        store.close()
    click.echo(f"{out['id']}\t{out['status']}\tingested {out['created_at']}")
    for h in out["history"]:
        click.echo(f"{h['at']}\t{h['action']}\t{h['doc']}\t{h['other'] or '-'}\t{h['by'] or '-'}")


@cli.command()
@click.argument("ident")
@click.option(
    "--pin",
    "pin_to",
    default=None,
    metavar="RECORD_ID",
    help="Decide an ambiguous name: IDENT (an alias, or id:<stand-in id>) means RECORD_ID.",
)
@click.option("--unpin", is_flag=True, help="Take back a --pin decision.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@store_option
def resolve(ident, pin_to, unpin, as_json, store_url):
    """The canonical id of a record known by IDENT (id, file name, digest, OBS_ID...) and all its
    aliases; exit 1 when IDENT names nothing, 2 when it is ambiguous (the candidates are listed)."""
    store = open_store_from(store_url)
    try:
        if pin_to or unpin:
            if not pin_to:
                raise click.UsageError("--unpin needs --pin RECORD_ID (the decision to take back)")
            out = identity.pin(store, ident, services.resolve_id(store, pin_to), remove=unpin)
            click.echo(f"{out['key']}\t{'pinned to' if out['pinned'] else 'unpinned from'}\t{out['to']}")
            return
        try:
            out = identity.describe(store, services.resolve_id(store, ident))
        except AmbiguousId as exc:
            click.echo(f"{ident}: ambiguous, {len(exc.details)} candidates:", err=True)
            for d in exc.details:
                click.echo(f"  {d['candidate']}", err=True)
            sys.exit(2)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(out, indent=2))
        return
    click.echo(out["id"])
    for key in out["aliases"]:
        click.echo(f"  alias\t{key}")
    for joined in out["joined"]:
        click.echo(f"  joined\t{joined}")
