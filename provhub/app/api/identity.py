"""/resolve: what a name (id, stand-in id, file name, digest, OBS_ID...) means in this store."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from provhub.provdm.errors import InvalidParameter

from .. import identity, services
from . import current_store, current_viewer

bp = Blueprint("identity", __name__)


@bp.get("/resolve")
def resolve():
    ident = request.args.get("ID") or request.args.get("id")
    if not ident:
        raise InvalidParameter("ID is required: a record id or any of its aliases", where="ID")
    store = current_store()
    answer = identity.describe(store, services.resolve_id(store, ident))
    services.record_detail(store, answer["id"], viewer=current_viewer())  # NotFound when hidden
    return jsonify({"query": ident, **answer})


@bp.put("/pins")
def put_pin():
    """An admin's decision for an ambiguous name: ``{"key": ..., "to": record id}``."""
    body = request.get_json(silent=True)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("key"), str)
        or not isinstance(body.get("to"), str)
        or not isinstance(body.get("remove", False), bool)
    ):
        raise InvalidParameter(
            'the body must be {"key": "<alias>", "to": "<record id>", "remove": true|false}', where="body"
        )
    if not body["key"].strip() or not body["to"].strip():
        raise InvalidParameter("key and to must not be empty", where="body")
    store = current_store()
    return jsonify(
        identity.pin(
            store,
            body["key"],
            services.resolve_id(store, body["to"]),
            viewer=current_viewer(),
            remove=bool(body.get("remove")),
        )
    )
