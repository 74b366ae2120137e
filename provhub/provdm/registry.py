"""The format registry: every format provhub reads or writes, one entry each.

An entry says what a format is called (its ``name``, the ``names`` users may also type, its
ProvSAP ``RESPONSEFORMAT`` value), what it is (``kind``), how it travels (``media_types``, the
first written in Content-Type, all of them accepted; ``suffixes``, the first given to files we
write) and which function writes it. Everything else that lists formats is derived from
:data:`FORMATS`: the PROV syntax tables of :mod:`provhub.provdm.formats`, ProvSAP's RESPONSEFORMAT
(:mod:`provhub.provdm.provsap`), the picture formats of :mod:`provhub.provdm.render`, the audit report formats
(:mod:`provhub.provdm.audit_report`), the OpenAPI enums, ``/capabilities``, the CLI choices and help and
the web page's download links. ``tests/test_format_registry.py`` checks each of them names every
entry; CONTRIBUTING.md says how to add one.

Kinds and what their writer is called with:

- ``syntax``: a PROV syntax; ``writer(doc: ProvDocument) -> str``, and ``reader(text: str) ->
  ProvDocument`` when prov does not read it under the format's name (PROV-O, read by prov's RDF
  serializer with an rdflib format);
- ``picture``: a Graphviz output format (the name is ``dot -T``'s); ``writer(doc, name, **layout)
  -> bytes``, one writer draws them all;
- ``report``: an audit report; ``writer(report: AuditReport) -> str``;
- ``table``: PROV records as tables (VOTable); ``writer(doc: ProvDocument, **options) -> str``.

Names are unique within a kind (``json`` is both a syntax and a report format). Writers are named
``"module:function"`` and imported when first used, so this module imports none of the modules
that derive their tables from it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

SYNTAX, PICTURE, REPORT, TABLE = "syntax", "picture", "report", "table"
KINDS = (SYNTAX, PICTURE, REPORT, TABLE)


@dataclass(frozen=True)
class Format:
    name: str
    kind: str
    #: what a person reads: link texts, help
    label: str
    #: the first is written in Content-Type; all are accepted (Content-Type, Accept, RESPONSEFORMAT),
    #: and a RESPONSEFORMAT naming one is answered with it (parameters, if any, without blanks)
    media_types: tuple[str, ...]
    #: with the dot; the first is given to files provhub writes, all are recognised on input
    suffixes: tuple[str, ...]
    #: the ``RESPONSEFORMAT`` value of a ProvSAP answer in this format, or None
    provsap: str | None
    #: ``"module:function"``, called as the module docstring says for the kind
    writer: str
    #: other names users type (``--format``, ``?format=``)
    names: tuple[str, ...] = ()
    #: syntaxes only: ``"module:function"`` reading text into a ProvDocument, when prov's
    #: ``ProvDocument.deserialize(format=name)`` does not
    reader: str | None = None

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def suffix(self) -> str:
        return self.suffixes[0]

    def write(self, obj: Any, **options: Any):
        """Write ``obj`` (a ProvDocument, or an AuditReport for reports) in this format."""
        module, _, function = self.writer.partition(":")
        write = getattr(importlib.import_module(module), function)
        if self.kind == PICTURE:
            return write(obj, self.name, **options)
        return write(obj, **options)

    def read(self, text: str):
        """Parse ``text`` (syntaxes with a ``reader``)."""
        if self.reader is None:
            raise ValueError(f"{self.name} has no reader of its own")
        module, _, function = self.reader.partition(":")
        return getattr(importlib.import_module(module), function)(text)


FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        SYNTAX,
        "PROV-JSON",
        ("application/x-prov+json", "application/json", "application/prov+json"),
        (".json",),
        "PROV-JSON",
        "provhub.provdm.formats:write_json",
        names=("prov-json", "provjson"),
    ),
    Format(
        "provn",
        SYNTAX,
        "PROV-N",
        ("text/provenance-notation", "text/prov-n"),
        (".provn", ".pn"),
        "PROV-N",
        "provhub.provdm.formats:write_provn",
        names=("prov-n",),
    ),
    Format(
        "xml",
        SYNTAX,
        "PROV-XML",
        ("application/provenance+xml", "application/xml", "text/xml", "application/prov+xml"),
        (".xml", ".provx"),
        "PROV-XML",
        "provhub.provdm.formats:write_xml",
        names=("prov-xml", "provx"),
    ),
    Format(
        "ttl",
        SYNTAX,
        "PROV-O (Turtle)",
        ("text/turtle", "application/x-turtle"),
        (".ttl",),
        "PROV-O-TURTLE",
        "provhub.provdm.formats:write_ttl",
        names=("turtle", "prov-o"),
        reader="provhub.provdm.formats:read_ttl",
    ),
    Format(
        "jsonld",
        SYNTAX,
        "PROV-O (JSON-LD)",
        ("application/ld+json",),
        (".jsonld",),
        "PROV-O-JSONLD",
        "provhub.provdm.formats:write_jsonld",
        names=("json-ld",),
        reader="provhub.provdm.formats:read_jsonld",
    ),
    Format("svg", PICTURE, "SVG picture", ("image/svg+xml",), (".svg",), "PROV-SVG", "provhub.provdm.render:render"),
    Format("png", PICTURE, "PNG picture", ("image/png",), (".png",), "PROV-PNG", "provhub.provdm.render:render"),
    Format("pdf", PICTURE, "PDF", ("application/pdf",), (".pdf",), "PROV-PDF", "provhub.provdm.render:render"),
    Format(
        "dot", PICTURE, "Graphviz DOT", ("text/vnd.graphviz",), (".dot",), "PROV-DOT", "provhub.provdm.render:render"
    ),
    Format(
        "votable",
        TABLE,
        "VOTable",
        ("application/x-votable+xml", "text/xml;content=x-votable"),
        (".vot",),
        "PROV-VOTABLE",
        "provhub.provdm.votable:write_votable",
        names=("prov-votable",),
    ),
    Format("json", REPORT, "JSON", ("application/json",), (".json",), None, "provhub.provdm.audit_report:write_json"),
    Format("html", REPORT, "HTML", ("text/html",), (".html",), None, "provhub.provdm.audit_report:write_html"),
    Format("text", REPORT, "plain text", ("text/plain",), (".txt",), None, "provhub.provdm.audit_report:write_text"),
    Format("md", REPORT, "Markdown", ("text/markdown",), (".md",), None, "provhub.provdm.audit_report:write_markdown"),
)


def of_kind(kind: str) -> tuple[Format, ...]:
    """The formats of one kind, in registry order."""
    return tuple(f for f in FORMATS if f.kind == kind)


def get(kind: str, name: str) -> Format | None:
    """The format of ``kind`` called ``name`` (or one of its other names), any case; else None."""
    name = name.strip().lower()
    return next((f for f in of_kind(kind) if name == f.name or name in f.names), None)


def by_suffix(kind: str, suffix: str) -> Format | None:
    """The format of ``kind`` a file suffix (``.provn``, any case) stands for, or None."""
    suffix = suffix.lower()
    return next((f for f in of_kind(kind) if suffix in f.suffixes), None)


def answers() -> tuple[Format, ...]:
    """The formats a ProvSAP answer comes in (those with a RESPONSEFORMAT value)."""
    return tuple(f for f in FORMATS if f.provsap)


def spoken(words) -> str:
    """``a, b or c``: a list of names in a sentence."""
    words = list(words)
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


__all__ = [
    "Format",
    "FORMATS",
    "KINDS",
    "SYNTAX",
    "PICTURE",
    "REPORT",
    "TABLE",
    "of_kind",
    "get",
    "by_suffix",
    "answers",
    "spoken",
]
