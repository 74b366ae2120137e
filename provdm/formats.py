"""PROV syntaxes: parse and write PROV-JSON, PROV-N and PROV-XML with the ``prov`` package.

One registry maps names, file suffixes and media types to the three syntaxes; parse errors become
:class:`provdm.errors.MalformedDocument` with the line/position the parser reports.
"""
from __future__ import annotations

import json
import re
import warnings

from prov.model import ProvDocument

from .errors import MalformedDocument, NotAcceptable, UnknownPrefix, UnsupportedMediaType

FORMATS = ("json", "provn", "xml")

#: format -> media type written in Content-Type
MEDIA_TYPES = {
    "json": "application/x-prov+json",
    "provn": "text/provenance-notation",
    "xml": "application/provenance+xml",
}

#: media types accepted on input (Content-Type) and in Accept / RESPONSEFORMAT
MEDIA_TYPE_FORMATS = {
    "application/json": "json",
    "application/x-prov+json": "json",
    "application/prov+json": "json",
    "text/provenance-notation": "provn",
    "text/prov-n": "provn",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/provenance+xml": "xml",
    "application/prov+xml": "xml",
}

SUFFIX_FORMATS = {".json": "json", ".provn": "provn", ".pn": "provn", ".xml": "xml",
                  ".provx": "xml"}

#: names users type (CLI --format, ?format=)
NAME_FORMATS = {"json": "json", "prov-json": "json", "provjson": "json", "provn": "provn",
                "prov-n": "provn", "xml": "xml", "prov-xml": "xml", "provx": "xml"}


def format_from_media_type(media_type: str) -> str:
    base = media_type.split(";", 1)[0].strip().lower()
    try:
        return MEDIA_TYPE_FORMATS[base]
    except KeyError:
        raise UnsupportedMediaType(
            f"unsupported content type {base!r}: use one of {', '.join(sorted(MEDIA_TYPE_FORMATS))}",
            where="Content-Type") from None


def format_from_name(name: str, *, where: str = "format") -> str:
    try:
        return NAME_FORMATS[name.strip().lower()]
    except KeyError:
        raise NotAcceptable(f"unknown format {name!r}: use json, provn or xml", where=where) from None


def sniff_format(text: str) -> str:
    """Guess the syntax of a document from its first non-blank characters."""
    head = text.lstrip()[:200]
    if head.startswith("{"):
        return "json"
    if head.startswith("<"):
        return "xml"
    if re.match(r"(//[^\n]*\n\s*)*document\b", head):
        return "provn"
    raise MalformedDocument("cannot tell the syntax of the document (expected PROV-JSON, PROV-N or PROV-XML)",
                            where="line 1")


def _where_from(exc: Exception) -> str | None:
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None) or getattr(exc, "offset", None)
    if line is not None:
        return f"line {line}" + (f", column {col}" if col else "")
    m = re.search(r"line (\d+)(?:,? column (\d+))?", str(exc))
    if m:
        return f"line {m.group(1)}" + (f", column {m.group(2)}" if m.group(2) else "")
    return None


def parse(text: str, fmt: str) -> tuple[ProvDocument, list[str]]:
    """Parse ``text`` in ``fmt``; return the document and the parser's warnings."""
    if fmt not in FORMATS:
        raise UnsupportedMediaType(f"unknown PROV syntax {fmt!r}", where="format")
    caught: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            if fmt == "json":
                # Decode first so JSON syntax errors report line/column, and so prov gets a dict.
                json.loads(text)
            doc = ProvDocument.deserialize(content=text, format=fmt)
        caught = [str(w.message) for w in seen]
    except (MalformedDocument, UnsupportedMediaType):
        raise
    except json.JSONDecodeError as exc:
        raise MalformedDocument(f"PROV-JSON syntax error: {exc.msg}",
                                where=f"line {exc.lineno}, column {exc.colno}") from None
    except Exception as exc:  # prov raises many types (ProvException, ProvNSyntaxError, lxml, KeyError...)
        message = str(exc) or type(exc).__name__
        where = _where_from(exc)
        if "prefix" in message.lower() and ("unknown" in message.lower() or "namespace" in message.lower()):
            raise UnknownPrefix(f"unknown prefix: {message}", where=where) from None
        if "QualifiedName" in message or "qualified name" in message.lower():
            raise UnknownPrefix(f"identifier does not resolve to a declared namespace: {message}",
                                where=where) from None
        raise MalformedDocument(f"cannot parse {fmt.upper() if fmt != 'provn' else 'PROV-N'} document: {message}",
                                where=where) from None
    return doc, caught


def serialize(doc: ProvDocument, fmt: str) -> str:
    if fmt == "json":
        return doc.serialize(format="json", indent=2)
    if fmt == "provn":
        return doc.get_provn()
    if fmt == "xml":
        return doc.serialize(format="xml")
    raise NotAcceptable(f"unknown format {fmt!r}", where="format")
