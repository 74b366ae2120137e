"""Issue 15, "errors that must not be 500": a full disk or a read-only store answers 503 with a
message that says so, nothing of the write is stored, reads go on, and /health reports
``writable: false`` (status ``degraded``, 200) until a write succeeds again.

On the embedded store the errors are SQLite's own: SQLITE_FULL from ``PRAGMA max_page_count``
(what a full disk gives) and SQLITE_READONLY from ``PRAGMA query_only`` (the tests run as root,
whom file modes do not stop), on the connection the app's requests use. Over Bolt the test server
cannot be made read-only or full, so the driver errors Neo4j sends in those cases are raised
inside the store's error translation."""

from __future__ import annotations

import json

import neo4j.exceptions as nx
import pytest

from provhub.app import create_app
from provhub.provdm.errors import StoreNotWritable

JSON = {"Content-Type": "application/json"}


def doc(name: str, n: int = 1, size: int = 10) -> str:
    entities = {f"ex:{name}{i}": {"ex:v": "x" * size} for i in range(n)}
    return json.dumps({"prefix": {"ex": "http://example.org/"}, "entity": entities})


@pytest.fixture
def sqlite_app(tmp_path):
    from tests.conftest import make_settings

    settings = make_settings("sqlite", None, tmp_path)
    app = create_app(settings)
    yield app.test_client(), app.extensions["provhub.store"]
    app.extensions["provhub.store"].close()


def refused(r) -> dict:
    assert r.status_code == 503, r.get_data(as_text=True)
    assert r.headers["Retry-After"]
    err = r.get_json()["error"]
    assert err["code"] == "store-not-writable"
    return err


def health(client) -> dict:
    h = client.get("/health")
    assert h.status_code == 200  # reads are still served: a load balancer keeps the instance
    return h.get_json()


@pytest.mark.parametrize(
    "pragma, words",
    [("max_page_count", "is full"), ("query_only", "read-only")],
)
def test_a_full_or_read_only_sqlite_store_answers_503_and_health_says_so(sqlite_app, pragma, words):
    client, store = sqlite_app
    assert client.post("/documents", data=doc("kept"), headers=JSON).status_code == 201
    conn = store._conn()  # the connection of this thread: the test client's requests use it
    (pages,) = conn.execute("PRAGMA page_count").fetchone()
    conn.execute(f"PRAGMA max_page_count = {pages + 1}" if pragma == "max_page_count" else "PRAGMA query_only = 1")
    try:
        err = refused(client.post("/documents", data=doc("lost", 200, 2000), headers=JSON))
        assert words in err["message"] and "nothing of this write was stored" in err["message"]
        h = health(client)
        assert h["status"] == "degraded" and h["writable"] is False and words in h["note"]
        assert store.stats().documents == 1 and not store.get_nodes(["http://example.org/lost0"])
        assert client.get("/provsap?ID=ex:kept0", headers={"Accept": "application/json"}).status_code == 200
    finally:
        conn.execute("PRAGMA max_page_count = 4294967294" if pragma == "max_page_count" else "PRAGMA query_only = 0")
    assert client.post("/documents", data=doc("later"), headers=JSON).status_code == 201
    h = health(client)
    assert h["status"] == "ok" and h["writable"] is True


def test_token_and_rights_writes_are_refused_the_same_way(sqlite_app):
    """Writes outside an ingest (tokens, rights) go through the same transaction."""
    from provhub.app.access import hash_token, new_token
    from provhub.app.stores.base import TokenRecord, utcnow_iso

    client, store = sqlite_app
    doc_id = client.post("/documents", data=doc("kept"), headers=JSON).get_json()["id"]
    store._conn().execute("PRAGMA query_only = 1")
    try:
        with pytest.raises(StoreNotWritable, match="read-only"):
            store.save_token(TokenRecord("t1", "n", "reader", [], hash_token(new_token()), utcnow_iso()))
        with pytest.raises(StoreNotWritable):
            store.set_rights(doc_id, "proprietary", "A", None)
    finally:
        store._conn().execute("PRAGMA query_only = 0")
    assert store.get_document(doc_id).rights == "public"


@pytest.mark.parametrize(
    "error, words",
    [
        (
            ("Neo.ClientError.General.ForbiddenOnReadOnlyDatabase", "Writing in read access mode not allowed"),
            "read-only",
        ),
        (
            (
                "Neo.DatabaseError.Transaction.TransactionCommitFailed",
                "Could not apply the transaction: No space left on device",
            ),
            "is full",
        ),
    ],
)
def test_neo4j_read_only_and_full_disk_errors_are_503(bolt_server, error, words):
    from provhub.app.stores import open_store

    settings = bolt_server.settings(sample="off", auth="off")
    store = open_store(settings.store_url, settings)
    code, message = error
    try:
        with pytest.raises(StoreNotWritable, match=words) as exc:
            with store._errors():
                raise nx.Neo4jError._hydrate_neo4j(code=code, message=message)
        assert exc.value.where == "PROVHUB_STORE_URL"
        store.ping()  # the store itself still answers
    finally:
        store.close()
