"""Impact: "this input was wrong; what must be redone?" (docs/impact.md).

:func:`impact` starts from records named by id (any alias, :func:`provhub.app.services.canonical`) or by
attribute selectors (:mod:`provhub.provdm.selector`), walks the lineage FORTH with DEPTH=ALL through the
shared walk (:func:`provhub.app.services.trace_graph`, so rights apply as in ProvSAP: the answer is what
the viewer may see), and reads off the walked answer

- the affected products (entities reached), grouped by data level, each with the first path
  that makes it depend on a start, how many other paths do, its owner group and its date;
- what to re-run: the activities on the way, nearest to the starts first.

Collections given as starts stand for their members too (a wrong DL3 file: its IRF HDUs). An
entity that is a part (hadMember) of an affected collection is counted with the collection, not
listed again. A caller never learns that a product hidden from it exists: the walk already
left hidden records out (or made them placeholders, which are never products). Admins, who see
everything, also get how many affected products no anonymous reader may read.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import asdict, dataclass, field

from provhub.provdm import vocabulary as voc
from provhub.provdm.errors import InvalidParameter, NotFound
from provhub.provdm.facts import data_level, noun, text_of, title
from provhub.provdm.provsap import ProvSapQuery
from provhub.provdm.selector import Selector, element_of, parse_all, record_times

from . import services
from .access import OPERATOR, Readable, Viewer, document_readable
from .rights import HIDDEN_NS, sees_everything, visible_ids
from .stores.base import Store

LEVELS = ("DL0", "DL1", "DL2", "DL3", "DL4", "DL5", "DL6")
#: group of affected entities without a data level
OTHER = "other"
#: most records one selector may select (more: 400, ask a narrower selector)
MAX_SELECTED = 10_000


@dataclass
class Affected:
    id: str
    name: str
    kind: str
    level: str
    distance: int
    path: list[str]
    other_paths: int
    group: str | None
    date: str | None
    parts: int = 0
    #: only in admins' answers: no anonymous reader may read it
    restricted: bool | None = None


@dataclass
class Rerun:
    id: str
    name: str
    distance: int


@dataclass
class ImpactReport:
    starts: list[dict]
    selectors: list[str]
    levels: list[str]
    products: list[Affected] = field(default_factory=list)
    rerun: list[Rerun] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    #: admins only: affected products no anonymous reader may read (None for others)
    restricted: int | None = None

    @property
    def affected(self) -> bool:
        return bool(self.products)

    def by_level(self) -> dict[str, list[Affected]]:
        out: dict[str, list[Affected]] = {}
        for level in (*LEVELS, OTHER):
            found = [p for p in self.products if p.level == level]
            if found:
                out[level] = found
        return out

    def to_dict(self) -> dict:
        data = {
            "starts": self.starts,
            "selectors": self.selectors,
            "levels": self.levels,
            "affected": len(self.products),
            "products": {
                level: [{k: v for k, v in asdict(p).items() if k != "restricted" or v is not None} for p in found]
                for level, found in self.by_level().items()
            },
            "rerun": [asdict(r) for r in self.rerun],
            "names": {i: self.names[i] for i in sorted(self.names)},
        }
        if self.restricted is not None:
            data["restricted"] = self.restricted
        return data


def parse_levels(levels) -> list[str]:
    out = []
    for raw in levels or ():
        for part in str(raw).split(","):
            level = part.strip().upper()
            if not level:
                continue
            if level not in (*LEVELS, OTHER.upper()):
                raise InvalidParameter(
                    f"LEVEL must be one of {', '.join(LEVELS)} or other, not {part!r}", where="LEVEL"
                )
            out.append(OTHER if level == OTHER.upper() else level)
    return out


def impact(
    store: Store,
    ids=(),
    selectors=(),
    *,
    settings,
    viewer: Viewer = OPERATOR,
    levels=(),
) -> ImpactReport:
    """What depends on the records ``ids`` and those the ``selectors`` select (module docstring)."""
    ids = [i for i in ids if i]
    parsed = parse_all(selectors)
    levels = parse_levels(levels)
    if not ids and not parsed:
        raise InvalidParameter("give at least one ID or SELECT", where="ID")
    starts = _starts(store, ids, parsed, settings=settings, viewer=viewer)
    report = ImpactReport(
        [{"id": s, "name": n, "how": how} for s, (n, how) in starts.items()], [s.text for s in parsed], levels
    )
    if not starts:
        return report
    # MEMBERS=true: a collection given as a start stands for its members (only there: the
    # members of a collection reached downstream do not depend on the start)
    query = ProvSapQuery.from_args(
        {"ID": list(starts), "DEPTH": "ALL", "DIRECTION": "FORTH", "MEMBERS": "true"}, max_depth=settings.max_depth
    )
    # a heavy fan-out takes a place among the large answers and keeps to the request's deadline
    with services.Budget(settings.query_timeout, services.LARGE) as budget:
        graph, _ns = services.trace_graph(store, query, settings=settings, viewer=viewer, budget=budget)
        _read(store, graph, set(starts), report, viewer)
        budget.check("the impact report")
    return report


# -- starts ------------------------------------------------------------------------------------


def _starts(store: Store, ids, selectors: list[Selector], *, settings, viewer) -> dict[str, tuple[str, str]]:
    """{record id: (name, how it was chosen)} of the starts; NotFound for an unknown or hidden id."""
    namespaces = store.namespaces()
    out: dict[str, tuple[str, str]] = {}
    restricted = not sees_everything(store, viewer)
    for ident in ids:
        full = services.canonical(store, ident, namespaces)
        found = store.get_nodes([full])
        if not found or (restricted and full not in visible_ids(store, [full], viewer)):
            raise NotFound(f"no record with id {ident!r} in this store", where="ID")
        out.setdefault(full, (title(element_of(found[0])), f"ID={ident}"))
    for sel in selectors:
        for rid, name in _selected(store, sel, settings=settings, viewer=viewer).items():
            out.setdefault(rid, (name, f"SELECT={sel.text}"))
    return out


def _selected(store: Store, sel: Selector, *, settings, viewer) -> dict[str, str]:
    nodes, _total = services.search_records(
        store, sel.search_text, viewer=viewer, limit=services.SEARCH_CANDIDATES, offset=0
    )
    times: dict[str, list] = {}
    matched = []
    for node in nodes:
        el = element_of(node)
        extra = _observation_times(store, el, times, viewer) if sel.needs_times and not record_times(el) else []
        if sel.matches(el, extra):
            matched.append(el)
    if len(matched) > MAX_SELECTED:
        raise InvalidParameter(
            f"the selector {sel.text!r} selects more than {MAX_SELECTED} records; narrow it", where="SELECT"
        )
    if not sel.software:
        return {el.id: title(el) for el in matched}
    # software: what it affects starts at the activities it ran (wasAssociatedWith), as the
    # viewer sees them (a FORTH step with AGENT=true through the shared walk and its rights)
    out: dict[str, str] = {}
    agents = [el.id for el in matched]
    if agents:
        query = ProvSapQuery.from_args(
            {"ID": agents, "DEPTH": "1", "DIRECTION": "FORTH", "AGENT": "true"}, max_depth=settings.max_depth
        )
        graph, _ns = services.trace_graph(store, query, settings=settings, viewer=viewer)
        kinds = {n.id: n for n in graph.nodes}
        for rel in graph.relations:
            if rel.type == "wasAssociatedWith" and rel.dst in agents and rel.src in kinds:
                out[rel.src] = title(element_of(kinds[rel.src]))
    return out


def _observation_times(store: Store, el, cache: dict, viewer) -> list:
    """Times of the observation activity of a record that has an OBS_ID but no times itself
    (an instrument configuration is in force during its observation)."""
    obs = el.first("obs_id", "obsid")
    if not obs:
        return []
    if obs not in cache:
        acts, _ = services.search_records(store, str(obs), "activity", viewer=viewer, limit=50)
        cache[obs] = [
            t for a in map(element_of, acts) if (a.first("obs_id", "obsid") or "") == obs for t in record_times(a)
        ]
    return cache[obs]


# -- reading the answer ------------------------------------------------------------------------


def _read(store: Store, graph, starts: set[str], report: ImpactReport, viewer: Viewer) -> None:
    nodes = {n.id: n for n in graph.nodes}
    forward: dict[str, list[str]] = defaultdict(list)
    generated: dict[str, list] = defaultdict(list)
    parents: dict[str, list[str]] = defaultdict(list)  # member -> collections
    for rel in graph.relations:
        if rel.src is None or rel.dst is None:
            continue
        if rel.category in (voc.CAUSAL, voc.SHORTCUT):
            forward[rel.dst].append(rel.src)
        if rel.type == "wasGeneratedBy":
            generated[rel.src].append(rel)
        if rel.type == "hadMember":
            parents[rel.dst].append(rel.src)
    starts = _members_closure(starts, graph.relations)
    dist, first = _breadth_first(forward, starts)
    paths = _count_paths(forward, starts, dist)
    elements = {i: element_of(nodes[i]) for i in dist if i in nodes}
    reached = [i for i in dist if i not in starts and not i.startswith(HIDDEN_NS) and i in elements]
    products = [i for i in reached if elements[i].kind == "entity"]
    product_set = set(products)
    parts = {i for i in products if any(p in product_set for p in parents.get(i, ()))}
    listed = [i for i in products if i not in parts]
    levels = {i: data_level(elements[i]) or OTHER for i in listed}
    if report.levels:
        listed = [i for i in listed if levels[i] in report.levels]
    dates = _dates(store, listed, elements, nodes, generated, viewer)
    groups = _groups(store, listed, viewer)
    everyone = Readable.of(frozenset())
    for i in sorted(listed, key=lambda i: (LEVELS.index(levels[i]) if levels[i] in LEVELS else 99, dist[i], i)):
        el = elements[i]
        path = _path(first, i)
        restricted = None
        if viewer.is_admin:
            restricted = not any(everyone.allows(d.rights, d.group, d.release) for d in groups[1].get(i, []))
        report.products.append(
            Affected(
                id=i,
                name=title(el),
                kind=noun(el),
                level=levels[i],
                distance=dist[i],
                path=path,
                other_paths=max(paths.get(i, 1) - 1, 0),
                group=groups[0].get(i),
                date=dates.get(i),
                parts=sum(1 for m in parts if i in parents.get(m, ())),
                restricted=restricted,
            )
        )
        report.names.update((p, _name(p, elements)) for p in path)
    if viewer.is_admin:
        report.restricted = sum(1 for p in report.products if p.restricted)
    # what to re-run: the activities on the way to a listed product, nearest to the starts first
    needed = _ancestors(forward, starts, set(listed), dist)
    for i in sorted(
        (i for i in dist if i in elements and elements[i].kind == "activity" and i in needed),
        key=lambda i: (dist[i], i),
    ):
        report.rerun.append(Rerun(i, title(elements[i]), dist[i]))
    for s in report.starts:
        report.names.setdefault(s["id"], s["name"])


def _members_closure(starts: set[str], relations) -> set[str]:
    """The starts and the members, at any depth, of starts that are collections."""
    members: dict[str, list[str]] = defaultdict(list)
    for rel in relations:
        if rel.type == "hadMember" and rel.src and rel.dst:
            members[rel.src].append(rel.dst)
    out = set(starts)
    stack = list(starts)
    while stack:
        for m in members.get(stack.pop(), ()):
            if m not in out:
                out.add(m)
                stack.append(m)
    return out


def _name(rid: str, elements: dict) -> str:
    if rid.startswith(HIDDEN_NS):
        return "record not visible to you"
    return title(elements[rid]) if rid in elements else rid


def _breadth_first(forward: dict, starts: set[str]) -> tuple[dict[str, int], dict[str, str]]:
    dist = {s: 0 for s in starts}
    first: dict[str, str] = {}
    queue = deque(sorted(starts))
    while queue:
        here = queue.popleft()
        for nxt in sorted(set(forward.get(here, ()))):
            if nxt not in dist:
                dist[nxt] = dist[here] + 1
                first[nxt] = here
                queue.append(nxt)
    return dist, first


def _path(first: dict[str, str], rid: str) -> list[str]:
    path = [rid]
    while path[-1] in first:
        path.append(first[path[-1]])
    return path[::-1]


def _count_paths(forward: dict, starts: set[str], dist: dict[str, int]) -> dict[str, int]:
    """How many distinct paths lead from the starts to each reached record (Kahn's order over
    the reached part; records on a cycle keep what reached them before it)."""
    indegree: dict[str, int] = defaultdict(int)
    for a in dist:
        for b in set(forward.get(a, ())):
            if b in dist and b not in starts:
                indegree[b] += 1
    count = {s: 1 for s in starts}
    queue = deque(sorted(s for s in starts))
    while queue:
        here = queue.popleft()
        for nxt in set(forward.get(here, ())):
            if nxt not in dist or nxt in starts:
                continue
            count[nxt] = count.get(nxt, 0) + count[here]
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                queue.append(nxt)
    return count


def _ancestors(forward: dict, starts: set[str], targets: set[str], dist: dict) -> set[str]:
    back: dict[str, list[str]] = defaultdict(list)
    for a, bs in forward.items():
        if a in dist:
            for b in bs:
                back[b].append(a)
    seen = set(targets)
    stack = list(targets)
    while stack:
        here = stack.pop()
        for prev in back.get(here, ()):
            if prev not in seen:
                seen.add(prev)
                stack.append(prev)
    return seen


def _groups(store: Store, ids: list[str], viewer: Viewer) -> tuple[dict[str, str | None], dict]:
    """Owner group of each product (of the documents the viewer may read that assert it; the
    first proprietary one, else None), and the rights found."""
    rights = store.rights_of(sorted(ids)) if ids else {}
    out: dict[str, str | None] = {}
    for rid in ids:
        readable = [d for d in rights.get(rid, []) if document_readable(viewer, d.rights, d.group, d.release)]
        owned = sorted(d.group for d in readable if d.group)
        out[rid] = owned[0] if owned else None
    return out, rights


def _dates(store: Store, ids: list[str], elements: dict, nodes: dict, generated: dict, viewer: Viewer) -> dict:
    """When each product was made: the time of its generation, else the end (start) of the
    activity that generated it, else its own date attributes, else when it was ingested."""
    out: dict[str, str | None] = {}
    missing = []
    for rid in ids:
        found = None
        for rel in generated.get(rid, ()):
            when: list[str] = []
            for name, value in rel.attrs:
                if name["qn"][1] == "time" and isinstance(value, dict) and "time" in value:
                    when.append(value["time"])
            act = elements.get(rel.dst)
            if act is not None:
                when += [text_of(v) for v in act.values("endTime")] + [text_of(v) for v in act.values("startTime")]
            if when:
                found = when[0]
                break
        if found is None:
            own = elements[rid].first("generatedAtTime", "DATE", "DATE-OBS", "date_obs")
            found = own
        if found is None:
            missing.append(rid)
        out[rid] = found
    if missing:
        cache: dict[str, str] = {}
        rights = store.rights_of(sorted(missing))
        for rid in missing:
            made = []
            for d in rights.get(rid, []):
                if not document_readable(viewer, d.rights, d.group, d.release):
                    continue
                if d.doc_id not in cache:
                    cache[d.doc_id] = store.get_document(d.doc_id).created_at
                made.append(cache[d.doc_id])
            out[rid] = f"{min(made)} (ingested)" if made else None
    return out
