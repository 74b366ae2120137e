"""FITS header importer: last-step provenance from the headers of FITS files.

Each file (read by :mod:`provhub.importers.fitsfile`) becomes a ``prov:Collection`` entity whose members
are one entity per HDU; **every card of every HDU is kept** as an attribute ``fits:<KEYWORD>`` of
its HDU entity (HISTORY, COMMENT and blank cards joined, in order, one line per card). On top of
that, the keywords that describe how the file was made are mapped to PROV (see
:mod:`provhub.importers.keywords` and docs/importers.md): CTA/ctapipe reference metadata, ESO PRO REC
chains, GADF DL3/IRF classes, CREATOR/ORIGIN/DATE, PROVi/PRVn, CALDB/IRF, reference files. IRF
HDUs also get the field of view and PSF radius read from their tables (:mod:`provhub.importers.irf`).

File identity and the resolution of names between files are :mod:`provhub.importers.fitsfile`'s
(:meth:`~provhub.importers.fitsfile.FitsFile.identity`, :class:`~provhub.importers.fitsfile.Resolver`); its
names are importable from here too.
"""

from __future__ import annotations

from typing import Callable, Iterable

from prov.model import PROV

from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids, keywords
from .base import DocBuilder, ImportResult, Warnings, literal
from .fitsfile import (
    COMMENTARY,
    FITS_SUFFIXES,
    GZIP_MAGIC,
    HEADER_ONLY_LIMIT,
    FitsFile,
    Hdu,
    Resolver,
    attribute_name,
    expand_paths,
    read_fits,
)


# -- mapping -----------------------------------------------------------------------------------


def hdu_attributes(ff: FitsFile, hdu: Hdu, warn: Warnings) -> list:
    """Every card as a ``fits:`` attribute; commentary cards joined in order."""
    attrs: list = []
    commentary: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for key, value in hdu.cards:
        if key in COMMENTARY:
            commentary.setdefault(key, []).append(str(value))
            continue
        counts[key] = counts.get(key, 0) + 1
        attrs.append((attribute_name(key), literal(value)))
    for key, lines in commentary.items():
        attrs.append((attribute_name(key), "\n".join(lines)))
    repeated = sorted(k for k, n in counts.items() if n > 1)
    if repeated:
        warn.add("W03", f"HDU {hdu.name}: keyword(s) {', '.join(repeated)} repeated; all values kept", ff.path)
    return attrs


def map_file(ff: FitsFile, b: DocBuilder, resolver: Resolver, warn: Warnings):
    """Add the records of one file; returns its :class:`provhub.importers.keywords.FileContext`
    (``.fid`` is the file entity, ``.generation()`` the activity that wrote it)."""
    fid = ff.identity()
    b.namespace(fid.namespace)
    b.entity(
        fid,
        [
            (PROV["type"], PROV["Collection"]),
            (PROV["type"], VOPROV["DatasetEntity"]),
            (PROV["type"], PROVHUB["FitsFile"]),
            (PROV["label"], ff.basename),
            (PROV["location"], ff.path),
            (VOPROV["contentType"], "application/fits"),
            (PROVHUB["headerSha256"], ff.digest),
        ],
    )
    for hdu in ff.hdus:
        hid = ids.hdu(fid, hdu.name)
        b.entity(
            hid,
            [
                (PROV["type"], VOPROV["DatasetEntity"]),
                (PROV["type"], PROVHUB["FitsHdu"]),
                (PROV["label"], f"{ff.basename}[{hdu.name}]"),
                (PROVHUB["hduIndex"], hdu.index),
                (PROVHUB["hduName"], hdu.name),
                (PROVHUB["hduClass"], "/".join(hdu.hduclass) or None),
            ]
            + hdu_attributes(ff, hdu, warn),
        )
        b.relation("hadMember", fid, hid)
    ctx = keywords.map_keywords(ff, fid, b, resolver, warn)
    warn.file(ff.path).entity = fid.uri
    return ctx


def import_fits(
    paths: Iterable, *, recursive: bool = False, on_file: Callable[[str], None] | None = None
) -> ImportResult:
    """Import FITS files and directories of FITS files as one PROV document.

    ``on_file(path)`` is called after each file is read (progress bars).
    """
    warn = Warnings()
    files = []
    for path in expand_paths(paths, recursive):
        ff = read_fits(path, warn)
        if ff is not None:
            files.append(ff)
        if on_file:
            on_file(path)
    return build_import(files, warn)


def build_import(
    files: list[FitsFile], warn: Warnings, b: DocBuilder | None = None, resolver: Resolver | None = None
) -> ImportResult:
    b = b or DocBuilder()
    resolver = resolver or Resolver()
    for ff in files:
        resolver.add(ff)
    for ff in files:
        map_file(ff, b, resolver, warn)
    resolver.report(warn)
    return ImportResult(b.build(), warn.items, list(warn.files.values()))


def import_fits_bytes(data: bytes, *, filename: str = "upload.fits") -> ImportResult:
    """Import one uploaded FITS file, or only its headers (HTTP ``POST /fits``)."""
    warn = Warnings()
    ff = read_fits(data, warn, path=filename, headers_only_ok=True)
    return build_import([ff] if ff else [], warn)


__all__ = [
    "hdu_attributes",
    "map_file",
    "import_fits",
    "build_import",
    "import_fits_bytes",
    # from provhub.importers.fitsfile
    "COMMENTARY",
    "FITS_SUFFIXES",
    "GZIP_MAGIC",
    "HEADER_ONLY_LIMIT",
    "FitsFile",
    "Hdu",
    "Resolver",
    "attribute_name",
    "expand_paths",
    "read_fits",
]
