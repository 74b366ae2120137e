"""The peers of ``python -m benchmarks``: what a user would pick instead of provhub, measured on
the same data in the same run, each row against provhub's own figure (ratio = peer / provhub).

- **prov + networkx** (both stores): parse the documents of the lineage store with ``prov``
  (``ProvDocument.deserialize``, merged with ``update``), build a graph with
  ``prov.graph.prov_to_graph`` and answer the fan-in product's DEPTH=ALL lineage with
  ``networkx.descendants`` (prov's edges point from a record to what it came from, the direction
  provhub walks BACK). The query alone (graph built, warm) and from a cold start (parse + build +
  first query) run in a child process (``python -m benchmarks.peers``), which is killed after
  ``--peer-seconds``. The baseline is provhub's ``GET /provsap`` DEPTH=ALL p95 of the lineage
  figure.
- **plain Cypher** (Bolt): ``MATCH (p:Record {id: $id})-[:USED|...*]->(x) RETURN DISTINCT x.id``
  on the Bolt store of the lineage figure, against the same provhub figure.
- **one statement per record** (Bolt), prov-db-connector's way: ``prov`` parses the ingest
  figure's document, then one auto-commit ``MERGE`` per element and one ``MATCH ... CREATE`` per
  relation through the neo4j driver in one session, bounded by ``--per-record-seconds`` like the
  per-record baseline (:func:`benchmarks.backends.timed_per_record`); against provhub's
  ``POST /documents`` of the same document over Bolt.

Both lineage peers answer every relation but ``actedOnBehalfOf``: provhub attaches the agents of
an answer without walking on from them (AGENT=false), so the agent an agent acted for is not in
its answer. With that, each peer's node set must equal provhub's (``store.trace``) on the same
question, or the figure stops with an error: the table compares equal answers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery
from provhub.app.stores.neo4j import ALL_REL_TYPES, REL_TYPE

from . import generator as gen
from .backends import timed_per_record
from .figures import Run, lineage_stages, ms, row
from .service import ROOT

#: what both lineage peers walk: every relationship type but actedOnBehalfOf (see above)
LINEAGE_TYPES = "|".join(t for t in ALL_REL_TYPES if t != REL_TYPE["actedOnBehalfOf"])
PLAIN_CYPHER = f"MATCH (p:Record {{id: $id}})-[:{LINEAGE_TYPES}*]->(x) RETURN DISTINCT x.id AS id"


def peers(run: Run) -> list[dict]:
    """The peers' rows for this backend; after :func:`benchmarks.figures.lineage` (whose store
    they read: over Bolt, before any other figure empties the server) and ingest."""
    lineage = run.measured["lineage"]
    provhub_nodes = provhub_answer(run, lineage["url"])
    rows = diy_rows(run, lineage, provhub_nodes)
    if hasattr(run.backend, "server"):  # over Bolt
        rows += cypher_rows(run, lineage, provhub_nodes)
        rows += ingest_rows(run)
    return rows


def provhub_answer(run: Run, url: str) -> set[str]:
    """The node ids of provhub's answer to the fan-in product's DEPTH=ALL lineage."""
    store = open_store(url, run.backend.settings(url))
    try:
        return {n.id for n in store.trace(TraceQuery([gen.FANIN_PRODUCT_IRI], depth=None)).nodes}
    finally:
        store.close()


def same_answer(peer: str, theirs: set[str], ours: set[str]) -> str:
    """The goal text of a peer's row; an error when its node set is not provhub's."""
    if theirs != ours:
        raise RuntimeError(
            f"{peer} answers {len(theirs)} nodes where provhub answers {len(ours)}: only theirs "
            f"{sorted(theirs - ours)[:5]}, only provhub's {sorted(ours - theirs)[:5]}"
        )
    return f"same {len(ours):,} nodes as provhub"


# -- prov + networkx ----------------------------------------------------------------------------


def diy_rows(run: Run, lineage: dict, provhub_nodes: set[str]) -> list[dict]:
    what = "peer prov + networkx: fan-in lineage DEPTH=ALL"
    where = f"{lineage['records']:,} stored records, baseline provhub GET /provsap p95"
    result = diy_child(run.records, run.seed, run.repeats, run.peer_s)
    if result is None:  # cut off: a lower bound that cannot be equal
        print(f"# {run.backend.name}: prov + networkx cut off after {run.peer_s:g} s", file=sys.stderr)
        return [
            row(
                run.label(f"{what} from a cold start (parse + build + query), {where}"),
                run.peer_s,
                "s",
                lineage["p95_ms"] / 1000,
                holds=False,
                goal_text=f"cut off after {run.peer_s:g} s",
            )
        ]
    text = same_answer("prov + networkx", set(result["nodes"]), provhub_nodes)
    print(
        f"# {run.backend.name}: prov + networkx parse {result['parse_s']:.1f} s, build {result['build_s']:.1f} s "
        f"({result['graph_nodes']:,} nodes, {result['graph_edges']:,} edges), first query {result['first_s']:.3f} s",
        file=sys.stderr,
    )
    return [
        row(
            run.label(f"{what} p95, query alone (graph built), {where}"),
            ms(result["warm_s"], 95),
            "ms",
            lineage["p95_ms"],
            holds=True,
            goal_text=text,
        ),
        row(
            run.label(f"{what} from a cold start (parse + build + query), {where}"),
            result["cold_s"],
            "s",
            lineage["p95_ms"] / 1000,
            holds=True,
            goal_text=text,
        ),
    ]


def diy_child(records: int, seed: int, repeats: int, seconds: float) -> dict | None:
    """:func:`diy` in a fresh process (a cold start), killed after ``seconds``: None then."""
    argv = [sys.executable, "-m", "benchmarks.peers", str(records), str(seed), str(repeats), str(seconds)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return None
    if proc.returncode != 0:
        raise RuntimeError(f"python -m benchmarks.peers failed ({proc.returncode}): {err[-2000:]}")
    return json.loads(out)


@dataclass
class Diy:
    """prov + networkx: the lineage documents parsed into one prov document, as one graph."""

    graph: object = None
    start: object = None
    times: dict = field(default_factory=dict)

    @classmethod
    def load(cls, texts: list[str], product: str) -> "Diy":
        from prov.graph import prov_to_graph
        from prov.model import ProvDelegation, ProvDocument

        self = cls()
        t0 = time.perf_counter()
        doc = ProvDocument()
        for text in texts:
            doc.update(ProvDocument.deserialize(content=text, format="json"))
        t1 = time.perf_counter()
        g = prov_to_graph(doc)
        # provhub does not walk on from an agent (see the module docstring)
        g.remove_edges_from(
            [(u, v, k) for u, v, k, r in g.edges(keys=True, data="relation") if isinstance(r, ProvDelegation)]
        )
        self.graph = g
        self.start = next(n for n in g if n.identifier is not None and n.identifier.uri == product)
        self.times = {"parse_s": t1 - t0, "build_s": time.perf_counter() - t1}
        return self

    def lineage(self) -> set[str]:
        """The node ids of the start's DEPTH=ALL lineage, the start included."""
        import networkx as nx

        return {n.identifier.uri for n in nx.descendants(self.graph, self.start)} | {self.start.identifier.uri}


def diy(records: int, seed: int, repeats: int, seconds: float) -> dict:
    """Cold start and warm queries of :class:`Diy` on the lineage store's documents (generating
    their text is not timed)."""
    small, rest = lineage_stages(records, seed)
    texts = [d.text() for d in itertools.chain(small, rest)]
    t0 = time.perf_counter()
    peer = Diy.load(texts, gen.FANIN_PRODUCT_IRI)
    t1 = time.perf_counter()
    nodes = peer.lineage()
    first_s = time.perf_counter() - t1
    cold_s = time.perf_counter() - t0
    warm_s = []
    t_end = time.monotonic() + seconds / 4
    for _ in range(repeats):
        t1 = time.perf_counter()
        peer.lineage()
        warm_s.append(time.perf_counter() - t1)
        if time.monotonic() > t_end:
            break
    g = peer.graph
    return {
        **peer.times,
        "first_s": first_s,
        "cold_s": cold_s,
        "warm_s": warm_s,
        "graph_nodes": g.number_of_nodes(),
        "graph_edges": g.number_of_edges(),
        "nodes": sorted(nodes),
    }


# -- over Bolt ----------------------------------------------------------------------------------


def plain_cypher(session, product: str) -> set[str]:
    """The plain Cypher answer (the start included, as provhub's answer includes it)."""
    return {r["id"] for r in session.run(PLAIN_CYPHER, id=product)} | {product}


def cypher_rows(run: Run, lineage: dict, provhub_nodes: set[str]) -> list[dict]:
    from neo4j import GraphDatabase

    s = run.backend.server
    times: list[float] = []
    t_end = time.monotonic() + run.lineage_s
    with GraphDatabase.driver(s.url, auth=(s.user, s.password)) as driver:
        with driver.session(database=s.database) as session:
            for _ in range(run.repeats + 1):  # the first is a warm-up, unless it is the only one
                t0 = time.perf_counter()
                nodes = plain_cypher(session, gen.FANIN_PRODUCT_IRI)
                times.append(time.perf_counter() - t0)
                if time.monotonic() > t_end:
                    break
    if len(times) > 1:
        del times[0]
    text = same_answer("plain Cypher", nodes, provhub_nodes)
    where = f"{lineage['records']:,} stored records, baseline provhub GET /provsap p95"
    return [
        row(
            run.label(f"peer plain Cypher (p)-[*]->(x): fan-in lineage DEPTH=ALL p95, {where}"),
            ms(times, 95),
            "ms",
            lineage["p95_ms"],
            holds=True,
            goal_text=text,
        )
    ]


def prov_db_connector_records(text: str) -> tuple[SimpleNamespace, float]:
    """``prov``'s parse of ``text`` as the statements' rows: (nodes and relations, parse seconds)."""
    from prov.constants import PROV_N_MAP
    from prov.model import ProvDocument, ProvElement, ProvRelation

    t0 = time.perf_counter()
    doc = ProvDocument.deserialize(content=text, format="json")
    parse_s = time.perf_counter() - t0

    def props(rec) -> dict:
        out: dict = {}
        for name, value in rec.attributes:
            out.setdefault(str(name), []).append(str(value))
        return {k: v[0] if len(v) == 1 else v for k, v in out.items()}

    nodes = [
        SimpleNamespace(id=rec.identifier.uri, prov_type=str(rec.get_type()), props=props(rec))
        for rec in doc.get_records(ProvElement)
    ]
    relations = []
    for rec in doc.get_records(ProvRelation):
        (_, a), (_, b) = rec.formal_attributes[:2]
        relations.append(
            SimpleNamespace(
                id=rec.identifier.uri if rec.identifier else None,
                rtype=REL_TYPE[PROV_N_MAP[rec.get_type()]],
                src=a.uri if a else None,
                dst=b.uri if b else None,
                props=props(rec),
            )
        )
    return SimpleNamespace(nodes=nodes, relations=relations), parse_s


def ingest_rows(run: Run) -> list[dict]:
    from neo4j import GraphDatabase

    ingest = run.measured["ingest"]
    n = ingest["records"]
    records, parse_s = prov_db_connector_records(gen.large_document(n, run.seed).text())
    s = run.backend.server
    run.backend.new_store("peer-per-record")  # empties the server (the lineage store is read)
    with GraphDatabase.driver(s.url, auth=(s.user, s.password)) as driver:
        driver.execute_query(
            "CREATE CONSTRAINT peer_record_id IF NOT EXISTS FOR (n:PeerRecord) REQUIRE n.id IS UNIQUE",
            database_=s.database,
        )
        with driver.session(database=s.database) as session:  # auto-commit: one transaction a statement

            def node(r):
                session.run(
                    "MERGE (n:PeerRecord {id: $id}) SET n.prov_type = $prov_type, n += $props",
                    id=r.id,
                    prov_type=r.prov_type,
                    props=r.props,
                ).consume()

            def relation(r):
                session.run(
                    "MATCH (a:PeerRecord {id: $src}) MATCH (b:PeerRecord {id: $dst}) "
                    f"CREATE (a)-[e:{r.rtype}]->(b) SET e += $props",
                    src=r.src,
                    dst=r.dst,
                    props={**r.props, **({"id": r.id} if r.id else {})},
                ).consume()

            statements = timed_per_record(records, node, relation, run.per_record_s)
        # the peer's own constraint goes with its data: the server is shared with the store's schema
        driver.execute_query("DROP CONSTRAINT peer_record_id IF EXISTS", database_=s.database)
    total = len(records.nodes) + len(records.relations)
    rate = total / (parse_s + total / statements)
    return [
        row(
            run.label(
                f"peer one statement per record, prov-db-connector style (prov parse, MERGE / CREATE): "
                f"{n:,}-record document, baseline provhub POST /documents"
            ),
            rate,
            "records/s",
            ingest["rate"],
        )
    ]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.peers", description="prov + networkx, cold and warm")
    p.add_argument("records", type=int)
    p.add_argument("seed", type=int)
    p.add_argument("repeats", type=int)
    p.add_argument("seconds", type=float)
    args = p.parse_args(argv)
    print(json.dumps(diy(args.records, args.seed, args.repeats, args.seconds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
