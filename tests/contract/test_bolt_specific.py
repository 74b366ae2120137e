"""Behaviour of the Neo4j (Bolt) store that the shared contract suite cannot see.

Runs against the ArcadeDB Bolt server of tests/bolt_server.py (or PROVHUB_TEST_NEO4J_URL); the
fault tests start a server of their own so that they can kill it.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from neo4j._sync.work.session import Session

from provhub.app import services
from provhub.app.config import Settings
from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery
from provhub.app.stores.neo4j import LEVELS_READ, Neo4jStore, schema_statements
from provhub.provdm.errors import NotFound, StoreUnavailable
from tests.bolt_server import free_port, start_bolt_server
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.bolt

EX = "http://example.org/cta#"
HEAD = "document\n  prefix ex <http://example.org/cta#>\n  prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>\n"
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()


def ingest(store, body: str):
    return services.ingest(store, HEAD + body + "\nendDocument", "provn", settings=Settings())


def count_all(store) -> tuple[int, int]:
    """Every node and relationship in the database (placeholders and documents included)."""
    records = store.driver.execute_query(
        "MATCH (n) OPTIONAL MATCH (n)-[e]->() RETURN count(DISTINCT n) AS n, count(e) AS e", database_=store.database
    ).records
    return records[0]["n"], records[0]["e"]


@pytest.fixture
def bolt(request, tmp_path):
    settings = make_settings("bolt", request, tmp_path)
    store = open_store(settings.store_url, settings)
    yield store
    store.close()


@pytest.fixture
def sqlite(tmp_path):
    settings = make_settings("sqlite", None, tmp_path)
    store = open_store(settings.store_url, settings)
    yield store
    store.close()


# -- batches and transactions ---------------------------------------------------------------------


@pytest.mark.parametrize("batch", [2000, 7])
def test_relationship_batches_on_fresh_nodes(bolt, batch):
    """A chain and a fan-in on nodes new to the store, in one UNWIND batch (or several): the
    shape with which ArcadeDB 26.10 fails and commits partially outside a transaction."""
    bolt.batch = batch
    n = 120
    body = [f"entity(ex:c{i})" for i in range(n)]
    body += [f"wasDerivedFrom(ex:d{i}; ex:c{i + 1}, ex:c{i})" for i in range(n - 1)]
    body += ["activity(ex:hub)"] + [f"entity(ex:f{i})" for i in range(n)]
    body += [f"used(ex:u{i}; ex:hub, ex:f{i}, -)" for i in range(n)]
    ingest(bolt, "\n".join(body))
    stats = bolt.stats()
    assert (stats.nodes, stats.relations) == (2 * n + 1, 2 * n - 1)
    chain = bolt.trace(TraceQuery(ids=[EX + f"c{n - 1}"], depth=None))
    assert len(chain.nodes) == n and len(chain.relations) == n - 1
    fan = bolt.trace(TraceQuery(ids=[EX + "hub"], depth=1))
    assert len(fan.nodes) == n + 1 and len(fan.relations) == n


def test_writes_only_in_managed_transactions(bolt, monkeypatch):
    """No auto-commit ``session.run`` carries a write (ArcadeDB 26.10 bug, and atomicity)."""
    seen = []
    original = Session.run

    def spy(self, query, *args, **kwargs):
        seen.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(Session, "run", spy)
    services.ingest(bolt, KNOWN, "provn", settings=Settings())
    bolt.trace(TraceQuery(ids=[EX + "dl5"], depth=None, agents=True))
    bolt.ping()
    assert all(q.strip().upper().startswith("RETURN") for q in seen), seen


def test_failure_mid_document_leaves_nothing(bolt, monkeypatch):
    ingest(bolt, "entity(ex:old)")
    before = count_all(bolt), bolt.stats()
    bolt.batch = 5
    calls = []
    original = Neo4jStore._run_batches

    def failing(self, tx, cypher, rows, **params):
        calls.append(cypher)
        if len(calls) == 3:  # after node batches went to the server inside the transaction
            raise RuntimeError("injected failure")
        return original(self, tx, cypher, rows, **params)

    monkeypatch.setattr(Neo4jStore, "_run_batches", failing)
    body = [f"entity(ex:n{i})" for i in range(30)] + ["activity(ex:a)"]
    body += [f"used(ex:a, ex:n{i}, -)" for i in range(30)] + ["entity(ex:old, [ex:v=1])"]
    with pytest.raises(RuntimeError):
        ingest(bolt, "\n".join(body))
    assert (count_all(bolt), bolt.stats()) == before
    assert bolt.get_nodes([EX + "n0", EX + "a"]) == []
    assert bolt.get_nodes([EX + "old"])[0].attrs == []
    assert bolt.list_documents()[1] == 1


def test_schema_creation_is_idempotent(bolt):
    again = Neo4jStore(bolt.url, settings=bolt.settings)
    try:
        before = _constraints_and_indexes(bolt)
        again._schema_ready = False
        again._ensure_schema()
        assert _constraints_and_indexes(again) == before
        wanted = [s.split()[2] for s in schema_statements() if s.startswith("CREATE CONSTRAINT")]
        assert set(wanted) <= set(before[0]) and len(wanted) == len(set(wanted))
        ingest(again, "entity(ex:x)")
        assert [n.id for n in bolt.get_nodes([EX + "x"])] == [EX + "x"]
    finally:
        again.close()


def _constraints_and_indexes(store):
    cons, _, _ = store.driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name", database_=store.database)
    idx, _, _ = store.driver.execute_query("SHOW INDEXES YIELD name RETURN name", database_=store.database)
    return sorted(r["name"] for r in cons), sorted(r["name"] for r in idx)


def test_concurrent_overlapping_ingests_lose_nothing(bolt):
    """Four writers assert the same entity with other attributes at once: every value is kept."""
    errors = []

    def writer(i):
        try:
            ingest(bolt, f"entity(ex:hub, [ex:v{i}={i}])\nentity(ex:own{i})\nwasDerivedFrom(ex:own{i}, ex:hub)")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    (hub,) = bolt.get_nodes([EX + "hub"])
    assert sorted(v for _, v in hub.attrs) == [0, 1, 2, 3]
    assert len(bolt.documents_asserting(EX + "hub")) == 4
    assert bolt.stats().relations == 4


# -- assertions ----------------------------------------------------------------------------------


def test_shared_records_do_not_grow_with_the_documents_asserting_them(bolt):
    """Every document asserts the same hub node and relation: their properties after the last
    document are those after the first (they once held a list of document ids that each
    document rewrote, so the cost of a write grew with the store), and the assertions still
    answer rights_of, documents_asserting and the readable-records filter of search."""

    def properties(cypher, rid):
        return bolt.driver.execute_query(cypher, id=rid, database_=bolt.database).records[0]["p"]

    def hub_properties():
        return (
            properties("MATCH (n:Record {id: $id}) RETURN properties(n) AS p", EX + "hub"),
            properties("MATCH ()-[e:WAS_ATTRIBUTED_TO]->() WHERE e.id IN [$id] RETURN properties(e) AS p", EX + "link"),
        )

    n = 12
    ids = []
    for i in range(n):
        ids.append(
            ingest(
                bolt,
                f"agent(ex:hub)\nentity(ex:tool)\nwasAttributedTo(ex:link; ex:tool, ex:hub)\n"
                f"entity(ex:own{i})\nwasAttributedTo(ex:own{i}, ex:hub)",
            ).id
        )
        if i == 0:
            first = hub_properties()
    assert len(set(ids)) == n
    assert hub_properties() == first
    for rid in (EX + "hub", EX + "tool", EX + "link"):
        assert bolt.documents_asserting(rid) == ids
        assert [r.doc_id for r in bolt.rights_of([rid])[rid]] == ids
    assert bolt.documents_asserting(EX + "own3") == [ids[3]]
    for doc_id in ids[:-1]:
        bolt.set_rights(doc_id, "proprietary", "g", None)
    assert [x.id for x in bolt.search("hub", groups=frozenset())[0]] == [EX + "hub"]  # the last one is public
    assert bolt.search("own", groups=frozenset()) == ([bolt.get_nodes([EX + f"own{n - 1}"])[0]], 1)
    assert bolt.search("own", groups=frozenset({"g"}))[1] == n


# -- faults ---------------------------------------------------------------------------------------


def test_server_down_gives_store_unavailable_quickly():
    url = f"bolt://127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings(store_url=url, neo4j_user="root", neo4j_password="x", store_timeout=1.0)
    t0 = time.monotonic()
    store = open_store(url, settings)  # starts anyway; answers 503 until the server is there
    try:
        assert time.monotonic() - t0 < 10
        for call in (
            store.ping,
            store.stats,
            lambda: store.trace(TraceQuery(ids=[EX + "x"])),
            lambda: ingest(store, "entity(ex:x)"),
        ):
            t0 = time.monotonic()
            with pytest.raises(StoreUnavailable) as info:
                call()
            assert time.monotonic() - t0 < 10
            assert url in info.value.message and "unreachable" in info.value.message
    finally:
        store.close()


@pytest.fixture
def own_server(tmp_path):
    server = start_bolt_server(tmp_path / "arcadedb")
    yield server
    server.stop()


def test_killed_server_then_back(own_server):
    store = Neo4jStore(own_server.url, settings=own_server.settings(store_timeout=1.0))
    try:
        res = ingest(store, "entity(ex:before)")
        own_server.kill()
        with pytest.raises(StoreUnavailable):
            store.get_document(res.id)
        with pytest.raises(StoreUnavailable):
            ingest(store, "entity(ex:during)")
        own_server.restart()
        store.ping()
        ingest(store, "entity(ex:after)")
        assert [n.id for n in store.get_nodes([EX + "after"])] == [EX + "after"]
    finally:
        store.close()


def test_wrong_password_and_database_are_clear(own_server):
    for overrides, where in (
        ({"neo4j_password": "wrong-password"}, "PROVHUB_NEO4J_PASSWORD"),
        ({"neo4j_database": "nosuchdb"}, "PROVHUB_NEO4J_DATABASE"),
    ):
        store = Neo4jStore(own_server.url, settings=own_server.settings(store_timeout=1.0, **overrides))
        try:
            with pytest.raises(StoreUnavailable) as info:
                store.stats()
            assert info.value.where == where
        finally:
            store.close()


# -- same answers as the embedded store on a random graph ------------------------------------------

RELATION_TEMPLATES = (
    "used({rid}ex:{a}, ex:{e}, -)",
    "wasGeneratedBy({rid}ex:{e}, ex:{a}, -)",
    "wasDerivedFrom({rid}ex:{e}, ex:{f})",
    "wasInformedBy({rid}ex:{a}, ex:{b})",
    "wasAssociatedWith({rid}ex:{a}, ex:{g}, -)",
    "wasAttributedTo({rid}ex:{e}, ex:{g})",
    "actedOnBehalfOf({rid}ex:{g}, ex:{h}, -)",
    "hadMember(ex:{e}, ex:{f})",
    "wasInfluencedBy({rid}ex:{a}, ex:{b}, [prov:type='voprov:hadStep'])",
    "wasInfluencedBy({rid}ex:{a}, ex:{e}, [prov:type='voprov:wasConfiguredBy'])",
    "specializationOf(ex:{e}, ex:{f})",
    "used({rid}ex:{a}, ex:{u}, -)",
)


def random_documents(seed: int) -> list[str]:
    """Seeded documents over one pool of elements: every relation type and IVOA category,
    cycles, undeclared endpoints, missing endpoints filled in by a later document, merges."""
    rnd = random.Random(seed)
    ents, acts, agents = [f"e{i}" for i in range(40)], [f"a{i}" for i in range(15)], [f"g{i}" for i in range(5)]
    pick = rnd.choice
    docs = []
    for d in range(4):
        lines = []
        for e in rnd.sample(ents, 25):
            lines.append(f"entity(ex:{e}, [ex:w{d}={rnd.randint(0, 9)}])" if rnd.random() < 0.3 else f"entity(ex:{e})")
        lines += [f"activity(ex:{a})" for a in rnd.sample(acts, 10)]
        lines += [f"agent(ex:{g})" for g in rnd.sample(agents, 3)]
        for k in range(60):
            pools = {
                "a": pick(acts),
                "b": pick(acts),
                "e": pick(ents),
                "f": pick(ents),
                "g": pick(agents),
                "h": pick(agents),
                "u": f"undeclared{rnd.randrange(5)}",
                "rid": f"ex:r{d}_{k}; ",
            }
            lines.append(pick(RELATION_TEMPLATES).format(**pools))
        # a missing endpoint, filled in by the next document
        lines.append(f"wasGeneratedBy(ex:half{d}; ex:{pick(ents)}, -, 2020-01-01T00:00:00Z)")
        if d:
            prev = [ln for ln in docs[-1].splitlines() if ln.startswith(f"wasGeneratedBy(ex:half{d - 1};")][0]
            ent = prev.split("; ")[1].split(",")[0]
            lines.append(f"wasGeneratedBy(ex:half{d - 1}; {ent}, ex:{pick(acts)}, -)")
        docs.append("\n".join(lines))
    return docs


def snapshot(nodes, relations=()):
    return (
        sorted((n.id, n.kind, n.qn, n.attrs) for n in nodes),
        sorted((r.id, r.type, r.src or "", r.dst or "", r.category, r.qn or [], r.attrs) for r in relations),
    )


def test_same_answers_as_the_embedded_store(bolt, sqlite):
    for body in random_documents(seed=7):
        assert ingest(bolt, body) == ingest(sqlite, body)
    assert bolt.stats() == sqlite.stats()
    assert bolt.namespaces() == sqlite.namespaces()
    assert [d.id for d in bolt.list_documents(1, 2)[0]] == [d.id for d in sqlite.list_documents(1, 2)[0]]
    ids = [EX + x for x in ("e0", "e1", "e5", "a0", "a3", "g0", "g2", "undeclared1", "half0", "r1_3")]
    for i in ids:
        assert bolt.documents_asserting(i) == sqlite.documents_asserting(i)
    everything = [EX + f"e{i}" for i in range(40)] + [EX + f"a{i}" for i in range(15)]
    assert snapshot(bolt.get_nodes(everything)) == snapshot(sqlite.get_nodes(everything))
    rel_ids = [EX + f"r{d}_{k}" for d in range(4) for k in range(60)] + [EX + f"half{d}" for d in range(4)]
    assert snapshot([], bolt.get_relations(rel_ids)) == snapshot([], sqlite.get_relations(rel_ids))
    for text, kind in (("", None), ("E1", None), ("w2", "entity"), ("", "agent"), ("activity", None)):
        assert bolt.search(text, kind, limit=7, offset=2) == sqlite.search(text, kind, limit=7, offset=2)
    rnd = random.Random(3)
    options = [
        dict(depth=d, direction=dr, members=m, steps=s, agents=a, model=mo)
        for d in (0, 1, 2, 4, None)
        for dr in ("BACK", "FORTH")
        for m, s, a, mo in (
            (False, False, False, "IVOA"),
            (True, True, True, "IVOA"),
            (False, True, False, "W3C"),
            (True, False, True, "W3C"),
        )
    ]
    starts = everything + [EX + f"g{i}" for i in range(5)] + [EX + "undeclared0"]
    for opts in options:
        ids = rnd.sample(starts, rnd.choice((1, 1, 2, 3)))
        query = TraceQuery(ids=ids, **opts)
        b, q = bolt.trace(query), sqlite.trace(query)
        assert snapshot(b.nodes, b.relations) == snapshot(q.nodes, q.relations), (ids, opts)


def test_get_document_not_found(bolt):
    with pytest.raises(NotFound):
        bolt.get_document("f" * 32)


def test_document_texts_are_stored_in_parts(bolt, monkeypatch):
    """Texts go in parts (ArcadeDB fails on Bolt messages near 16 MB); they come back whole."""
    from provhub.app.stores import neo4j as backend

    monkeypatch.setattr(backend, "PART_CHARS", 50)
    monkeypatch.setattr(backend, "BATCH_CHARS", 300)
    body = "\n".join(f'entity(ex:p{i}, [prov:label="caf\u00e9 {i}"])' for i in range(40))
    res = ingest(bolt, body)
    stored = bolt.get_document(res.id)
    assert stored.original == HEAD + body + "\nendDocument"
    assert services.document_text(bolt, res.id, "provn")
    assert [d.original for d in bolt.list_documents()[0]] == [stored.original]
    assert len(bolt.get_nodes([EX + f"p{i}" for i in range(40)])) == 40


def test_a_store_made_before_records_kept_their_level_gets_it_once(bolt):
    ingest(bolt, 'entity(ex:run, [ex:dataLevel="DL3"])\nentity(ex:aeff, [ex:HDUCLAS1="RESPONSE"])\nentity(ex:plain)')
    levels = {lv: bolt.search("", None, level=lv)[1] for lv in ("DL3", "IRF")}
    assert levels == {"DL3": 1, "IRF": 1}
    bolt.driver.execute_query(
        "MATCH (n:Record) REMOVE n.level WITH count(*) AS c MATCH (m:Meta {key: 'levels'}) DELETE m",
        database_=bolt.database,
    )
    assert bolt.search("", None, level="DL3")[1] == 0
    again = Neo4jStore(bolt.url, settings=bolt.settings)
    try:
        again._ensure_schema()
        assert {lv: again.search("", None, level=lv)[1] for lv in levels} == levels
        marks, _, _ = again.driver.execute_query(LEVELS_READ, database_=again.database)
        assert [r["value"] for r in marks] == ["1"]
    finally:
        again.close()
