"""The peers of ``python -m benchmarks`` (benchmarks/peers.py) on a tiny store: their rows are
produced, and each peer's lineage answer is provhub's, so that the comparison cannot drift to
unequal answers. Not timed: the figures' values are not checked."""

from __future__ import annotations

import itertools
import math

import pytest

from benchmarks import generator as gen
from benchmarks import peers
from benchmarks.backends import Bolt, Embedded
from benchmarks.figures import KEYS, Run, fill, lineage_stages
from provhub.app.stores import open_store

RECORDS = 2000


def tiny_run(backend, tmp_path) -> Run:
    """A Run whose lineage store is filled as the lineage figure fills it, with made-up provhub
    figures in place of those the ingest and lineage figures measure."""
    url = backend.new_store("lineage")
    settings = backend.settings(url)
    store = open_store(url, settings)
    small, rest = lineage_stages(RECORDS, 1)
    try:
        stored = fill(store, settings, itertools.chain(small, rest))
    finally:
        store.close()
    run = Run(
        backend=backend,
        records=RECORDS,
        seed=1,
        workdir=tmp_path,
        repeats=2,
        concurrency_s=1,
        per_record_s=1,
        lineage_s=10,
        peak_rss=[],
        peer_s=120,
    )
    run.measured["lineage"] = {"url": url, "p95_ms": 10.0, "records": stored, "where": "tiny"}
    run.measured["ingest"] = {"records": 300, "rate": 1000.0}
    return run


def peer_rows(run: Run) -> tuple[list[dict], set[str]]:
    """The peers' rows and provhub's answer (read first: over Bolt the per-record peer empties
    the server)."""
    answer = peers.provhub_answer(run, run.measured["lineage"]["url"])
    assert len(answer) > 100  # the fan-in product's lineage, not a trivial one
    return peers.peers(run), answer


def check_rows(rows: list[dict], answer: set[str], run: Run, prefixes: list[str]) -> None:
    assert [r["figure"].split(":")[0] for r in rows] == prefixes
    for r in rows:
        assert tuple(r) == KEYS
        assert r["figure"].endswith(f"({run.backend.name})")
        assert math.isfinite(r["value"]) and r["value"] > 0 and math.isfinite(r["ratio"]), r
        if "lineage" in r["figure"]:
            assert r["goal"] == f"same {len(answer):,} nodes as provhub" and r["holds"] is True, r


@pytest.mark.timeout(180)
def test_peers_rows_on_a_tiny_embedded_store(tmp_path):
    run = tiny_run(Embedded(tmp_path / "embedded"), tmp_path)
    rows, answer = peer_rows(run)
    check_rows(rows, answer, run, ["peer prov + networkx"] * 2)


@pytest.mark.bolt
@pytest.mark.timeout(180)
def test_peers_rows_on_a_tiny_bolt_store(tmp_path, bolt_server):
    from tests.bolt_server import BoltServer

    backend = Bolt.__new__(Bolt)  # the session's server: used and emptied, never stopped here
    backend.workdir = tmp_path
    backend.server = BoltServer(bolt_server.url, bolt_server.user, bolt_server.password, bolt_server.database)
    run = tiny_run(backend, tmp_path)
    rows, answer = peer_rows(run)
    per_record = "peer one statement per record, prov-db-connector style (prov parse, MERGE / CREATE)"
    check_rows(rows, answer, run, ["peer prov + networkx"] * 2 + ["peer plain Cypher (p)-[*]->(x)", per_record])
    # the per-record peer wrote the ingest document's records through the driver
    from neo4j import GraphDatabase

    s = backend.server
    with GraphDatabase.driver(s.url, auth=(s.user, s.password)) as driver:
        found, _, _ = driver.execute_query("MATCH (n:PeerRecord) RETURN count(n) AS n", database_=s.database)
    assert found[0]["n"] > 0


def test_diy_answer_is_provhubs(tmp_path):
    """In-process: prov + networkx and provhub answer the same nodes on the lineage documents,
    and a different answer stops the figure."""
    run = tiny_run(Embedded(tmp_path / "embedded"), tmp_path)
    small, rest = lineage_stages(RECORDS, 1)
    diy = peers.Diy.load([d.text() for d in itertools.chain(small, rest)], gen.FANIN_PRODUCT_IRI)
    answer = peers.provhub_answer(run, run.measured["lineage"]["url"])
    assert diy.lineage() == answer
    assert gen.FANIN_PRODUCT_IRI in answer
    with pytest.raises(RuntimeError, match="only theirs"):
        peers.same_answer("prov + networkx", diy.lineage() | {gen.NS + "org/ctao"}, answer)
