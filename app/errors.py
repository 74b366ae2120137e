"""provhub errors -> HTTP, in one table. Every error body has one shape:
``{"error": {"code", "message", "where"}, "status": N}`` (JSON, the default), or a DALI VOTable
with ``QUERY_STATUS=ERROR`` when the client asked for VOTable, or plain text when its Accept
prefers ``text/plain`` to JSON: ``404 not-found: message (at where)``, then one line per detail.
"""

from __future__ import annotations

import json
from xml.sax.saxutils import escape, quoteattr

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from provdm import errors as e

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


def _wants_votable() -> bool:
    fmt = (request.args.get("RESPONSEFORMAT") or request.args.get("responseformat") or "").lower()
    accept = request.headers.get("Accept", "")
    return "votable" in fmt or "votable" in accept


def _wants_text() -> bool:
    """Accept prefers text/plain to JSON (``*/*`` alone, or no Accept, gets JSON)."""
    return request.accept_mimetypes.best_match(["application/json", "text/plain"]) == "text/plain"


def _plain_text(code: str, message: str, where: str | None, status: int, details=None) -> str:
    at = f" (at {where})" if where else ""
    lines = [f"{status} {code}: {message}{at}"]
    lines += [d if isinstance(d, str) else json.dumps(d, ensure_ascii=False) for d in details or []]
    return "\n".join(lines) + "\n"


def error_response(code: str, message: str, where: str | None, status: int, details=None) -> Response:
    if _wants_votable():
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">\n'
            ' <RESOURCE type="results">\n'
            f'  <INFO name="QUERY_STATUS" value="ERROR">{escape(message)}</INFO>\n'
            f'  <INFO name="ERROR_CODE" value={quoteattr(code)}/>\n'
            + (f'  <INFO name="WHERE" value={quoteattr(where)}/>\n' if where else "")
            + " </RESOURCE>\n</VOTABLE>\n"
        )
        resp = Response(body, status=status, mimetype="application/x-votable+xml")
    elif _wants_text():
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


def register(app: Flask) -> None:
    @app.errorhandler(e.ProvhubError)
    def _provhub_error(exc: e.ProvhubError):
        return error_response(exc.code, exc.message, exc.where, status_of(exc), exc.details)

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
