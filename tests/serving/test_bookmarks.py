"""Issue 22: reads in read transactions, writes in write transactions, and the Neo4j driver's
bookmark of a write handed to the client in ``Provhub-Bookmark`` and taken back on its next
request, also through a ``neo4j://`` routing driver against the CI Bolt server."""

from __future__ import annotations

import dataclasses
import os
from urllib.parse import urlsplit

import pytest

from provhub.app import create_app
from provhub.app.stores import open_store

DOC = """document
  prefix ex <http://example.org/cta#>
  entity(ex:b1)
endDocument"""
PN = {"Content-Type": "text/provenance-notation", "Accept": "application/json"}


@pytest.fixture(params=["bolt", "neo4j"])
def bolt_app(request, tmp_path):
    from tests.conftest import make_settings

    settings = make_settings("bolt", request, tmp_path)
    if request.param == "neo4j":  # the routing driver: reads to secondaries, writes to the leader
        settings = dataclasses.replace(settings, store_url="neo4j://" + urlsplit(settings.store_url).netloc)
    store = open_store(settings.store_url, settings)
    yield create_app(settings, store=store), store
    store.close()


def test_a_write_answers_its_bookmark_and_reads_take_it_back(bolt_app):
    app, store = bolt_app
    client = app.test_client()
    seen = []
    original = store.driver.session

    def spy(**kwargs):
        seen.append(kwargs.get("bookmarks"))
        return original(**kwargs)

    store.driver.session = spy
    r = client.post("/documents", data=DOC, headers=PN)
    assert r.status_code == 201
    mark = r.headers.get("Provhub-Bookmark")
    assert mark, "no bookmark after a write"
    seen.clear()
    r = client.get("/documents", headers={"Accept": "application/json", "Provhub-Bookmark": mark})
    assert r.status_code == 200 and r.get_json()["total"] == 1
    assert seen and all(b is not None and set(b.raw_values) == set(mark.split(",")) for b in seen)
    # reads answer no bookmark; a read without the header opens sessions without one
    assert "Provhub-Bookmark" not in r.headers
    seen.clear()
    client.get("/documents", headers={"Accept": "application/json"})
    assert seen and all(b is None for b in seen)


def test_reads_run_in_read_transactions(bolt_app):
    app, store = bolt_app
    client = app.test_client()
    assert client.post("/documents", data=DOC, headers=PN).status_code == 201
    kinds = []
    original = store.driver.session

    def spy(**kwargs):
        session = original(**kwargs)
        for name in ("execute_read", "execute_write", "run"):
            method = getattr(session, name)
            setattr(session, name, lambda *a, _m=method, _n=name, **k: (kinds.append(_n), _m(*a, **k))[1])
        return session

    store.driver.session = spy
    for path in (
        "/documents",
        "/provsap?ID=ex:b1&DEPTH=ALL&RESPONSEFORMAT=PROV-JSON",
        "/records/http%3A%2F%2Fexample.org%2Fcta%23b1",
    ):
        kinds.clear()
        assert client.get(path, headers={"Accept": "application/json"}).status_code in (200, 404), path
        assert kinds and set(kinds) == {"execute_read"}, (path, kinds)


@pytest.mark.parametrize("bad", ["a,b" * 20, "x" * 2000, "bad value"])
def test_a_malformed_bookmark_is_400(bolt_app, bad):
    app, _ = bolt_app
    r = app.test_client().get("/documents", headers={"Accept": "application/json", "Provhub-Bookmark": bad})
    assert r.status_code == 400 and r.get_json()["error"]["where"] == "Provhub-Bookmark"


@pytest.mark.parametrize(
    "code, status",
    [("Neo.ClientError.Transaction.InvalidBookmark", 400), ("Neo.TransientError.Transaction.BookmarkTimeout", 503)],
)
def test_a_bookmark_neo4j_refuses_is_a_clear_error(bolt_app, monkeypatch, code, status):
    """A well-formed bookmark that a Neo4j cluster does not know (400), or that its member does
    not reach in time (503), names Provhub-Bookmark. ArcadeDB ignores bookmarks, so the driver
    error is the one Neo4j sends (its code), raised where the driver raises it."""
    import neo4j.exceptions as nx
    from neo4j import Session

    app, _ = bolt_app

    def refuse(self, *args, **kwargs):
        raise nx.Neo4jError._hydrate_neo4j(code=code, message="as Neo4j 5 says it")

    monkeypatch.setattr(Session, "execute_read", refuse)
    r = app.test_client().get("/documents", headers={"Accept": "application/json", "Provhub-Bookmark": "FB:kcwQ"})
    assert r.status_code == status, r.get_data(as_text=True)
    assert r.get_json()["error"]["where"] == "Provhub-Bookmark"


def test_a_write_through_one_worker_is_read_at_once_through_another_with_its_bookmark(bolt_app, request, tmp_path):
    """Two app workers, each with its own driver (as two gunicorn workers or two hosts have):
    what one posts, the other reads at once when the client sends the write's bookmark back.
    Against the CI Bolt server (one member) every read sees every write; against a cluster
    (``PROVHUB_TEST_NEO4J_URL=neo4j://cluster:7687``, docs/deployment.md) the routing drivers send
    the post to the leader and the reads to secondaries, and this is the read-your-write test.
    Reads without the bookmark are counted, not asserted: a secondary may or may not be behind."""
    from tests.conftest import make_settings

    app, store = bolt_app
    settings = dataclasses.replace(make_settings("bolt", request, tmp_path), store_url=store.url)
    other_store = open_store(settings.store_url, settings)  # a second driver on the same store
    try:
        writer, reader = app.test_client(), create_app(settings, store=other_store).test_client()
        behind = 0
        for n in range(10):
            doc = DOC.replace("ex:b1", f"ex:rw{n}")
            r = writer.post("/documents", data=doc, headers=PN)
            assert r.status_code == 201, r.get_data(as_text=True)
            mark = r.headers["Provhub-Bookmark"]
            path = f"/records/http%3A%2F%2Fexample.org%2Fcta%23rw{n}"
            seen = reader.get(path, headers={"Accept": "application/json", "Provhub-Bookmark": mark})
            assert seen.status_code == 200, (n, seen.status_code)
            doc2 = DOC.replace("ex:b1", f"ex:nb{n}")
            assert writer.post("/documents", data=doc2, headers=PN).status_code == 201
            plain = reader.get(
                f"/records/http%3A%2F%2Fexample.org%2Fcta%23nb{n}", headers={"Accept": "application/json"}
            )
            behind += plain.status_code == 404
        print(f"reads without the bookmark that missed the write: {behind} of 10")
        if not os.environ.get("PROVHUB_TEST_NEO4J_URL"):
            assert behind == 0  # the CI server is one member: nothing is behind
    finally:
        other_store.close()
