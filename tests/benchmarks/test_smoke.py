"""``python -m benchmarks`` still works: the whole suite at a small size, on both stores.

A smoke test, not a timed one: it checks the table's rows and keys, never the figures' values.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"figure", "value", "unit", "baseline", "ratio", "goal", "holds"}
PER_BACKEND = ("ingest POST /documents", "store write, batched vs one statement per record",
               "8 concurrent writers, throughput", "8 concurrent writers, p95 latency",
               "lineage DEPTH=ALL p50", "lineage DEPTH=ALL p95", "lineage DEPTH=3 p95",
               "scaling: lineage DEPTH=ALL p95", "peak RSS of the service")


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


@pytest.mark.bolt
@pytest.mark.slow
@pytest.mark.timeout(240)
def test_benchmarks_run_at_small_size(tmp_path):
    out = tmp_path / "rows.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--records", "5000", "--store", "both",
                           "--json", str(out), "--workdir", str(tmp_path / "work"),
                           "--writers-seconds", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=230)
    assert proc.returncode == 0, proc.stderr[-3000:]
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
        for prefix in PER_BACKEND:
            assert sum(n.startswith(prefix) for n in names) == 1, (backend, prefix, names)
    # the printed table has the same rows
    table = proc.stdout.splitlines()
    assert table[0].split()[:2] == ["figure", "value"]
    assert len(table) == len(rows) + 2
    # the concurrent writers left exact counts
    assert all(r["holds"] for r in rows if "concurrent writers" in r["figure"])
