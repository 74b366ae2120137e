"""POST /fits: import the headers of one FITS file (the whole file, or only its headers).

The body is the file itself (any Content-Type, e.g. ``application/fits``) or a
``multipart/form-data`` upload with one file field. A header-only upload is accepted: the header
blocks back to back, or the cards as text lines (``END`` between HDUs). Bodies larger than
``PROVHUB_MAX_BODY_MB`` are refused (413). The import is stored as one PROV document; the
answer is ``{"id", "records", "created", "warnings", "entity"}``, 201 when the document is new,
200 when it was already stored.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for

from provhub.importers import import_fits_bytes
from provhub.provdm.errors import IngestError, InvalidParameter, PayloadTooLarge

from .. import services
from . import current_settings, current_store, current_viewer

bp = Blueprint("fits", __name__)


def _body(limit: int) -> tuple[bytes, str]:
    """The uploaded bytes and a file name for them; PayloadTooLarge above ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"the upload has {request.content_length} bytes; the limit is {limit}", where="body")
    if request.files:
        upload = next(iter(request.files.values()))
        data = upload.stream.read(limit + 1)
        name = upload.filename or "upload.fits"
    else:
        data = request.get_data(cache=False)
        name = request.args.get("filename") or "upload.fits"
    if len(data) > limit:
        raise PayloadTooLarge(f"the upload is larger than {limit} bytes", where="body")
    if not data:
        raise InvalidParameter("the body is empty: send a FITS file or its headers", where="body")
    return data, name


@bp.post("/fits")
def post_fits():
    settings = current_settings()
    data, name = _body(settings.max_body_bytes)
    result = import_fits_bytes(data, filename=name)
    if result.failed:
        raise IngestError(result.failed[0].message or "the upload is not a readable FITS file", where=name)
    ingested = services.ingest_prov(
        current_store(),
        result.document,
        settings=settings,
        viewer=current_viewer(),
        validation=request.args.get("validation"),
        rights=request.args.get("rights"),
        group=request.args.get("group"),
        release=request.args.get("release"),
    )
    body = ingested.to_dict()
    body["warnings"] = [str(w) for w in result.warnings] + list(ingested.warnings)
    body["entity"] = result.files[0].entity if result.files else None
    resp = jsonify(body)
    resp.status_code = 201 if ingested.created else 200
    resp.headers["Location"] = url_for("documents.get_document", doc_id=ingested.id)
    return resp
