"""GET and POST /datalink: the DataLink 1.1 ``{links}`` resource.

``ID`` is repeatable and may be any name of a record (its id, a prefixed name, a file name, a
digest, an ObsCore ``obs_publisher_did``...): :func:`provhub.app.datalink.links` decides the links.
An ID that names nothing the caller may read is a row with ``error_message`` (HTTP 200, as
DataLink 1.1 section 3.2.3 says); a request without ID is a DALI error document (400).
``RESPONSEFORMAT`` may be left out or name the VOTable (the only format a links document has).
"""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for

from provhub.provdm.datalink import MEDIA_TYPE, ServiceDescriptor, ServiceParam, write_links
from provhub.provdm.errors import InvalidParameter, NotAcceptable
from provhub.provdm.provsap import RESPONSE_FORMATS

from .. import datalink
from ..web.records import record_path
from . import current_settings, current_store, current_viewer

bp = Blueprint("datalink", __name__)

#: RESPONSEFORMAT values a links document is written for (DataLink 1.1 section 3.1)
VOTABLE_FORMATS = (
    "votable",
    "application/x-votable+xml",
    "text/xml",
    MEDIA_TYPE,
    "application/x-votable+xml; content=datalink",
)
#: most IDs one request may name (DataLink lets a service bound it: "MAXREC"-like overflow is not defined)
MAX_IDS = 100


def _args() -> dict[str, list[str]]:
    values = request.values if request.method == "POST" else request.args
    out: dict[str, list[str]] = {}
    for key, value in values.items(multi=True):
        out.setdefault(key.upper(), []).append(value)
    return out


def provsap_descriptor(base: str) -> ServiceDescriptor:
    from .vosi import PROVSAP_STANDARD_ID

    return ServiceDescriptor(
        id=datalink.PROVSAP_DESCRIPTOR,
        access_url=f"{base}/provsap",
        standard_id=PROVSAP_STANDARD_ID,
        description="ProvSAP: the provenance of the dataset (IVOA ProvDAL draft)",
        params=(
            ServiceParam("ID", ref="col_ID", description="the dataset (this row's ID)"),
            ServiceParam("DEPTH", "ALL", "relations to follow: 1, 2, ... or ALL"),
            ServiceParam(
                "DIRECTION",
                "BACK",
                "BACK: what it was made from; FORTH: what was made from it",
                options=("BACK", "FORTH"),
            ),
            ServiceParam("MODEL", "IVOA", "IVOA (voprov) or W3C", options=("IVOA", "W3C")),
            ServiceParam("RESPONSEFORMAT", "", "the answer's format", options=tuple(RESPONSE_FORMATS)),
        ),
    )


@bp.route("/datalink", methods=["GET", "POST"])
def links():
    args = _args()
    fmt = (args.get("RESPONSEFORMAT") or [""])[-1].strip()
    if fmt and fmt.lower().replace(" ", "") not in {f.replace(" ", "") for f in VOTABLE_FORMATS}:
        raise NotAcceptable(f"a links document is a VOTable, not {fmt[:60]!r}", where="RESPONSEFORMAT")
    ids = [i.strip() for i in args.get("ID", []) if i.strip()]
    if not ids:
        raise InvalidParameter("ID is required: the identifier of a dataset (repeatable)", where="ID")
    if len(ids) > MAX_IDS:
        raise InvalidParameter(f"at most {MAX_IDS} IDs per request, not {len(ids)}", where="ID")
    base = request.url_root.rstrip("/")
    pages = url_for("web.index", _external=True)
    rows = datalink.links(
        current_store(),
        ids,
        settings=current_settings(),
        viewer=current_viewer(),
        record_url=lambda rid: pages + record_path(rid),
    )
    body = write_links(rows, (provsap_descriptor(base),))
    resp = Response(body, mimetype="application/x-votable+xml")
    resp.headers["Content-Type"] = MEDIA_TYPE
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
