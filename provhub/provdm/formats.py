"""PROV syntaxes: parse and write PROV-JSON, PROV-N, PROV-XML and PROV-O (Turtle, JSON-LD) with
the ``prov`` package (PROV-O through prov's RDF serializer, on rdflib).

The names, file suffixes and media types of the syntaxes come from :mod:`provhub.provdm.registry`, whose
entries name the writers below; parse errors become
:class:`provhub.provdm.errors.MalformedDocument` with the line/position the parser reports.
"""

from __future__ import annotations

import json
import re
import warnings

from prov.identifier import QualifiedName
from prov.model import PROV_REC_CLS, ProvDocument

from . import registry
from .errors import InvalidDocument, MalformedDocument, NotAcceptable, UnknownPrefix, UnsupportedMediaType

#: the PROV syntaxes (names), from :mod:`provhub.provdm.registry` like the tables below
FORMATS = tuple(f.name for f in registry.of_kind(registry.SYNTAX))

#: format -> media type written in Content-Type
MEDIA_TYPES = {f.name: f.media_type for f in registry.of_kind(registry.SYNTAX)}

#: media types accepted on input (Content-Type) and in Accept / RESPONSEFORMAT
MEDIA_TYPE_FORMATS = {t: f.name for f in registry.of_kind(registry.SYNTAX) for t in f.media_types}

#: the syntaxes that are PROV-O (RDF), read and written by prov's RDF serializer
RDF_FORMATS = frozenset(f.name for f in registry.of_kind(registry.SYNTAX) if f.reader)

SUFFIX_FORMATS = {s: f.name for f in registry.of_kind(registry.SYNTAX) for s in f.suffixes}

#: names users type (CLI --format, ?format=)
NAME_FORMATS = {n: f.name for f in registry.of_kind(registry.SYNTAX) for n in (f.name, *f.names)}


def format_from_media_type(media_type: str) -> str:
    base = media_type.split(";", 1)[0].strip().lower()
    try:
        return MEDIA_TYPE_FORMATS[base]
    except KeyError:
        raise UnsupportedMediaType(
            f"unsupported content type {base!r}: use one of {', '.join(sorted(MEDIA_TYPE_FORMATS))}",
            where="Content-Type",
        ) from None


def format_from_name(name: str, *, where: str = "format") -> str:
    try:
        return NAME_FORMATS[name.strip().lower()]
    except KeyError:
        raise NotAcceptable(f"unknown format {name!r}: use {registry.spoken(FORMATS)}", where=where) from None


def sniff_format(text: str) -> str:
    """Guess the syntax of a document from its first non-blank characters."""
    head = text.lstrip()[:200]
    if head.startswith("[") or re.match(r'\{\s*"@', head):
        return "jsonld"
    if head.startswith("{"):
        return "json"
    if head.startswith("<"):
        return "xml"
    if re.match(r"(//[^\n]*\n\s*)*document\b", head):
        return "provn"
    if re.match(r"(#[^\n]*\n\s*)*(@prefix|@base|prefix\s|base\s)", head, re.I):
        return "ttl"
    expected = registry.spoken(f.label for f in registry.of_kind(registry.SYNTAX))
    raise MalformedDocument(f"cannot tell the syntax of the document (expected {expected})", where="line 1")


def _where_from(exc: Exception) -> str | None:
    line = getattr(exc, "lineno", None)
    col = getattr(exc, "colno", None) or getattr(exc, "offset", None)
    if line is not None:
        return f"line {line}" + (f", column {col}" if col else "")
    m = re.search(r"line (\d+)(?:,? column (\d+))?", str(exc).split("\n", 1)[0])
    if m:
        return f"line {m.group(1)}" + (f", column {m.group(2)}" if m.group(2) else "")
    return None


def parse(text: str, fmt: str) -> tuple[ProvDocument, list[str]]:
    """Parse ``text`` in ``fmt``; return the document and the parser's warnings."""
    doc, caught, _translated = parse_any(text, fmt)
    return doc, caught


def parse_any(text: str, fmt: str) -> tuple[ProvDocument, list[str], bool]:
    """Like :func:`parse`, and also read what the voprov package writes (:mod:`provhub.provdm.voprov`).

    Returns the document, the warnings and whether it was translated from voprov output. W3C PROV
    is tried first; when that fails and the text looks like voprov's, the translation (PROV-JSON)
    is parsed instead, with a warning. voprov's get_w3c() JSON is translated even when prov reads
    it (its undeclared ``voprov:`` names then only occur in values, which prov keeps as literals).
    """
    from . import voprov  # voprov.py uses parse_w3c: import here, not at module level

    try:
        doc, caught = parse_w3c(text, fmt)
    except MalformedDocument:
        kind = voprov.voprov_kind(text, fmt)
        if kind is None:
            raise
    else:
        if fmt != "json" or '"voprov:' not in text or voprov.voprov_kind(text, fmt) != voprov.KIND_W3C_JSON:
            return doc, caught, False
        kind = voprov.KIND_W3C_JSON
    doc, caught = parse_w3c(voprov.to_w3c(text, fmt), "json")
    return doc, caught + [f"translated from voprov {kind} output to W3C PROV"], True


#: levels of nesting named when the JSON decoder runs out of stack (PROV-JSON needs fewer than ten)
JSON_DEPTH_REPORTED = 100
#: digits of the longest integer Python converts (``sys.get_int_max_str_digits``)
JSON_INT_DIGITS = 4300
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)  # strings (skipped) and brackets
_JSON_LONG_INT = re.compile(r"[\[:,]\s*(-?[0-9]{%d,})" % (JSON_INT_DIGITS + 1))
_JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_JSON_SURROGATE_HINT = re.compile(r"\\u[dD][89a-fA-F]")


def load_json(text: str, what: str = "PROV-JSON"):
    """``json.loads`` of a posted body. A syntax error, nesting too deep for the decoder, an
    integer of more than 4,300 digits (Python's conversion limit) and an escape that makes a
    lone surrogate (no UTF-8 text, so no store can keep it) are MalformedDocument at their line
    and column, never an error of the service."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedDocument(
            f"{what} syntax error: {exc.msg}", where=f"line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise MalformedDocument(
            f"{what} is nested too deeply (more than {JSON_DEPTH_REPORTED} levels; {what} needs fewer than ten)",
            where=_line_column(text, _json_too_deep(text)),
        ) from None
    except ValueError as exc:  # the integer conversion limit
        found = _JSON_LONG_INT.search(text)
        raise MalformedDocument(
            f"{what} has an integer of more than {JSON_INT_DIGITS} digits ({exc})",
            where=_line_column(text, found.start(1) if found else None),
        ) from None
    if _JSON_SURROGATE_HINT.search(text):
        at = _lone_surrogate(text)
        if at is not None:
            raise MalformedDocument(
                f"{what} has the escape {text[at : at + 6]}, half of a surrogate pair (not a Unicode character)",
                where=_line_column(text, at),
            )
    return data


def _line_column(text: str, at: int | None) -> str:
    if at is None:
        return "document"
    line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
    return f"line {line}, column {column}"


def _json_too_deep(text: str) -> int | None:
    """Where the nesting first passes JSON_DEPTH_REPORTED levels (strings skipped)."""
    depth = 0
    for m in _JSON_TOKEN.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            if depth > JSON_DEPTH_REPORTED:
                return m.start()
        elif c in "]}":
            depth -= 1
    return None


def _lone_surrogate(text: str) -> int | None:
    """Where a \\uD800-\\uDFFF escape is not half of an adjacent high-low pair (each escape is read
    whole, so an escaped backslash before ``u`` is no escape)."""
    high = None  # (start, end) of a high half waiting for its low half
    for m in _JSON_ESCAPE.finditer(text):
        unit = int(m.group(1)[1:], 16) if len(m.group(1)) == 5 else None
        if high is not None:
            if unit is not None and 0xDC00 <= unit <= 0xDFFF and m.start() == high[1]:
                high = None
                continue
            return high[0]
        if unit is not None and 0xD800 <= unit <= 0xDBFF:
            high = (m.start(), m.end())
        elif unit is not None and 0xDC00 <= unit <= 0xDFFF:
            return m.start()
    return None if high is None else high[0]


def parse_w3c(text: str, fmt: str) -> tuple[ProvDocument, list[str]]:
    """Parse W3C PROV ``text`` in ``fmt`` with prov (no voprov translation)."""
    if fmt not in FORMATS:
        raise UnsupportedMediaType(f"unknown PROV syntax {fmt!r}", where="format")
    caught: list[str] = []
    syntax = registry.get(registry.SYNTAX, fmt)
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            if fmt == "json":
                # Decode first so JSON syntax errors report line/column, and name undeclared
                # prefixes (prov only says "an identifier is missing").
                _check_json_prefixes(load_json(text))
            if syntax is not None and syntax.reader:
                doc = syntax.read(text)
            else:
                doc = ProvDocument.deserialize(content=text, format=fmt)
        # what the parsers say of the document; not what a library says of its own API
        caught = [str(w.message) for w in seen if not issubclass(w.category, DeprecationWarning)]
    except (MalformedDocument, UnsupportedMediaType, InvalidDocument):
        raise
    except Exception as exc:  # prov raises many types (ProvException, ProvNSyntaxError, lxml, KeyError...)
        message = str(exc) or type(exc).__name__
        where = _where_from(exc)
        low = message.lower()
        if "prefix" in low and ("unknown" in low or "namespace" in low or "not declared" in low):
            raise UnknownPrefix(f"unknown prefix: {message}", where=where) from None
        if "QualifiedName" in message or "qualified name" in message.lower():
            raise UnknownPrefix(
                f"identifier does not resolve to a declared namespace: {message}", where=where
            ) from None
        label = syntax.label if syntax else fmt
        bad = re.search(r"Bad syntax \((.*?)\) at \^", message)  # rdflib's Turtle parser
        if bad:
            message = f"bad syntax ({bad.group(1)})"
        if isinstance(exc, RecursionError):
            message, where = "it is nested too deeply for the parser", where or "document"
        raise MalformedDocument(f"cannot parse {label} document: {message.splitlines()[0]}", where=where) from None
    return doc, caught


_BUILTIN_PREFIXES = {"prov", "xsd", "_"}


def _check_json_prefixes(data, declared: frozenset = frozenset(), path: str = "") -> None:
    """Raise UnknownPrefix for a record id or reference whose prefix no ``prefix`` block declares."""
    if not isinstance(data, dict):
        raise MalformedDocument("a PROV-JSON document must be a JSON object", where=path or "(document)")
    prefixes = data.get("prefix", {})
    if not isinstance(prefixes, dict):
        raise MalformedDocument("'prefix' must map prefixes to namespace URIs", where=f"{path}prefix")
    known = declared | set(prefixes)
    has_default = "default" in known

    def check(name: str, where: str) -> None:
        if not isinstance(name, str) or ":" not in name or "://" in name:
            if not has_default and isinstance(name, str) and ":" not in name and not name.startswith("_"):
                raise UnknownPrefix(
                    f"{name!r} has no prefix and the document declares no default namespace", where=where
                )
            return
        prefix = name.split(":", 1)[0]
        if prefix not in known and prefix not in _BUILTIN_PREFIXES:
            raise UnknownPrefix(f"prefix {prefix!r} of {name!r} is not declared in 'prefix'", where=where)

    for section, records in data.items():
        if section in ("prefix",) or not isinstance(records, dict):
            continue
        if section == "bundle":
            for bid, bundle in records.items():
                # prov writes a bundle's id with the bundle's own prefixes, and reads it so
                # (a document with only a default namespace whose bundle declares ex:)
                own = bundle.get("prefix") if isinstance(bundle, dict) else None
                declared_here = set(own) if isinstance(own, dict) else set()
                if not (isinstance(bid, str) and bid.split(":", 1)[0] in declared_here):
                    check(bid, f"{path}bundle/{bid}")
                _check_json_prefixes(bundle, frozenset(known), f"{path}bundle/{bid}/")
            continue
        for rid, body in records.items():
            if not rid.startswith("_:"):
                check(rid, f"{path}{section}/{rid}")
            for item in body if isinstance(body, list) else [body]:
                if not isinstance(item, dict):
                    continue
                for key, value in item.items():
                    if key.startswith("prov:") and isinstance(value, str) and key[5:] in _REF_ATTRS:
                        check(value, f"{path}{section}/{rid}/{key}")


_REF_ATTRS = {
    "entity",
    "activity",
    "agent",
    "generatedEntity",
    "usedEntity",
    "generation",
    "usage",
    "informed",
    "informant",
    "trigger",
    "starter",
    "ender",
    "delegate",
    "responsible",
    "influencee",
    "influencer",
    "specificEntity",
    "generalEntity",
    "alternate1",
    "alternate2",
    "collection",
    "plan",
}


def serialize(doc: ProvDocument, fmt: str) -> str:
    """``doc`` in the PROV syntax ``fmt`` (a name of :data:`FORMATS`), by its registry writer."""
    syntax = registry.get(registry.SYNTAX, fmt) if fmt in FORMATS else None
    if syntax is None:
        raise NotAcceptable(f"unknown format {fmt!r}", where="format")
    return syntax.write(doc)


def prov_text(doc: ProvDocument, fmt: str, **options) -> str:
    """``doc`` serialized by prov in its syntax ``fmt``, as text."""
    text = doc.serialize(format=fmt, **options)
    assert text is not None  # prov returns None only when given a destination to write to
    return text


def write_json(doc: ProvDocument) -> str:
    return prov_text(doc, "json", indent=2)


def write_provn(doc: ProvDocument) -> str:
    return doc.get_provn()


def write_xml(doc: ProvDocument) -> str:
    return prov_text(doc, "xml")


# -- PROV-O: Turtle and JSON-LD, through prov's RDF serializer (rdflib) ---------------------------

#: the base relative IRIs of a PROV-O body resolve against while it is read: none is accepted
#: (rdflib would otherwise resolve them against the service's working directory)
RELATIVE_BASE = "http://relative-iri.invalid/"


def write_ttl(doc: ProvDocument) -> str:
    """PROV-O in Turtle. Turtle has no named graphs: a document with bundles is 406 (its records
    would lose their bundle), JSON-LD and the PROV syntaxes keep them."""
    if doc.has_bundles():
        raise NotAcceptable(
            "Turtle has no named graphs, so the bundles of this document cannot be written in it; "
            "ask for JSON-LD (format=jsonld) or a PROV syntax",
            where="format",
        )
    return _rdf_text(doc, "turtle")


def write_jsonld(doc: ProvDocument) -> str:
    """PROV-O in JSON-LD (rdflib's RDF graph form, not the PROV-JSONLD submission); bundles are
    named graphs. Compacted with a context of the document's prefixes, unless a ``prov:type`` is a
    literal: rdflib's compaction writes that as a ``@type`` string, which reads back as a relative
    IRI, so such a document is written expanded (full IRIs, no context), as prov writes it."""
    if not all(
        isinstance(t, QualifiedName)
        for _, b in iter_containers(doc)
        for r in b.get_records()
        for t in r.get_asserted_types()
    ):
        return _rdf_text(doc, "json-ld", indent=2)
    context = {"prov": "http://www.w3.org/ns/prov#", "xsd": "http://www.w3.org/2001/XMLSchema#"}
    context["rdfs"] = "http://www.w3.org/2000/01/rdf-schema#"
    for bundle in (doc, *doc.bundles):
        for ns in bundle.namespaces:
            context.setdefault(ns.prefix, ns.uri)
    return _rdf_text(doc, "json-ld", context=context, indent=2)


def iter_containers(doc: ProvDocument):
    """The document and its bundles."""
    yield None, doc
    for bundle in doc.bundles:
        yield bundle.identifier, bundle


def _rdf_text(doc: ProvDocument, rdf_format: str, **options) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # rdflib 7.6 on prov's use of Dataset
        return prov_text(doc, "rdf", rdf_format=rdf_format, **options)


def read_ttl(text: str) -> ProvDocument:
    return _read_rdf(text, "turtle")


def read_jsonld(text: str) -> ProvDocument:
    """JSON-LD with its contexts inline: a context named by URL (or an ``@import``) is refused
    before rdflib would fetch it."""
    _check_jsonld_contexts(load_json(text, "JSON-LD"))
    return _read_rdf(text, "json-ld")


def _read_rdf(text: str, rdf_format: str) -> ProvDocument:
    doc = ProvDocument.deserialize(content=text, format="rdf", rdf_format=rdf_format, publicID=RELATIVE_BASE)
    doc = _without_unused_prefixes(doc)
    _check_one_kind_per_relation(doc)
    return doc


def _check_one_kind_per_relation(doc: ProvDocument) -> None:
    """PROV-O names a qualified relation by its id: two relations of different kinds sharing one
    id are one node of two types, which prov reads as one relation typed with the other kind
    (a usage and a generation ``ex:r`` become ``wasGeneratedBy(ex:r; ex:a, ex:a)``). Refused."""
    for _, bundle in iter_containers(doc):
        for record in bundle.get_records():
            if record.is_element():
                continue
            other = [t for t in record.get_asserted_types() if t in PROV_REC_CLS and t != record.get_type()]
            if other:
                assert record.identifier is not None
                raise InvalidDocument(
                    f"{record.identifier} is both a {record.get_type()} and a {other[0]}: PROV-O names a "
                    "qualified relation by its id, so relations of different kinds need different ids",
                    where=record.identifier.uri,
                )


def _check_jsonld_contexts(data, path: str = "") -> None:
    if isinstance(data, list):
        for i, item in enumerate(data):
            _check_jsonld_contexts(item, f"{path}[{i}]")
        return
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        where = f"{path}/{key}" if path else key
        if key == "@import" or (key == "@context" and _names_remote(value)):
            raise InvalidDocument(
                "a JSON-LD context given by URL is not fetched: give the context inline (an object)",
                where=where,
            )
        _check_jsonld_contexts(value, where)


def _names_remote(context) -> bool:
    items = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) for c in items)


def _without_unused_prefixes(doc: ProvDocument) -> ProvDocument:
    """The document with only the prefixes its records use (rdflib binds a few dozen in every
    graph it reads: brick, schema, foaf...; prov's ``update`` copies the records and registers the
    namespaces they name), and InvalidDocument for a relative IRI."""
    used = ProvDocument()
    used.update(doc)
    for bundle in (used, *used.bundles):
        for record in bundle.get_records():
            for value in (record.identifier, *(v for _, v in record.attributes)):
                uri = getattr(value, "uri", None)
                if isinstance(uri, str) and uri.startswith(RELATIVE_BASE):
                    local = uri[len(RELATIVE_BASE) :]
                    raise InvalidDocument(
                        f"a PROV-O document needs absolute IRIs: <{local}> is relative "
                        "(declare @base, or write the whole IRI)",
                        where=f"<{local}>",
                    )
    return used
