"""Core commands: serve, ingest, provsap, validate."""

from __future__ import annotations

import sys
import time

import click

from provhub.provdm import formats
from provhub.provdm.errors import ProvhubError
from provhub.provdm.provsap import RESPONSE_FORMATS, ProvSapQuery
from provhub.provdm.validate import LEVELS

from .. import services
from . import cli, open_store_from, settings_from, store_option


@cli.command()
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--sample/--no-sample",
    default=None,
    help="Load the sample lineage into an empty store first (default: PROVHUB_SAMPLE, on).",
)
def serve(store_url, host, port, sample):
    """Run the HTTP service (Flask/werkzeug; use gunicorn 'provhub.app:create_app()' in production)."""
    from .. import create_app, settle

    settings = settings_from(store_url)
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    if sample if sample is not None else settings.sample.lower() in ("on", "true", "1", "yes"):
        loaded = load_sample(store, settings)
        if loaded:
            click.echo(f"loaded sample lineage: {loaded} documents", err=True)
    click.echo(f"provhub serving {settings.store_url} on http://{host}:{port}/", err=True)
    settle()
    app.run(host=host, port=port, threaded=True)


def load_sample(store, settings) -> int:
    """Ingest the sample lineage when the store is empty; return how many documents went in."""
    if store.stats().documents:
        return 0
    try:
        from ..sample import sample_documents
    except ModuleNotFoundError:
        return 0
    n = 0
    for doc in sample_documents():
        services.ingest_prov(store, doc, settings=settings, validation="off")
        n += 1
    return n


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    type=click.Choice(["auto", *formats.FORMATS]),
    help="Syntax of the files.",
)
@click.option(
    "--validation",
    type=click.Choice(["strict", "warn", "off"]),
    default=None,
    help="Validation level (default PROVHUB_VALIDATION, warn).",
)
@click.option("--rights", type=click.Choice(["public", "proprietary"]), default="public", show_default=True)
@click.option("--group", default=None, help="Owner group of proprietary documents.")
@click.option("--release", default=None, help="Date (YYYY-MM-DD) a proprietary document becomes public.")
@click.option(
    "--supersedes",
    default=None,
    metavar="DOC_ID",
    help="Id of a stored document this one corrects (it is then superseded; one file only).",
)
@store_option
def ingest(files, fmt, validation, rights, group, release, supersedes, store_url):
    """Store PROV documents; print one line per file: id, records, created/unchanged."""
    if supersedes and len(files) != 1:
        raise click.UsageError("--supersedes takes exactly one file")
    settings = settings_from(store_url)
    store = open_store_from(settings=settings)
    failed = 0
    try:
        for path in files:
            try:
                text, f = services.read_file(path, fmt)
                t0 = time.perf_counter()
                res = services.ingest(
                    store,
                    text,
                    f,
                    settings=settings,
                    validation=validation,
                    rights=rights,
                    group=group,
                    release=release,
                    supersedes=supersedes,
                )
                dt = time.perf_counter() - t0
            except ProvhubError as exc:
                failed += 1
                where = f" at {exc.where}" if exc.where else ""
                click.echo(f"{path}: error {exc.code}: {exc.message}{where}", err=True)
                continue
            click.echo(
                f"{path}\t{res.id}\t{res.records} records\t{'created' if res.created else 'unchanged'}\t{dt:.3f}s"
            )
            for w in res.warnings:
                click.echo(f"  warning: {w}", err=True)
    finally:
        store.close()
    sys.exit(1 if failed else 0)


@cli.command()
@click.option("--id", "ids", multiple=True, required=True, help="Entity, activity or agent id (repeatable).")
@click.option("--depth", default="1", show_default=True, help="Relations to follow: N or ALL.")
@click.option("--direction", default="BACK", show_default=True, help="BACK or FORTH.")
@click.option("--members", is_flag=True, help="Follow collections to their members.")
@click.option("--steps", is_flag=True, help="Follow activity flows to their steps.")
@click.option("--agent", is_flag=True, help="Expand agents (what they are responsible for).")
@click.option("--model", default="IVOA", show_default=True, help="IVOA or W3C.")
@click.option(
    "--responseformat", default="PROV-JSON", show_default=True, help=", ".join(RESPONSE_FORMATS) + " (or a media type)."
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write to a file.")
@click.option("--as-of", "as_of", default=None, metavar="TIME", help="Answer as the store knew it at this ISO time.")
@store_option
def provsap(ids, depth, direction, members, steps, agent, model, responseformat, output, as_of, store_url):
    """Answer a ProvSAP query, the same answer as GET /provsap, to stdout."""
    settings = settings_from(store_url)
    args = {
        "ID": list(ids),
        "DEPTH": depth,
        "DIRECTION": direction,
        "MEMBERS": str(members),
        "STEPS": str(steps),
        "AGENT": str(agent),
        "MODEL": model,
        "RESPONSEFORMAT": responseformat,
    }
    query = ProvSapQuery.from_args(args, max_depth=settings.max_depth)
    store = open_store_from(settings=settings)
    try:
        from .. import asof

        at = asof.store_as_of(store, asof.parse_as_of(as_of, where="--as-of"), settings)
        body, _media = services.provsap_response(at, query, settings=settings)
    finally:
        store.close()
    if output:
        with open(output, "wb") as fh:
            fh.write(body)
    else:
        sys.stdout.buffer.write(body)
        if not body.endswith(b"\n") and query.kind in formats.FORMATS:
            sys.stdout.buffer.write(b"\n")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", default="auto", show_default=True, type=click.Choice(["auto", *formats.FORMATS]))
@click.option(
    "--level",
    type=click.Choice(LEVELS),
    default=None,
    help="strict: any finding makes the file invalid; warn: findings are warnings; off: no checks "
    "beyond what storing needs (default: PROVHUB_VALIDATION, the level POST /documents uses).",
)
def validate(files, fmt, level):
    """Check PROV files without storing them, as POST /documents does at the same level (to a
    store that holds nothing they conflict with); exit code 1 when any is invalid."""
    settings = settings_from(None)
    bad = 0
    for path in files:
        try:
            text, f = services.read_file(path, fmt)
            prepared, warnings = services.prepare(text, f, settings=settings, validation=level)
        except ProvhubError as exc:
            bad += 1
            where = f" at {exc.where}" if exc.where else ""
            click.echo(f"{path}: INVALID {exc.code}: {exc.message}{where}")
            for d in exc.details[1:]:
                click.echo(f"  {d}")
            continue
        click.echo(
            f"{path}: valid ({prepared.records} records, {len(prepared.nodes)} elements, "
            f"{len(prepared.relations)} relations)"
        )
        for w in warnings:
            click.echo(f"  warning: {w}")
    sys.exit(1 if bad else 0)
