"""provhub errors -> HTTP, in one table. Every error body has one shape, in one of three forms:

- JSON ``{"error": {"code", "message", "where"}, "status": N}``;
- a DALI error VOTable, ``<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`` with the
  code, where and the caller's RUNID in INFOs of their own (:func:`provhub.provdm.votable.error_document`);
- plain text: ``404 not-found: message (at where)``, then one line per detail.

ProvSAP (the resources in :data:`DALI_PATHS`) answers errors as DALI 1.1 section 4.2 says, "a
VOTable document or a plain text document": VOTable unless the Accept header prefers
``text/plain`` or ``application/json``. The REST endpoints answer JSON unless Accept prefers
``text/plain``, or the request names VOTable (``RESPONSEFORMAT`` or Accept).
"""

from __future__ import annotations

import json

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from provhub.provdm import errors as e
from provhub.provdm import votable
from provhub.provdm.provsap import parse_runid

STATUS = {
    e.InvalidParameter: 400,
    e.MalformedDocument: 400,
    e.Unauthorized: 401,
    e.Forbidden: 403,
    e.NotFound: 404,
    e.NotAcceptable: 406,
    e.Conflict: 409,
    e.PayloadTooLarge: 413,
    e.UnsupportedMediaType: 415,
    e.InvalidDocument: 422,
    e.AnswerTooLarge: 422,
    e.QueryTimeout: 422,
    e.IngestError: 422,
    e.StoreUnavailable: 503,
    e.ProviderUnavailable: 503,
    e.RenderError: 500,
}

_HTTP_CODES = {
    400: "bad-request",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def status_of(exc: e.ProvhubError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


#: the resources whose errors are DALI error documents (VOTable by default)
DALI_PATHS = ("/provsap", "/datalink")
#: the media types a DALI error document is offered in, the default first
_DALI_OFFERS = (votable.MEDIA_TYPE, "text/xml", "text/plain", "application/json")


def _error_media_type() -> str:
    """The media type of the error document this request gets."""
    accept = request.accept_mimetypes
    if request.path.rstrip("/") in DALI_PATHS:
        return accept.best_match(_DALI_OFFERS, default=votable.MEDIA_TYPE)
    fmt = (request.args.get("RESPONSEFORMAT") or request.args.get("responseformat") or "").lower()
    if "votable" in fmt or "votable" in request.headers.get("Accept", ""):
        return votable.MEDIA_TYPE
    # Accept prefers text/plain to JSON (``*/*`` alone, or no Accept, gets JSON)
    return accept.best_match(["application/json", "text/plain"], default="application/json")


def runid() -> str | None:
    """The request's RUNID (DALI 1.1 section 3.3.6; any case), when it is one to echo: one
    :func:`provhub.provdm.provsap.parse_runid` takes (not too long, no control characters)."""
    values = request.values if request.path.rstrip("/") in DALI_PATHS else request.args
    found = next((v for k, v in values.items(multi=True) if k.upper() == "RUNID"), None)
    try:
        return parse_runid(found) if found else None
    except e.InvalidParameter:
        return None


def _plain_text(code: str, message: str, where: str | None, status: int, details=None) -> str:
    at = f" (at {where})" if where else ""
    lines = [f"{status} {code}: {message}{at}"]
    lines += [d if isinstance(d, str) else json.dumps(d, ensure_ascii=False) for d in details or []]
    return "\n".join(lines) + "\n"


def error_response(code: str, message: str, where: str | None, status: int, details=None) -> Response:
    media_type = _error_media_type()
    if media_type in (votable.MEDIA_TYPE, "text/xml"):
        body = votable.error_document(message, code=code, where=where, runid=runid())
        resp = Response(body, status=status, mimetype=media_type)
    elif media_type == "text/plain":
        resp = Response(_plain_text(code, message, where, status, details), status=status, mimetype="text/plain")
    else:
        err = {"code": code, "message": message, "where": where}
        if details:
            err["details"] = details
        resp = jsonify({"error": err, "status": status})
        resp.status_code = status
    if status == 503:
        resp.headers["Retry-After"] = "5"
    return resp


def bearer_challenge(exc: e.Unauthorized) -> str:
    """RFC 6750 section 3: ``Bearer``, and for a token that is not accepted its error and an
    ``error_description`` (printable ASCII without ``"`` and ``\\``)."""
    if not isinstance(exc, e.InvalidToken):
        return 'Bearer realm="provhub"'
    text = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "'" if c == '"' else "?" for c in exc.message)
    return f'Bearer realm="provhub", error="invalid_token", error_description="{text}"'


def register(app: Flask) -> None:
    @app.errorhandler(e.ProvhubError)
    def _provhub_error(exc: e.ProvhubError):
        resp = error_response(exc.code, exc.message, exc.where, status_of(exc), exc.details)
        if isinstance(exc, e.Unauthorized):
            resp.headers["WWW-Authenticate"] = bearer_challenge(exc)
        return resp

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        where = "body" if status == 413 else ("path" if status in (404, 405) else None)
        message = exc.description or exc.name
        if status == 413:
            message = f"the request body is larger than this service accepts ({app.config['PROVHUB_SETTINGS'].max_body_mb:g} MiB)"
        resp = error_response(_HTTP_CODES.get(status, exc.name.lower().replace(" ", "-")), message, where, status)
        for name, value in exc.get_headers():
            if name.lower() != "content-type":  # e.g. Allow on 405
                resp.headers[name] = value
        return resp

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # pragma: no cover - last resort, logged
        app.logger.exception("unexpected error")
        return error_response("internal-error", f"internal error: {type(exc).__name__}", None, 500)
