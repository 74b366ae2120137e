"""A parsed :class:`prov.model.ProvDocument` into records, and records back into a document.

:func:`records_and_hash` turns a document (and its bundles) into the :class:`~provhub.provdm.records.Node`
and :class:`~provhub.provdm.records.Relation` records stores keep, with every attribute in the encoding of
:mod:`provhub.provdm.records`, and its canonical content hash; :func:`to_document` gives the same PROV
back. The record types and value encoding live in :mod:`provhub.provdm.records` and are importable from
here too.

Anonymous relations get a deterministic id minted from their content
(``urn:provhub:anon:<sha1>``) so that re-asserting them is idempotent.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from typing import Any, Callable, Iterable

from prov.identifier import Identifier, Namespace, QualifiedName
from prov.model import (
    PROV_N_MAP,
    Literal,
    ProvBundle,
    ProvDocument,
    ProvElement,
    ProvRelation,
)

from . import vocabulary as voc
from .merge import kind_key, merge_node, merge_relation
from .records import (
    ANON_PREFIX,
    REPEAT_PREFIX,
    ELEMENT_KINDS,
    Graph,
    Node,
    Relation,
    attr_iri,
    encode_qn,
    encode_value,
    qn_iri,
    tree_json,
    value_key,
)

_PROV = Namespace("prov", voc.PROV_URI)
_NAME_TO_TYPE = {name: qn for qn, name in PROV_N_MAP.items()}
_string_json = json.encoder.encode_basestring_ascii  # json.dumps(a str)'s text, in C


class Decoder:
    """Turns encoded values (:mod:`provhub.provdm.records`) back into prov objects, reusing one Namespace per (prefix, uri)."""

    def __init__(self, prefixes: dict[str, str] | None = None):
        self._by_uri: dict[str, Namespace] = {}
        for prefix, uri in (prefixes or {}).items():
            self._by_uri.setdefault(uri, Namespace(prefix, uri))

    def namespace(self, uri: str, prefix: str | None) -> Namespace:
        ns = self._by_uri.get(uri)
        if ns is None:
            ns = Namespace(prefix or "ns", uri)
            self._by_uri[uri] = ns
        return ns

    def qn(self, triple: list) -> QualifiedName:
        uri, local, prefix = triple
        return self.namespace(uri, prefix)[local]

    def value(self, enc: Any) -> Any:
        if not isinstance(enc, dict):
            return enc
        if "qn" in enc:
            return self.qn(enc["qn"])
        if "uri" in enc:
            return Identifier(enc["uri"])
        if "time" in enc:
            return _dt.datetime.fromisoformat(enc["time"])
        if "lang" in enc:
            return Literal(enc["lit"], langtag=enc["lang"])
        if "dt" in enc:
            dt = enc["dt"]
            if dt.startswith(voc.XSD_URI):
                dtq = Namespace("xsd", voc.XSD_URI)[dt[len(voc.XSD_URI) :]]
            elif dt.startswith(voc.PROV_URI):
                dtq = _PROV[dt[len(voc.PROV_URI) :]]
            else:
                base, _, local = dt.rpartition("#") if "#" in dt else dt.rpartition("/")
                dtq = self.namespace(base + ("#" if "#" in dt else "/"), None)[local]
            return Literal(enc["lit"], datatype=dtq)
        return Literal(enc["lit"])


# -- document -> records ----------------------------------------------------------------------


def _encode_attributes(record) -> list:
    pairs = []
    for name, value in list(record.formal_attributes) + list(record.extra_attributes):
        if value is None:
            continue
        pairs.append([encode_qn(name), encode_value(value)])
    return pairs


def canonical_attributes(attrs: list) -> list[str]:
    """The attributes of a record as sorted ``iri=value key`` lines (prefixes and order ignored)."""
    return sorted(n["qn"][0] + n["qn"][1] + "=" + value_key(v) for n, v in attrs)  # attr_iri, inlined


def _strings_json(items: list[str]) -> str:
    """``json.dumps(items)``'s exact text for a list of strings, without an encoder per call (the
    canonical lines and anonymous ids of every record go through here)."""
    return "[" + ", ".join(map(_string_json, items)) + "]"


def _mint_anonymous_id(rel_type: str, canon: list[str]) -> str:
    """The id of an anonymous relation, from its type and :func:`canonical_attributes`."""
    text = f"[{_string_json(rel_type)}, {_strings_json(canon)}]"  # json.dumps([rel_type, canon])
    return ANON_PREFIX + hashlib.sha1(text.encode("utf-8")).hexdigest()


def _relation_types(attrs: list) -> list[str]:
    out = []
    for name, value in attrs:
        if attr_iri(name) == voc.PROV_URI + "type" and isinstance(value, dict) and "qn" in value:
            out.append(qn_iri(value["qn"]))
    return out


def iter_bundles(doc: ProvDocument) -> Iterable[tuple[str | None, ProvBundle]]:
    yield None, doc
    for bundle in doc.bundles:
        assert bundle.identifier is not None  # prov's add_bundle requires an identifier
        yield bundle.identifier.uri, bundle


def records_and_hash(doc: ProvDocument) -> tuple[list[Node], list[Relation], str]:
    """The merged node and relation records of a document (and its bundles), and its
    canonical content hash (see :func:`canonical_hash`), encoding each record once.

    Several records with one id inside the document are merged in order of appearance; a
    conflict among elements raises :class:`provhub.provdm.errors.Conflict` (see :mod:`provhub.provdm.merge`).
    A relation id whose assertions conflict keeps every assertion (:func:`_keep_every_assertion`).
    """
    nodes: dict[str, Node] = {}
    relations: dict[str, Relation] = {}
    again: dict[str, list[Relation]] = {}  # the assertions of relation ids asserted more than once
    conflicts: list[dict] = []
    again_nodes: dict[str, list[Node]] = {}  # the same for element ids
    split_nodes: set[str] = set()  # element ids whose assertions do not unify
    lines = []
    for bundle_id, bundle in iter_bundles(doc):
        for record in bundle.get_records():
            if isinstance(record, ProvBundle):
                continue
            type_name = PROV_N_MAP[record.get_type()]
            attrs = _encode_attributes(record)
            ident = record.identifier
            canon = canonical_attributes(attrs)
            lines.append(canonical_line(bundle_id, type_name, ident.uri if ident is not None else None, canon))
            if isinstance(record, ProvElement):
                assert ident is not None  # prov gives every element an identifier
                node = Node(ident.uri, type_name, encode_qn(ident)["qn"], attrs)
                known = nodes.get(node.id)
                if known is not None:
                    again_nodes.setdefault(node.id, [known]).append(node)
                    trial: list = []
                    nodes[node.id] = merge_node(known, node, trial)
                    if trial:
                        split_nodes.add(node.id)
                else:
                    nodes[node.id] = node
            elif isinstance(record, ProvRelation):
                src_name, dst_name = voc.RELATION_ENDPOINTS.get(type_name, (None, None))
                src = dst = None
                for name, value in record.formal_attributes:
                    if value is None:
                        continue
                    key = "prov:" + name.localpart
                    if key == src_name:
                        src = value.uri
                    elif key == dst_name:
                        dst = value.uri
                if ident is not None:
                    rid, qn = ident.uri, encode_qn(ident)["qn"]
                else:
                    rid, qn = _mint_anonymous_id(type_name, canon), None
                category = voc.relation_category(type_name, _relation_types(attrs))
                rel = Relation(rid, type_name, src, dst, category, qn, attrs)
                stored = relations.get(rid)
                if stored is not None:
                    again.setdefault(rid, [stored]).append(rel)
                relations[rid] = merge_relation(stored, rel, conflicts, placeholders=True)
    if conflicts:
        _keep_every_assertion(relations, again, {c["id"] for c in conflicts})
    if split_nodes:
        _keep_every_element(nodes, again_nodes, split_nodes)
    return list(nodes.values()), list(relations.values()), content_hash(lines)


def _keep_every_element(nodes: dict[str, Node], again: dict[str, list[Node]], split: set[str]) -> None:
    """An element id asserted in a document as elements of several kinds, or as one kind with
    formal attributes that do not unify (an activity with two start times): every assertion is
    kept, merged where it unifies. The first kind of ELEMENT_KINDS keeps the id as its store key,
    another kind gets :func:`kind_key`; within a kind, the assertions merge unless their formal
    attributes differ, and then each distinct one is kept (the first in canonical order under the
    kind's key, the others under a key from their content). Every record keeps the id's
    qualified name, so it is written back under the id."""
    for nid in split:
        by_kind: dict[str, list[Node]] = {}
        for node in again[nid]:
            by_kind.setdefault(node.kind, []).append(node)
        del nodes[nid]
        for i, kind in enumerate(sorted(by_kind, key=ELEMENT_KINDS.index)):
            key = nid if i == 0 else kind_key(nid, kind)
            merged: Node | None = None
            trial: list = []
            for node in by_kind[kind]:
                merged = merge_node(merged, node, trial)
            assert merged is not None
            if not trial:
                nodes[key] = Node(key, kind, merged.qn, merged.attrs)
                continue
            distinct: dict[tuple, Node] = {}
            for node in by_kind[kind]:
                distinct.setdefault(tuple(canonical_attributes(node.attrs)), node)
            (_, first), *others = sorted(distinct.items(), key=lambda kv: kv[0])
            nodes[key] = Node(key, kind, first.qn, first.attrs)
            for canon, node in others:
                text = f"[{_string_json(nid)}, {_string_json(kind)}, {_strings_json(list(canon))}]"
                other = REPEAT_PREFIX + hashlib.sha1(text.encode("utf-8")).hexdigest()
                nodes[other] = Node(other, kind, node.qn, node.attrs)


def _mint_repeat_id(rel: Relation, canon: list[str]) -> str:
    """The store key of one more assertion of relation ``rel.id`` (see :func:`_keep_every_assertion`)."""
    text = f"[{_string_json(rel.id)}, {_string_json(rel.type)}, {_strings_json(canon)}]"
    return REPEAT_PREFIX + hashlib.sha1(text.encode("utf-8")).hexdigest()


def _keep_every_assertion(relations: dict[str, Relation], again: dict[str, list[Relation]], split: set[str]) -> None:
    """One relation id asserted several times in a document with formal attributes (or types)
    that do not unify (PROV-CONSTRAINTS 23 and 53): each distinct assertion is kept as its own
    record, none merged. The one whose canonical form sorts first keeps the id as its store key;
    the others are keyed ``urn:provhub:repeat:<sha1>`` (from the id, type and content) and keep
    the id's qualified name, so that they are written back under the id."""
    for rid in split:
        distinct: dict[tuple, Relation] = {}
        for rel in again[rid]:
            distinct.setdefault((rel.type, tuple(canonical_attributes(rel.attrs))), rel)
        first, *others = sorted(distinct.items(), key=lambda kv: kv[0])
        relations[rid] = first[1]
        for (_, canon), rel in others:
            key = _mint_repeat_id(rel, list(canon))
            relations[key] = Relation(key, rel.type, rel.src, rel.dst, rel.category, rel.qn, rel.attrs)


def canonical_line(bundle_id: str | None, type_name: str, ident: str | None, canon: list[str]) -> str:
    """One record of the canonical form hashed by :func:`content_hash`."""
    # json.dumps([bundle_id or "", type_name, ident or "", canon])'s text
    return (
        f"[{_string_json(bundle_id or '')}, {_string_json(type_name)}, {_string_json(ident or '')}, "
        f"{_strings_json(canon)}]"
    )


def content_hash(lines: list[str]) -> str:
    """sha256 of the sorted canonical lines of a document's records (order-independent)."""
    h = hashlib.sha256()
    for line in sorted(lines):
        h.update(line.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def records_of(doc: ProvDocument) -> tuple[list[Node], list[Relation]]:
    """The merged node and relation records of a document (see :func:`records_and_hash`)."""
    nodes, relations, _ = records_and_hash(doc)
    return nodes, relations


def count_records(doc: ProvDocument) -> int:
    return sum(1 for _, b in iter_bundles(doc) for r in b.get_records() if not isinstance(r, ProvBundle))


def canonical_hash(doc: ProvDocument) -> str:
    """Content hash of a document, independent of syntax, prefixes and record order."""
    return records_and_hash(doc)[2]


# -- records -> document ----------------------------------------------------------------------


def to_document(
    graph: Graph, prefixes: dict[str, str] | None = None, tick: Callable[[], object] | None = None
) -> ProvDocument:
    """Build a ProvDocument holding exactly the records of ``graph`` (sorted, deterministic).
    ``tick`` is called every TICK records (a request's deadline check: it raises to stop)."""
    dec = Decoder(prefixes)
    doc = ProvDocument()
    for prefix, uri in sorted((prefixes or {}).items()):
        if prefix not in ("prov", "xsd"):
            doc.add_namespace(dec.namespace(uri, prefix))
    for i, node in enumerate(sorted(graph.nodes, key=lambda n: (ELEMENT_KINDS.index(n.kind), n.id))):
        if tick is not None and i % TICK == 0:
            tick()
        attrs = [(dec.qn(n["qn"]), dec.value(v)) for n, v in node.attrs]
        doc.new_record(_NAME_TO_TYPE[node.kind], dec.qn(node.qn), attributes=attrs)
    for i, rel in enumerate(sorted(graph.relations, key=lambda r: (r.type, r.id))):
        if tick is not None and i % TICK == 0:
            tick()
        attrs = [(dec.qn(n["qn"]), dec.value(v)) for n, v in rel.attrs]
        ident = dec.qn(rel.qn) if rel.qn else None
        doc.new_record(_NAME_TO_TYPE[rel.type], ident, attributes=attrs)
    return doc


#: records between two calls of to_document's ``tick``
TICK = 2000

__all__ = [
    "Decoder",
    "records_and_hash",
    "records_of",
    "kind_key",
    "to_document",
    "canonical_hash",
    "count_records",
    "canonical_attributes",
    "canonical_line",
    "content_hash",
    "iter_bundles",
    # from provhub.provdm.records
    "ANON_PREFIX",
    "REPEAT_PREFIX",
    "ELEMENT_KINDS",
    "Node",
    "Relation",
    "Graph",
    "encode_qn",
    "encode_value",
    "value_key",
    "attr_iri",
    "qn_iri",
    "tree_json",
]
