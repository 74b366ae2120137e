"""The web pages of impact and difference: ``/compare?A=<id>[&B=<id>]`` ("compare with...": a
form for B, then the differences of A and B) and ``/impacts?ID=<id>`` (what depends on a
record). A record page links them as ``url_for("compare.compare", A=record id)`` and
``url_for("compare.impacts", ID=record id)``. The answers are those of ``GET /diff`` and
``GET /impact`` (:mod:`provhub.app.diff`, :mod:`provhub.app.impact`), as the request's viewer sees them,
and, with ``AS_OF=<ISO time>``, as the store knew them then (:mod:`provhub.app.asof`).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from provhub.provdm.errors import InvalidParameter, NotFound, ProvhubError
from provhub.provdm.reports import DIFF_SECTIONS, diff_lines

from .. import asof, diff, impact, services
from ..api import current_settings, current_store, current_viewer
from ..errors import status_of
from . import PAGE_CSP, record_url

bp = Blueprint("compare", __name__, template_folder="templates")


@bp.get("/compare")
def compare():
    a = (request.args.get("A") or "").strip()
    b = (request.args.get("B") or "").strip()
    if not a:
        raise InvalidParameter("say which product to compare: /compare?A=<id>", where="A")
    settings, viewer = current_settings(), current_viewer()
    as_of = (request.args.get("AS_OF") or "").strip()
    store = asof.store_as_of(current_store(), asof.parse_as_of(as_of), settings)
    report, problem = None, None
    if b:
        try:
            report = diff.diff(store, a, b, settings=settings, viewer=viewer).to_dict()
        except NotFound as exc:
            if exc.where != "B":
                raise
            problem = exc.message
    else:
        services.record_detail(store, services.canonical(store, a), viewer=viewer)  # NotFound: hidden or unknown
    sections = diff_lines(report) if report else []
    return render_template(
        "web/compare.html",
        a=a,
        b=b,
        report=report,
        sections=sections,
        headings=DIFF_SECTIONS,
        problem=problem,
        as_of=as_of,
        record_url=record_url,
    )


@bp.get("/impacts")
def impacts():
    ident = (request.args.get("ID") or "").strip()
    if not ident:
        raise InvalidParameter("say which record: /impacts?ID=<id>", where="ID")
    settings = current_settings()
    as_of = (request.args.get("AS_OF") or "").strip()
    report = impact.impact(
        asof.store_as_of(current_store(), asof.parse_as_of(as_of), settings),
        [ident],
        settings=settings,
        viewer=current_viewer(),
        levels=request.args.getlist("LEVEL"),
    )
    return render_template("web/impacts.html", ident=ident, report=report.to_dict(), as_of=as_of, record_url=record_url)


@bp.errorhandler(ProvhubError)
def error_page(exc: ProvhubError):
    status = status_of(exc)
    return render_template("web/error.html", error=exc, status=status), status


@bp.after_request
def page_headers(resp):
    resp.headers.setdefault("Content-Security-Policy", PAGE_CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    return resp
