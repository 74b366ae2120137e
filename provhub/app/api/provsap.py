"""GET and POST /provsap: ProvSAP lineage queries.

DALI 1.1 sync: the parameters come in the query string (GET) or as a form body (POST,
``application/x-www-form-urlencoded`` or ``multipart/form-data``), the same either way. An answer
says whether MAXREC cut it in ``X-Query-Status`` (``OK`` or ``OVERFLOW``, as DALI's
QUERY_STATUS; PROV-VOTABLE also says it in the VOTable) and echoes RUNID in ``X-RUNID``; the
RUNID is logged with the request (DALI: "preserved in any service logs").
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from provhub.provdm.provsap import ProvSapQuery

from .. import asof, services
from . import current_settings, current_store, current_viewer

bp = Blueprint("provsap", __name__)

#: pictures may also say LAYOUT (graphviz rankdir); AS_OF asks for the store as it was then
#: (provhub/app/asof.py); neither is a ProvSAP parameter
EXTRA = ("LAYOUT", "AS_OF")


def security_headers(resp: Response, media_type: str) -> Response:
    if media_type == "image/svg+xml":
        from provhub.provdm.render import SVG_CSP

        resp.headers["Content-Security-Policy"] = SVG_CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.route("/provsap", methods=["GET", "POST"])
def provsap():
    settings = current_settings()
    args = request.values if request.method == "POST" else request.args
    query = ProvSapQuery.from_args(args, max_depth=settings.max_depth, allow_extra=EXTRA)
    if query.runid:
        current_app.logger.info("ProvSAP RUNID=%r ID=%s", query.runid, query.ids)
    store = asof.store_as_of(current_store(), asof.parse_as_of(query.extra.get("AS_OF")), settings)
    answer = services.provsap_answer(store, query, settings=settings, viewer=current_viewer())
    resp = Response(answer.body, mimetype=answer.media_type)
    resp.headers["X-Query-Status"] = "OVERFLOW" if answer.overflow else "OK"
    if query.runid:
        resp.headers["X-RUNID"] = query.runid
    return security_headers(resp, answer.media_type)
