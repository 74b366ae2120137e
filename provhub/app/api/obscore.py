"""GET /obscore: the products provhub knows as an ObsCore 1.1 VOTable (provhub/app/obscore.py), each
row's access_url the product's DataLink document; MAXREC (default 1000) bounds the rows."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, request

from provhub.provdm.obscore import write_obscore

from .. import obscore
from . import current_settings, current_store, current_viewer

bp = Blueprint("obscore", __name__)


@bp.get("/obscore")
def table():
    limit = obscore.check_limit(request.args.get("MAXREC"))
    base = request.url_root.rstrip("/")
    rows = obscore.products(
        current_store(),
        settings=current_settings(),
        viewer=current_viewer(),
        datalink_url=lambda did: f"{base}/datalink?ID={quote(did, safe='')}",
        limit=limit,
    )
    resp = Response(write_obscore(rows[:limit]), mimetype="application/x-votable+xml")
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
