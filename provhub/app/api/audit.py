"""GET /audit?ID=...: the audit report of a product's full backward lineage.

JSON by default, HTML for browsers (Accept: text/html), or ``?format=`` naming a report
format of :mod:`provhub.provdm.registry`.
The caller sees the lineage its access rights allow (like ProvSAP). :func:`provhub.app.services.audit_product`
is what ``provhub audit`` runs too (as the operator, who sees everything).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from provhub.provdm.audit_report import REPORT_FORMATS, format_report
from provhub.provdm.errors import InvalidParameter

from .. import asof, services
from . import current_settings, current_store, current_viewer, negotiate

bp = Blueprint("audit", __name__)

#: HTML reports carry only an inline stylesheet.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@bp.get("/audit")
def audit_view():
    ids = request.args.getlist("ID") or request.args.getlist("id")
    if not ids:
        raise InvalidParameter("say which product to audit: /audit?ID=<id>", where="ID")
    offers = {name: media_type.split(";")[0] for name, media_type in REPORT_FORMATS.items()}
    fmt = negotiate(offers, "json", param="format")
    store = asof.store_as_of(current_store(), asof.parse_as_of(request.args.get("AS_OF")), current_settings())
    report = services.audit_product(store, ids, settings=current_settings(), viewer=current_viewer())
    resp = Response(format_report(report, fmt), mimetype=REPORT_FORMATS[fmt].split(";")[0])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP
    return resp
