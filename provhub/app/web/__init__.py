"""The lineage web page: record search at ``/`` and a page per record at ``/records/<IRI>``.

Server-rendered HTML (Jinja, autoescaped) with one stylesheet and one small script served by this
blueprint: nothing is fetched from elsewhere, so the page works on closed networks. Every page
goes through :mod:`provhub.app.services` with the request's viewer, so access rights apply. See docs/web.md.
"""

from __future__ import annotations

import datetime as _dt
from urllib.parse import quote

from flask import Blueprint, Response, make_response, render_template, request, url_for

from provhub.provdm import formats, registry
from provhub.provdm.errors import InvalidParameter, NotAcceptable, NotFound, ProvhubError
from provhub.provdm.facts import time_of

from .. import asof, services, summary
from ..api import current_settings, current_store, current_viewer
from ..api import int_arg
from ..api.documents import DOWNLOAD_CSP
from ..errors import status_of
from . import home, lineage
from .records import KINDS, LEVELS, attributes, elements, facts, parse_filters, record_path
from .search import SCAN_LIMIT, find

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static", static_url_path="/static/web")

#: Pages load only this blueprint's own stylesheet and script.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
MAX_PAGE_SIZE = 200
#: the syntaxes a record page links each document in (the plain link is the document's page)
SYNTAXES = registry.of_kind(registry.SYNTAX)


def record_url(iri: str) -> str:
    return url_for("web.index") + record_path(iri)


@bp.app_template_global()
def audit_url(iri: str) -> str:
    """The audit page of a record (the IRI percent-encoded as one segment, like record pages)."""
    return url_for("web.index") + "audits/" + quote(iri, safe="")


@bp.app_template_global()
def summary_url(iri: str) -> str:
    return url_for("web.index") + "summaries/" + quote(iri, safe="")


@bp.app_template_filter("utc")
def utc_time(text: str | None, seconds: bool = True) -> str:
    """``2004-12-04T22:08:10.184000+00:00`` as ``2004-12-04 22:08:10 UTC`` (other text unchanged)."""
    t = time_of(text) if text else None
    if t is None:
        return text or ""
    if t.tzinfo is not None:
        t = t.astimezone(_dt.timezone.utc)
    return t.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


@bp.app_template_filter("middle")
def middle(text: str, most: int = 40) -> str:
    """``text`` with its middle left out when longer than ``most`` (a long id in a table)."""
    if len(text) <= most:
        return text
    keep = (most - 1) // 2
    return text[:keep] + "…" + text[-keep:]


@bp.get("/")
def index():
    settings = current_settings()
    text = (request.args.get("q") or "").strip()
    kind = (request.args.get("kind") or "").strip().lower() or None
    if kind and kind not in KINDS:
        raise InvalidParameter(f"kind must be one of {', '.join(KINDS)}, not {kind!r}", where="kind")
    filters = parse_filters(request.args)
    limit = int_arg("limit", settings.page_size, low=1, high=MAX_PAGE_SIZE)
    page = int_arg("page", 1, low=1, high=10**7)
    results = find(
        current_store(), text, kind, filters, viewer=current_viewer(), limit=limit, offset=(page - 1) * limit
    )
    exact = _record_named(text) if text and not any(c.isspace() for c in text) else None
    kept = {k: v for k, v in request.args.items() if k != "page" and v}
    searched = bool(text or kind or filters.active)
    front = home.overview(current_store(), viewer=current_viewer()) if not searched and page == 1 else None
    return render_template(
        "web/search.html",
        results=results,
        page=page,
        kinds=KINDS,
        levels=LEVELS,
        q=text,
        kind=kind,
        args=request.args,
        scan_limit=SCAN_LIMIT,
        searched=searched,
        home=front,
        level_recheck=services.LEVEL_RECHECK,
        record_url=record_url,
        exact=exact,
        page_url=lambda n: url_for("web.index", **kept, page=n),
    )


def _record_named(text: str):
    """Facts of the record whose id (IRI or prefixed name like ``ex:dl5``) is ``text``, else None."""
    try:
        node = services.record_detail(current_store(), text, viewer=current_viewer()).node
    except NotFound:
        return None
    return facts(elements([node])[node.id])


#: the PROV-O forms a record page answers under content negotiation (or ``?format=``), from the registry
LINKED_DATA = tuple(f for f in registry.of_kind(registry.SYNTAX) if f.name in formats.RDF_FORMATS)
_LINKED_TYPES = {t: f for f in LINKED_DATA for t in f.media_types}


def _linked_data_asked():
    """The PROV-O format a request for a record page asks for (``?format=ttl``, or an Accept that
    prefers one of its media types to HTML), else None: the page."""
    name = request.args.get("format")
    if name:
        found = next((f for f in LINKED_DATA if name.strip().lower() in (f.name, *f.names)), None)
        if found is None:
            raise NotAcceptable(
                f"a record is given as a page or as PROV-O: format is {registry.spoken(f.name for f in LINKED_DATA)}",
                where="format",
            )
        return found
    best = request.accept_mimetypes.best_match(["text/html", *_LINKED_TYPES])
    return _LINKED_TYPES.get(best) if best else None


def _alternates(iri: str) -> list[tuple[str, str]]:
    page = record_url(iri)
    return [(f.media_type, f"{page}?format={f.name}") for f in LINKED_DATA]


def _linked_data(fmt, record_id: str):
    store, settings, viewer = current_store(), current_settings(), current_viewer()
    doc = services.record_prov(
        store,
        record_id,
        settings=settings,
        viewer=viewer,
        page_of=lambda iri: request.host_url.rstrip("/") + record_url(iri),
    )
    resp = Response(formats.serialize(doc, fmt.name), mimetype=fmt.media_type)
    resp.headers["Link"] = f'<{record_url(record_id)}>; rel="alternate"; type="text/html"'
    resp.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    resp.vary.add("Accept")
    return resp


@bp.get("/records/<path:record_id>")
def record(record_id: str):
    fmt = _linked_data_asked()
    if fmt is not None:
        return _linked_data(fmt, record_id)
    settings, viewer = current_settings(), current_viewer()
    as_of = (request.args.get("AS_OF") or "").strip()
    store = asof.store_as_of(current_store(), asof.parse_as_of(as_of), settings)  # the store as it was then
    detail = services.record_detail(store, record_id, viewer=viewer)
    node = detail.node
    view = lineage.View.from_args(request.args, max_depth=settings.max_depth)
    graph = lineage.build(store, node.id, view, settings=settings, viewer=viewer, link=record_url)
    element = elements([node])[node.id]
    head = facts(element)
    product = (
        summary.product_summary(store, node.id, settings=settings, viewer=viewer)
        if summary.is_product(element) and graph.total <= summary.SUMMARY_INLINE
        else None
    )
    activity = (
        summary.activity_facts(store, node.id, settings=settings, viewer=viewer) if node.kind == "activity" else None
    )
    stem = "lineage-" + "".join(c if c.isalnum() or c in "-_." else "_" for c in head.short)[:80]
    graph.downloads = lineage.downloads(node.id, view, url_for("provsap.provsap"), stem, graph.layout)
    page = render_template(
        "web/record.html",
        record=head,
        attributes=attributes(node),
        documents=detail.documents,
        syntaxes=SYNTAXES,
        view=view,
        lineage=graph,
        depths=lineage.DEPTHS,
        directions=lineage.DIRECTION_NAMES,
        layouts=lineage.LAYOUT_NAMES,
        folds=lineage.FOLD_NAMES,
        here=record_url(node.id),
        product=product,
        summary_page=summary.is_product(element) and product is None,
        activity=activity,
        record_url=record_url,
        also=[(other.kind, attributes(other)) for other in detail.also],
        as_of=as_of,
        alternates=_alternates(node.id),
    )
    resp = make_response(page)
    resp.headers["Link"] = ", ".join(f'<{href}>; rel="alternate"; type="{t}"' for t, href in _alternates(node.id))
    resp.vary.add("Accept")
    return resp


@bp.get("/summaries/<path:record_id>")
def summary_page(record_id: str):
    """What a product was made from, on its own page (the record page links it when the lineage
    is too large to summarise inline)."""
    store, settings, viewer = current_store(), current_settings(), current_viewer()
    node = services.record_detail(store, record_id, viewer=viewer).node
    head = facts(elements([node])[node.id])
    product = summary.product_summary(store, node.id, settings=settings, viewer=viewer)
    return render_template("web/summary.html", record=head, product=product, record_url=record_url)


@bp.get("/audits/<path:record_id>")
def audit_page(record_id: str):
    """The audit report of a record's full backward lineage, in the site's layout, every record
    it names linked (``/audit?ID=...`` gives the same report as JSON, text, Markdown, HTML)."""
    store, settings, viewer = current_store(), current_settings(), current_viewer()
    node = services.record_detail(store, record_id, viewer=viewer).node
    head = facts(elements([node])[node.id])
    report = services.audit_product(store, [node.id], settings=settings, viewer=viewer)
    named = sorted({i for f in report.findings for i in f.records})[:500]  # links for the first 500
    shown = {n.id: facts(elements([n])[n.id]) for n in _readable(store, named, viewer)}
    return render_template(
        "web/audit.html",
        record=head,
        report=report,
        s=report.summary,
        names=shown,
        record_url=record_url,
        formats=[f.name for f in registry.of_kind(registry.REPORT)],
    )


def _readable(store, ids: list[str], viewer) -> list:
    """The records of ``ids`` the viewer may read (the others are shown without a link)."""
    out = []
    for i in ids:
        try:
            out.append(services.record_detail(store, i, viewer=viewer).node)
        except NotFound:
            continue
    return out


@bp.errorhandler(ProvhubError)
def error_page(exc: ProvhubError):
    status = status_of(exc)
    return render_template("web/error.html", error=exc, status=status), status


@bp.after_request
def page_headers(resp):
    resp.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    return resp
