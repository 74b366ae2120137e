"""GET /impact and GET /diff: what depends on an input, and how two products' provenance differs
(docs/impact.md).

JSON by default, HTML for browsers (Accept: text/html), or ``?FORMAT=`` naming a format of
:data:`provhub.provdm.reports.IMPACT_FORMATS` / :data:`provhub.provdm.reports.DIFF_FORMATS`. The caller sees
what its access rights allow, as in ProvSAP.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from provhub.provdm.errors import InvalidParameter
from provhub.provdm.reports import DIFF_FORMATS, IMPACT_FORMATS, write_diff, write_impact

from .. import asof
from .. import diff as diff_service
from .. import impact as impact_service
from . import current_settings, current_store, current_viewer, negotiate

bp = Blueprint("questions", __name__)

#: HTML reports carry only an inline stylesheet.
HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'"


def _args(name: str) -> list[str]:
    return request.args.getlist(name) or request.args.getlist(name.lower())


def _answer(text: str, fmt: str, media_types: dict, status: int = 200) -> Response:
    resp = Response(text, status=status, mimetype=media_types[fmt].split(";")[0])
    resp.headers["X-Content-Type-Options"] = "nosniff"
    if fmt == "html":
        resp.headers["Content-Security-Policy"] = HTML_CSP
    return resp


def store_at():
    """The store, or, with ``AS_OF=<ISO time>``, the store as it was then (:mod:`provhub.app.asof`)."""
    raw = request.args.get("AS_OF") or request.args.get("as_of")
    return asof.store_as_of(current_store(), asof.parse_as_of(raw), current_settings())


def _format(media_types: dict) -> str:
    offers = {name: media_type.split(";")[0] for name, media_type in media_types.items()}
    param = "FORMAT" if "FORMAT" in request.args else "format"
    return negotiate(offers, "json", param=param)


@bp.get("/impact")
def impact():
    fmt = _format(IMPACT_FORMATS)
    report = impact_service.impact(
        store_at(),
        _args("ID"),
        _args("SELECT"),
        settings=current_settings(),
        viewer=current_viewer(),
        levels=_args("LEVEL"),
    )
    resp = _answer(write_impact(report.to_dict(), fmt), fmt, IMPACT_FORMATS)
    resp.headers["X-Affected"] = str(len(report.products))
    return resp


@bp.get("/diff")
def diff():
    fmt = _format(DIFF_FORMATS)
    a, b = _args("A"), _args("B")
    for name, value in (("A", a), ("B", b)):
        if len(value) != 1 or not value[0].strip():
            raise InvalidParameter(f"give one {name}: /diff?A=<product id>&B=<product id>", where=name)
    report = diff_service.diff(store_at(), a[0], b[0], settings=current_settings(), viewer=current_viewer())
    return _answer(write_diff(report.to_dict(), fmt), fmt, DIFF_FORMATS)


@bp.get("/manifest")
def manifest():
    from .. import manifest as manifest_service

    ids = _args("ID")
    if len(ids) != 1 or not ids[0].strip():
        raise InvalidParameter("give one ID: /manifest?ID=<product id>", where="ID")
    param = "FORMAT" if "FORMAT" in request.args else "format"
    fmt = negotiate(manifest_service.FORMATS, "json", param=param)
    data = manifest_service.manifest(store_at(), ids[0], settings=current_settings(), viewer=current_viewer())
    return _answer(manifest_service.write(data, fmt), fmt, manifest_service.FORMATS)


def openapi_paths(param, error) -> dict:
    """The OpenAPI entries of these routes (merged into provhub/app/api/openapi.py's document)."""
    from .. import manifest as manifest_service

    def many(name: str, required: bool = False, description: str = "") -> dict:
        return {
            **param(name, required=required, description=description),
            "schema": {"type": "array", "items": {"type": "string"}},
            "explode": True,
        }

    def content(media_types: dict) -> dict:
        return {
            t.split(";")[0]: {"schema": {"type": "object" if t.startswith("application/json") else "string"}}
            for t in media_types.values()
        }

    def fmt(media_types: dict) -> dict:
        return param("FORMAT", schema={"type": "string", "enum": list(media_types)})

    as_of = param(
        "AS_OF",
        description="answer as the store knew it at this ISO time",
        schema={"type": "string", "format": "date-time"},
    )

    errors = {code: error for code in ("400", "404", "406", "422", "503")}
    return {
        "/impact": {
            "get": {
                "summary": "What depends on inputs (ids or attribute selectors): affected products and what to re-run",
                "operationId": "impact",
                "parameters": [
                    many("ID", description="a record id or any alias (repeatable)"),
                    many("SELECT", description="an attribute selector, docs/impact.md (repeatable, any one)"),
                    many("LEVEL", description="only products of these data levels (DL0..DL6, other)"),
                    fmt(IMPACT_FORMATS),
                    as_of,
                ],
                "responses": {
                    "200": {"description": "the impact report", "content": content(IMPACT_FORMATS)},
                    **errors,
                },
            }
        },
        "/diff": {
            "get": {
                "summary": "How the provenance of two products differs",
                "operationId": "diff",
                "parameters": [param("A", required=True), param("B", required=True), fmt(DIFF_FORMATS), as_of],
                "responses": {"200": {"description": "the differences", "content": content(DIFF_FORMATS)}, **errors},
            }
        },
        "/manifest": {
            "get": {
                "summary": "What is needed to make a product again",
                "operationId": "manifest",
                "parameters": [param("ID", required=True), fmt(manifest_service.FORMATS), as_of],
                "responses": {
                    "200": {"description": "the manifest", "content": content(manifest_service.FORMATS)},
                    **errors,
                },
            }
        },
    }
