"""FITS files as read for import: every card of every HDU, the file's identity, and the
references between the files of one import.

Headers are read with astropy (``lazy_load_hdus``: data arrays are not loaded, memory stays
flat whatever the file size); :func:`read_fits` gives a :class:`FitsFile` of :class:`Hdu`. The
one exception is the table of an IRF HDU (effective area, background, PSF: one row, bounded),
which :mod:`provhub.importers.irf` summarises into :attr:`Hdu.irf` (field of view, PSF 68 %
radius).

File identity (:meth:`FitsFile.identity`): CTA product id, else ESO ``DATAMD5``, else the sha256
of the headers (so re-importing the same file, or just its headers, changes nothing). Names that
one file gives to another (PROVi, ESO RAW/CAL NAME, CALDB/IRF, reference files) resolve to the
identity of that file when it is imported in the same batch (:class:`Resolver`), else to a name
placeholder.

:mod:`provhub.importers.fits` maps these files to PROV, with :mod:`provhub.importers.keywords`; both import this
module, which imports neither.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tempfile
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from astropy.io import fits
from prov.identifier import QualifiedName
from prov.model import PROV

from provhub.provdm.errors import PayloadTooLarge
from provhub.provdm.vocabulary import FITS, PROVHUB

from . import ids, irf
from .base import DocBuilder, Warnings
from .ctameta import cta_pairs


#: Commentary keywords: their cards are joined (in order, one line per card) into one attribute.
COMMENTARY = {"HISTORY": "HISTORY", "COMMENT": "COMMENT", "": "_blank_cards"}
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fz", ".fits.fz", ".fits.bz2", ".hdr")
GZIP_MAGIC = b"\x1f\x8b"
#: most bytes of inflated header-only upload read (headers are small; data are not read)
HEADER_ONLY_LIMIT = 64 * 1024 * 1024
_NCNAME_BAD = re.compile(r"[^A-Za-z0-9._-]")


def attribute_name(keyword: str) -> QualifiedName:
    """``fits:`` attribute for a keyword: HIERARCH spaces become dots, the name stays an NCName."""
    if keyword in COMMENTARY:
        return FITS[COMMENTARY[keyword]]
    local = _NCNAME_BAD.sub("_", keyword.strip().replace(" ", "."))
    if not local or not (local[0].isalpha() or local[0] == "_"):
        local = "_" + local
    return FITS[local]


@dataclass
class Hdu:
    index: int
    name: str  # unique within the file: EXTNAME[,EXTVER], PRIMARY, or HDU<index>
    cards: list[tuple[str, Any]]  # (keyword, value) in header order; HIERARCH already stripped
    #: an IRF HDU's summary read from its table (:mod:`provhub.importers.irf`), or why there is none
    irf: dict[str, float] = field(default_factory=dict)
    irf_problem: str | None = None
    _first: dict | None = field(default=None, repr=False, compare=False)

    def _index(self) -> dict:
        if self._first is None:
            self._first = {}
            for key, value in self.cards:
                self._first.setdefault(key, value)
        return self._first

    def get(self, keyword: str, default=None):
        return self._index().get(keyword, default)

    def has(self, keyword: str) -> bool:
        return keyword in self._index()

    @property
    def hduclass(self) -> list[str]:
        chain = [self.get("HDUCLASS")] + [self.get(f"HDUCLAS{i}") for i in range(1, 5)]
        return [str(c).strip() for c in chain if c not in (None, "")]


@dataclass
class FitsFile:
    path: str  # as given (or the upload's file name)
    hdus: list[Hdu] = field(default_factory=list)
    digest: str = ""
    _identity: QualifiedName | None = field(default=None, repr=False, compare=False)
    _cta: dict | None = field(default=None, repr=False, compare=False)

    @property
    def basename(self) -> str:
        return ids.file_name(self.path)

    def get(self, keyword: str, default=None):
        """First value of a keyword, primary header first, then each extension in order."""
        for hdu in self.hdus:
            value = hdu.get(keyword)
            if value is not None:
                return value
        return default

    def keys(self):
        for hdu in self.hdus:
            for key, value in hdu.cards:
                yield hdu, key, value

    @property
    def keywords(self) -> int:
        return sum(len(h.cards) for h in self.hdus)

    def names(self) -> set[str]:
        """Names other files may use for this one (resolution of references)."""
        out = {self.basename}
        for suffix in (".gz", ".fz", ".bz2"):
            if self.basename.endswith(suffix):
                out.add(self.basename[: -len(suffix)])
        for key in ("PIPEFILE", "FILENAME", "ORIGFILE", "ARCFILE"):
            value = self.get(key)
            if isinstance(value, str) and value.strip():
                out.add(ids.file_name(value))
        return out

    @property
    def cta(self) -> dict[tuple[str, str], object]:
        """CTA reference metadata of the file, from every HDU (primary first), as
        :func:`provhub.importers.ctameta.cta_pairs` reads it; read once."""
        if self._cta is None:
            self._cta = cta_pairs([(key, value) for _hdu, key, value in self.keys() if key.startswith("CTA")])
        return self._cta

    def identity(self) -> QualifiedName:
        if self._identity is None:
            self._identity = self._find_identity()
        return self._identity

    def _find_identity(self) -> QualifiedName:
        product = self.cta.get(("PRODUCT", "ID"))
        if product:
            return ids.file_by_product(product)
        md5 = self.get("DATAMD5")
        if isinstance(md5, str) and re.fullmatch(r"[0-9a-fA-F]{32}", md5.strip()):
            return ids.file_by_md5(md5)
        return ids.file_by_digest(self.digest)


# -- reading -----------------------------------------------------------------------------------


def _hdu_name(index: int, header, seen: set, warn: Warnings, path: str) -> str:
    extname = header.get("EXTNAME")
    name = extname.strip().upper() if isinstance(extname, str) else ""
    name = name or ("PRIMARY" if index == 0 else f"HDU{index}")
    ver = header.get("EXTVER")
    if isinstance(ver, int) and ver > 1:
        name = f"{name},{ver}"
    if name in seen:
        warn.add("W12", f"HDU {index} repeats the extension name {name!r}; it is named HDU{index}", path)
        name = f"HDU{index}"
    seen.add(name)
    return name


def _hdu(index: int, header, seen: set, warn: Warnings, path: str) -> Hdu:
    return Hdu(index, _hdu_name(index, header, seen, warn, path), [(card.keyword, card.value) for card in header.cards])


def _gzip_length(path: str, expected: int) -> int:
    """Decompressed length of a .gz file: its trailer (ISIZE) when that agrees with ``expected``,
    else by decompressing the whole stream (EOFError if it is truncated)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() >= 18:
            fh.seek(-4, os.SEEK_END)
            if int.from_bytes(fh.read(4), "little") == expected % (1 << 32):
                return expected
    total = 0
    with gzip.open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            total += len(block)
    return total


def _read_hdulist(source, path: str, warn: Warnings) -> FitsFile:
    ff = FitsFile(path)
    seen: set = set()
    expected_end = 0
    if isinstance(source, io.BytesIO):
        size = source.seek(0, os.SEEK_END)
        source.seek(0)
    with fits.open(source, lazy_load_hdus=True, memmap=False) as hdul:
        for index, hdu in enumerate(hdul):
            ff.hdus.append(_hdu(index, hdu.header, seen, warn, path))
        # the one data an import reads: a row of each IRF table, after the headers and in file
        # order (astropy has read past every HDU's data then: a gzip file is inflated once more,
        # up to the last IRF row, rather than from its start again for each IRF HDU)
        for index, one in enumerate(ff.hdus):
            if irf.kind(one.hduclass):
                one.irf, one.irf_problem = irf.summarise(hdul[index], one.hduclass)
        if ff.hdus:  # end of the last data unit (astropy's offsets; fileinfo() re-renders headers)
            last = hdul[len(ff.hdus) - 1]
            expected_end = last._data_offset + last._data_size
    padded = -(-expected_end // 2880) * 2880
    if isinstance(source, (str, os.PathLike)):
        gz = str(source).endswith(".gz")
        size = _gzip_length(source, padded) if gz else os.path.getsize(source)
    if size < expected_end:
        raise OSError(f"truncated: {size} bytes, the headers announce {expected_end}")
    return ff


#: most bytes a gzip upload may inflate to, as a multiple of its compressed size (a FITS file
#: compresses 2-10x; a gzip bomb, 1000x)
MAX_INFLATE_RATIO = 50
#: and at most this many bytes whatever its size
MAX_INFLATED = 4 * 1024**3


def _read_upload(data: bytes, path: str, warn: Warnings) -> FitsFile:
    """A whole file sent as bytes. A gzip upload is inflated while it is streamed into a temporary
    file, and refused (PayloadTooLarge) past :data:`MAX_INFLATE_RATIO` times its size or
    :data:`MAX_INFLATED`: memory stays flat, and time and disk are bounded by the body limit."""
    if data[:2] != GZIP_MAGIC:
        return _read_hdulist(io.BytesIO(data), path, warn)
    limit = min(MAX_INFLATED, MAX_INFLATE_RATIO * len(data))
    with tempfile.TemporaryDirectory(prefix="provhub-fits-") as tmp:
        name = os.path.join(tmp, "upload.fits")
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        written = 0
        with open(name, "wb") as fh:
            for i in range(0, len(data), 1 << 20):
                chunk = data[i : i + (1 << 20)]
                while chunk:
                    out = inflater.decompress(chunk, 1 << 22)
                    written += len(out)
                    if written > limit:
                        raise PayloadTooLarge(
                            f"the gzip upload inflates to more than {limit} bytes ({MAX_INFLATE_RATIO}x its "
                            f"size, at most {MAX_INFLATED}); send the headers only, or the file uncompressed",
                            where="body",
                        )
                    fh.write(out)
                    chunk = inflater.unconsumed_tail
        return _read_hdulist(name, path, warn)


def _inflated(data: bytes) -> bytes:
    """The bytes of an upload, inflated when gzip (up to HEADER_ONLY_LIMIT, truncation tolerated)."""
    if data[:2] != GZIP_MAGIC:
        return data
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, HEADER_ONLY_LIMIT)


def _read_headers_only(data: bytes, path: str, warn: Warnings) -> FitsFile:
    """Header-only upload: header blocks back to back (no data), or a text header."""
    headers = []
    if data[:9] == b"SIMPLE  =" and b"\n" not in data[:2880]:
        stream = io.BytesIO(data)
        while True:
            try:
                headers.append(fits.Header.fromfile(stream))
            except EOFError:
                break
    else:
        text = data.decode("ascii", "replace")
        chunk: list[str] = []
        for line in text.splitlines():
            if line.strip() == "END":
                if chunk:
                    headers.append(fits.Header.fromstring("\n".join(chunk), sep="\n"))
                chunk = []
            elif line.strip():
                chunk.append(line)
        if chunk:
            headers.append(fits.Header.fromstring("\n".join(chunk), sep="\n"))
    if not headers or "SIMPLE" not in headers[0]:
        raise OSError("no FITS header found (a FITS file or its header cards are expected)")
    ff = FitsFile(path)
    seen: set = set()
    for index, header in enumerate(headers):
        ff.hdus.append(_hdu(index, header, seen, warn, path))
    return ff


def read_fits(source, warn: Warnings, *, path: str | None = None, headers_only_ok: bool = False) -> FitsFile | None:
    """Read every header of a FITS file (path, or bytes of an upload); None if unreadable.

    astropy warnings become W02 (or W01 when they say the file is truncated). With
    ``headers_only_ok`` (HTTP upload), a file whose data are missing is read header by header.
    """
    label = ids.local_path(path if path is not None else source)
    status = warn.file(label)
    if not isinstance(source, bytes) and label.endswith(".hdr") and os.path.isfile(label):
        with open(label, "rb") as fh:  # a header saved as text or header blocks (no data)
            source, headers_only_ok = fh.read(HEADER_ONLY_LIMIT), True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if isinstance(source, bytes):
                try:
                    ff = _read_upload(source, label, warn)
                except (OSError, ValueError, EOFError):
                    if not headers_only_ok:
                        raise
                    caught.clear()
                    ff = _read_headers_only(_inflated(source), label, warn)
            else:
                ff = _read_hdulist(source, label, warn)
        except PayloadTooLarge:
            raise
        except Exception as exc:  # noqa: BLE001 - untrusted input: any parse failure is W01
            warn.add("W01", f"cannot read FITS headers: {exc}", label, failed=True)
            return None
    for item in caught:
        text = " ".join(str(item.message).split())
        if "truncated" in text or "Header size is not" in text:
            if not headers_only_ok:
                warn.add("W01", f"truncated or corrupt file: {text}", label, failed=True)
                return None
        elif issubclass(item.category, Warning) and "unclosed file" not in text:
            warn.add("W02", text, label)
    ff.digest = ids.header_digest([h.cards for h in ff.hdus])
    status.hdus, status.keywords = len(ff.hdus), ff.keywords
    return ff


def expand_paths(paths: Iterable, recursive: bool = False) -> list[str]:
    """Files named, plus the FITS files in named directories (sorted; below them if recursive)."""
    out: list[str] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            pattern = "**/*" if recursive else "*"
            found = [p for p in path.glob(pattern) if p.is_file() and p.name.lower().endswith(FITS_SUFFIXES)]
            out.extend(ids.local_path(p) for p in sorted(found))
        else:
            out.append(ids.local_path(path))
    return out


# -- resolution of references between files -----------------------------------------------------


class Resolver:
    """Maps the names files give each other to file identities within one import."""

    def __init__(self, files: Iterable[FitsFile] = ()):
        self.by_name: dict[str, QualifiedName] = {}
        self.unresolved: dict[str, list[str]] = {}
        for ff in files:
            self.add(ff)

    def add(self, ff: FitsFile):
        ident = ff.identity()
        for name in ff.names():
            self.by_name.setdefault(name, ident)

    def lookup(self, reference: str) -> QualifiedName | None:
        name = ids.file_name(reference)
        return self.by_name.get(name) or self.by_name.get(name.rsplit(".gz", 1)[0])

    def file(
        self, reference: str, b: DocBuilder, referrer: str, fallback: QualifiedName | None = None
    ) -> QualifiedName:
        """The entity of a referenced file; a placeholder (recorded for W06) when not imported."""
        found = self.lookup(reference)
        if found is not None:
            return found
        qn = fallback or ids.file_by_name(reference)
        b.entity(
            qn,
            [
                (PROV["type"], PROVHUB["FileReference"]),
                (PROV["label"], ids.file_name(reference)),
                (PROVHUB["reference"], str(reference).strip()),
            ],
        )
        self.unresolved.setdefault(referrer, []).append(ids.file_name(reference))
        return qn

    def report(self, warn: Warnings):
        for referrer, names in self.unresolved.items():
            shown = ", ".join(sorted(set(names))[:5]) + (", ..." if len(set(names)) > 5 else "")
            warn.add(
                "W06",
                f"{len(set(names))} referenced file(s) not part of this import, kept as name placeholders: {shown}",
                referrer,
            )
        self.unresolved.clear()
