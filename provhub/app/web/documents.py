"""A stored document as a page (issue 18): what it is, who may read it, when and by whom it was
ingested, its history, the records it asserts (linked, paged) and download links.

The page answers ``GET /documents/<id>`` when a browser asks for HTML (Accept prefers
``text/html`` to every PROV media type, and no ``?format=``): :func:`provhub.app.api.documents.get_document`
hands the request here, so API clients get the document text exactly as before. A document the
viewer may not read is the same 404 page as an unknown one.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import render_template, request, url_for

from provhub.provdm import registry
from provhub.provdm.errors import NotFound, ProvhubError

from .. import identity, services
from ..api import current_store, current_viewer, int_arg
from ..errors import status_of
from ..summary import natural_key
from .records import LEVELS, Facts, elements, facts, may_be_product

#: records listed per page of a document
RECORDS_PER_PAGE = 100
#: a document's records are sorted by their facts (products first) and its label read off them
#: when it has at most this many (facts cost ~0.1 ms a record); a larger one lists its records by
#: id read naturally and is labelled from the records that may be products (or the page shown)
LABEL_SCAN = 5_000
KIND_ORDER = {"entity": 0, "activity": 1, "agent": 2}


def level_rank(level: str | None) -> int:
    """Higher for later data levels (DL6 first, IRFs beside DL3, no level last)."""
    if level == "IRF":
        return 3
    return LEVELS.index(level) + 1 if level in LEVELS else 0


def record_order(f: Facts) -> tuple:
    """Products first, then entities, activities, agents, each by title and id read naturally
    (``a2`` before ``a10``)."""
    return (-level_rank(f.level), KIND_ORDER.get(f.kind, 3), natural_key(f.title), natural_key(f.short))


def label_of(shown: list[Facts]) -> str:
    """What a document is about in a few words: its one top product, else the observations
    (OBS_IDs) of its highest data level, else how many records of that level it holds, else how
    many records of each kind."""
    entities = [f for f in shown if f.kind == "entity" and f.level]
    if entities:
        top = max(level_rank(f.level) for f in entities)
        best = sorted((f for f in entities if level_rank(f.level) == top), key=record_order)
        whole = top_level(best)
        if len(whole) == 1:
            return whole[0].title
        runs = sorted({f.obs_id for f in whole if f.obs_id}, key=natural_key)
        if runs:  # what an astronomer reads: the observations
            more = f" and {len(runs) - 3:,} more" if len(runs) > 3 else ""
            word = "observation" if len(runs) == 1 else f"{len(runs):,} observations"
            return f"{whole[0].level} data of {word}: " + ", ".join(runs[:3]) + more
        more = f" and {len(whole) - 2:,} more" if len(whole) > 2 else ""
        return f"{len(whole):,} {whole[0].level} records: " + ", ".join(f.title for f in whole[:2]) + more
    counts = {k: sum(1 for f in shown if f.kind == k) for k in ("entity", "activity", "agent")}
    words = [f"{n:,} {k if n == 1 else ('entities' if k == 'entity' else k + 's')}" for k, n in counts.items() if n]
    return ", ".join(words) or "no records"


def top_level(found: list[Facts]) -> list[Facts]:
    """``found`` without the records whose id is another's id and a path below it: a file's HDUs
    (``.../file/x/EVENTS``) go with the file."""
    ids = {f.id for f in found}
    return [f for f in found if not any(f.id[:cut] in ids for cut in _slashes(f.id))]


def _slashes(iri: str) -> list[int]:
    return [i for i, c in enumerate(iri) if c == "/" and i > len("https://")]


@dataclass
class Page:
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.size)


def document_page(doc_id: str):
    """The HTML page of one document (errors as the site's error page, with the page CSP)."""
    from . import PAGE_CSP

    try:
        resp = _render(doc_id)
    except ProvhubError as exc:
        status = status_of(exc)
        resp = render_template("web/error.html", error=exc, status=status), status
    from flask import make_response

    out = make_response(resp)
    out.headers["Content-Security-Policy"] = PAGE_CSP
    out.headers["X-Content-Type-Options"] = "nosniff"
    out.headers["Referrer-Policy"] = "same-origin"
    out.headers["Vary"] = "Accept"
    return out


def _render(doc_id: str):
    from . import record_url

    store, viewer = current_store(), current_viewer()
    stored, nodes, relations = services.document_nodes(store, doc_id, viewer=viewer)
    page = Page(int_arg("page", 1, low=1, high=10**7), RECORDS_PER_PAGE, len(nodes))
    if page.number > page.pages:
        raise NotFound(f"page {page.number} is past the last page ({page.pages})", where="page")
    if len(nodes) <= LABEL_SCAN:
        by_id = elements(nodes)
        shown = sorted((facts(by_id[n.id]) for n in nodes), key=record_order)
        listed = shown[page.first - 1 : page.last]
        label = label_of(shown)
    else:  # the page by id read naturally; the label from the records that may be products
        products = [n for n in nodes if may_be_product(n)]
        nodes = sorted(nodes, key=lambda n: natural_key(n.id))[page.first - 1 : page.last]
        by_id = elements(nodes + [n for n in products if n.id not in {m.id for m in nodes}])
        listed = [facts(by_id[n.id]) for n in nodes]
        label = label_of([facts(by_id[n.id]) for n in products] or listed)
    history = identity.history(store, stored.id, viewer=viewer)["history"]
    syntax = registry.get(registry.SYNTAX, stored.format.removeprefix(services.VOPROV_FORMAT_PREFIX))
    return render_template(
        "web/document.html",
        doc=stored,
        label=label,
        original=syntax.label if syntax else stored.format,
        records=listed,
        relations=relations,
        page=page,
        page_url=lambda n: url_for("documents.get_document", doc_id=stored.id, page=n),
        history=history,
        syntaxes=registry.of_kind(registry.SYNTAX),
        record_url=record_url,
        here=request.path,
    )


__all__ = ["document_page", "label_of", "level_rank", "record_order", "top_level", "RECORDS_PER_PAGE"]
