"""/health (for load balancers), VOSI /availability and /capabilities (IVOA)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, jsonify, request

from provdm.errors import StoreUnavailable
from provdm.provsap import RESPONSE_FORMATS

from . import current_settings, current_store, current_viewer

bp = Blueprint("health", __name__)

PROVSAP_STANDARD_ID = "ivo://provhub.org/std/ProvSAP#provsap-1.0"  # no registered IVOA id exists


def _store_ok() -> tuple[bool, str]:
    try:
        current_store().ping()
        return True, "the service is accepting requests"
    except StoreUnavailable as exc:
        return False, exc.message


@bp.get("/health")
def health():
    ok, note = _store_ok()
    body = {"status": "ok" if ok else "unavailable", "store": current_store().url.split("@")[-1], "note": note}
    if ok and current_viewer().is_admin:  # counts would reveal records a caller may not see
        s = current_store().stats()
        body["counts"] = {"documents": s.documents, "nodes": s.nodes, "relations": s.relations}
    resp = jsonify(body)
    resp.status_code = 200 if ok else 503
    if not ok:
        resp.headers["Retry-After"] = "5"
    return resp


@bp.get("/availability")
def availability():
    ok, note = _store_ok()
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n'
        f"  <vosi:available>{'true' if ok else 'false'}</vosi:available>\n"
        f"  <vosi:note>{escape(note)}</vosi:note>\n"
        "</vosi:availability>\n"
    )
    return Response(xml, mimetype="text/xml")


@bp.get("/capabilities")
def capabilities():
    base = request.url_root.rstrip("/")
    s = current_settings()
    limits = {
        "max_body_mb": s.max_body_mb,
        "max_records": s.max_records,
        "max_attribute_bytes": s.max_attribute_bytes,
        "max_depth": s.max_depth,
        "node_cap": s.node_cap,
        "query_timeout": s.query_timeout,
    }
    answers = ", ".join(RESPONSE_FORMATS)  # provdm.registry's answer formats
    limit_xml = "".join(f'\n      <provhub:limit name="{k}" value="{escape(str(v))}"/>' for k, v in limits.items())
    xml = f'''<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:provhub="https://provhub.org/ns#">
  <capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
    <interface xsi:type="vs:ParamHTTP" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">
      <accessURL use="full">{escape(base)}/capabilities</accessURL>
    </interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#availability">
    <interface xsi:type="vs:ParamHTTP" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">
      <accessURL use="full">{escape(base)}/availability</accessURL>
    </interface>
  </capability>
  <capability standardID="{PROVSAP_STANDARD_ID}">
    <interface xsi:type="vs:ParamHTTP" role="std" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">
      <accessURL use="base">{escape(base)}/provsap</accessURL>
      <queryType>GET</queryType>
      <resultType>application/x-prov+json</resultType>
      <param std="true"><name>ID</name><description>identifier of an entity, activity or agent (repeatable)</description></param>
      <param std="true"><name>DEPTH</name><description>relations to follow: 0, 1, ... {s.max_depth}, or ALL</description></param>
      <param std="true"><name>DIRECTION</name><description>BACK (default) or FORTH</description></param>
      <param std="true"><name>MEMBERS</name></param>
      <param std="true"><name>STEPS</name></param>
      <param std="true"><name>AGENT</name></param>
      <param std="true"><name>MODEL</name><description>IVOA (default) or W3C</description></param>
      <param std="true"><name>RESPONSEFORMAT</name><description>{escape(answers)}</description></param>
    </interface>
    <provhub:limits>{limit_xml}
    </provhub:limits>
  </capability>
</vosi:capabilities>
'''
    return Response(xml, mimetype="text/xml")
