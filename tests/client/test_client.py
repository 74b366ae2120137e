"""provhub.client against a real service on loopback, on both stores: idempotent posts, a lost
reply, 503/429 with Retry-After, the spool and `provhub push`, errors, gzip and a gzip bomb."""

from __future__ import annotations

import gzip
import json
import time
import tracemalloc
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from provhub.app import create_app
from provhub.app.cli import load_commands
from provhub.client import Client, ServiceError, Unavailable
from tests.client.helpers import Proxy, serve, writer_tokens
from tests.conftest import make_settings


def doc(k: int) -> dict:
    ex = "http://example.org/client#"
    return {
        "prefix": {"ex": ex},
        "entity": {f"ex:out{k}": {"ex:k": k}, f"ex:in{k}": {}},
        "activity": {f"ex:step{k}": {}},
        "used": {f"_:u{k}": {"prov:activity": f"ex:step{k}", "prov:entity": f"ex:in{k}"}},
        "wasGeneratedBy": {f"_:g{k}": {"prov:entity": f"ex:out{k}", "prov:activity": f"ex:step{k}"}},
    }


@pytest.fixture
def service(backend, request, tmp_path):
    settings = make_settings(backend, request, tmp_path, max_body_mb=1.0)
    app = create_app(settings)
    server, url = serve(app)
    yield url, app.extensions["provhub.store"]
    server.shutdown()
    app.extensions["provhub.store"].close()


def stored_ids(store) -> list[str]:
    docs, _total = store.list_documents(0, 1000)
    return [d.id for d in docs]


def test_post_is_gzip_and_idempotent(service):
    url, store = service
    c = Client(url, retry_for=5)
    first = c.post(doc(1))
    again = c.post(doc(1))
    assert first.created and first.id and not again.created and again.id == first.id
    assert stored_ids(store) == [first.id]
    assert c.document(first.id)["entity"]["ex:out1"]


def test_retry_after_a_lost_reply_stores_once(service):
    url, store = service
    proxy = Proxy(url, drop=1)
    try:
        c = Client(proxy.url, retry_for=10, backoff=0.05)
        result = c.post(doc(2))
    finally:
        proxy.close()
    # the first attempt was stored and its reply lost; the retry is told it is there already
    assert [m for m, _b in proxy.seen] == ["POST /documents", "POST /documents"]
    assert c.attempts == 2 and not result.created
    assert stored_ids(store) == [result.id]


def test_503_and_429_wait_for_retry_after(service):
    url, store = service
    proxy = Proxy(url, busy=[(503, 1), (429, 1)])
    try:
        c = Client(proxy.url, retry_for=10, backoff=0.01)
        t0 = time.monotonic()
        result = c.post(doc(3))
        took = time.monotonic() - t0
    finally:
        proxy.close()
    assert result.created and c.attempts == 3
    assert took >= 2.0  # two Retry-After: 1, not the 10 ms backoff
    assert stored_ids(store) == [result.id]


def test_retries_are_bounded_in_time(tmp_path):
    c = Client("http://127.0.0.1:9", retry_for=1.0, backoff=0.05)
    t0 = time.monotonic()
    with pytest.raises(Unavailable):
        c.post(doc(4))
    assert 1.0 <= time.monotonic() - t0 < 3.0 and c.attempts > 2


def test_spool_then_push_in_order_exactly_once(backend, request, tmp_path):
    spool = tmp_path / "spool"
    down = Client("http://127.0.0.1:9", spool=spool, retry_for=0.3, backoff=0.05)
    results = [down.post(doc(k)) for k in range(5)]
    assert all(r.spooled and r.id is None for r in results)
    assert [p.name for p in down.spool.entries()] == [r.spooled.name for r in results]
    assert not [p for p in spool.iterdir() if p.name.startswith(".tmp-")]

    settings = make_settings(backend, request, tmp_path)
    app = create_app(settings)
    server, url = serve(app)
    proxy = Proxy(url)
    try:
        runner = CliRunner()
        r = runner.invoke(load_commands(), ["push", "--spool", str(spool), "--url", proxy.url], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        again = runner.invoke(load_commands(), ["push", "--spool", str(spool), "--url", proxy.url])
        assert again.exit_code == 0 and "sent 0" in again.output
    finally:
        proxy.close()
        server.shutdown()
    store = app.extensions["provhub.store"]
    sent = [json.loads(gzip.decompress(b))["activity"] for _m, b in proxy.seen]
    assert sent == [{f"ex:step{k}": {}} for k in range(5)]  # in order, once each
    assert len(stored_ids(store)) == 5 and not list(down.spool.entries())
    store.close()


def test_a_post_waits_behind_the_spool(service, tmp_path):
    url, store = service
    spool = tmp_path / "spool"
    Client("http://127.0.0.1:9", spool=spool, retry_for=0.2, backoff=0.05).post(doc(10))
    proxy = Proxy(url)
    try:
        c = Client(proxy.url, spool=spool, retry_for=5)
        result = c.post(doc(11))
    finally:
        proxy.close()
    assert result.created and not list(c.spool.entries())
    assert [json.loads(gzip.decompress(b))["entity"].keys() for _m, b in proxy.seen] == [
        {"ex:out10", "ex:in10"},
        {"ex:out11", "ex:in11"},
    ]
    assert len(stored_ids(store)) == 2


def test_errors_carry_code_message_and_where(service, tmp_path):
    url, _store = service
    c = Client(url, retry_for=2)
    with pytest.raises(ServiceError) as err:
        c.post({"entity": {"ex:a": {}}})  # ex is no declared prefix
    assert err.value.status in (400, 422) and err.value.code and err.value.message
    with pytest.raises(ServiceError) as err:
        c.post(doc(5), rights="proprietary")
    assert (err.value.status, err.value.code, err.value.where) == (400, "invalid-parameter", "group")
    with pytest.raises(ServiceError) as err:
        c.resolve("http://example.org/client#nothing")
    assert err.value.status == 404 and err.value.code == "not-found"
    # a refused spooled document moves aside and does not block the next
    spool = tmp_path / "spool"
    down = Client("http://127.0.0.1:9", spool=spool, retry_for=0.2, backoff=0.05)
    down.post(doc(6), rights="proprietary")  # no group: 400 when sent
    down.post(doc(7))
    assert Client(url, spool=spool, retry_for=2).flush() == 1
    assert not list(down.spool.entries()) and len(list((spool / "rejected").glob("*.req"))) == 1
    assert "invalid-parameter" in next((spool / "rejected").glob("*.error")).read_text()


def _raw_post(url, body: bytes, encoding: str):
    req = urllib.request.Request(
        url + "/documents",
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-prov+json", "Content-Encoding": encoding, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_gzip_bomb_is_413_without_inflating_it(service):
    url, store = service
    # 64 MiB of spaces after a valid start: 64 kB compressed, the limit is 1 MiB decompressed
    bomb = gzip.compress(b'{"entity": {}' + b" " * (64 << 20) + b"}", compresslevel=9)
    assert len(bomb) < 1 << 20
    assert _raw_post(url, b"warm-up: not gzip", "gzip")[0] == 400  # first-request imports are not counted
    tracemalloc.start()
    try:
        status, body = _raw_post(url, bomb, "gzip")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 413 and body["error"]["code"] == "payload-too-large" and body["error"]["where"] == "body"
    # inflated in bounded pieces: 1.5-10 MB measured here, 148 MB when inflated whole
    assert peak < 32 << 20, peak
    assert stored_ids(store) == []
    # just under the limit decompressed is taken
    ok = gzip.compress(json.dumps(doc(8)).encode() + b" " * ((1 << 20) - 2000))
    assert _raw_post(url, ok, "gzip")[0] == 201


def test_bad_encodings(service):
    url, _store = service
    status, body = _raw_post(url, b"{}", "br")
    assert status == 415 and body["error"]["where"] == "Content-Encoding"
    status, body = _raw_post(url, b"not gzip at all", "gzip")
    assert status == 400 and body["error"]["where"] == "body"
    status, body = _raw_post(url, gzip.compress(json.dumps(doc(9)).encode())[:-6], "gzip")
    assert status == 400 and "truncated" in body["error"]["message"]


def test_client_leaks_no_hidden_record(backend, request, tmp_path):
    """A gzip post of a proprietary document: an anonymous client and a writer of another group
    learn nothing of it through the client (resolve, document, provsap are 404)."""
    settings = make_settings(backend, request, tmp_path, auth="on")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    tokens = writer_tokens(store, "hess", "magic")
    server, url = serve(app)
    try:
        with pytest.raises(ServiceError) as err:
            Client(url, retry_for=1).post(doc(20))
        assert err.value.status == 401 and err.value.where == "Authorization"
        posted = Client(url, token=tokens["hess"], retry_for=2).post(doc(21), rights="proprietary", group="hess")
        assert posted.created
        for c in (Client(url, retry_for=1), Client(url, token=tokens["magic"], retry_for=1)):
            for method, arg in (
                (c.resolve, "http://example.org/client#out21"),
                (c.document, posted.id),
                (c.provsap, "http://example.org/client#out21"),
                (c.impact, "http://example.org/client#in21"),
            ):
                with pytest.raises(ServiceError) as err:
                    method(arg)
                assert err.value.status == 404 and "out21" not in err.value.message.replace(
                    "http://example.org/client#out21", ""
                )
        hess = Client(url, token=tokens["hess"], retry_for=1)
        assert hess.resolve("http://example.org/client#out21")["id"]
        assert "out21" in json.dumps(hess.provsap("http://example.org/client#out21", model="W3C"))
        assert hess.impact("http://example.org/client#in21")["affected"] == 1
    finally:
        server.shutdown()
        store.close()


def test_impact(service):
    """Client.impact: what depends on an input, by id or selector, as JSON or another format."""
    url, _store = service
    c = Client(url, retry_for=5)
    c.post(doc(30))
    c.post(doc(31))
    report = c.impact("http://example.org/client#in30")
    assert report["affected"] == 1
    [product] = [p for found in report["products"].values() for p in found]
    assert report["names"][product["id"]] and product["id"].endswith("out30")
    assert [r["id"] for r in report["rerun"]] == ["http://example.org/client#step30"]
    both = c.impact("http://example.org/client#in30", "http://example.org/client#in31")
    assert both["affected"] == 2
    assert c.impact("http://example.org/client#in30", level="DL3")["affected"] == 0
    assert "out30" in c.impact("http://example.org/client#in30", format="csv")
    with pytest.raises(ServiceError) as err:
        c.impact("http://example.org/client#nothing")
    assert err.value.status == 404 and err.value.where == "ID"


def blank_doc(k: int) -> dict:
    """doc(k) whose relation ids are the same anonymous ids in every k, and one shared entity."""
    d = doc(k)
    d["used"] = {"_:u": d["used"][f"_:u{k}"]}
    d["wasGeneratedBy"] = {"_:g": d["wasGeneratedBy"][f"_:g{k}"]}
    d["entity"]["ex:shared"] = {f"ex:seen{k}": k}
    return d


def test_post_many_merges_small_documents(service, tmp_path):
    """post_many: 24 small documents in 8 POSTs of at most 20 records, a PROV-N one posted alone
    in its place; every record is stored and the lineage is the one single posts give; posting
    again stores nothing new."""
    url, store = service
    c = Client(url, retry_for=5)
    provn = tmp_path / "alone.provn"
    provn.write_text("document\n  prefix ex <http://example.org/client#>\n  entity(ex:alone)\nendDocument\n")
    docs = [blank_doc(k) for k in range(40, 52)] + [provn] + [blank_doc(k) for k in range(52, 64)]
    results = c.post_many(docs, max_records=20)
    # 6 records a document: 3 per POST; the PROV-N one splits the run
    assert len(results) == 4 + 1 + 4 and all(r.created for r in results)
    assert sorted(stored_ids(store)) == sorted(r.id for r in results)
    for k in range(40, 64):
        back = c.provsap(f"http://example.org/client#out{k}", model="W3C", direction="BACK", depth="ALL")
        assert f"ex:in{k}" in back["entity"] and f"ex:step{k}" in back["activity"], k
        assert len(back["used"]) == 1 and len(back["wasGeneratedBy"]) == 1
    shared = c.provsap("http://example.org/client#shared", model="W3C", depth="0")["entity"]["ex:shared"]
    assert {f"ex:seen{k}" for k in range(40, 64)} <= set(shared)  # one record, every assertion kept
    again = c.post_many(docs, max_records=20)
    assert [r.id for r in again] == [r.id for r in results] and not any(r.created for r in again)


def test_merge_keeps_anonymous_ids_apart():
    """Two parts with the same anonymous id: two records, and a reference to one follows it."""
    from provhub import batch

    parts = [blank_doc(1), blank_doc(2)]
    parts[1]["wasDerivedFrom"] = {
        "_:d": {"prov:generatedEntity": "ex:out2", "prov:usedEntity": "ex:in2", "prov:usage": "_:u"}
    }
    merged = batch.merge(parts)
    assert sorted(merged["used"]) == ["_:p0.u", "_:p1.u"]
    assert merged["wasDerivedFrom"]["_:p1.d"]["prov:usage"] == "_:p1.u"
    assert merged["entity"]["ex:shared"] == [{"ex:seen1": 1}, {"ex:seen2": 2}]
    assert batch.records_of(merged) == 13  # 6 + 6 + the derivation
    assert [len(g) for g in batch.batches([doc(1), doc(2), {"prefix": {"ex": "urn:other:"}}], 100)] == [2, 1]


def test_client_installs_light():
    """provhub.client and provhub.spool import neither Flask, nor a store, nor prov."""
    import subprocess
    import sys

    code = (
        "import sys, provhub.client, provhub.batch; "
        "bad = [m for m in ('flask', 'werkzeug', 'neo4j', 'sqlite3', 'prov', 'provhub.app', 'astropy') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])
