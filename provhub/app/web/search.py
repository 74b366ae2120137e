"""Record search for the web page: text and kind go to :func:`provhub.app.services.search_records`; data
level and time window are read off each record here (the store cannot filter on them), scanning
at most :data:`SCAN_LIMIT` text matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import services
from .records import Facts, Filters, elements, facts

#: Most text matches read to apply the data level / time window filters.
SCAN_LIMIT = 10_000
_BATCH = 1_000


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


def find(store, text: str, kind: str | None, filters: Filters, *, viewer, limit: int, offset: int) -> Results:
    if not filters.active:
        nodes, total = services.search_records(store, text, kind, viewer=viewer, limit=limit, offset=offset)
        return Results(_facts(nodes), total, offset, limit)
    kept: list[Facts] = []
    scanned, total = 0, 1
    while scanned < min(total, SCAN_LIMIT):
        nodes, total = services.search_records(store, text, kind, viewer=viewer, limit=_BATCH, offset=scanned)
        if not nodes:
            break
        scanned += len(nodes)
        kept.extend(f for f in _facts(nodes) if filters.keep(f))
    return Results(kept[offset : offset + limit], len(kept), offset, limit, complete=scanned >= total)


__all__ = ["Results", "find", "SCAN_LIMIT"]
