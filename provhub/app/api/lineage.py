"""POST /api/v1/lineage: OpenLineage RunEvents, as Marquez takes them (docs/api.md).

Any OpenLineage producer (its HTTP transport's default endpoint is ``api/v1/lineage``) can post
here. Each event becomes one small PROV document (:mod:`provhub.importers.openlineage`), stored
as ``POST /documents`` stores one: the same token, the same ``rights``/``group``/``release``
parameters, 201 when new and 200 when the same event was stored already, gzip bodies.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from provhub.provdm import formats
from provhub.provdm.errors import UnsupportedMediaType

from .. import services
from . import current_settings, current_store, current_viewer, rights_args
from .body import request_text

bp = Blueprint("lineage", __name__)


@bp.post("/api/v1/lineage")
def post_lineage():
    settings = current_settings()
    ctype = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(
            "an OpenLineage event is sent as Content-Type: application/json", where="Content-Type"
        )
    event = formats.load_json(request_text(settings.max_body_bytes), what="the OpenLineage event")
    result = services.ingest_openlineage(
        current_store(),
        event,
        settings=settings,
        viewer=current_viewer(),
        **rights_args(),
    )
    resp = jsonify(result.to_dict())
    resp.status_code = 201 if result.created else 200
    resp.headers["Location"] = url_for("documents.get_document", doc_id=result.id)
    return resp
