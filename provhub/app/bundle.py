"""``provhub bundle``: a dataset with its calibration and auxiliary files, ready for analysis.

The files are those its DataLink document names (:func:`provhub.app.datalink.links`) as ``#this``,
``#calibration`` and ``#auxiliary``: a DL3 file with its IRFs and GTI (HDUs of the same file),
the instrument configuration; a DL5 product with the run files whose IRFs were applied, its
configuration, model and index files. Each file is copied once, whatever number of links name
it, from the location its record gives (a path relative to ``root``, or an absolute path inside
``root``): a location outside ``root`` is not read (a document can name any path), a URL is
listed and not fetched, and a file not on disk is listed as missing. ``manifest.json`` says what
each file is (its links, records and sha256) and what is missing.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import shutil
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from provhub.provdm.datalink import AUXILIARY, CALIBRATION, THIS
from provhub.provdm.errors import InvalidParameter, NotFound

from . import datalink
from .access import OPERATOR, Viewer
from .stores.base import Store

BUNDLED = (THIS, CALIBRATION, AUXILIARY)
MANIFEST = "manifest.json"


@dataclass
class _File:
    source: str
    links: list = field(default_factory=list)


def _plan(store: Store, ident: str, *, settings, viewer: Viewer) -> tuple[dict[str, _File], list[dict]]:
    rows = datalink.links(store, [ident], settings=settings, viewer=viewer, record_url=lambda rid: rid, provsap=False)
    errors = [r.error_message for r in rows if r.error_message]
    if errors:
        raise NotFound(errors[0].split(": ", 1)[-1], where="ID")
    files: dict[str, _File] = {}
    without = []
    for r in rows:
        if r.semantics not in BUNDLED:
            continue
        entry = {"semantics": r.semantics, "local_semantics": r.local_semantics, "record": r.record}
        if r.file:
            files.setdefault(r.file, _File(r.file)).links.append(entry)
        else:
            without.append({**entry, "description": r.description})
    return files, without


def _inside(location: str, root: Path) -> Path | None:
    path = Path(location)
    path = (root / path) if not path.is_absolute() else path
    try:
        resolved = path.resolve()
        resolved.relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return resolved


def _unique(name: str, taken: set[str]) -> str:
    stem, n = name, 1
    while name in taken:
        n += 1
        name = f"{n}-{stem}"
    taken.add(name)
    return name


def bundle(
    store: Store, ident: str, out: str | Path, *, settings, root: str | Path = ".", viewer: Viewer = OPERATOR
) -> dict:
    """Write the bundle of ``ident`` to ``out`` (a directory, or a ``.tar`` file); its manifest."""
    out, root = Path(out), Path(root)
    as_tar = out.suffix == ".tar"
    if out.exists() and (as_tar or any(out.iterdir())):
        raise InvalidParameter(f"{out} exists already; name a new directory or .tar file", where="-o")
    files, without = _plan(store, ident, settings=settings, viewer=viewer)
    taken: set[str] = {MANIFEST}
    manifest: dict = {
        "id": ident,
        "record": next((lk["record"] for f in files.values() for lk in f.links if lk["semantics"] == THIS), None),
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "files": [],
        "not_copied": [],
        "without_file": without,
    }
    copies: list[tuple[Path, str]] = []
    for location, f in sorted(files.items()):
        if datalink.is_url(location):
            manifest["not_copied"].append({"location": location, "why": "a URL (not fetched)", "links": f.links})
            continue
        path = _inside(location, root)
        if path is None:
            manifest["not_copied"].append({"location": location, "why": f"outside {root}", "links": f.links})
            continue
        if not path.is_file():
            manifest["not_copied"].append({"location": location, "why": "not on disk", "links": f.links})
            continue
        name = _unique(path.name, taken)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest["files"].append(
            {"path": name, "location": location, "bytes": path.stat().st_size, "sha256": digest, "links": f.links}
        )
        copies.append((path, name))
    text = json.dumps(manifest, indent=2) + "\n"
    if as_tar:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(out, "w") as tar:
            for path, name in copies:
                tar.add(path, arcname=name)
            info = tarfile.TarInfo(MANIFEST)
            data = text.encode()
            info.size, info.mtime, info.mode = len(data), int(_dt.datetime.now().timestamp()), 0o644
            tar.addfile(info, io.BytesIO(data))
    else:
        out.mkdir(parents=True, exist_ok=True)
        for path, name in copies:
            shutil.copyfile(path, out / name)
        (out / MANIFEST).write_text(text, encoding="utf-8")
    return manifest
