"""Access rights inside lineage and search: what a viewer may see of an answer.

A record is visible when a document the viewer may read asserted it (provhub/app/access.py). Records
that readable and unreadable documents both asserted show only what the readable ones said.
"""

from __future__ import annotations

import hashlib

from prov.identifier import Namespace

from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import ANON_PREFIX, Graph, Node, Relation, attr_iri, encode_qn, tree_json
from provhub.provdm.identity import endpoint_names
from provhub.provdm.merge import merge_node, merge_relation

from .access import Viewer, document_readable, placeholder_id, today
from .stores.base import Store

HIDDEN_NS = "urn:provhub:hidden:"


def readable_ids(rights: dict, viewer: Viewer) -> tuple[set[str], set[str]]:
    """(visible record ids, ids that some unreadable document also asserted)."""
    visible, mixed = set(), set()
    for rid, docs in rights.items():
        ok = [document_readable(viewer, d.rights, d.group, d.release) for d in docs]
        if any(ok):
            visible.add(rid)
            if not all(ok):
                mixed.add(rid)
    return visible, mixed


def sees_everything(store: Store, viewer: Viewer) -> bool:
    """True when no document is hidden from ``viewer`` (an admin, or every document is readable):
    two counts, so that public-only stores skip the per-record checks."""
    if viewer.is_admin:
        return True
    _, total = store.list_documents(offset=0, limit=1)
    _, readable = store.list_documents(offset=0, limit=1, groups=viewer.visible_groups, today=today())
    return readable == total


def visible_ids(store: Store, ids, viewer: Viewer) -> set[str]:
    if viewer.is_admin:
        return set(ids)
    return readable_ids(store.rights_of(sorted(ids)), viewer)[0]


def as_readable(store: Store, records: list, mixed: set[str], viewer: Viewer, cache: dict | None = None) -> list:
    """Replace records that unreadable documents also asserted by their readable assertions only,
    so no attribute that only a hidden document gave can show. A document's records are read
    as the store keeps them, joins applied (``identity.document_view``), and kept in ``cache``
    (by document id) for the caller's next call; a record that no readable document states in
    that form keeps only its id (and a relation its endpoints)."""
    if not mixed:
        return records
    cache = {} if cache is None else cache
    from .identity import document_view

    rights = store.rights_of(sorted(mixed))
    out = []
    for rec in records:
        if rec.id not in mixed:
            out.append(rec)
            continue
        merged = None
        for d in rights.get(rec.id, []):
            if not document_readable(viewer, d.rights, d.group, d.release):
                continue
            if d.doc_id not in cache:
                cache[d.doc_id] = document_view(store, d.doc_id)
            part = cache[d.doc_id].get(rec.id)
            if part is not None:
                merger = merge_node if hasattr(part, "kind") else merge_relation
                merged = part if merged is None else merger(merged, part, [])
                if _same(merged, rec):  # readable documents say all the store holds of it: no
                    merged = rec  # hidden one added anything, and no further document can
                    break
        out.append(merged if merged is not None else _bare(rec))
    return out


def _same(part, rec) -> bool:
    """Whether ``part`` (what readable documents say of a record, merged) holds all of ``rec`` (the
    record as stored, merged from every document): then ``rec`` is what the viewer may read."""
    if part.id != rec.id or part.qn != rec.qn or len(part.attrs) != len(rec.attrs):
        return False
    if hasattr(rec, "kind"):
        if part.kind != rec.kind:
            return False
    elif (part.type, part.src, part.dst) != (rec.type, rec.src, rec.dst):
        return False
    return sorted(map(tree_json, part.attrs)) == sorted(map(tree_json, rec.attrs))


def _bare(rec):
    """A record with nothing that a document said of it but its id (and a relation's endpoints)."""
    if hasattr(rec, "kind"):
        return Node(rec.id, rec.kind, rec.qn, [])
    ends = set(endpoint_names(rec.type))
    return Relation(
        rec.id, rec.type, rec.src, rec.dst, rec.category, rec.qn, [[n, v] for n, v in rec.attrs if attr_iri(n) in ends]
    )


def restrict(store: Store, graph: Graph, viewer: Viewer, *, start: list[str], mode: str, scope: str = "") -> Graph:
    """The part of a lineage answer ``viewer`` may see.

    Hidden records never appear. In ``placeholder`` mode hidden nodes that lie on a path between
    visible nodes are kept as opaque placeholder nodes (``urn:provhub:hidden:``, an HMAC of the
    id) joined by plain wasInfluencedBy relations, so the path stays visible; dead ends are dropped;
    in ``cut`` mode hidden nodes and their relations are dropped, and so is whatever was reachable
    only through them.

    Placeholder ids are keyed by ``scope`` too (the caller and the query): within one answer the
    same hidden step has one id, but two answers cannot be joined to follow it across queries.
    """
    all_ids = [n.id for n in graph.nodes] + [r.id for r in graph.relations]
    visible, mixed = readable_ids(store.rights_of(all_ids), viewer)
    hidden_nodes = {n.id for n in graph.nodes if n.id not in visible}
    nodes = [n for n in graph.nodes if n.id in visible]
    rels = []
    hidden_links = []  # (src, dst) of relations touching hidden nodes, or hidden themselves
    for r in graph.relations:
        touches = r.src in hidden_nodes or r.dst in hidden_nodes
        if r.id in visible and not touches:
            rels.append(r)
        else:
            hidden_links.append((r.src, r.dst))
    cache: dict = {}
    nodes = as_readable(store, nodes, mixed, viewer, cache)
    rels = as_readable(store, rels, mixed, viewer, cache)

    if mode == "placeholder" and hidden_links:
        kept_hidden = _between_visible(hidden_nodes, hidden_links)
        secret = store.secret()
        hidden_ns = Namespace("hidden", HIDDEN_NS)

        def pid(x):
            return placeholder_id(scope + "\x1f" + x, secret) if x in hidden_nodes else x

        label = [{"qn": [voc.PROV_URI, "label", "prov"]}, "record not visible to you"]
        ptype = [{"qn": [voc.PROV_URI, "type", "prov"]}, {"qn": [voc.PROVHUB.uri, "Hidden", "provhub"]}]
        for h in sorted(kept_hidden):
            p = pid(h)
            nodes.append(Node(p, "entity", encode_qn(hidden_ns[p[len(HIDDEN_NS) :]])["qn"], [ptype, label]))
        seen = set()
        for a, b in hidden_links:
            keep_a = a not in hidden_nodes or a in kept_hidden
            keep_b = b not in hidden_nodes or b in kept_hidden
            if not (keep_a and keep_b) or a is None or b is None:
                continue
            key = (pid(a), pid(b))
            if key in seen:
                continue
            seen.add(key)
            attrs = [
                [{"qn": [voc.PROV_URI, "influencee", "prov"]}, _ref(key[0], hidden_ns)],
                [{"qn": [voc.PROV_URI, "influencer", "prov"]}, _ref(key[1], hidden_ns)],
                ptype,
            ]
            rid = ANON_PREFIX + hashlib.sha1(("hidden" + key[0] + key[1]).encode()).hexdigest()
            rels.append(Relation(rid, "wasInfluencedBy", key[0], key[1], voc.CAUSAL, None, attrs))
    # keep only what is still connected to the start records
    return _connected(Graph(nodes, rels), start)


def _between_visible(hidden: set[str], links: list[tuple]) -> set[str]:
    """Hidden nodes on a path between visible nodes: prune, again and again, hidden nodes with
    fewer than two distinct neighbours left (dead ends), as one peels the leaves of a tree."""
    adj: dict[str, set] = {}
    for a, b in links:
        if a is not None and b is not None and a != b:
            adj.setdefault(a, set()).add(b)
            adj.setdefault(b, set()).add(a)
    kept = set(hidden)
    todo = list(hidden)
    while todo:
        h = todo.pop()
        if h not in kept:
            continue
        live = {n for n in adj.get(h, ()) if n not in hidden or n in kept}
        if len(live) < 2:
            kept.discard(h)
            todo.extend(n for n in live if n in kept)
    return kept


def _ref(iri: str, hidden_ns) -> dict:
    if iri.startswith(HIDDEN_NS):
        return encode_qn(hidden_ns[iri[len(HIDDEN_NS) :]])
    base, sep, local = iri.rpartition("#") if "#" in iri else iri.rpartition("/")
    return {"qn": [base + sep, local, None]}


def _connected(graph: Graph, start: list[str]) -> Graph:
    adj: dict[str, set] = {}
    for r in graph.relations:
        if r.src and r.dst:
            adj.setdefault(r.src, set()).add(r.dst)
            adj.setdefault(r.dst, set()).add(r.src)
    node_ids = {n.id for n in graph.nodes}
    reach = set(s for s in start if s in node_ids)
    todo = list(reach)
    while todo:
        x = todo.pop()
        for y in adj.get(x, ()):
            if y not in reach:
                reach.add(y)
                todo.append(y)
    return Graph(
        [n for n in graph.nodes if n.id in reach],
        [r for r in graph.relations if r.src in reach and (r.dst is None or r.dst in reach)],
    )
