"""The lineage walk of the store contract (see :mod:`provhub.app.stores.base`), written once.

A backend provides one primitive, :meth:`EdgeSource.edges_from`, that returns in ONE query the
relations of given categories leaving (``out``: src in ids) or entering (``into``: dst in ids) a
set of nodes. :func:`walk` runs the breadth-first traversal level by level (one query per depth
level reached, not per node), then one query for the attachments, so every backend gives exactly
the same answer. The answer holds every assertion of each id it reaches (:meth:`EdgeSource.repeats`).
"""

from __future__ import annotations

import functools

import json
import time
from typing import Hashable

from provhub.provdm import vocabulary as voc
from provhub.provdm.errors import AnswerTooLarge, QueryTimeout
from provhub.provdm.records import attr_iri, qn_iri

from .base import EdgeSource, TraceQuery


def traversal_categories(query: TraceQuery) -> tuple[tuple, tuple]:
    """The categories walked along the long path (``out``: src -> dst, ``into``: dst -> src);
    the short-cuts are :func:`shortcut_categories`."""
    out: list[str] = []
    into: list[str] = []
    if query.direction == "BACK":
        out.append(voc.CAUSAL)
    else:
        into.append(voc.CAUSAL)
        out.append(voc.INVALIDATION)  # an entity's invalidation lies in its future
    if query.members:
        out.append(voc.MEMBER)
    if query.steps:
        out.append(voc.STEP)
    if query.agents:
        out.append(voc.AGENT)
        into.append(voc.AGENT)
    return tuple(out), tuple(into)


def shortcut_categories(query: TraceQuery) -> tuple[tuple, tuple]:
    return ((voc.SHORTCUT,), ()) if query.direction == "BACK" else ((), (voc.SHORTCUT,))


def walk(source: EdgeSource, query: TraceQuery) -> tuple[set[str], set[Hashable]]:
    """Return (node ids, relation keys) of the answer to ``query``.

    Each node has two distances: ``long`` (along used, wasGeneratedBy... and, when asked,
    agent, member and step relations) and ``short`` (<= long). A long relation from a node at
    long distance d reaches its other end at d + 1 (both distances); a short-cut
    (wasDerivedFrom, wasInformedBy) from a node at short distance d reaches it at short distance
    d + 1 and long distance d + 2, as it stands for two long relations. A node is in the answer
    when its short distance is <= DEPTH: a chain of short-cuts reaches DEPTH short-cuts, and the
    long path does not continue from its end before the level it would have reached it."""
    out, into = traversal_categories(query)
    s_out, s_into = shortcut_categories(query)
    long = {i: 0 for i in query.ids}
    short = dict(long)
    relations: set[Hashable] = set()
    level = 0
    deadline = time.monotonic() + query.timeout if query.timeout else None
    kinds = source.kinds(list(long))
    # DEPTH=ALL walks at most max_depth levels (PROVHUB_MAX_DEPTH); a lineage deeper than that
    # is an error, not a silently shortened answer
    limit = query.depth if query.depth is not None else query.max_depth

    def expandable(ids: list[str]) -> list[str]:  # agents are expanded only when AGENT=true
        return ids if query.agents else [i for i in ids if kinds.get(i) != "agent"]

    def step(level: int) -> tuple[list, list]:
        at_long = expandable(sorted(i for i, d in long.items() if d == level))
        at_short = expandable(sorted(i for i, d in short.items() if d == level))
        return (
            source.edges_from(at_long, out, into) if at_long else [],
            source.edges_from(at_short, s_out, s_into) if at_short else [],
        )

    def pending(level: int) -> bool:
        return any(d >= level for d in long.values()) or any(d >= level for d in short.values())

    while pending(level) and (limit is None or level < limit):
        long_edges, short_edges = step(level)
        if query.budget is not None:  # the answer's size after this level, at most: told before it grows
            query.budget.reached(len(short) + len(relations) + len(long_edges) + len(short_edges))
        reached: list[str] = []
        _reach(long_edges, level + 1, level + 1, long, short, relations, reached)
        _reach(short_edges, level + 2, level + 1, long, short, relations, reached)
        over = _check_cap(short.keys(), query)
        kinds.update(source.kinds(sorted(set(reached))))
        level += 1
        if over:  # a truncating query answers the levels walked
            break
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout(
                f"the lineage query ran longer than {query.timeout:g} s (at depth {level}); ask for a smaller DEPTH",
                where="DEPTH",
            )

    if query.depth is None and limit is not None and level >= limit and pending(level) and not _over(short, query):
        long_edges, short_edges = step(level)
        if any(other not in short for _k, _t, other in long_edges + short_edges):
            raise AnswerTooLarge(
                f"the lineage is deeper than {limit} relations (PROVHUB_MAX_DEPTH); ask for a DEPTH", where="DEPTH"
            )
    distance = short

    # Attachments: agents, containing collections / flows, IVOA descriptions.
    holders = [i for i in distance if query.agents or kinds.get(i) != "agent"]
    att_out = [voc.AGENT, voc.DESCRIPTION]  # both MODELs keep every IVOA record
    att_into = [voc.MEMBER, voc.STEP]
    nodes = set(distance)
    attached: list[str] = []  # reached as attachments: their own descriptions come next
    if holders:
        for key, _this, other in source.edges_from(holders, att_out, att_into):
            relations.add(key)
            if other not in nodes:
                nodes.add(other)
                attached.append(other)
    _check_cap(nodes, query)
    if query.budget is not None:
        query.budget.reached(len(nodes) + len(relations))
    # an attached collection, flow or agent comes with its relations, in the direction asked
    # for, to records of the answer (the draft's figure: C2 wasGeneratedBy A4 from E6)
    if attached:
        for key, _this, other in source.edges_from(attached, out + s_out, into + s_into):
            if other in nodes:
                relations.add(key)
    _descriptions(source, query, nodes, relations, attached)
    for keys in source.repeats(list(nodes)).values():  # every assertion of an id answered
        nodes.update(keys)
    return nodes, relations


def _reach(edges, dl: int, ds: int, long: dict, short: dict, relations: set, reached: list) -> None:
    """Note the relations walked and the long / short distances of the records they reach."""
    for key, _this, other in edges:
        relations.add(key)
        if other not in short:
            reached.append(other)
        if dl < long.get(other, dl + 1):
            long[other] = dl
        if ds < short.get(other, ds + 1):
            short[other] = ds


def _over(nodes, query: TraceQuery) -> bool:
    return len(nodes) > query.node_cap


def _check_cap(nodes, query: TraceQuery) -> bool:
    """Whether the walk passed the cap: AnswerTooLarge, or True for a truncating query."""
    if not _over(nodes, query):
        return False
    if not query.truncate:
        raise AnswerTooLarge(
            f"the answer would hold more than {query.node_cap} records; ask for a smaller DEPTH", where="DEPTH"
        )
    return True


def _descriptions(
    source: EdgeSource, query: TraceQuery, nodes: set[str], relations: set[Hashable], attached: list[str]
) -> None:
    """Complete the IVOA descriptions of an answer, so that no reference in it dangles.

    From the records attached to the answer (descriptions, parameters, config files...), from
    the UsageDescription / GenerationDescription that a returned relation names
    (``voprov:descriptor`` of used / wasGeneratedBy) and from the start ids, it follows the
    description relations leaving a record (isDescribedBy, wasConfiguredBy, hadReference, the
    isRelatedTo from a usage, generation, parameter or config file description to its
    ActivityDescription) and the isRelatedTo entering one (what belongs to a description),
    until nothing new is reached. None of this counts against DEPTH (the draft: "the
    descriptions are retrieved together with each corresponding main class"); descriptions
    lead to no further lineage."""
    refs = source.references(sorted(relations, key=str), voc.DESCRIPTOR_ATTRIBUTES)
    frontier = attached + [iri for _key, iri in refs] + list(query.ids)
    seen: set[str] = set()
    while frontier:
        frontier = sorted(set(frontier) - seen)
        if not frontier:
            break
        seen.update(frontier)
        nodes.update(frontier)
        found = source.edges_from(frontier, [voc.DESCRIPTION], [])
        # only a relation typed isRelatedTo is wanted: those whose text does not name it are not
        # read (a shared description is entered by one description relation per run using it)
        entering = source.edges_from(frontier, [], [voc.DESCRIPTION], voc.RELATED_TO_RELATIONS)
        types = source.references([key for key, _t, _o in entering], voc.TYPE_ATTRIBUTES, voc.RELATED_TO_RELATIONS)
        related = {key for key, iri in types if voc.voprov_local(iri) in voc.RELATED_TO_RELATIONS}
        found += [edge for edge in entering if edge[0] in related]
        relations.update(key for key, _this, _other in found)
        frontier = [other for _key, _this, other in found]
        _check_cap(nodes | set(frontier), query)


def repeats_among(rows, ids) -> dict[str, list[str]]:
    """:meth:`EdgeSource.repeats` from the ``(key, qn JSON)`` rows of every further assertion the
    store holds: those of ``ids``."""
    rows = list(rows)
    if not rows:  # most stores hold none
        return {}
    wanted = set(ids)
    out: dict[str, list[str]] = {}
    for key, qn in rows:
        name = qn_iri(json.loads(qn) if isinstance(qn, str) else qn)
        if name in wanted:
            out.setdefault(name, []).append(key)
    return {name: sorted(keys) for name, keys in out.items()}


def attribute_references(attrs: list, names: tuple[str, ...]) -> list[str]:
    """The IRIs that the qualified-name values of the attributes named by ``names`` (IRIs) hold,
    in a record's encoded attributes (:mod:`provhub.provdm.records`): what backends answer
    :meth:`EdgeSource.references` with."""
    return [qn_iri(v["qn"]) for n, v in attrs if isinstance(v, dict) and "qn" in v and attr_iri(n) in names]


@functools.lru_cache(maxsize=64)
def mention_words(names: tuple[str, ...]) -> tuple[str, ...]:
    """The local parts of ``names`` (IRIs): a record's stored text that holds none of them has no
    attribute named by ``names`` (a cheap test before decoding it, which a store can also make
    itself before it sends the text)."""
    return tuple(dict.fromkeys(name.rpartition("#")[2].rpartition("/")[2] for name in names))


#: every word the walk's :meth:`EdgeSource.references` questions ask for (the descriptor
#: attributes' local names, and the isRelatedTo types): a store may mark the relations whose
#: text holds one when it writes them, and then read only the marked ones
ASKED_WORDS = (*mention_words(voc.DESCRIPTOR_ATTRIBUTES), *voc.RELATED_TO_RELATIONS)
