"""CTA reference metadata as ctapipe writes it, in FITS headers and in provenance logs.

:func:`cta_pairs` reads its keys (``HIERARCH CTA <GROUP> <KEY>``, the ``CTAO`` spelling, dotted
keys, the nested form of newer logs) into ``{(GROUP, KEY): value}``. A FITS file's own metadata
is :attr:`provhub.importers.fitsfile.FitsFile.cta`; :mod:`provhub.importers.keywords` maps it to PROV.
"""

from __future__ import annotations

import re

from .base import literal

_CTA_PREFIX = re.compile(r"^CTAO?[ .]+")


def cta_pairs(mapping) -> dict[tuple[str, str], object]:
    """CTA reference metadata as {(GROUP, KEY): value}, first occurrence wins.

    Accepts flat keys as ctapipe writes them in headers and logs (``CTA PRODUCT ID``, with or
    without ``HIERARCH``; the ``CTAO`` spelling; dotted ``CTAO.PRODUCT.ID``) and the nested form
    of newer ctapipe logs (``{"product": {"id": ...}}``; trailing ``_`` of ``id_``/``type_`` dropped).
    """
    out: dict = {}
    for key, value in mapping.items() if isinstance(mapping, dict) else mapping:
        if isinstance(value, dict):
            for path, inner in _nested(value, [str(key)]):
                words = [p.rstrip("_").upper().replace("_", " ") for p in path]
                if len(words) >= 2 and literal(inner) != "":
                    out.setdefault((words[0], " ".join(words[1:])), literal(inner))
            continue
        key = str(key).removeprefix("HIERARCH ").strip()
        m = _CTA_PREFIX.match(key)
        if not m:
            continue
        tokens = [t for t in re.split(r"[ .]+", key[m.end() :].strip().upper()) if t]
        if len(tokens) >= 2 and literal(value) != "":
            out.setdefault((tokens[0], " ".join(tokens[1:])), literal(value))
    return out


def _nested(value, path: list):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _nested(inner, path + [str(key)])
    elif not isinstance(value, list):
        yield path, value
