"""Identity resolution: the names a record is known by, and how a stand-in joins the real record.

Archives import "last-step provenance" in pieces: an index table names run files it has not read
(``phfile:name/<file>`` stand-ins), a DataStore without its run files cannot tell the telescope
(``phobs:unknown/<OBS_ID>``), and pipelines name files by path. Each record therefore *claims*
aliases, read off its id and attributes by :func:`claims_of`:

==========================  ====================================================  ==========
claim key                   from                                                  strength
==========================  ====================================================  ==========
``hdr-sha256:<hex>``        ``provhub:headerSha256`` (the FITS importer)          strong
``sha256:<hex>``            a ``phfile:sha256-<hex>`` id (files by their bytes)   strong
``md5:<hex>``               a ``phfile:md5-<hex>`` id (ESO ``DATAMD5``)           strong
``cta-product:<id>``        a ``ctaprod:`` id (CTA product id)                    strong
``obs:<OBS_ID>``,           an observation activity whose telescope is known      strong
``obs:<TEL>/<OBS_ID>``
``path:<location>``,        ``prov:location`` and ``prov:label`` of a strong file strong
``name:<file name>``
any text                    ``provhub:alias`` values (``ivo://...`` DIDs, ...)    strong
``name:<file name>``        a ``phfile:name/<file>`` stand-in (and its location)  standin
``obs:<OBS_ID>``            a ``phobs:unknown/<OBS_ID>`` observation              partial
``path:<location>``         an entity that has a ``prov:location`` and nothing    partial
                            stronger (a pipeline naming a file by its path)
==========================  ====================================================  ==========

A *weak* record (standin or partial) **joins** the one strong record that shares its most
specific key (``path:`` before ``obs:`` before digests before ``name:``); a pinned claim (an
operator's decision) wins over all. Two or more distinct strong candidates make the name
*ambiguous*: nothing is merged, and the candidates are reported. Records below a joined id
(``<weak>/<HDU>``, ``phobs:unknown/N/dl3``) follow it (``<strong>/<HDU>``).

:func:`canonicalize` rewrites a document's records with the joins: a stand-in is dropped where
its target is declared (its attributes only stood in for the real record), a partial record is
renamed and merged into it, relation endpoints are rewritten and anonymous relation ids minted
again from the rewritten content, and a bare relation (no attributes beyond its endpoints) that
only existed because of a stand-in is dropped when the same relation between the same records
is asserted anyway. The store keeps records in this canonical form, so lineage walks need not
know about joins (see docs/model.md, "Identity and joins").
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Collection, Iterable, NamedTuple
from urllib.parse import unquote

from . import vocabulary as voc
from .codec import ANON_PREFIX, Node, Relation, _mint_anonymous_id, attr_iri, canonical_attributes, qn_iri
from .merge import merge_node, merge_relation

ID_BASE = "https://provhub.org/id/"
FILE_NS = ID_BASE + "file/"
OBS_NS = ID_BASE + "obs/"
CTA_PRODUCT_NS = ID_BASE + "cta/product/"
STANDIN_NS = FILE_NS + "name/"
UNKNOWN_OBS_NS = OBS_NS + "unknown/"
#: namespace URI -> prefix of the importers' ids (to write a rewritten endpoint's qualified name)
ID_PREFIXES = {FILE_NS: "phfile", OBS_NS: "phobs", CTA_PRODUCT_NS: "ctaprod"}

STRONG, STANDIN, PARTIAL, PIN = "strong", "standin", "partial", "pin"
WEAK = (STANDIN, PARTIAL)
#: key classes, most specific first: a weak record joins by the first class that has candidates
KEY_ORDER = ("id:", "path:", "obs:", "hdr-sha256:", "sha256:", "md5:", "cta-product:", "name:")
_COMPRESSED = (".gz", ".fz", ".bz2")

_P = voc.PROV_URI
_H = voc.PROVHUB.uri
LOCATION, LABEL, TYPE = _P + "location", _P + "label", _P + "type"
HEADER_SHA, ALIAS = _H + "headerSha256", _H + "alias"
TELESCOPE, OBS_ID, OBSERVATION = _H + "telescope", _H + "obsId", _H + "Observation"


class Claim(NamedTuple):
    """``record_id`` is known by ``key``; ``strength`` is strong, standin, partial or pin.
    (A tuple: every record of every ingest is read for claims.)"""

    key: str
    record_id: str
    strength: str
    doc_id: str = ""


@dataclass(frozen=True)
class Ambiguity:
    """A weak record whose key names several strong records: left unjoined, reported."""

    record_id: str
    key: str
    candidates: tuple[str, ...]


def file_name_keys(text: str) -> list[str]:
    """``name:`` keys of a file reference: its base name, and without a compression suffix."""
    base = posixpath.basename(str(text).strip().replace("\\", "/").rsplit("$", 1)[-1].rstrip("/"))
    if not base:
        return []
    keys = ["name:" + base]
    for suffix in _COMPRESSED:
        if base.endswith(suffix) and len(base) > len(suffix):
            keys.append("name:" + base[: -len(suffix)])
    return keys


def normalize_key(text: str) -> list[str]:
    """The claim keys a user's alias may mean (``/resolve``): itself, as a name, as an id."""
    text = text.strip()
    out = [text]
    if ":" not in text.split("/", 1)[0] or text.startswith(("name:", "path:", "obs:")):
        out += file_name_keys(text) + ["path:" + text]
    return list(dict.fromkeys(out))


def _text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for k in ("lit", "uri"):
            if isinstance(value.get(k), str):
                return value[k]
    return None


def claims_of(nodes: Iterable[Node]) -> list[Claim]:
    """The alias claims of a document's records (see the module docstring)."""
    out: list[Claim] = []
    for node in nodes:
        out += _node_claims(node)
    return list(dict.fromkeys(out))


_WANTED = frozenset((LOCATION, LABEL, TYPE, HEADER_SHA, ALIAS, TELESCOPE, OBS_ID))


def _read(attrs: list) -> dict[str, list]:
    """The values of the attributes claims are read from, in one pass over a record's attributes."""
    out: dict[str, list] = {}
    for name, value in attrs:
        iri = name["qn"][0] + name["qn"][1]  # attr_iri, inlined: every record of every ingest
        if iri in _WANTED:
            out.setdefault(iri, []).append(value)
    return out


def _node_claims(node: Node) -> list[Claim]:
    rid = node.id
    found = _read(node.attrs)
    if not found and not rid.startswith(ID_BASE):
        return []

    def values(iri):
        return found.get(iri, ())

    locations = [t for t in map(_text, values(LOCATION)) if t]
    explicit = [Claim(t, rid, STRONG) for t in map(_text, values(ALIAS)) if t]
    if rid.startswith(STANDIN_NS) and "/" not in rid[len(STANDIN_NS) :]:
        keys = file_name_keys(unquote(rid[len(STANDIN_NS) :])) + ["path:" + p for p in locations]
        return [Claim(k, rid, STANDIN) for k in keys] + explicit
    if rid.startswith(UNKNOWN_OBS_NS) and "/" not in rid[len(UNKNOWN_OBS_NS) :]:
        return [Claim("obs:" + unquote(rid[len(UNKNOWN_OBS_NS) :]), rid, PARTIAL)] + explicit
    types = {qn_iri(v["qn"]) for v in values(TYPE) if isinstance(v, dict) and "qn" in v}
    if node.kind == "activity" and OBSERVATION in types:
        tel = next((t for t in map(_text, values(TELESCOPE)) if t), None)
        obs = next((v for v in values(OBS_ID) if isinstance(v, (int, str))), None)
        if tel and tel != "unknown" and obs is not None:
            return [Claim(f"obs:{obs}", rid, STRONG), Claim(f"obs:{tel}/{obs}", rid, STRONG)] + explicit
        return explicit
    if node.kind != "entity":
        return explicit
    strong = [f"hdr-sha256:{t}" for t in map(_text, values(HEADER_SHA)) if t]
    local = rid[len(FILE_NS) :] if rid.startswith(FILE_NS) else ""
    if local.startswith("sha256-") and "/" not in local:
        strong.append("sha256:" + local[len("sha256-") :])
    elif local.startswith("md5-") and "/" not in local:
        strong.append("md5:" + local[len("md5-") :])
    if rid.startswith(CTA_PRODUCT_NS) and "/" not in rid[len(CTA_PRODUCT_NS) :]:
        strong.append("cta-product:" + unquote(rid[len(CTA_PRODUCT_NS) :]))
    paths = ["path:" + p for p in locations]
    if not strong and not explicit:
        # a record that only has a location joins the file at exactly that location, never by name
        return [Claim(k, rid, PARTIAL) for k in dict.fromkeys(paths)]
    names = paths + [k for p in locations for k in file_name_keys(p)]
    if strong:
        labels = [t for t in map(_text, values(LABEL)) if t]
        names += [k for t in labels for k in file_name_keys(t)]
        return [Claim(k, rid, STRONG) for k in dict.fromkeys(strong + names)] + explicit
    # a record that names itself (provhub:alias) is strong for its locations too
    return explicit + [Claim(k, rid, STRONG) for k in dict.fromkeys(names)]


def key_class(key: str) -> int:
    for i, prefix in enumerate(KEY_ORDER):
        if key.startswith(prefix):
            return i
    return KEY_ORDER.index("hdr-sha256:")  # explicit aliases rank with digests


def resolve(claims: Iterable[Claim]) -> tuple[dict[str, str], list[Ambiguity], dict[str, str]]:
    """The joins that ``claims`` make: ``({weak id: strong id}, ambiguities, {weak id: strength})``.

    A weak record that is also strong somewhere (a stand-in id a later document declares for
    real) is not joined."""
    by_key: dict[str, set[str]] = {}
    pins: dict[str, set[str]] = {}
    weak: dict[str, dict[str, set[str]]] = {}
    strength: dict[str, str] = {}
    strong_ids: set[str] = set()
    for c in claims:
        if c.strength == STRONG:
            by_key.setdefault(c.key, set()).add(c.record_id)
            strong_ids.add(c.record_id)
        elif c.strength == PIN:
            pins.setdefault(c.key, set()).add(c.record_id)
        else:
            weak.setdefault(c.record_id, {}).setdefault(c.key, set())
            strength.setdefault(c.record_id, c.strength)
    joins: dict[str, str] = {}
    ambiguous: list[Ambiguity] = []
    for rid in sorted(weak):
        if rid in strong_ids:
            continue
        keys = sorted(weak[rid], key=lambda k: (key_class(k), k))
        pinned = sorted({t for k in ["id:" + rid] + keys for t in pins.get(k, ())})
        if len(pinned) == 1:
            joins[rid] = pinned[0]
            continue
        for cls in sorted({key_class(k) for k in keys}):
            cands = sorted({t for k in keys if key_class(k) == cls for t in by_key.get(k, ()) if t != rid})
            if len(cands) == 1:
                joins[rid] = cands[0]
                break
            if len(cands) > 1:
                key = next(k for k in keys if key_class(k) == cls and by_key.get(k))
                ambiguous.append(Ambiguity(rid, key, tuple(cands)))
                break
    return joins, ambiguous, strength


class Canon:
    """Maps ids through joins, including the ids below a joined one (``<weak>/<HDU>``)."""

    def __init__(self, joins: dict[str, str], strength: dict[str, str] | None = None):
        self.joins = dict(joins)
        self.strength = strength or {}

    def __bool__(self) -> bool:
        return bool(self.joins)

    def root(self, rid: str) -> str | None:
        """The joined id ``rid`` is or lies below, or None."""
        if rid in self.joins:
            return rid
        if not rid.startswith(ID_BASE):
            return None
        cut = len(rid)
        while True:
            cut = rid.rfind("/", len(ID_BASE), cut)
            if cut < 0:
                return None
            if rid[:cut] in self.joins:
                return rid[:cut]

    def map_id(self, rid: str) -> str:
        if not self.joins:
            return rid
        root = self.root(rid)
        return rid if root is None else self.joins[root] + rid[len(root) :]

    def map(self, rid: str | None) -> str | None:
        """:meth:`map_id` of an endpoint that may be absent."""
        return None if rid is None else self.map_id(rid)

    def standin(self, rid: str) -> bool:
        root = self.root(rid)
        return root is not None and self.strength.get(root, STANDIN) == STANDIN


def qn_of(iri: str, known: dict[str, list] | None = None) -> list:
    """``[namespace, local, prefix]`` of an id (an importer namespace, a known record, or split)."""
    if known and iri in known:
        return known[iri]
    for ns, prefix in ID_PREFIXES.items():
        if iri.startswith(ns):
            return [ns, iri[len(ns) :], prefix]
    cut = max(iri.rfind("#"), iri.rfind("/"), iri.rfind(":")) + 1
    return [iri[:cut], iri[cut:], "ns"]


def endpoint_names(rel_type: str) -> tuple[str | None, str | None]:
    src, dst = voc.RELATION_ENDPOINTS.get(rel_type, (None, None))
    return (_P + src.split(":", 1)[1] if src else None, _P + dst.split(":", 1)[1] if dst else None)


def canonicalize(
    nodes: list[Node],
    relations: list[Relation],
    canon: Canon,
    *,
    declared: Collection[str] = frozenset(),
    qns: dict[str, list] | None = None,
    asserted: Collection[tuple] = frozenset(),
) -> tuple[list[Node], list[Relation]]:
    """A document's records with the joins of ``canon`` applied (see the module docstring).

    ``declared``: ids declared elsewhere (stored or in the same write): a stand-in whose target
    is among them, or among ``nodes``, is dropped. ``qns``: qualified names of target ids.
    ``asserted``: ``(type, src, dst)`` of relations asserted elsewhere, which subsume a bare
    relation that a stand-in left.
    """
    if not canon:
        return nodes, relations
    known = dict(qns or {})
    own = {n.id for n in nodes if canon.root(n.id) is None}
    known.update({n.id: n.qn for n in nodes})
    out_nodes: dict[str, Node] = {}
    for node in nodes:
        target = canon.map_id(node.id)
        if target != node.id:
            if canon.standin(node.id) and (target in declared or target in own):
                continue
            node = Node(target, node.kind, qn_of(target, known), node.attrs)
        out_nodes[target] = merge_node(out_nodes.get(target), node)
    out_rels: dict[str, Relation] = {}
    bare: list[Relation] = []
    for rel in relations:
        src, dst = canon.map(rel.src), canon.map(rel.dst)
        if (src, dst) == (rel.src, rel.dst):
            out_rels.setdefault(rel.id, rel)
            continue
        src_name, dst_name = endpoint_names(rel.type)
        attrs = []
        for name, value in rel.attrs:
            iri = attr_iri(name)
            if iri in (src_name, dst_name) and isinstance(value, dict) and "qn" in value:
                end = src if iri == src_name else dst
                value = {"qn": qn_of(end, known)} if end else value
            attrs.append([name, value])
        rid = _mint_anonymous_id(rel.type, canonical_attributes(attrs)) if rel.id.startswith(ANON_PREFIX) else rel.id
        new = Relation(rid, rel.type, src, dst, rel.category, rel.qn, attrs)
        if (
            rel.id.startswith(ANON_PREFIX)
            and len(attrs) <= 2
            and (canon.standin(rel.src or "") or canon.standin(rel.dst or ""))
        ):
            bare.append(new)
        else:
            out_rels.setdefault(rid, new)
    present = {(r.type, r.src, r.dst) for r in out_rels.values()} | set(asserted)
    for rel in bare:
        if (rel.type, rel.src, rel.dst) not in present:
            out_rels.setdefault(rel.id, rel)
    return list(out_nodes.values()), list(out_rels.values())


def merge_versions(versions: list, kind: str) -> Node | Relation | None:
    """One record from the versions of it that several documents assert, in document order."""
    if kind == "node":
        node: Node | None = None
        for v in versions:
            node = merge_node(node, v)
        return node
    relation: Relation | None = None
    for v in versions:
        relation = merge_relation(relation, v)
    return relation
