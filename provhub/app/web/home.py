"""What the home page shows before a search (issue 18): the newest products (DL4 and later), the
newest documents, and how many records there are of each kind and data level, all over what the
viewer may read only (nothing hidden is counted, as for search, issue 15).

Products are read off the newest readable documents, newest first, up to :data:`PRODUCT_SCAN`
records (of a large document, only the records that may be products), so the page stays quick
on a large store and shows what was ingested last. When these give fewer than
:data:`PRODUCTS_SHOWN` (the newest documents hold no products, or are too large to read), the
list is topped up from the products the store keeps by data level, DL6 to DL4, up to
:data:`PRODUCT_TOP_UP` of each level in the store's order (IRI), newest first (a product file,
not each of its HDUs), so a store with products always lists some. Counts by kind and by data
level come from the store, which keeps each record's level (:func:`provhub.app.services.level_counts`; exact, but
for a store with more than ``LEVEL_RECHECK`` records that hidden documents also assert, which
the page then says).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import services
from ..summary import PRODUCT_LEVELS
from .documents import label_of, level_rank, record_order, top_level
from .records import KINDS, LEVELS, Facts, elements, facts, may_be_product

#: documents listed as recent
RECENT_DOCUMENTS = 8
#: products listed
PRODUCTS_SHOWN = 12
#: most records (relations too) of the newest documents read to find products: reading a record
#: costs ~0.05 ms, its facts ~0.1 ms
PRODUCT_SCAN = 30_000
#: most products of each level (DL6, DL5, DL4) read, in the store's order, to top up a list the
#: newest documents leave short
PRODUCT_TOP_UP = 200
#: a document of more records than this has the facts of only those that may be products read
#: (:func:`provhub.app.web.records.may_be_product`): facts cost ~0.1 ms a record
FACTS_SCAN = 5_000


@dataclass
class RecentDocument:
    doc: object  # StoredDocument
    label: str | None  # None: not read (past PRODUCT_SCAN)


@dataclass
class Overview:
    products: list[Facts] = field(default_factory=list)
    documents: list[RecentDocument] = field(default_factory=list)
    documents_total: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    levels: list[tuple[str, int]] = field(default_factory=list)
    records: int = 0
    levels_complete: bool = True

    @property
    def empty(self) -> bool:
        return not self.records and not self.documents_total


def overview(store, *, viewer) -> Overview:
    out = Overview()
    out.kinds = {k: services.search_records(store, "", k, viewer=viewer, limit=1)[1] for k in KINDS}
    _, out.records = services.search_records(store, "", None, viewer=viewer, limit=0)
    views: dict = {}  # what each document says, for records that hidden documents also assert
    counted, out.levels_complete = services.level_counts(store, viewer=viewer, views=views)
    counted["none"] = out.records - sum(counted.values())
    out.levels = [(lv, counted[lv]) for lv in (*reversed(LEVELS[:-1]), "IRF", "none") if counted[lv]]
    _products_and_documents(store, viewer, out, views)
    if len(out.products) < PRODUCTS_SHOWN:
        _top_up(store, viewer, out, counted)
    return out


def _products_and_documents(store, viewer, out: Overview, views: dict) -> None:
    known: dict[str, Facts] = {}  # facts of the records read so far, across documents
    docs, out.documents_total = services.recent_documents(store, viewer=viewer, limit=max(RECENT_DOCUMENTS, 50))
    seen: set[str] = set()
    read = 0
    for i, doc in enumerate(docs):
        label = None
        if doc.records <= PRODUCT_SCAN - read:  # a larger document is listed unread
            ids = store.document_records([doc.id]).get(doc.id, [])
            _, nodes, _ = services.document_nodes(store, doc.id, viewer=viewer, known=known, views=views)
            if len(nodes) > FACTS_SCAN:  # read the facts of the records that may be products only
                nodes = [n for n in nodes if may_be_product(n)]
            by_id = elements(nodes)
            known.update((n.id, facts(by_id[n.id])) for n in nodes)
            shown = [known[i] for i in ids if i in known]
            read += len(ids)
            label = label_of(shown) if shown else None
            found = sorted((f for f in shown if f.kind == "entity" and f.level in PRODUCT_LEVELS), key=_newest)
            for f in top_level(found):  # a product file, not each of its HDUs
                if f.id not in seen:
                    seen.add(f.id)
                    out.products.append(f)
        if i < RECENT_DOCUMENTS:
            out.documents.append(RecentDocument(doc, label))
        elif read >= PRODUCT_SCAN or len(out.products) >= PRODUCTS_SHOWN:
            break
    out.products = out.products[:PRODUCTS_SHOWN]


def _top_up(store, viewer, out: Overview, counted: dict[str, int]) -> None:
    """Products the newest documents did not give, from the store's products by level (highest
    first, at most :data:`PRODUCT_TOP_UP` of each, levels ``counted`` as none skipped), as
    ``viewer`` may read them, newest first, after those already listed."""
    listed = {f.id for f in out.products}
    found: list[Facts] = []
    for lv in sorted(PRODUCT_LEVELS, key=level_rank, reverse=True):
        if not counted.get(lv):
            continue
        nodes, _ = services.search_records(store, "", "entity", viewer=viewer, level=lv, limit=PRODUCT_TOP_UP)
        fresh = [n for n in nodes if n.id not in listed]
        by_id = elements(fresh)
        found += [f for f in (facts(by_id[n.id]) for n in fresh) if f.level in PRODUCT_LEVELS]
    whole = top_level(out.products + sorted(found, key=_newest))  # a product file, not its HDUs
    out.products += [f for f in whole if f.id not in listed][: PRODUCTS_SHOWN - len(out.products)]


def _newest(f: Facts) -> tuple:
    """Within one document (or the top-up): the latest time first, then the highest level, then
    by title."""
    stamp = (f.end or f.start).timestamp() if (f.end or f.start) else float("-inf")
    return (-stamp, *record_order(f))


__all__ = ["Overview", "overview"]
