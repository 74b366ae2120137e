"""The two store backends under test, and the per-record write baseline of each.

:class:`Embedded` gives a new SQLite file per store; :class:`Bolt` starts the ArcadeDB Bolt
server of the tests (``tests/bolt_server.py``) once and empties its database for each new store.

The per-record baseline writes the records of a prepared document the way prov-db-connector
does: one statement per record, each its own transaction, no batching; it is bounded by time
(nodes for half the budget, then relations between written nodes for the other half) and
reported as records/s, weighted by the document's mix of nodes and relations.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from provhub.app.config import Settings
from provhub.app.stores.base import PreparedDocument


class Embedded:
    name = "embedded"
    ingest_goal = 2.0  # POST /documents time <= 2.0 x prov parse time
    lineage_goal_ms = 150.0

    def __init__(self, workdir: Path):
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.server_rss_mb = None

    def new_store(self, name: str) -> str:
        self.count += 1
        path = self.workdir / f"{self.count:02d}-{name}.db"
        return f"sqlite:///{path}"

    def settings(self, url: str) -> Settings:
        return Settings(store_url=url, auth="off", sample="off")

    def env(self, url: str) -> dict[str, str]:
        return {"PROVHUB_STORE_URL": url}

    def per_record_rate(self, prepared: PreparedDocument, budget_s: float) -> float:
        path = self.workdir / f"{self.count:02d}-per-record.db"
        conn = sqlite3.connect(path, isolation_level=None)  # autocommit: one transaction per statement
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE TABLE nodes (id TEXT PRIMARY KEY, kind TEXT, qn TEXT, attrs TEXT) WITHOUT ROWID")
            conn.execute(
                "CREATE TABLE relations (id TEXT PRIMARY KEY, type TEXT, src TEXT, dst TEXT, "
                "category TEXT, qn TEXT, attrs TEXT) WITHOUT ROWID"
            )
            conn.execute("CREATE INDEX relations_src ON relations(src, category)")
            conn.execute("CREATE INDEX relations_dst ON relations(dst, category)")

            def node(n):
                conn.execute(
                    "INSERT INTO nodes VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET attrs = excluded.attrs",
                    (n.id, n.kind, json.dumps(n.qn), json.dumps(n.attrs)),
                )

            def relation(r):
                conn.execute(
                    "INSERT INTO relations VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE "
                    "SET attrs = excluded.attrs",
                    (r.id, r.type, r.src, r.dst, r.category, json.dumps(r.qn), json.dumps(r.attrs)),
                )

            return timed_per_record(prepared, node, relation, budget_s)
        finally:
            conn.close()

    def close(self) -> None:
        pass


class Bolt:
    name = "bolt"
    ingest_goal = 5.0
    lineage_goal_ms = 300.0

    def __init__(self, workdir: Path):
        from tests.bolt_server import external_server, start_bolt_server

        self.workdir = workdir
        self.server = external_server() or start_bolt_server(workdir / "arcadedb")

    def new_store(self, name: str) -> str:
        from tests.bolt_server import reset

        reset(self.server)
        return self.server.url

    def settings(self, url: str) -> Settings:
        return self.server.settings(auth="off", sample="off")

    def env(self, url: str) -> dict[str, str]:
        s = self.server
        return {
            "PROVHUB_STORE_URL": s.url,
            "PROVHUB_NEO4J_USER": s.user,
            "PROVHUB_NEO4J_PASSWORD": s.password,
            "PROVHUB_NEO4J_DATABASE": s.database,
        }

    @property
    def server_rss_mb(self) -> float | None:
        pid = self.server.pid
        if pid is None:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def per_record_rate(self, prepared: PreparedDocument, budget_s: float) -> float:
        from neo4j import GraphDatabase

        from tests.bolt_server import reset

        s = self.server
        reset(s)
        with GraphDatabase.driver(s.url, auth=(s.user, s.password)) as driver:
            driver.execute_query(
                "CREATE CONSTRAINT per_record_id IF NOT EXISTS FOR (n:PerRecord) REQUIRE n.id IS UNIQUE",
                database_=s.database,
            )
            with driver.session(database=s.database) as session:

                def node(n):
                    session.execute_write(
                        lambda tx: tx.run(
                            "MERGE (n:PerRecord {id: $id}) SET n.kind = $kind, n.qn = $qn, n.attrs = $attrs",
                            id=n.id,
                            kind=n.kind,
                            qn=json.dumps(n.qn),
                            attrs=json.dumps(n.attrs),
                        ).consume()
                    )

                def relation(r):
                    session.execute_write(
                        lambda tx: tx.run(
                            "MATCH (a:PerRecord {id: $src}) MATCH (b:PerRecord {id: $dst}) "
                            "MERGE (a)-[e:PROV_RELATION {id: $id}]->(b) SET e.type = $type, e.attrs = $attrs",
                            id=r.id,
                            src=r.src,
                            dst=r.dst,
                            type=r.type,
                            attrs=json.dumps(r.attrs),
                        ).consume()
                    )

                rate = timed_per_record(prepared, node, relation, budget_s)
            driver.execute_query("DROP CONSTRAINT per_record_id IF EXISTS", database_=s.database)
        reset(s)
        return rate

    def close(self) -> None:
        self.server.stop()


def timed_per_record(prepared: PreparedDocument, write_node, write_relation, budget_s: float) -> float:
    """Records/s of one-statement-per-record writes, bounded by ``budget_s`` seconds."""
    written: set[str] = set()
    t0 = time.perf_counter()
    for n in prepared.nodes:
        if time.perf_counter() - t0 > budget_s / 2:
            break
        write_node(n)
        written.add(n.id)
    node_s = time.perf_counter() - t0
    rels = [r for r in prepared.relations if r.src in written and r.dst in written]
    t1 = time.perf_counter()
    done = 0
    for r in rels:
        if time.perf_counter() - t1 > budget_s / 2:
            break
        write_relation(r)
        done += 1
    rel_s = time.perf_counter() - t1
    per_node = node_s / max(len(written), 1)
    per_rel = rel_s / max(done, 1)
    total = len(prepared.nodes) * per_node + len(prepared.relations) * per_rel
    return (len(prepared.nodes) + len(prepared.relations)) / total


BACKENDS = {"embedded": Embedded, "bolt": Bolt}
