"""GET /provsap: ProvSAP lineage queries."""

from __future__ import annotations

from flask import Blueprint, Response, request

from provdm.provsap import ProvSapQuery

from .. import services
from . import current_settings, current_store, current_viewer

bp = Blueprint("provsap", __name__)

#: pictures may also say LAYOUT (graphviz rankdir); not a ProvSAP parameter
EXTRA = ("LAYOUT",)


def security_headers(resp: Response, media_type: str) -> Response:
    if media_type == "image/svg+xml":
        from provdm.render import SVG_CSP

        resp.headers["Content-Security-Policy"] = SVG_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/provsap")
def provsap():
    settings = current_settings()
    query = ProvSapQuery.from_args(request.args, max_depth=settings.max_depth, allow_extra=EXTRA)
    body, media_type = services.provsap_response(current_store(), query, settings=settings, viewer=current_viewer())
    return security_headers(Response(body, mimetype=media_type), media_type)
