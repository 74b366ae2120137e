"""/health (for load balancers: 200 while reads are served, ``writable: false`` and status
``degraded`` after the store refused a write for a full disk or a read-only store, until a write
succeeds again; 503 when the store cannot be reached); VOSI /availability and /capabilities are in provhub.app.api.vosi."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from provhub.provdm.errors import StoreNotWritable, StoreUnavailable

from ..errors import error_response, status_of
from . import current_store, current_viewer

bp = Blueprint("health", __name__)

#: app.extensions key: the message of the last write the store refused as not writable (full
#: disk, read-only), until a write succeeds again
_NOT_WRITABLE = "provhub.not_writable"
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@bp.app_errorhandler(StoreNotWritable)
def _not_writable(exc: StoreNotWritable):
    """Remember that the store refused a write, for /health; answer as every error does."""
    current_app.extensions[_NOT_WRITABLE] = exc.message
    return error_response(exc.code, exc.message, exc.where, status_of(exc), exc.details)


@bp.after_app_request
def _note_write(response):
    if request.method in _WRITES and 200 <= response.status_code < 300:
        current_app.extensions.pop(_NOT_WRITABLE, None)
    return response


def _store_ok() -> tuple[bool, str]:
    try:
        current_store().ping()
        return True, "the service is accepting requests"
    except StoreUnavailable as exc:
        return False, exc.message


@bp.get("/health")
def health():
    ok, note = _store_ok()
    refused = current_app.extensions.get(_NOT_WRITABLE)
    status = "unavailable" if not ok else "degraded" if refused else "ok"
    body = {"status": status, "store": current_store().url.split("@")[-1], "note": refused if ok and refused else note}
    body["writable"] = ok and not refused
    if ok and current_viewer().is_admin:  # counts would reveal records a caller may not see
        s = current_store().stats()
        body["counts"] = {"documents": s.documents, "nodes": s.nodes, "relations": s.relations}
    resp = jsonify(body)
    resp.status_code = 200 if ok else 503
    if not ok:
        resp.headers["Retry-After"] = "5"
    return resp
