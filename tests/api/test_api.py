"""The HTTP API over real stores (Flask test client), each backend."""

from __future__ import annotations

import json

import pytest
from prov.model import ProvDocument

from provhub.app import create_app
from provhub.provdm import formats
from tests.conftest import ROOT, make_settings, prov_files

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
EX = "http://example.org/cta#"
CTYPES = {"json": "application/json", "provn": "text/provenance-notation", "xml": "application/xml"}


def post(client, text, fmt, query=""):
    return client.post("/documents" + query, data=text.encode(), headers={"Content-Type": CTYPES[fmt]})


def assert_error(resp, status, code, where=None):
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert set(body) == {"error", "status"} and body["status"] == status
    assert {"code", "message", "where"} <= set(body["error"])
    assert body["error"]["code"] == code and body["error"]["message"]
    if where is not None:
        assert where in (body["error"]["where"] or ""), body
    return body["error"]


@pytest.mark.parametrize("path,fmt", prov_files(), ids=[p.name for p, _ in prov_files()])
def test_corpus_round_trips_over_http(client, path, fmt):
    text = path.read_text()
    r = post(client, text, fmt)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["created"] is True and body["records"] > 0 and isinstance(body["warnings"], list)
    original = ProvDocument.deserialize(content=text, format=fmt)
    for out, accept in formats.MEDIA_TYPES.items():
        if out in formats.RDF_FORMATS:  # PROV-O keeps less: tests/api/test_prov_o.py
            continue
        g = client.get(f"/documents/{body['id']}", headers={"Accept": accept})
        assert g.status_code == 200 and g.mimetype == accept
        back = ProvDocument.deserialize(content=g.get_data(as_text=True), format=out)
        assert back == original and original == back
        q = client.get(f"/documents/{body['id']}?format={out}")
        assert q.get_data() == g.get_data()
    again = post(client, text, fmt)
    assert again.status_code == 200 and again.get_json()["created"] is False
    assert again.get_json()["id"] == body["id"]


def test_listing_is_paginated(client):
    ids = [post(client, p.read_text(), f).get_json()["id"] for p, f in prov_files()]
    unique = list(dict.fromkeys(ids))
    first = client.get("/documents?limit=3").get_json()
    assert first["total"] == len(unique) and [d["id"] for d in first["documents"]] == unique[:3]
    second = client.get(first["next"]).get_json()
    assert [d["id"] for d in second["documents"]] == unique[3:6]


def test_provsap_over_http(client):
    post(client, KNOWN, "provn")
    r = client.get("/provsap?id=ex:dl5&depth=ALL&responseformat=PROV-JSON&model=W3C")
    assert r.status_code == 200 and r.mimetype == "application/x-prov+json"
    doc = json.loads(r.get_data())
    assert set(doc["entity"]) == {"ex:dl5", "ex:dl3a", "ex:dl3b", "ex:irf", "ex:sim", "ex:dataset", "ex:emin"}
    assert doc["entity"]["ex:dl3a"]["ex:obs_id"] == {"$": "23523", "type": "xsd:int"}
    both = client.get(
        "/provsap", query_string=[("ID", "ex:dl3a"), ("ID", EX + "irf"), ("DEPTH", "1"), ("MODEL", "W3C")]
    )
    assert set(json.loads(both.get_data())["entity"]) == {"ex:dl3a", "ex:irf", "ex:sim", "ex:dataset"}
    n = client.get("/provsap?ID=ex:dl5&RESPONSEFORMAT=text/provenance-notation")
    assert n.mimetype == "text/provenance-notation" and n.get_data(as_text=True).startswith("document")
    x = client.get("/provsap?ID=ex:dl5&RESPONSEFORMAT=PROV-XML&MODEL=W3C")
    assert ProvDocument.deserialize(content=x.get_data(as_text=True), format="xml").get_record("ex:dl5")


#: ProvSAP errors are VOTable unless Accept asks for JSON (tests/api/test_dali.py)
AS_JSON = {"Accept": "application/json"}


@pytest.mark.parametrize(
    "query,where",
    [
        ("", "ID"),
        ("ID=ex:dl5&DEPTH=-1", "DEPTH"),
        ("ID=ex:dl5&DEPTH=two", "DEPTH"),
        ("ID=ex:dl5&DEPTH=100000", "DEPTH"),
        ("ID=ex:dl5&DIRECTION=sideways", "DIRECTION"),
        ("ID=ex:dl5&MEMBERS=maybe", "MEMBERS"),
        ("ID=ex:dl5&MODEL=UML", "MODEL"),
        ("ID=ex:dl5&RESPONSEFORMAT=csv", "RESPONSEFORMAT"),
        ("ID=ex:dl5&FOO=1", "FOO"),
        ("ID=ex:dl5&DEPTH=1&DEPTH=2", "DEPTH"),
    ],
)
def test_provsap_bad_parameters(client, query, where):
    post(client, KNOWN, "provn")
    assert_error(client.get("/provsap?" + query, headers=AS_JSON), 400, "invalid-parameter", where)


def test_provsap_unknown_id_and_votable_errors(client):
    assert_error(client.get("/provsap?ID=ex:nothing", headers=AS_JSON), 404, "not-found", "ID")
    r = client.get("/provsap?ID=ex:dl5&RESPONSEFORMAT=text/csv")  # ProvSAP errors are DALI VOTables
    assert r.status_code == 400 and r.mimetype == "application/x-votable+xml"
    assert b'<INFO name="QUERY_STATUS" value="ERROR">' in r.get_data()


def test_error_codes_and_shapes(client, settings, store, backend, request, tmp_path):
    e = assert_error(post(client, '{"entity": {"ex:e": {}', "json"), 400, "malformed-document", "line 1")
    assert "column" in e["where"]
    assert_error(
        post(client, "document\n prefix ex <http://e/>\n entity(ex:e\nendDocument", "provn"),
        400,
        "malformed-document",
        "line 4",
    )
    assert_error(
        client.post("/documents", data=b"x", headers={"Content-Type": "text/csv"}),
        415,
        "unsupported-media-type",
        "Content-Type",
    )
    assert_error(post(client, json.dumps({"entity": {"nope:e": {}}}), "json"), 400, "unknown-prefix")
    assert_error(client.get("/documents/" + "0" * 32), 404, "not-found")
    assert_error(client.get("/documents/" + "0" * 32 + "?format=csv"), 406, "not-acceptable", "format")
    assert_error(post(client, KNOWN, "provn", "?validation=loose"), 400, "invalid-parameter", "validation")
    bad_order = (
        "document\nprefix ex <http://example.org/cta#>\n"
        "activity(ex:a, 2020-01-02T00:00:00Z, 2020-01-01T00:00:00Z)\nendDocument"
    )
    assert_error(post(client, bad_order, "provn", "?validation=strict"), 422, "invalid-document")
    assert post(client, bad_order, "provn").get_json()["warnings"][0].startswith("start-after-end")
    post(client, KNOWN, "provn")
    conflict = (
        "document\nprefix ex <http://example.org/cta#>\nactivity(ex:analysis, 2021-01-01T00:00:00Z, -)\nendDocument"
    )
    e = assert_error(post(client, conflict, "provn"), 409, "conflict")
    assert e["details"][0]["id"] == EX + "analysis"
    small = create_app(
        make_settings(backend, request, tmp_path / "small", max_body_mb=0.001)
        if backend == "sqlite"
        else settings.__class__(**{**settings.__dict__, "max_body_mb": 0.001}),
        store=store,
    ).test_client()
    assert_error(post(small, KNOWN, "provn"), 413, "payload-too-large", "body")


def test_service_documents(client):
    h = client.get("/health")
    assert h.status_code == 200 and h.get_json()["status"] == "ok"
    a = client.get("/availability")
    assert b"<vosi:available>true</vosi:available>" in a.get_data()
    c = client.get("/capabilities").get_data(as_text=True)
    assert "/provsap</accessURL>" in c and "<name>PROVHUB_MAX_DEPTH</name>" in c
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and {"/documents", "/provsap", "/documents/{doc_id}"} <= set(spec["paths"])
