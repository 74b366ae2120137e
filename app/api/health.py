"""/health (for load balancers); VOSI /availability and /capabilities are in app.api.vosi."""

from __future__ import annotations

from flask import Blueprint, jsonify

from provdm.errors import StoreUnavailable

from . import current_store, current_viewer

bp = Blueprint("health", __name__)


def _store_ok() -> tuple[bool, str]:
    try:
        current_store().ping()
        return True, "the service is accepting requests"
    except StoreUnavailable as exc:
        return False, exc.message


@bp.get("/health")
def health():
    ok, note = _store_ok()
    body = {"status": "ok" if ok else "unavailable", "store": current_store().url.split("@")[-1], "note": note}
    if ok and current_viewer().is_admin:  # counts would reveal records a caller may not see
        s = current_store().stats()
        body["counts"] = {"documents": s.documents, "nodes": s.nodes, "relations": s.relations}
    resp = jsonify(body)
    resp.status_code = 200 if ok else 503
    if not ok:
        resp.headers["Retry-After"] = "5"
    return resp
