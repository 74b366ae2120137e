"""PROV-JSON written straight from records (:class:`provhub.provdm.codec.Graph`), for large answers.

Lineage answers can hold tens of thousands of records; building a ``prov`` model of them only
to serialise it costs most of the answer time (issue 8 profiles). This writer produces the same
PROV-JSON the ``prov`` serializer would for ``codec.to_document(graph, prefixes)``:
``tests/test_provjson_writer.py`` checks that prov reads it back equal, both ways, for every
document of the corpus and the lineage fixtures. Stores also keep each record's fragment
(:func:`record_fragment`) and join them (:func:`join_fragments`).
"""

from __future__ import annotations

import functools
import json

from prov.model import canonical_xsd_datatype
from prov.serializers.provjson import _xsd_double_text

from .codec import REPEAT_PREFIX, Graph
from .vocabulary import PROV_URI, RELATION_ENDPOINTS, XSD_URI

#: formal attributes written as a bare qualified name / as a bare xsd:dateTime
_QNAME_ATTRS = {PROV_URI + end.split(":", 1)[1] for pair in RELATION_ENDPOINTS.values() for end in pair}
_QNAME_ATTRS |= {PROV_URI + n for n in ("generation", "usage", "plan", "activity", "starter", "ender", "bundle")}
_TIME_ATTRS = {PROV_URI + n for n in ("time", "startTime", "endTime")}
_BUILTIN = {PROV_URI: "prov", XSD_URI: "xsd"}
_BUILTIN_TAKEN = {p: u for u, p in _BUILTIN.items()}
#: json.dumps(x, ensure_ascii=False)'s text without building an encoder per call, nor checking
#: for circular references (fragments are written for every stored record)
_dumps = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


class _Prefixes:
    """Namespace URI -> prefix for one answer; a prefix names one URI only (renamed ``p_1``...)."""

    def __init__(self, known: dict[str, str]):
        self.by_uri: dict[str, str] = dict(_BUILTIN)
        self.taken: dict[str, str] = dict(_BUILTIN_TAKEN)
        self.declared: dict[str, str] = {}
        for prefix, uri in sorted(known.items()):
            self._register(uri, prefix, declare=True)

    def _register(self, uri: str, prefix: str | None, declare: bool = False) -> str:
        base = prefix if prefix and prefix != "default" else "dn"
        name, n = base, 0
        while name in self.taken and self.taken[name] != uri:
            n += 1
            name = f"{base}_{n}"
        self.taken[name] = uri
        self.by_uri[uri] = name
        if declare and uri not in _BUILTIN:
            self.declared[name] = uri
        return name

    def text(self, triple: list) -> str:
        uri, local, prefix = triple
        name = self.by_uri.get(uri)
        if name is None:
            name = self._register(uri, prefix)
        if uri not in _BUILTIN:
            self.declared.setdefault(name, uri)
        return f"{name}:{local}"

    def iri_text(self, iri: str) -> str:
        for sep in ("#", "/", ":"):
            base, found, local = iri.rpartition(sep)
            if found:
                return self.text([base + sep, local, None])
        return iri


def _value(enc, pm: _Prefixes):
    if not isinstance(enc, dict):
        # int and float typed as prov writes them (magnitude-aware xsd type, string lexical form)
        datatype = canonical_xsd_datatype(enc)
        if datatype is None:
            return enc
        return {"$": _xsd_double_text(enc) if isinstance(enc, float) else str(enc), "type": str(datatype)}
    if "qn" in enc:
        return {"$": pm.text(enc["qn"]), "type": "xsd:QName"}
    if "uri" in enc:
        return {"$": enc["uri"], "type": "xsd:anyURI"}
    if "time" in enc:
        return {"$": enc["time"], "type": "xsd:dateTime"}
    if "lang" in enc:
        return {"$": enc["lit"], "lang": enc["lang"]}
    if "dt" in enc:
        return {"$": enc["lit"], "type": pm.iri_text(enc["dt"])}
    return enc["lit"]


def _record(attrs: list, pm: _Prefixes) -> dict:
    body: dict = {}
    multi: dict = {}
    for name, enc in attrs:
        qn = name["qn"]
        iri = qn[0] + qn[1]  # qn_iri, inlined: this loop runs for every attribute of every record
        key = pm.text(qn)
        if iri in _QNAME_ATTRS and isinstance(enc, dict) and "qn" in enc:
            body[key] = pm.text(enc["qn"])
        elif iri in _TIME_ATTRS and isinstance(enc, dict) and "time" in enc:
            body[key] = enc["time"]
        elif key in body:
            multi.setdefault(key, [body[key]]).append(_value(enc, pm))
            body[key] = multi[key]
        else:
            body[key] = _value(enc, pm)
    return body


def record_fragment(qn: list | None, attrs: list) -> tuple[str | None, str, str]:
    """One record's PROV-JSON, written once when it is stored, with the record's own prefixes:
    ``(key as a JSON string or None for an anonymous relation, body JSON text, JSON of the
    prefixes it uses)``. :func:`join_fragments` puts the fragments of an answer together without
    decoding them."""
    pm = _Prefixes({})
    key = _key(pm.text(qn)) if qn else None
    return key, _dumps(_record(attrs, pm)), _prefixes_text(tuple(pm.declared.items()))


@functools.lru_cache(maxsize=1024)
def _prefixes_text(declared: tuple) -> str:
    return json.dumps(dict(declared), ensure_ascii=False, sort_keys=True)


def join_fragments(nodes: list, relations: list, *, native: bool = False) -> str | None:
    """The PROV-JSON of an answer from stored fragments: ``nodes`` rows are ``(kind, id, key,
    body, prefixes)``, ``relations`` rows ``(type, id, key, body, prefixes)`` (see
    :func:`record_fragment`). The same document :func:`graph_to_provjson` writes for these
    records, up to the choice of prefixes; with ``native``, as voprov writes it (what
    :func:`provhub.provdm.voprov.to_native` makes of it, each fragment rewritten alone). None when
    two fragments bind one prefix to two namespaces (or a fragment is missing): the caller then
    writes the answer from the records."""
    declared: dict[str, str] = {}
    for text in {row[4] for row in nodes} | {row[4] for row in relations}:
        if text is None:
            return None
        for prefix, uri in json.loads(text).items():
            if declared.setdefault(prefix, uri) != uri:
                return None
    rewrite = _native_rewrite(declared) if native else None
    sections: dict[str, list[str]] = {}
    repeated: dict[tuple[str, str], list[str]] = {}  # one id, several records of one kind or type
    for row in sorted(nodes, key=lambda r: (r[0], r[1])):
        kind, nid, key, body = row[:4]
        if rewrite:
            kind, body = rewrite(row)
        if nid.startswith(REPEAT_PREFIX):
            repeated.setdefault((kind, key), []).append(body)
        else:
            sections.setdefault(kind, []).append(f"{key}: {body}")
    anon = 0
    for row in sorted(relations, key=lambda r: (r[0], r[1])):
        rtype, rid, key, body = row[:4]
        if rewrite:
            rtype, body = rewrite(row)
        if key is None:
            anon += 1
            key = f'"_:id{anon}"'
        elif rid.startswith(REPEAT_PREFIX):
            repeated.setdefault((rtype, key), []).append(body)
            continue
        sections.setdefault(rtype, []).append(f"{key}: {body}")
    for (rtype, key), bodies in repeated.items():
        items = sections.setdefault(rtype, [])
        main = f"{key}: "
        at = next((i for i, item in enumerate(items) if item.startswith(main)), None)
        if at is None:  # no record under the id itself in this answer
            items.append(f"{key}: {bodies[0]}" if len(bodies) == 1 else f"{key}: [{', '.join(bodies)}]")
        else:
            items[at] = f"{key}: [{items[at][len(main) :]}, {', '.join(bodies)}]"
    parts = [f'"prefix": {json.dumps(declared, ensure_ascii=False)}']
    parts += [f"{_key(name)}: {{{', '.join(items)}}}" for name, items in sections.items()]
    return "{" + ", ".join(parts) + "}"


def _native_rewrite(declared: dict[str, str]):
    """``rewrite(row) -> (section, body)`` of an answer's fragment rows in voprov's native form,
    or None when nothing changes. A row may carry a sixth column, the fragment's own native form
    as the store kept it (:func:`provhub.provdm.voprov.native_fragment`; "" when it is the same,
    None when the store has none), which is taken as it is when the answer binds voprov to the
    prefixes the fragment does."""
    from .voprov import native_fragments  # voprov imports the formats, which import this module

    rewrite = native_fragments(declared)
    if rewrite is None:
        return None
    vps = _voprov_prefixes(json.dumps(declared, sort_keys=True))

    def native(row) -> tuple[str, str]:
        if len(row) > 5 and row[5] is not None and _voprov_prefixes(row[4]) == vps:
            if not row[5]:  # the same in both forms
                return row[0], row[3]
            section, _, body = row[5].partition("\t")
            return section, body
        return rewrite(row[0], row[3])

    return native


@functools.lru_cache(maxsize=1024)
def _voprov_prefixes(prefixes: str) -> frozenset[str]:
    from .voprov import voprov_prefixes

    return voprov_prefixes(json.loads(prefixes))


def _key(text: str) -> str:
    return _dumps(text)


def graph_to_provjson(graph: Graph, prefixes: dict[str, str] | None = None, *, indent=None) -> str:
    """The PROV-JSON text of exactly the records of ``graph`` (sorted, deterministic)."""
    pm = _Prefixes(prefixes or {})
    out: dict = {}
    for node in sorted(graph.nodes, key=lambda n: (n.kind, n.repeat, n.id)):
        section, ident, body = out.setdefault(node.kind, {}), pm.text(node.qn), _record(node.attrs, pm)
        if ident in section:  # an activity asserted with two start times: the array form
            current = section[ident]
            section[ident] = (current if isinstance(current, list) else [current]) + [body]
        else:
            section[ident] = body
    anon = 0
    for rel in sorted(graph.relations, key=lambda r: (r.type, r.id)):
        if rel.qn:
            ident = pm.text(rel.qn)
        else:
            anon += 1
            ident = f"_:id{anon}"
        section = out.setdefault(rel.type, {})
        body = _record(rel.attrs, pm)
        if ident in section:  # one id, several records: the PROV-JSON array form
            current = section[ident]
            section[ident] = (current if isinstance(current, list) else [current]) + [body]
        else:
            section[ident] = body
    return json.dumps({"prefix": pm.declared, **out}, indent=indent, ensure_ascii=False)
