"""VOSI 1.1 (IVOA Support Interfaces): ``GET /capabilities`` and ``GET /availability``.

Both documents validate against the IVOA schemas (VOSICapabilities 1.0 with VOResource 1.2 and
VODataService 1.2; VOSIAvailability 1.0): ``tests/api/test_vosi.py`` checks them with lxml and reads
them with pyvo. Both are open to anonymous callers and name no ``securityMethod`` for themselves
(VOSI 1.1 section 4).

- ``/capabilities`` lists the VOSI endpoints, ProvSAP and provhub's limits. Its
  ``Last-Modified`` is when this process started: the settings it reports are read once, at start
  (``If-Modified-Since`` gets 304).
- ProvSAP has one interface without ``securityMethod`` (anonymous callers may use it: VOResource
  1.2 says such a service "must provide at least one interface definition without a
  securityMethod") and, when authentication is on, the same interface with the bearer-token
  method: its answers then hold what the token's groups may read.
- The limits (docs/security.md) are the ``param``\\ s of a capability of provhub's own,
  ``https://provhub.org/ns#limits``: VOResource has no place for them, and a foreign element
  inside a capability is not schema-valid. Each is named by its setting (``PROVHUB_MAX_DEPTH``),
  and its description opens with the value: ``1000: Largest DEPTH ...``.
- ``/availability`` says whether the store answers (``provhub.app.api.health._store_ok``) and, when it
  does, ``upSince``: when this process started, or when ``/availability`` last found the store
  answering again after finding it down. ``Last-Modified`` is the time of that last change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from xml.sax.saxutils import escape, quoteattr

from flask import Blueprint, Response, current_app, request

from provhub.provdm import registry
from provhub.provdm.provsap import PARAMETERS, RESPONSE_FORMATS

from ..config import SETTINGS
from . import current_settings
from .health import _store_ok

bp = Blueprint("vosi", __name__)

VOSI_CAPABILITIES = "ivo://ivoa.net/std/VOSI#capabilities"
VOSI_AVAILABILITY = "ivo://ivoa.net/std/VOSI#availability"
#: proposed in WD-ProvenanceDM-1.0-20170921, "VOSI availability and capabilities"
#: (ivoa-std/ProvenanceDM 218d6a8, doc/provaccess.tex); no registered identifier exists
PROVSAP_STANDARD_ID = "ivo://ivoa.net/std/ProvenanceDM#ProvDAL-1.0"
#: DataLink 1.1 section 5: the {links} capability
DATALINK_STANDARD_ID = "ivo://ivoa.net/std/DataLink#links-1.1"
#: bearer tokens in ``Authorization: Bearer`` (IVOA SSO, the method services advertise tokens with)
TOKEN_METHOD = "ivo://ivoa.net/sso#token"
#: provhub's own capability: the limits of this service (not an IVOA standard)
LIMITS_ID = "https://provhub.org/ns#limits"

XMLNS = (
    'xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
    'xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0" '
    'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)

#: ProvSAP parameters: (VOTable datatype, what it is), from the draft's parameter table
_PROVSAP_PARAMS = {
    "ID": ("char", "qualified identifier of an entity, activity or agent; repeatable"),
    "DEPTH": ("char", "relations to follow: 0, 1 (default), ... up to {max_depth}, or ALL"),
    "DIRECTION": ("char", "BACK (default: towards causes) or FORTH (towards effects)"),
    "MEMBERS": ("boolean", "true: follow the members of collections (default false)"),
    "STEPS": ("boolean", "true: follow the steps of activity flows (default false)"),
    "AGENT": ("boolean", "true: explore what agents are responsible for (default false)"),
    "MODEL": ("char", "IVOA (default) or W3C"),
    "RESPONSEFORMAT": ("char", "{formats}"),
    # DALI 1.1 section 3.3
    "MAXREC": ("int", "at most this many entities, activities and agents (the nearest); 0: metadata only"),
    "RUNID": ("char", "identifier of the larger job this request is part of, echoed (at most 64 characters)"),
}


def _limits() -> list[tuple[str, str]]:
    """The settings that are limits (docs/security.md): (name, help)."""
    return [
        (name, help)
        for name, _default, help in SETTINGS
        if name.startswith("max_") or name.endswith(("_cap", "_timeout"))
    ]


@dataclass
class Uptime:
    """When this app started and when /availability last saw the store change state."""

    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(microsecond=0))
    up: bool = True
    since: datetime = field(init=False)

    def __post_init__(self):
        self.since = self.started

    def observe(self, ok: bool) -> datetime:
        """Record a check; the time of the last change (up or down)."""
        if ok != self.up:
            self.up, self.since = ok, datetime.now(timezone.utc).replace(microsecond=0)
        return self.since


@bp.record
def _start(state) -> None:
    state.app.extensions.setdefault("provhub.uptime", Uptime())


def _uptime() -> Uptime:
    return current_app.extensions["provhub.uptime"]


def _xml_time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _param(name: str, description: str, datatype: str, *, std: bool = True, use: str | None = None) -> str:
    size = ' arraysize="*"' if datatype == "char" else ""
    use_attr = f' use="{use}"' if use else ""
    return (
        f'<param std="{str(std).lower()}"{use_attr}><name>{escape(name)}</name>'
        f"<description>{escape(description)}</description>"
        f'<dataType xsi:type="vs:VOTableType"{size}>{datatype}</dataType></param>'
    )


def _vosi_capability(standard_id: str, url: str) -> str:
    return (
        f'  <capability standardID="{standard_id}">\n'
        f'    <interface xsi:type="vs:ParamHTTP" role="std"><accessURL use="full">{escape(url)}</accessURL></interface>\n'
        "  </capability>\n"
    )


def _provsap_interface(url: str, security_method: str | None) -> str:
    s = current_settings()
    answers = ", ".join(f"{name} ({media_type})" for name, (_kind, media_type) in RESPONSE_FORMATS.items())
    params = []
    for name in PARAMETERS:
        datatype, text = _PROVSAP_PARAMS.get(name, ("char", ""))
        text = text.format(max_depth=s.max_depth, formats=answers)
        params.append("      " + _param(name, text, datatype, use="required" if name == "ID" else None))
    method = f"\n      <securityMethod standardID={quoteattr(security_method)}/>" if security_method else ""
    default = registry.answers()[0].media_type
    return (
        '    <interface xsi:type="vs:ParamHTTP" role="std">\n'
        f'      <accessURL use="base">{escape(url)}</accessURL>{method}\n'
        "      <queryType>GET</queryType>\n      <queryType>POST</queryType>\n"
        f"      <resultType>{escape(default)}</resultType>\n" + "\n".join(params) + "\n    </interface>\n"
    )


def _datalink_capability(base: str) -> str:
    """DataLink 1.1 section 5: ``/datalink`` takes ID (repeatable) and answers a links document."""
    from provhub.provdm.datalink import MEDIA_TYPE

    params = [
        _param("ID", "identifier of a dataset: a record id or any of its aliases; repeatable", "char", use="required"),
        _param("RESPONSEFORMAT", f"{MEDIA_TYPE} (the default and the only format)", "char"),
    ]
    return (
        f'  <capability standardID="{DATALINK_STANDARD_ID}">\n'
        '    <interface xsi:type="vs:ParamHTTP" role="std" version="1.1">\n'
        f'      <accessURL use="base">{escape(base)}/datalink</accessURL>\n'
        "      <queryType>GET</queryType>\n      <queryType>POST</queryType>\n"
        f"      <resultType>{escape(MEDIA_TYPE)}</resultType>\n"
        + "".join(f"      {p}\n" for p in params)
        + "    </interface>\n  </capability>\n"
    )


def _limits_capability(base: str) -> str:
    s = current_settings()
    params = "\n".join(
        "      "
        + _param(
            f"PROVHUB_{name.upper()}",
            f"{getattr(s, name)}: {help}",
            "long" if isinstance(getattr(s, name), int) else "double",
            std=False,
            use="ignored",
        )
        for name, help in _limits()
    )
    return (
        f'  <capability standardID="{LIMITS_ID}">\n'
        "    <description>The limits of this provhub service (docs/security.md). Each param is one "
        "setting, not a request parameter: its description starts with the value in force.</description>\n"
        f'    <interface xsi:type="vs:ParamHTTP"><accessURL use="base">{escape(base)}/</accessURL>\n'
        f"{params}\n    </interface>\n  </capability>\n"
    )


@bp.get("/capabilities")
def capabilities():
    base = request.url_root.rstrip("/")
    provsap = _provsap_interface(f"{base}/provsap", None)
    if current_settings().auth_enabled:
        provsap += _provsap_interface(f"{base}/provsap", TOKEN_METHOD)
    xml = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<vosi:capabilities {XMLNS}>\n'
        + _vosi_capability(VOSI_CAPABILITIES, f"{base}/capabilities")
        + _vosi_capability(VOSI_AVAILABILITY, f"{base}/availability")
        + f'  <capability standardID="{PROVSAP_STANDARD_ID}">\n{provsap}  </capability>\n'
        + _datalink_capability(base)
        + _limits_capability(base)
        + "</vosi:capabilities>\n"
    )
    resp = Response(xml, mimetype="text/xml")
    resp.last_modified = _uptime().started
    return resp.make_conditional(request)


@bp.get("/availability")
def availability():
    ok, note = _store_ok()
    since = _uptime().observe(ok)
    up_since = f"  <vosi:upSince>{_xml_time(since)}</vosi:upSince>\n" if ok else ""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n'
        f"  <vosi:available>{'true' if ok else 'false'}</vosi:available>\n"
        f"{up_since}"
        f"  <vosi:note>{escape(note)}</vosi:note>\n"
        "</vosi:availability>\n"
    )
    resp = Response(xml, mimetype="text/xml")
    resp.last_modified = since
    resp.headers["Cache-Control"] = "no-cache"
    return resp
