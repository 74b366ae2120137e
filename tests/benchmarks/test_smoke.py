"""``python -m benchmarks`` still works: the whole suite at a small size, on both stores.

A smoke test, not a timed one: it checks the table's rows and keys, never the figures' values.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"figure", "value", "unit", "baseline", "ratio", "goal", "holds"}
PER_BACKEND = (
    "ingest POST /documents",
    "store write, batched vs one statement per record",
    "8 concurrent writers, throughput",
    "8 concurrent writers, p95 latency",
    "lineage DEPTH=ALL p50",
    "lineage DEPTH=ALL p95",
    "lineage DEPTH=3 p95",
    "lineage of one DL3 event list, DEPTH=3 p95",
    "scaling: lineage DEPTH=ALL p50",
    "impact GET /impact p50",
    "impact GET /impact p95",
    "client: 50 small documents (~10 records), post_many merged vs one POST each",
    "peer prov + networkx: fan-in lineage DEPTH=ALL p95, query alone",
    "peer prov + networkx: fan-in lineage DEPTH=ALL from a cold start",
    "peak RSS of the service",
    "peak anonymous memory of the service",
)
BOLT_ONLY = (
    "peer plain Cypher (p)-[*]->(x): fan-in lineage DEPTH=ALL p95",
    "peer one statement per record, prov-db-connector style",
)


def stop_group(proc: subprocess.Popen) -> None:
    """SIGTERM the process group (the runner stops what it started), SIGKILL what is left."""
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            time.sleep(0.5)  # let the children finish their own shutdown
        except subprocess.TimeoutExpired:
            continue


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@pytest.mark.bolt
@pytest.mark.slow
@pytest.mark.timeout(540)
def test_benchmarks_run_at_small_size(tmp_path):
    out = tmp_path / "rows.json"
    argv = [
        sys.executable,
        "-m",
        "benchmarks",
        "--records",
        "10000",
        "--store",
        "both",
        "--json",
        str(out),
        "--workdir",
        str(tmp_path / "work"),
        "--writers-seconds",
        "2",
        "--per-record-seconds",
        "2",
        "--lineage-seconds",
        "5",
        "--repeats",
        "3",
    ]
    # its own process group, so that on any failure the service and Bolt server it started stop too
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=480)  # every figure at 10^4 on both stores: 1-3 min alone
    finally:
        stop_group(proc)
    assert proc.returncode == 0, stderr[-3000:]
    rows = json.loads(out.read_text())
    for r in rows:
        assert set(r) == KEYS
        assert is_number(r["value"]), r
        assert r["baseline"] is None or is_number(r["baseline"]), r
        assert r["ratio"] is None or is_number(r["ratio"]), r
        assert r["holds"] in (True, False, None), r
        assert isinstance(r["goal"], str) and isinstance(r["unit"], str)
    for backend in ("embedded", "bolt"):
        names = [r["figure"] for r in rows if r["figure"].endswith(f"({backend})")]
        for prefix in PER_BACKEND + (BOLT_ONLY if backend == "bolt" else ()):
            assert sum(n.startswith(prefix) for n in names) == 1, (backend, prefix, names)
        assert backend == "bolt" or not any(n.startswith(BOLT_ONLY) for n in names), names
    # the printed table has the same rows
    table = stdout.splitlines()
    assert table[0].split()[:2] == ["figure", "value"]
    assert len(table) == len(rows) + 2
