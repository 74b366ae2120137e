"""VOSI 1.1: GET /capabilities and GET /availability as VO clients and validators read them.

The documents of a real service (both stores, authentication on and off) are validated with lxml
against the IVOA schemas vendored in tests/fixtures/ivoa (VOSICapabilities 1.0, VOResource 1.2,
VODataService 1.2, VOSIAvailability 1.0) and read with pyvo's VOSI parsers.

pyvo 1.10 cannot read the capabilities in pedantic mode; two gaps of its parser stop it, both on
schema-valid content (``test_pyvo_reads_capabilities_pedantically`` is a strict xfail, so it
fails once pyvo is fixed):

- ``W17`` on the second ``queryType`` of a ``vs:ParamHTTP``. VODataService 1.2 allows two
  (``maxOccurs="2"``) and says to give both GET and POST that way; pyvo's ``ParamHTTP`` raises
  W17 for any repeat (``pyvo/io/vosi/vodataservice.py``, ``multiple_exc=W17``).
- ``UnknownElementWarning`` for ``param`` (and its ``name``, ``description``, ``dataType``):
  pyvo's ``ParamHTTP`` declares only ``queryType`` and ``resultType``.

So the tests read the document without pedantic mode, record every warning pyvo gives and allow
those two gaps only: any other finding of pyvo fails them.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from io import BytesIO
from xml.etree import ElementTree

import pytest
from lxml import etree
from pyvo.auth.authurls import AuthURLs
from pyvo.io.vosi import parse_availability, parse_capabilities
from pyvo.io.vosi.exceptions import W17
from pyvo.utils.xml.exceptions import UnknownElementWarning

from provhub.app import create_app, services
from provhub.app.access import Viewer, hash_token, new_token
from provhub.app.stores.base import TokenRecord, utcnow_iso
from provhub.provdm import registry
from provhub.provdm.provsap import PARAMETERS, RESPONSE_FORMATS
from tests.conftest import ROOT, make_settings

XSD = ROOT / "tests" / "fixtures" / "ivoa"
#: namespace -> the file that defines it (VODataService 1.2 and VOResource 1.2 keep old namespaces)
SCHEMAS = {
    "http://www.ivoa.net/xml/VOSICapabilities/v1.0": "VOSICapabilities-v1.0.xsd",
    "http://www.ivoa.net/xml/VOSIAvailability/v1.0": "VOSIAvailability-v1.0.xsd",
    "http://www.ivoa.net/xml/VOResource/v1.0": "VOResource-v1.2.xsd",
    "http://www.ivoa.net/xml/VODataService/v1.1": "VODataService-v1.2.xsd",
    "http://www.ivoa.net/xml/STC/stc-v1.30.xsd": "stc-stub.xsd",
}
PROVDAL = "ivo://ivoa.net/std/ProvenanceDM#ProvDAL-1.0"
TOKEN = "ivo://ivoa.net/sso#token"
VOSI = {
    "ivo://ivoa.net/std/VOSI#capabilities": "/capabilities",
    "ivo://ivoa.net/std/VOSI#availability": "/availability",
}
LIMITS = "https://provhub.org/ns#limits"
DATALINK = "ivo://ivoa.net/std/DataLink#links-1.1"
#: the pyvo 1.10 gaps of the module docstring: elements its ParamHTTP does not know
PYVO_UNKNOWN = {"param", "name", "description", "dataType"}


class _Offline(etree.Resolver):
    def resolve(self, url, pubid, context):
        if url in SCHEMAS:
            return self.resolve_filename(str(XSD / SCHEMAS[url]), context)
        raise AssertionError(f"the schemas import {url}, which is not vendored")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Offline())
    imports = "".join(f'<xs:import namespace="{ns}" schemaLocation="{ns}"/>' for ns in SCHEMAS)
    driver = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser))


@pytest.fixture(params=["auth-off", "auth-on"])
def vosi_client(request, settings, store):
    """Both stores, with authentication off (single user) and on (tokens)."""
    return create_app(replace(settings, auth=request.param.split("-")[1]), store=store).test_client()


def assert_valid(schema: etree.XMLSchema, data: bytes) -> None:
    doc = etree.fromstring(data)
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log)


def read_capabilities(data: bytes):
    """pyvo's reading, failing on anything but the known gaps of its parser."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        caps = parse_capabilities(BytesIO(data), filename="capabilities")
    for w in seen:
        unknown = re.search(r"Unknown element (\S+)", str(w.message))
        if w.category is UnknownElementWarning and unknown and unknown.group(1) in PYVO_UNKNOWN:
            continue
        if w.category is W17 and data.count(b"<queryType>") >= 2:
            continue
        pytest.fail(f"pyvo: {w.category.__name__}: {w.message}")
    return {c.standardid: c for c in caps}


def http_time(header: str) -> datetime:
    return parsedate_to_datetime(header)


# -- the schemas --------------------------------------------------------------------------------


def test_capabilities_validate_against_the_ivoa_schemas(vosi_client, schema):
    r = vosi_client.get("/capabilities")
    assert r.status_code == 200 and r.mimetype == "text/xml"
    assert_valid(schema, r.data)


def test_availability_validates_against_the_ivoa_schema(client, schema):
    r = client.get("/availability")
    assert r.status_code == 200 and r.mimetype == "text/xml"
    assert_valid(schema, r.data)
    assert etree.fromstring(r.data).tag == "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}availability"


def test_the_validator_refuses_what_the_schemas_forbid(schema):
    """The vendored schemas are really applied (the element /capabilities had before)."""
    bad = (
        b'<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0">'
        b'<capability standardID="x"><limits xmlns="https://provhub.org/ns#"/></capability></vosi:capabilities>'
    )
    assert not schema.validate(etree.fromstring(bad))
    assert "limits" in str(schema.error_log)


# -- pyvo -----------------------------------------------------------------------------------------


@pytest.mark.xfail(strict=True, raises=W17, reason="pyvo 1.10 refuses a second queryType (module docstring)")
def test_pyvo_reads_capabilities_pedantically(client):
    parse_capabilities(BytesIO(client.get("/capabilities").data), pedantic=True, filename="capabilities")


def test_pyvo_reads_the_capabilities(vosi_client):
    caps = read_capabilities(vosi_client.get("/capabilities").data)
    assert set(caps) == set(VOSI) | {PROVDAL, DATALINK, LIMITS}
    (datalink,) = caps[DATALINK].interfaces
    assert type(datalink).__name__ == "ParamHTTP" and datalink.role == "std"
    assert [u.content for u in datalink.accessurls] == ["http://localhost/datalink"]
    for standard_id, path in VOSI.items():
        (interface,) = caps[standard_id].interfaces
        assert interface.role == "std" and not interface.securitymethods  # VOSI 1.1 section 4
        (url,) = interface.accessurls
        assert url.use == "full" and url.content == "http://localhost" + path
    for interface in caps[PROVDAL].interfaces:
        assert type(interface).__name__ == "ParamHTTP" and interface.role == "std"
        (url,) = interface.accessurls
        assert url.use == "base" and url.content == "http://localhost/provsap"
        assert list(interface.querytypes) == ["GET", "POST"]
        assert interface.resulttype.content == registry.answers()[0].media_type


def test_pyvo_reads_the_availability_pedantically(client):
    r = client.get("/availability")
    av = parse_availability(BytesIO(r.data), pedantic=True, filename="availability")
    assert av.available is True
    assert av.notes == ["the service is accepting requests"]
    up_since = datetime.strptime(av.upsince, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert up_since <= datetime.now(timezone.utc)


# -- ProvSAP --------------------------------------------------------------------------------------


def provsap_params(data: bytes) -> dict[str, ElementTree.Element]:
    root = ElementTree.fromstring(data)
    cap = next(c for c in root.iter("capability") if c.get("standardID") == PROVDAL)
    interfaces = cap.findall("interface")
    params = [{p.findtext("name"): p for p in i.iter("param")} for i in interfaces]
    assert all(p.keys() == params[0].keys() for p in params), "the interfaces differ in parameters"
    return params[0]


def test_provsap_lists_its_parameters(client):
    params = provsap_params(client.get("/capabilities").data)
    assert list(params) == list(PARAMETERS)
    assert params["ID"].get("use") == "required" and all(p.get("std") == "true" for p in params.values())


@pytest.mark.parametrize("fmt", registry.answers(), ids=[f.provsap for f in registry.answers()])
def test_every_answer_format_is_listed(client, fmt):
    text = provsap_params(client.get("/capabilities").data)["RESPONSEFORMAT"].findtext("description")
    assert f"{fmt.provsap} ({fmt.media_type})" in text
    assert re.findall(r"PROV-[A-Z]+(?:-[A-Z]+)*", text) == list(RESPONSE_FORMATS), "only the formats ProvSAP answers in"


# -- securityMethod -------------------------------------------------------------------------------


@pytest.fixture
def auth_client(settings, store):
    return create_app(replace(settings, auth="on"), store=store).test_client()


def test_anonymous_and_bearer_token_access_are_declared(auth_client, settings, store):
    """pyvo learns that /provsap takes anonymous callers and bearer tokens; the token interface
    is real: a token of group g reads a proprietary record an anonymous caller does not see."""
    caps = read_capabilities(auth_client.get("/capabilities").data)
    methods = [[m.standardid for m in i.securitymethods] for i in caps[PROVDAL].interfaces]
    assert methods == [[], [TOKEN]]  # anonymous: an interface without securityMethod (VOResource 1.2)
    auth = AuthURLs()
    auth.update_from_capabilities(caps.values())
    assert auth.allowed_auth_methods("http://localhost/provsap?ID=ex:x") == {"anonymous", TOKEN}
    assert auth.allowed_auth_methods("http://localhost/capabilities") == {"anonymous"}

    doc = "document\nprefix ex <http://example.org/vosi#>\nentity(ex:closed)\nendDocument"
    admin = Viewer(name="op", role="admin")
    services.ingest(store, doc, "provn", settings=settings, viewer=admin, rights="proprietary", group="g")
    token = new_token()
    store.save_token(TokenRecord("t-vosi", "vo", "reader", ["g"], hash_token(token), utcnow_iso()))
    bearer = {"Authorization": f"Bearer {token}"}
    assert "ex:closed" in auth_client.get("/provsap?ID=ex:closed", headers=bearer).get_data(as_text=True)
    assert auth_client.get("/provsap?ID=ex:closed").status_code == 404
    assert auth_client.get("/provsap?ID=ex:closed", headers={"Authorization": "Bearer wrong"}).status_code == 401
    for path in VOSI.values():  # VOSI 1.1: open to anonymous requests
        assert auth_client.get(path).status_code == 200


def test_no_token_method_when_authentication_is_off(client):
    caps = read_capabilities(client.get("/capabilities").data)
    assert [[m.standardid for m in i.securitymethods] for i in caps[PROVDAL].interfaces] == [[]]


# -- Last-Modified --------------------------------------------------------------------------------


def test_capabilities_last_modified_is_the_start(settings, store):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    client = create_app(settings, store=store).test_client()
    time.sleep(1.1)  # the header has whole seconds: a time of the request would be later
    r = client.get("/capabilities")
    modified = http_time(r.headers["Last-Modified"])
    assert before <= modified < datetime.now(timezone.utc) - timedelta(seconds=1)
    assert client.get("/capabilities").headers["Last-Modified"] == r.headers["Last-Modified"]
    assert client.head("/capabilities").headers["Last-Modified"] == r.headers["Last-Modified"]
    again = client.get("/capabilities", headers={"If-Modified-Since": r.headers["Last-Modified"]})
    assert again.status_code == 304 and not again.data
    older = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    assert client.get("/capabilities", headers={"If-Modified-Since": older}).status_code == 200


def test_availability_last_modified_is_up_since(client):
    r = client.get("/availability")
    up_since = ElementTree.fromstring(r.data).findtext("{http://www.ivoa.net/xml/VOSIAvailability/v1.0}upSince")
    assert http_time(r.headers["Last-Modified"]) == datetime.fromisoformat(up_since.replace("Z", "+00:00"))
    assert r.headers["Cache-Control"] == "no-cache"


def availability(client) -> tuple[bool, str | None, datetime]:
    r = client.get("/availability")
    root = ElementTree.fromstring(r.data)
    ns = "{http://www.ivoa.net/xml/VOSIAvailability/v1.0}"
    return (
        root.findtext(ns + "available") == "true",
        root.findtext(ns + "upSince"),
        http_time(r.headers["Last-Modified"]),
    )


def _outage_sqlite(request, tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    settings = make_settings("sqlite", request, folder)
    app = create_app(settings)
    away = tmp_path / "unmounted"

    def down():
        app.extensions["provhub.store"].close()
        folder.rename(away)  # the volume holding the store goes away

    def up():
        away.rename(folder)

    return app, down, up, lambda: app.extensions["provhub.store"].close()


def _outage_bolt(request, tmp_path):
    from tests.bolt_server import external_server, start_bolt_server

    if external_server() is not None:
        pytest.skip("uses its own ArcadeDB server; PROVHUB_TEST_NEO4J_URL points elsewhere")
    server = start_bolt_server(tmp_path / "arcade")
    app = create_app(server.settings(auth="off", sample="off", store_timeout=3.0))

    def done():
        app.extensions["provhub.store"].close()
        server.stop()

    return app, server.kill, server.restart, done


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", ["sqlite", "bolt"])
def test_up_since_follows_the_store(backend_name, request, tmp_path):
    """The store goes away and comes back: available false without upSince, then a later upSince."""
    app, down, up, done = {"sqlite": _outage_sqlite, "bolt": _outage_bolt}[backend_name](request, tmp_path)
    try:
        client = app.test_client()
        ok, first, modified = availability(client)
        assert ok and first and modified == datetime.fromisoformat(first.replace("Z", "+00:00"))
        time.sleep(1.1)
        down()
        ok, since, went = availability(client)
        assert not ok and since is None and went > modified
        time.sleep(1.1)
        up()
        deadline = time.monotonic() + 30
        while not availability(client)[0] and time.monotonic() < deadline:
            time.sleep(0.5)
        ok, again, back = availability(client)
        assert ok and again > first and back == datetime.fromisoformat(again.replace("Z", "+00:00")) > went
    finally:
        done()


# -- limits ---------------------------------------------------------------------------------------


def test_the_documented_limits_are_reported_with_their_values(settings, store):
    """docs/security.md: every limit in its table is a setting "and GET /capabilities reports them"."""
    table = (ROOT / "docs" / "security.md").read_text().split("## Limits", 1)[1]
    documented = re.findall(r"^\| [^|]+ \| `(PROVHUB_[A-Z_]+)` \|", table, flags=re.M)
    assert len(documented) >= 7
    changed = replace(settings, max_depth=7, node_cap=1234, query_timeout=2.5)
    root = ElementTree.fromstring(create_app(changed, store=store).test_client().get("/capabilities").data)
    cap = next(c for c in root.iter("capability") if c.get("standardID") == LIMITS)
    reported = {p.findtext("name"): p.findtext("description") for p in cap.iter("param")}
    for name in documented:
        value = getattr(changed, name.removeprefix("PROVHUB_").lower())
        assert reported.get(name, "").startswith(f"{value}: "), (name, reported.get(name))
    assert reported["PROVHUB_MAX_DEPTH"].startswith("7: ") and reported["PROVHUB_NODE_CAP"].startswith("1234: ")
    assert "up to 7," in provsap_params(ElementTree.tostring(root))["DEPTH"].findtext("description")
