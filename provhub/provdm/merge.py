"""How a record asserted again (in the same or another document) merges with what is stored.

Rules (the same for every store backend, which call these functions inside their transaction):

- Same id, different kind (an entity that is also an activity): conflict (PROV-CONSTRAINTS
  entity-activity disjointness, key constraints).
- Formal attributes (activity start/end time; a relation's endpoints, time, plan, ...) must agree:
  a differing value is a conflict. A formal attribute present on one side only is added.
- Other attributes are merged as a set: the stored values, then new ones not already there.

A conflict raises :class:`provhub.provdm.errors.Conflict` whose ``details`` lists
``{"id", "attribute", "stored", "new"}`` for each disagreement.
"""

from __future__ import annotations

import hashlib
import json
from typing import Callable

from . import vocabulary as voc
from .records import REPEAT_PREFIX, Node, Relation, attr_iri, value_key
from .errors import Conflict

_PROV = voc.PROV_URI
_FORMAL = {_PROV + name.split(":", 1)[1] for name in voc.FORMAL_ATTRIBUTES}
_FORMAL |= {_PROV + end.split(":", 1)[1] for pair in voc.RELATION_ENDPOINTS.values() for end in pair}


def _merge_attrs(record_id: str, stored: list, new: list, conflicts: list) -> list:
    merged = list(stored)
    seen = {(attr_iri(n), value_key(v)) for n, v in stored}
    formal = {}
    for n, v in stored:
        iri = attr_iri(n)
        if iri in _FORMAL:
            formal[iri] = v
    for n, v in new:
        iri = attr_iri(n)
        key = (iri, value_key(v))
        if key in seen:
            continue
        if iri in formal:
            conflicts.append({"id": record_id, "attribute": iri, "stored": formal[iri], "new": v})
            continue
        if iri in _FORMAL:
            formal[iri] = v
        seen.add(key)
        merged.append([n, v])
    return merged


def _shown(value) -> str:
    if value is None:
        return "'-' (none)"
    if isinstance(value, dict) and "time" in value:
        return value["time"]
    if isinstance(value, dict) and "qn" in value:
        uri, local, prefix = value["qn"]
        return f"{prefix}:{local}" if prefix else uri + local
    return json.dumps(value, ensure_ascii=False)[:80]


def in_words(conflict: dict) -> str:
    """One conflict of :func:`merge_node`/:func:`merge_relation` as a sentence naming the record,
    the attribute and the rule."""
    rid, attribute, stored, new = (conflict.get(k) for k in ("id", "attribute", "stored", "new"))
    if attribute == "kind":
        if {stored, new} == {"entity", "activity"}:
            rule = "PROV-CONSTRAINTS 55: entities and activities are disjoint"
        else:
            rule = "PROV allows it, but provhub keeps one kind per id for now"
        return f"{rid} is asserted as an {stored} and as an {new} ({rule})"
    if attribute == "type":
        return f"{rid} is asserted as a {stored} and as a {new} relation (PROV-CONSTRAINTS 53)"
    name = attribute[len(_PROV) :] if isinstance(attribute, str) and attribute.startswith(_PROV) else attribute
    name = f"prov:{name}" if name != attribute else name
    return (
        f"{rid} has {name} {_shown(stored)} in one assertion and {_shown(new)} in another "
        "(PROV-CONSTRAINTS 22 and 23: one id names one record, whose formal attributes agree)"
    )


def merge_node(stored: Node | None, new: Node, conflicts: list | None = None) -> Node:
    """Merge ``new`` into ``stored``; raise Conflict unless a ``conflicts`` list is passed."""
    if stored is None:
        return new
    collect = conflicts if conflicts is not None else []
    if stored.kind != new.kind:
        collect.append({"id": new.id, "attribute": "kind", "stored": stored.kind, "new": new.kind})
        merged = stored
    else:
        merged = Node(stored.id, stored.kind, stored.qn, _merge_attrs(new.id, stored.attrs, new.attrs, collect))
    if conflicts is None and collect:
        raise Conflict(
            f"record {new.id} conflicts with an earlier assertion: {in_words(collect[0])}",
            where=new.id,
            details=collect,
        )
    return merged


#: formal attributes whose placeholder ``-`` means "none" and does not unify with a value
#: (PROV-CONSTRAINTS definition 4: a derivation's activity, an association's plan, a
#: delegation's activity; a derivation's generation and usage unify when it names an activity)
NO_PLACEHOLDER = {
    "wasDerivedFrom": (_PROV + "activity",),
    "wasAssociatedWith": (_PROV + "plan",),
    "actedOnBehalfOf": (_PROV + "activity",),
}


def _placeholder_conflicts(stored: Relation, new: Relation, collect: list) -> None:
    for iri in NO_PLACEHOLDER.get(new.type, ()):
        had = next((v for n, v in stored.attrs if attr_iri(n) == iri), None)
        has = next((v for n, v in new.attrs if attr_iri(n) == iri), None)
        if (had is None) != (has is None):
            collect.append({"id": new.id, "attribute": iri, "stored": had, "new": has})


def merge_relation(
    stored: Relation | None, new: Relation, conflicts: list | None = None, *, placeholders: bool = False
) -> Relation:
    """Merge ``new`` into ``stored``; raise Conflict unless a ``conflicts`` list is passed.
    ``placeholders``: a formal attribute of :data:`NO_PLACEHOLDER` given on one side only is a
    conflict too (within one document, as PROV-CONSTRAINTS unifies; across documents one side
    adds it)."""
    if stored is None:
        return new
    collect = conflicts if conflicts is not None else []
    if stored.type != new.type:
        collect.append({"id": new.id, "attribute": "type", "stored": stored.type, "new": new.type})
        merged = stored
    else:
        if placeholders:
            _placeholder_conflicts(stored, new, collect)
        merged = Relation(
            stored.id,
            stored.type,
            stored.src or new.src,
            stored.dst or new.dst,
            stored.category,
            stored.qn or new.qn,
            _merge_attrs(new.id, stored.attrs, new.attrs, collect),
        )
    if conflicts is None and collect:
        raise Conflict(
            f"relation {new.name} conflicts with an earlier assertion: {in_words(collect[0])}",
            where=new.id,
            details=collect,
        )
    return merged


def plan_merge(
    nodes: list[Node],
    relations: list[Relation],
    stored_nodes: dict[str, Node],
    stored_relations: dict[str, Relation],
    fetch: Callable[[list[str]], dict[str, Node]] | None = None,
) -> tuple[list[Node], list[Relation]]:
    """Merge a document's records with those already stored.

    Returns ``(nodes_to_write, relations_to_write)``: only records that are new or changed.
    Raises Conflict listing every conflict of the document at once.

    An element of another kind than the one stored under its id (an entity, and in this document
    an agent) is not a conflict: it merges with the id's assertions of that kind, under
    :func:`kind_key` (and one the document keys so, of the kind the id's key holds, merges there).
    ``fetch`` reads those stored records (``stored_nodes`` holds the document's own keys and
    ids); such a node is replaced in ``nodes`` by its store key, so that the caller records the
    document's assertion of it there.
    """
    conflicts: list = []
    out_nodes: list[Node] = []
    out_rels: list[Relation] = []
    _rekey(nodes, stored_nodes, fetch)
    for node in nodes:
        old = stored_nodes.get(node.id)
        merged = merge_node(old, node, conflicts)
        if old is None or merged.attrs != old.attrs:
            out_nodes.append(merged)
    for rel in relations:
        old_rel = stored_relations.get(rel.id)
        merged_rel = merge_relation(old_rel, rel, conflicts)
        if (
            old_rel is None
            or merged_rel.attrs != old_rel.attrs
            or (merged_rel.src, merged_rel.dst) != (old_rel.src, old_rel.dst)
        ):
            out_rels.append(merged_rel)
    if conflicts:
        raise Conflict(
            f"{len(conflicts)} conflict(s) with records already in the store: {in_words(conflicts[0])}",
            where=conflicts[0]["id"],
            details=conflicts,
        )
    return out_nodes, out_rels


def kind_key(element_id: str, kind: str) -> str:
    """The store key of the assertions of ``element_id`` as an element of another ``kind`` than
    the one its id keys (an entity that is also an agent). It depends on the id and kind only,
    so the assertions of that kind in every document merge there, as those under the id do."""
    text = json.dumps([element_id, kind], ensure_ascii=False)
    return REPEAT_PREFIX + hashlib.sha1(text.encode("utf-8")).hexdigest()


def _rekey(nodes: list[Node], stored: dict[str, Node], fetch) -> None:
    """Point each element assertion at the store key of its kind (see :func:`plan_merge`)."""
    wanted: dict[int, str] = {}
    for i, node in enumerate(nodes):
        name = node.name
        primary = stored.get(name)
        if node.id == name:
            if primary is not None and primary.kind != node.kind:
                wanted[i] = kind_key(name, node.kind)
        elif node.id == kind_key(name, node.kind) and primary is not None and primary.kind == node.kind:
            wanted[i] = name
    if not wanted:
        return
    missing = sorted({key for key in wanted.values() if key not in stored})
    if missing and fetch is not None:
        stored.update(fetch(missing))
    for i, key in wanted.items():
        node = nodes[i]
        nodes[i] = Node(key, node.kind, node.qn, node.attrs)
