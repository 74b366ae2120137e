"""Issue 4's figures for the Neo4j store over Bolt (ArcadeDB's Bolt server of the tests, or the
server named by PROVHUB_TEST_NEO4J_URL).

    python -m benchmarks.bolt_bench [--records N]

- batched ingest: records/s of ``Neo4jStore.put_document`` (one managed transaction, UNWIND
  batches) for one generated CTA-like document of N records, against a per-record ``MERGE``
  baseline (one statement and one transaction per record) measured in the same run;
- fan-in lineage: DEPTH=ALL for the product derived from the fan-in DL3 files (1,000 from 10^5
  records on, each used 4 IRFs), through the Flask app (``GET /provsap``, in-process WSGI) and
  ``store.trace`` alone as its baseline.

:func:`run` returns rows with the keys of :data:`benchmarks.figures.KEYS`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import urllib.parse
from pathlib import Path

from provhub.app import create_app, services
from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery

from . import generator as gen
from .backends import Bolt
from .figures import KEYS, fill, row, table

INGEST_GOAL = 20.0  # batched >= 20 x per-record
LINEAGE_GOAL_MS = 300.0


def _ingest(backend: Bolt, records: int, seed: int, per_record_s: float) -> list[dict]:
    doc = gen.large_document(records, seed)
    url = backend.new_store("ingest")
    settings = backend.settings(url)
    prepared, _ = services.prepare(doc.text(), "json", settings=settings, validation="off")
    store = open_store(url, settings)
    try:
        t0 = time.perf_counter()
        store.put_document(prepared)
        batched = prepared.records / (time.perf_counter() - t0)
    finally:
        store.close()
    baseline = backend.per_record_rate(prepared, per_record_s)
    return [
        row(
            f"batched ingest over Bolt, one {prepared.records:,}-record document",
            batched,
            "records/s",
            baseline,
            ("ratio", ">=", INGEST_GOAL),
        )
    ]


def _lineage(backend: Bolt, records: int, seed: int, repeats: int) -> list[dict]:
    url = backend.new_store("lineage")
    settings = backend.settings(url)
    store = open_store(url, settings)
    try:
        stored = fill(store, settings, gen.documents(records, seed))
        product = gen.NS + gen._local(gen.FANIN_PRODUCT)
        client = create_app(settings, store=store).test_client()
        path = "/provsap?" + urllib.parse.urlencode({"ID": product, "DEPTH": "ALL"})
        http, trace = [], []
        for i in range(repeats + 1):  # the first of each is a warm-up
            t0 = time.perf_counter()
            resp = client.get(path)
            dt = time.perf_counter() - t0
            if resp.status_code != 200:
                raise RuntimeError(f"GET {path} answered {resp.status_code}: {resp.data[:300]!r}")
            t0 = time.perf_counter()
            graph = store.trace(TraceQuery([product], depth=None))
            if i:
                http.append(dt)
                trace.append(time.perf_counter() - t0)
    finally:
        store.close()
    runs = gen.fanin_runs_for(records)
    where = (
        f"fan-in product ({runs} DL3 x 4 IRFs, {len(graph.nodes):,} nodes, {len(graph.relations):,} "
        f"relations), {stored:,} stored records"
    )
    return [
        row(
            f"lineage DEPTH=ALL over Bolt, GET /provsap median, {where}",
            1000 * statistics.median(http),
            "ms",
            1000 * statistics.median(trace),
            ("value", "<=", LINEAGE_GOAL_MS),
        )
    ]


class ExternalBolt(Bolt):
    """The Bolt server named by PROVHUB_TEST_NEO4J_URL (a real Neo4j): used, emptied, not started."""

    def __init__(self, server):
        self.workdir = None
        self.server = server


def run(
    records: int = 100_000, seed: int = 1, per_record_s: float = 20.0, repeats: int = 5, workdir: Path | None = None
) -> list[dict]:
    """Rows of the issue's two figures (keys: figure, value, unit, baseline, ratio, goal, holds).

    Against the ArcadeDB server of the tests, or against PROVHUB_TEST_NEO4J_URL when it is set
    (that database is emptied)."""
    from tests.bolt_server import external_server

    with tempfile.TemporaryDirectory(prefix="provhub-bolt-bench-") as tmp:
        external = external_server()
        backend = ExternalBolt(external) if external else Bolt(Path(workdir or tmp))
        try:
            rows = _ingest(backend, records, seed, per_record_s)
            rows += _lineage(backend, records, seed, repeats)
        finally:
            backend.close()
    assert all(tuple(r) == KEYS for r in rows)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bolt_bench", description=__doc__.split("\n")[0])
    p.add_argument("--records", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--per-record-seconds", type=float, default=20.0)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    print(table(run(args.records, args.seed, args.per_record_seconds, args.repeats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
