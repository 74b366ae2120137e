"""Plain PROV-JSON flattened straight from its JSON, without building a ``prov`` model.

Ingest of a large document spent two thirds of its time in prov's reader and in walking prov's
model to flatten it (issue 8 profiles: a 10^5-record document, 3.5 s to parse and 3.6 s to
flatten). Pipelines write plain PROV-JSON: one record per id, declared prefixes, plain values and
the common typed values. :func:`read` flattens exactly that subset into the records
:func:`provhub.provdm.codec.records_and_hash` gives for prov's parse of the same text (same ids, attributes in the
same order, same content hash) and returns None for anything else (bundles, a default namespace,
several records under one id, hadMember with several members, unusual datatypes or names...),
which is then read by prov as before. ``tests/test_jsonreader.py`` checks the equality on the
corpus, the benchmark documents and generated documents. Errors are prov's to report: a
malformed document is never read here.
"""

from __future__ import annotations

import re

from prov.constants import PROV_ATTRIBUTE_QNAMES, PROV_RECORD_IDS_MAP
from prov.model import PROV_REC_CLS, parse_xsd_datetime

from . import vocabulary as voc
from .codec import (
    ELEMENT_KINDS,
    Node,
    Relation,
    _mint_anonymous_id,
    _relation_types,
    canonical_attributes,
    canonical_line,
    content_hash,
    qn_iri,
    value_key,
)
from .errors import Conflict
from .merge import merge_node, merge_relation

#: record type name -> {PROV-JSON key of a formal attribute: takes a qualified name}, in
#: declaration order
_FORMAL = {
    name: {"prov:" + a.localpart: a in PROV_ATTRIBUTE_QNAMES for a in PROV_REC_CLS[qn].FORMAL_ATTRIBUTES}
    for name, qn in PROV_RECORD_IDS_MAP.items()
    if qn in PROV_REC_CLS
}
_ALL_FORMAL = {key for formal in _FORMAL.values() for key in formal}
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*\Z")
_LOCAL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-/]*\Z")
_INT = re.compile(r"-?(0|[1-9][0-9]{0,9})\Z")
_DOUBLE = re.compile(r"-?(0|[1-9][0-9]{0,14})\.[0-9]{1,15}\Z")
_INT32 = (-(2**31), 2**31 - 1)


class _Unsupported(Exception):
    """The document leaves the plain subset: prov reads it."""


class _Names:
    """Qualified names of one document (``prefix:local`` -> ``{"qn": [uri, local, prefix]}``)."""

    def __init__(self, prefixes: dict):
        self.prefixes = {"prov": voc.PROV_URI}
        self.cache: dict[str, dict] = {}
        uris = {voc.PROV_URI, voc.XSD_URI}
        for prefix, uri in prefixes.items():
            if (prefix, uri) in (("prov", voc.PROV_URI), ("xsd", voc.XSD_URI)):
                self.prefixes[prefix] = uri  # the standard prefixes, declared again
                continue
            if (
                not isinstance(uri, str)
                or not _PREFIX.match(prefix)
                or prefix in ("prov", "xsd", "default")
                or uri in uris
                or not uri
            ):
                raise _Unsupported
            uris.add(uri)
            self.prefixes[prefix] = uri

    def qn(self, text) -> dict:
        if type(text) is not str:
            raise _Unsupported
        found = self.cache.get(text)
        if found is None:
            prefix, sep, local = text.partition(":")
            uri = self.prefixes.get(prefix)
            if not sep or uri is None or not _LOCAL.match(local):
                raise _Unsupported
            found = self.cache[text] = {"qn": [uri, local, prefix]}
        return found


def _value(v, names: _Names):
    kind = type(v)
    if kind is str or kind is bool or kind is int or kind is float:
        return v
    if kind is not dict or type(v.get("$")) is not str:
        raise _Unsupported
    text = v["$"]
    if len(v) != 2:
        raise _Unsupported
    if "lang" in v:
        if type(v["lang"]) is not str or not v["lang"]:
            raise _Unsupported
        return {"lit": text, "lang": v["lang"]}
    datatype = v.get("type")
    if datatype == "xsd:QName" or datatype == "prov:QUALIFIED_NAME":
        return names.qn(text)
    if datatype == "xsd:anyURI":
        return {"uri": text}
    if datatype == "xsd:string":
        return text
    if datatype == "xsd:dateTime":
        return {"time": _time(text)}
    if datatype == "xsd:int" and _INT.match(text) and _INT32[0] <= int(text) <= _INT32[1]:
        return int(text)
    if datatype == "xsd:double" and _DOUBLE.match(text):
        return float(text)
    if datatype == "xsd:boolean" and text in ("true", "false"):
        return text == "true"
    raise _Unsupported


def _time(text) -> str:
    parsed = parse_xsd_datetime(text) if type(text) is str else None
    if parsed is None:
        raise _Unsupported
    return parsed.isoformat()


def _attributes(type_name: str, body, names: _Names) -> tuple[list, dict]:
    """Encoded attributes in prov's order (formal ones in declaration order, then the others as
    written, equal values once) and the formal values by key."""
    if type(body) is not dict:
        raise _Unsupported
    formal_spec = _FORMAL[type_name]
    formal: dict = {}
    extra: list = []
    for key, values in body.items():
        spec = formal_spec.get(key)
        if spec is not None:
            formal[key] = names.qn(values) if spec else {"time": _time(values)}
            continue
        if key in _ALL_FORMAL:
            raise _Unsupported
        name = names.qn(key)
        many = values if type(values) is list else [values]
        if not many:
            raise _Unsupported
        if len(many) == 1:
            extra.append([name, _value(many[0], names)])
            continue
        seen = set()  # equal values once, as prov's value sets keep them (1, 1.0, True are three)
        for v in many:
            enc = _value(v, names)
            k = value_key(enc)
            if k not in seen:
                seen.add(k)
                extra.append([name, enc])
    attrs = [[names.qn(key), formal[key]] for key in formal_spec if key in formal] + extra
    return attrs, formal


class _FirstConflict:
    """Records that contradict each other (one id, two kinds or types): such a document is read
    by prov, and :func:`provhub.provdm.codec.records_and_hash` decides what to keep or refuse."""

    def __init__(self):
        self.first: Conflict | None = None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, Conflict):
            self.first = self.first or exc
            return True
        return False


def read(data, text: str) -> tuple[list[Node], list[Relation], str, int, dict] | None:
    """``(nodes, relations, content hash, record count, prefixes)`` of a plain PROV-JSON document
    (``data`` is ``json.loads(text)``), as :func:`provhub.provdm.codec.records_and_hash` gives them for prov's
    parse; None when the document is not plain (then parse it with prov)."""
    if type(data) is not dict or ('"voprov:' in text and "voprov" not in (data.get("prefix") or {})):
        return None  # voprov's get_w3c() output: translated on the prov path
    try:
        return _read(data)
    except _Unsupported:
        return None


def _read(data: dict):
    prefixes = data.get("prefix", {})
    if type(prefixes) is not dict:
        raise _Unsupported
    names = _Names(prefixes)
    conflicts = _FirstConflict()
    nodes: dict[str, Node] = {}
    relations: dict[str, Relation] = {}
    lines = []
    records = 0
    for type_name, group in data.items():
        if type_name == "prefix":
            continue
        if type_name not in _FORMAL or type(group) is not dict:
            raise _Unsupported
        element = type_name in ELEMENT_KINDS
        for rid, body in group.items():
            attrs, formal = _attributes(type_name, body, names)
            records += 1
            anonymous = rid.startswith("_:")
            if anonymous and element:
                raise _Unsupported
            ident = None if anonymous else names.qn(rid)["qn"]
            iri = qn_iri(ident) if ident else None
            canon = canonical_attributes(attrs)
            lines.append(canonical_line(None, type_name, iri, canon))
            if element:
                assert iri is not None and ident is not None  # anonymous elements were refused above
                node = Node(iri, type_name, ident, attrs)
                with conflicts:
                    nodes[node.id] = merge_node(nodes.get(node.id), node)
                continue
            src_key, dst_key = voc.RELATION_ENDPOINTS.get(type_name, (None, None))
            src, dst = (formal.get(k) for k in (src_key, dst_key))
            rel_id = iri or _mint_anonymous_id(type_name, canon)
            category = voc.relation_category(type_name, _relation_types(attrs))
            rel = Relation(
                rel_id, type_name, src and qn_iri(src["qn"]), dst and qn_iri(dst["qn"]), category, ident, attrs
            )
            with conflicts:
                relations[rel_id] = merge_relation(relations.get(rel_id), rel)
    if conflicts.first is not None:
        raise _Unsupported  # prov reads it: records_and_hash keeps or refuses what conflicts
    return (
        list(nodes.values()),
        list(relations.values()),
        content_hash(lines),
        records,
        {p: u for p, u in prefixes.items() if p not in ("prov", "xsd")},
    )


__all__ = ["read"]
