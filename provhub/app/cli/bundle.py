"""``provhub bundle``: a dataset with its calibration and auxiliary files (provhub/app/bundle.py)."""

from __future__ import annotations

import click

from .. import bundle as _bundle
from . import cli, open_store_from, settings_from, store_option


@cli.command()
@click.argument("ident", metavar="ID")
@click.option("-o", "--out", required=True, metavar="DIR|FILE.tar", help="A new directory, or a .tar file, to write.")
@click.option(
    "--root",
    default=".",
    show_default=True,
    type=click.Path(exists=True, file_okay=False),
    help="Read files only below this directory (relative locations are relative to it).",
)
@store_option
def bundle(ident, out, root, store_url):
    """Collect dataset ID (any alias) with the files of its #calibration and #auxiliary links
    (DataLink) that exist on disk, and a manifest.json of what each file is and what is missing."""
    settings = settings_from(store_url)
    store = open_store_from(store_url, settings)
    try:
        manifest = _bundle.bundle(store, ident, out, settings=settings, root=root)
    finally:
        store.close()
    for f in manifest["files"]:
        kinds = sorted({lk["local_semantics"] or lk["semantics"] for lk in f["links"]})
        click.echo(f"{f['path']}\t{f['bytes']}\t{','.join(kinds)}")
    for f in manifest["not_copied"]:
        click.echo(f"not copied\t{f['location']}\t{f['why']}", err=True)
    click.echo(f"{len(manifest['files'])} files and manifest.json in {out}", err=True)
