"""GET /audit?ID=...: the audit report of a product's full backward lineage.

JSON by default, HTML for browsers (Accept: text/html), or ``?format=json|html|text|md``.
The caller sees the lineage its access rights allow (like ProvSAP). :func:`audit_product` is
what ``provhub audit`` runs too (as the operator, who sees everything).
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from provdm.audit import RAW_TYPES, REPORT_FORMATS, AuditReport, audit, format_report, referenced_ids
from provdm.errors import InvalidParameter
from provdm.provsap import ProvSapQuery
from provdm.render import flatten

from .. import services
from ..access import OPERATOR
from ..rights import HIDDEN_NS
from . import current_settings, current_store, current_viewer, negotiate

bp = Blueprint("audit", __name__)

#: HTML reports carry only an inline stylesheet.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def audit_product(store, ids: list[str], *, settings, viewer=OPERATOR,
                  raw_types=RAW_TYPES) -> AuditReport:
    """Trace ``ids`` back with DEPTH=ALL as ``viewer`` sees it, find which referenced records
    the store lacks, audit. Placeholders of records hidden from the viewer are not judged."""
    query = ProvSapQuery.from_args({"ID": list(ids), "DEPTH": "ALL", "DIRECTION": "BACK"},
                                   max_depth=settings.max_depth)
    doc = services.trace(store, query, settings=settings, viewer=viewer)
    refs = {i for i in referenced_ids(doc) if not i.startswith(HIDDEN_NS)}
    found = {node.id for node in store.get_nodes(sorted(refs))}
    hidden = {i for i in flatten(doc).elements if i.startswith(HIDDEN_NS)}
    namespaces = store.namespaces()
    roots = [services.resolve_id(store, i, namespaces) for i in ids]
    return audit(doc, roots=roots, missing=refs - found, raw_types=raw_types, hidden=hidden)


@bp.get("/audit")
def audit_view():
    ids = request.args.getlist("ID") or request.args.getlist("id")
    if not ids:
        raise InvalidParameter("say which product to audit: /audit?ID=<id>", where="ID")
    offers = {"json": "application/json", "html": "text/html", "text": "text/plain",
              "md": "text/markdown"}
    fmt = negotiate(offers, "json", param="format")
    report = audit_product(current_store(), ids, settings=current_settings(),
                           viewer=current_viewer())
    resp = Response(format_report(report, fmt), mimetype=REPORT_FORMATS[fmt].split(";")[0])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP
    return resp
