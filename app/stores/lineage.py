"""The lineage walk of the store contract (see :mod:`app.stores.base`), written once.

A backend provides one primitive, :meth:`EdgeSource.edges_from`, that returns in ONE query the
relations of given categories leaving (``out``: src in ids) or entering (``into``: dst in ids) a
set of nodes. :func:`walk` runs the breadth-first traversal level by level (one query per depth
level reached, not per node), then one query for the attachments, so every backend gives exactly
the same answer.
"""

from __future__ import annotations

import time
from typing import Hashable

from provdm import vocabulary as voc
from provdm.errors import AnswerTooLarge, QueryTimeout

from .base import EdgeSource, TraceQuery


def traversal_categories(query: TraceQuery) -> tuple[tuple, tuple]:
    out: list[str] = []
    into: list[str] = []
    (out if query.direction == "BACK" else into).append(voc.CAUSAL)
    if query.members:
        out.append(voc.MEMBER)
    if query.steps:
        out.append(voc.STEP)
    if query.agents:
        out.append(voc.AGENT)
        into.append(voc.AGENT)
    return tuple(out), tuple(into)


def walk(source: EdgeSource, query: TraceQuery) -> tuple[set[str], set[Hashable]]:
    """Return (node ids, relation keys) of the answer to ``query``."""
    out, into = traversal_categories(query)
    distance = {i: 0 for i in query.ids}
    relations: set[Hashable] = set()
    frontier = list(dict.fromkeys(query.ids))
    level = 0
    deadline = time.monotonic() + query.timeout if query.timeout else None
    kinds = source.kinds(frontier)
    # DEPTH=ALL walks at most max_depth levels (PROVHUB_MAX_DEPTH); a lineage deeper than that
    # is an error, not a silently shortened answer
    limit = query.depth if query.depth is not None else query.max_depth
    while frontier and (limit is None or level < limit):
        # Agents are expanded only when AGENT=true.
        expand = frontier if query.agents else [i for i in frontier if kinds.get(i) != "agent"]
        nxt = []
        for key, _this, other in source.edges_from(expand, out, into) if expand else []:
            relations.add(key)
            if other not in distance:
                distance[other] = level + 1
                nxt.append(other)
        if len(distance) > query.node_cap:
            raise AnswerTooLarge(
                f"the answer would hold more than {query.node_cap} records; ask for a smaller DEPTH", where="DEPTH"
            )
        frontier = sorted(nxt)
        kinds.update(source.kinds(frontier))
        level += 1
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout(
                f"the lineage query ran longer than {query.timeout:g} s (at depth {level}); ask for a smaller DEPTH",
                where="DEPTH",
            )

    if query.depth is None and frontier and limit is not None and level >= limit:
        expand = frontier if query.agents else [i for i in frontier if kinds.get(i) != "agent"]
        if any(other not in distance for _k, _t, other in source.edges_from(expand, out, into)):
            raise AnswerTooLarge(
                f"the lineage is deeper than {limit} relations (PROVHUB_MAX_DEPTH); ask for a DEPTH", where="DEPTH"
            )

    # Attachments: agents, containing collections / flows, IVOA descriptions.
    holders = [i for i in distance if query.agents or kinds.get(i) != "agent"]
    att_out = [voc.AGENT] + ([voc.DESCRIPTION] if query.model == "IVOA" else [])
    att_into = [voc.MEMBER, voc.STEP]
    nodes = set(distance)
    if holders:
        for key, _this, other in source.edges_from(holders, att_out, att_into):
            relations.add(key)
            nodes.add(other)
    if len(nodes) > query.node_cap:
        raise AnswerTooLarge(
            f"the answer would hold more than {query.node_cap} records; ask for a smaller DEPTH", where="DEPTH"
        )
    return nodes, relations
