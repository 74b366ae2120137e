"""GET /audit?ID=...: the audit report of a product's full backward lineage.

JSON by default, HTML for browsers (Accept: text/html), or ``?format=json|html|text|md``.
:func:`audit_product` is what ``provhub audit`` runs too.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from provdm.audit import RAW_TYPES, REPORT_FORMATS, AuditReport, audit, format_report, referenced_ids
from provdm.errors import InvalidParameter
from provdm.provsap import ProvSapQuery

from .. import services
from . import current_settings, current_store, negotiate

bp = Blueprint("audit", __name__)

#: HTML reports carry only an inline stylesheet.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def audit_product(store, ids: list[str], *, settings, raw_types=RAW_TYPES) -> AuditReport:
    """Trace ``ids`` back with DEPTH=ALL, find which referenced records the store lacks, audit."""
    query = ProvSapQuery.from_args({"ID": list(ids), "DEPTH": "ALL", "DIRECTION": "BACK"},
                                   max_depth=settings.max_depth)
    doc = services.trace(store, query, settings=settings)
    refs = referenced_ids(doc)
    found = {node.id for node in store.get_nodes(sorted(refs))}
    namespaces = store.namespaces()
    roots = [services.resolve_id(store, i, namespaces) for i in ids]
    return audit(doc, roots=roots, missing=refs - found, raw_types=raw_types)


@bp.get("/audit")
def audit_view():
    ids = request.args.getlist("ID") or request.args.getlist("id")
    if not ids:
        raise InvalidParameter("say which product to audit: /audit?ID=<id>", where="ID")
    offers = {"json": "application/json", "html": "text/html", "text": "text/plain",
              "md": "text/markdown"}
    fmt = negotiate(offers, "json", param="format")
    report = audit_product(current_store(), ids, settings=current_settings())
    resp = Response(format_report(report, fmt), mimetype=REPORT_FORMATS[fmt].split(";")[0])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP
    return resp
