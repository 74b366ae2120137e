"""Operator commands: API tokens, document rights, backup (export / import-export)."""

from __future__ import annotations

import json
import secrets
import sys
from dataclasses import replace

import click

from provhub.provdm.errors import InvalidParameter

from .. import identity, services
from ..access import OPERATOR, ROLES, hash_token, new_token
from ..stores.base import TokenRecord, utcnow_iso
from . import cli, open_store_from, settings_from, store_option


@cli.group()
def tokens():
    """Manage API tokens (stored hashed; the token is printed once, at creation)."""


@tokens.command("create")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True)
@click.option(
    "--group", "groups", multiple=True, help="Group whose proprietary documents the token reads (repeatable)."
)
@click.option("--name", default=None, help="Who the token is for (default: role and groups).")
@store_option
def tokens_create(role, groups, name, store_url):
    """Create a token; the token itself is the last line of the output."""
    store = open_store_from(store_url)
    try:
        token = new_token()
        record = TokenRecord(
            id=secrets.token_hex(4),
            name=name or f"{role}:{','.join(groups) or '-'}",
            role=role,
            groups=sorted(groups),
            hash=hash_token(token),
            created_at=utcnow_iso(),
        )
        store.save_token(record)
    finally:
        store.close()
    click.echo(f"created token {record.id} ({record.name}, role {role}, groups {','.join(groups) or '-'})", err=True)
    click.echo(token)


@tokens.command("list")
@store_option
def tokens_list(store_url):
    """List tokens: id, name, role, groups, created, revoked."""
    store = open_store_from(store_url)
    try:
        for t in store.list_tokens():
            click.echo(
                f"{t.id}\t{t.name}\t{t.role}\t{','.join(t.groups) or '-'}\t{t.created_at}"
                f"\t{'revoked' if t.revoked else 'active'}"
            )
    finally:
        store.close()


@tokens.command("revoke")
@click.argument("token_id")
@store_option
def tokens_revoke(token_id, store_url):
    """Revoke a token by its id (see `provhub tokens list`)."""
    store = open_store_from(store_url)
    try:
        if not store.revoke_token(token_id):
            raise InvalidParameter(f"no token with id {token_id!r}", where="TOKEN_ID")
    finally:
        store.close()
    click.echo(f"revoked {token_id}")


@cli.command()
@click.argument("doc_id")
@click.option("--rights", type=click.Choice(["public", "proprietary"]), required=True)
@click.option("--group", default=None, help="Owner group (proprietary); left out: kept.")
@click.option("--release", default=None, help="Date YYYY-MM-DD after which the document is public; left out: kept.")
@store_option
def rights(doc_id, rights, group, release, store_url):
    """Change who may read a stored document."""
    store = open_store_from(store_url)
    changes = {"rights": rights, "group": group, "release": release}
    try:
        stored = services.set_rights(store, doc_id, {k: v for k, v in changes.items() if v is not None})
    finally:
        store.close()
    click.echo(f"{stored.id}\t{stored.rights}\t{stored.group or '-'}\t{stored.release or '-'}")


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.File("w"),
    default="-",
    show_default=True,
    help="File to write (JSON lines: one document with its rights per line).",
)
@store_option
def export(output, store_url):
    """Write every document, as ingested, with its rights (a backup that import-export reads)."""
    store = open_store_from(store_url)
    n = 0
    try:
        offset = 0
        while True:
            docs, total = store.list_documents(offset=offset, limit=500, retired=True)
            for d in docs:
                history = [
                    {"doc": h.doc_id, "action": h.action, "by": h.actor, "at": h.at, "other": h.other}
                    for h in store.history(d.id)
                    if h.doc_id == d.id
                ]
                output.write(
                    json.dumps(
                        {
                            "id": d.id,
                            "format": d.format,
                            "document": d.original,
                            "rights": d.rights,
                            "group": d.group,
                            "release": d.release,
                            "poster": d.poster,
                            "created_at": d.created_at,
                            "status": d.status,
                            "superseded_by": d.superseded_by,
                            "history": history,
                        }
                    )
                    + "\n"
                )
                n += 1
            offset += len(docs)
            if not docs or offset >= total:
                break
    finally:
        store.close()
    click.echo(f"exported {n} documents", err=True)


@cli.command("import-export")
@click.argument("file", type=click.File("r"))
@store_option
def import_export(file, store_url):
    """Load a file written by `provhub export` into a store (any backend); idempotent."""
    settings = settings_from(store_url)
    store = open_store_from(settings=settings)
    created = unchanged = 0
    retired = []
    try:
        for lineno, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                text, fmt = item["document"], item["format"]
            except (ValueError, KeyError) as exc:
                raise InvalidParameter(f"not an export line: {exc}", where=f"line {lineno}") from None
            res = services.ingest(
                store,
                text,
                fmt,
                settings=settings,
                validation="off",
                rights=item.get("rights"),
                group=item.get("group"),
                release=item.get("release"),
                viewer=replace(OPERATOR, principal=item.get("poster")),  # who posted it, kept
            )
            if res.id != item.get("id", res.id):
                click.echo(f"line {lineno}: document id changed from {item['id']} to {res.id}", err=True)
            created += res.created
            unchanged += not res.created
            if item.get("status", "live") != "live":
                retired.append((res.id, item))
        for doc_id, item in retired:  # once every version is in: what was retracted or superseded
            identity.restore(store, doc_id, item["status"], item.get("superseded_by"), item.get("history") or [])
    finally:
        store.close()
    click.echo(f"imported {created} documents, {unchanged} already there")
    sys.exit(0)
