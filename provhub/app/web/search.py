"""Record search for the web page: text and kind go to :func:`provhub.app.services.search_records`
(rights applied there), with the data level, which the store keeps of each record; the time
window is read off each record here (the store cannot filter on it), and the matches are ranked
here (exact ids, OBS_IDs and labels above substring hits, ids read naturally), reading at most
:data:`SCAN_LIMIT` text matches. When there are more, the exact hits (the record whose id is the
text, those whose OBS_ID or label equals it) are looked up besides, so they are on the first page
wherever the store's order (IRI) puts them: the id directly (a full or prefixed id, through
:func:`provhub.app.services.record_detail`, rights applied; not a local name of a document's
default namespace), the OBS_IDs and labels by searching for the value as the store writes it in
a record's attributes (``"crab"``, ``23523"`` or `` 23523]``), which only records holding that
value match; :func:`rank` keeps the exact ones.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from provhub.provdm.errors import NotFound

from .. import services
from ..summary import natural_key
from .documents import level_rank
from .records import Facts, Filters, elements, facts

#: Most text matches read to rank them and apply the data level / time window filters.
SCAN_LIMIT = 10_000
#: A listing without text (every record, or one kind) is sorted by id read naturally up to this
#: many records (reading 5,000 records takes ~0.3 s); a larger one keeps the store's order (IRI).
SORT_LIMIT = 5_000


@dataclass
class Results:
    hits: list[Facts]
    total: int
    offset: int
    limit: int
    complete: bool = True  # False: the filters saw only the first SCAN_LIMIT text matches

    @property
    def first(self) -> int:
        return self.offset + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.hits)

    @property
    def has_previous(self) -> bool:
        return self.offset > 0

    @property
    def has_next(self) -> bool:
        return self.offset + self.limit < self.total


def _facts(nodes) -> list[Facts]:
    by_id = elements(nodes)
    return [facts(by_id[n.id]) for n in nodes]


def _short(node) -> str:
    _, local, prefix = node.qn
    return f"{prefix}:{local}" if prefix and prefix != "default" else local


def id_order(node) -> tuple:
    """A listing's order: prefixed id read naturally (``pc1:a2`` before ``pc1:a10``), then IRI."""
    return (natural_key(_short(node)), node.id)


def rank(f: Facts, text: str) -> tuple:
    """Where a match goes (lower first): its exact id, then OBS_ID, then label equal to ``text``;
    then labels starting with it, with a word starting with it, holding it; then ids holding it;
    then any other attribute. Within each: later data levels first (products before their
    inputs), then label and id read naturally (``run 2`` before ``run 10``)."""
    low = text.strip().lower()
    label = f.title.lower()
    ids = (f.id.lower(), f.short.lower())
    if low in ids:
        place = 0
    elif f.obs_id is not None and _same_obs_id(f.obs_id, low):
        place = 1
    elif label == low:
        place = 2
    elif label.startswith(low):
        place = 3
    elif re.search(r"(?<![a-z0-9])" + re.escape(low), label):
        place = 4
    elif low in label:
        place = 5
    elif any(low in i for i in ids):
        place = 6
    else:
        place = 7
    return (place, -level_rank(f.level), natural_key(f.title), natural_key(f.short), f.id)


def _same_obs_id(obs_id: str, text: str) -> bool:
    obs_id = obs_id.strip().lower()
    if obs_id.isdigit() and text.isdigit():
        return int(obs_id) == int(text)  # 023523 is 23523
    return obs_id == text


def find(store, text: str, kind: str | None, filters: Filters, *, viewer, limit: int, offset: int) -> Results:
    """One page of the records matching ``text`` (and ``kind`` and ``filters``), ranked by
    :func:`rank` (a listing without text: by id, naturally, up to :data:`SORT_LIMIT` records, past
    that in the store's order, by IRI). Ranking and the filters read at most :data:`SCAN_LIMIT`
    matches; past that a search says it saw only the first ones, and adds the exact hits
    (:func:`_exact`) it did not read."""
    if not text and not filters.active:
        _, total = services.search_records(store, "", kind, viewer=viewer, limit=1, offset=0)
        if total > SORT_LIMIT:
            nodes, total = services.search_records(store, "", kind, viewer=viewer, limit=limit, offset=offset)
            return Results(_facts(nodes), total, offset, limit)
        nodes, total = services.search_records(store, "", kind, viewer=viewer, limit=SORT_LIMIT, offset=0)
        page = sorted(nodes, key=id_order)[offset : offset + limit]
        return Results(_facts(page), total, offset, limit)
    nodes, complete = _matches(store, text, kind, viewer, filters.level)
    found = _facts(nodes)
    if not complete and text:
        found += _exact(store, text, kind, viewer, filters.level, {f.id for f in found})
    kept = [f for f in found if filters.keep(f)]
    kept.sort(key=(lambda f: rank(f, text)) if text else (lambda f: (natural_key(f.short), f.id)))
    return Results(kept[offset : offset + limit], len(kept), offset, limit, complete=complete)


def _matches(store, text: str, kind: str | None, viewer, level: str | None) -> tuple[list, bool]:
    """Records holding ``text``, and, when it is a prefixed name of the store (``pc1:a``), those
    whose IRI holds its expansion (the store matches IRIs, not prefixes); and whether these are
    all of them (at most :data:`SCAN_LIMIT` of each are read)."""
    nodes, total = services.search_records(store, text, kind, viewer=viewer, limit=SCAN_LIMIT, offset=0, level=level)
    expanded = services.resolve_id(store, text) if text and not any(c.isspace() for c in text) else text
    if expanded == text:
        return nodes, len(nodes) >= total
    more, more_total = services.search_records(
        store, expanded, kind, viewer=viewer, limit=SCAN_LIMIT, offset=0, level=level
    )
    seen = {n.id for n in nodes}
    both = nodes + [n for n in more if n.id not in seen]
    return both, len(nodes) >= total and len(more) >= more_total


def _exact(store, text: str, kind: str | None, viewer, level: str | None, seen: set[str]) -> list[Facts]:
    """The exact hits of ``text`` (:func:`rank` places 0-2) not in ``seen``: the record whose id
    it is, and those holding it as a whole value (at most :data:`SCAN_LIMIT` of each value form
    are read), as ``viewer`` may read them."""
    out: dict[str, Facts] = {}
    try:
        node = services.record_detail(store, text.strip(), viewer=viewer).node
    except NotFound:
        node = None
    if node is not None and node.id not in seen and (kind is None or node.kind == kind):
        out.update((f.id, f) for f in _facts([node]))
    for needle in _value_needles(text):
        nodes, _ = services.search_records(store, needle, kind, viewer=viewer, limit=SCAN_LIMIT, offset=0, level=level)
        fresh = [n for n in nodes if n.id not in seen and n.id not in out]
        out.update((f.id, f) for f in _facts(fresh))
    return [f for f in out.values() if rank(f, text)[0] <= 2]


def _value_needles(text: str) -> list[str]:
    """How a whole attribute value equal to ``text`` is written in a record's attributes, lower
    case (the stores match ``lower(attrs)``, JSON as :data:`provhub.provdm.records.tree_json`
    writes it): a string ``"crab"`` (a label, a ``{"lit": ...}`` too); for digits, any string
    ending in them (``23523`` finds the OBS_ID ``"023523"``) and the integer (``[name, 23523]``).
    Each holds the text, so what it finds is a text match, as on a store of fewer matches (so
    ``023523`` does not find the integer 23523, which does not hold it). Past ASCII, the JSON
    escapes characters (``"m\\u00fcller"``), lower case or as typed, since lower-casing does not
    reach inside an escape."""
    low = text.strip().lower()
    if not low:
        return []
    if low.isdigit() and low.isascii():
        return [low + '"'] + ([" " + low + "]"] if str(int(low)) == low else [])
    return sorted({json.dumps(low), json.dumps(text.strip()).lower()})


__all__ = ["Results", "find", "rank", "SCAN_LIMIT"]
