"""/documents: ingest PROV documents and read them back."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, url_for

from provhub.provdm import formats, registry
from provhub.provdm.errors import InvalidParameter, UnsupportedMediaType

from .. import identity, services
from . import current_settings, current_store, current_viewer, int_arg, negotiate, rights_args, wants_html
from .body import request_text

bp = Blueprint("documents", __name__)

#: a stored document is data, never a page: a PROV-XML may hold XHTML with <script>
DOWNLOAD_CSP = "default-src 'none'; sandbox"


@bp.post("/documents")
def post_document():
    settings = current_settings()
    ctype = request.headers.get("Content-Type")
    if not ctype:
        raise UnsupportedMediaType(
            "Content-Type is required: " + registry.spoken(formats.MEDIA_TYPES.values()), where="Content-Type"
        )
    fmt = formats.format_from_media_type(ctype)
    text = request_text(settings.max_body_bytes)
    result = services.ingest(
        current_store(),
        text,
        fmt,
        settings=settings,
        viewer=current_viewer(),
        validation=request.args.get("validation"),
        **rights_args(),
        supersedes=request.args.get("supersedes") or None,
    )
    resp = jsonify(result.to_dict())
    resp.status_code = 201 if result.created else 200
    resp.headers["Location"] = url_for("documents.get_document", doc_id=result.id)
    return resp


@bp.get("/documents")
def list_documents():
    settings = current_settings()
    limit = int_arg("limit", settings.page_size, low=1, high=1000)
    offset = int_arg("offset", 0, high=10**9)
    docs, total = services.list_documents(current_store(), viewer=current_viewer(), offset=offset, limit=limit)
    items = [
        {
            "id": d.id,
            "format": d.format,
            "records": d.records,
            "created_at": d.created_at,
            "rights": d.rights,
            "url": url_for("documents.get_document", doc_id=d.id),
        }
        for d in docs
    ]
    body = {"documents": items, "total": total, "offset": offset, "limit": limit}
    if offset + limit < total:
        body["next"] = url_for("documents.list_documents", offset=offset + limit, limit=limit)
    return jsonify(body)


@bp.get("/documents/<doc_id>")
def get_document(doc_id: str):
    """The document in a PROV syntax; its HTML page when a browser asks for one (web.documents)."""
    if not request.args.get("format") and wants_html(formats.MEDIA_TYPE_FORMATS):
        from ..web.documents import document_page

        return document_page(doc_id)
    fmt = negotiate(
        formats.MEDIA_TYPES, "json", param="format", names=formats.NAME_FORMATS, media_types=formats.MEDIA_TYPE_FORMATS
    )
    text = services.document_text(current_store(), doc_id, fmt, viewer=current_viewer())
    resp = Response(text, mimetype=formats.MEDIA_TYPES[fmt])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/documents/<doc_id>/rights")
def get_rights(doc_id: str):
    stored = services.readable_document(current_store(), doc_id, current_viewer())
    return jsonify({"id": stored.id, "rights": stored.rights, "group": stored.group, "release": stored.release})


@bp.put("/documents/<doc_id>/rights")
def put_rights(doc_id: str):
    """Fields left out keep their stored values (services.set_rights)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object with rights, group and release", where="body")
    stored = services.set_rights(current_store(), doc_id, body, viewer=current_viewer())
    return jsonify({"id": stored.id, "rights": stored.rights, "group": stored.group, "release": stored.release})


@bp.delete("/documents/<doc_id>")
def retract_document(doc_id: str):
    """Retract a document: its records leave lineage unless other documents assert them."""
    return jsonify(identity.retract(current_store(), doc_id, viewer=current_viewer()))


@bp.get("/documents/<doc_id>/history")
def document_history(doc_id: str):
    return jsonify(identity.history(current_store(), doc_id, viewer=current_viewer()))
