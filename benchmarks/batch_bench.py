"""The batching figure of ``python -m benchmarks``: many small documents, one POST each or merged.

A pipeline posts many small documents: one per run step, or one per OpenLineage event. The
figure posts :data:`DOCUMENTS` of them (OpenLineage COMPLETE events as
:mod:`provhub.importers.openlineage` maps them, about ten records each) with
``provhub.client.Client.post_many`` (merged, at most :data:`MAX_RECORDS` records a POST), and
its baseline posts the same documents with ``Client.post``, one POST each, to another new store;
both through the real client (gzip, a new connection per request) to the service process. The
ratio is documents/s merged over documents/s one by one: what batching gains.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

from provhub.client import Client
from provhub.importers.openlineage import run_event_document

from .figures import Run, row

DOCUMENTS = 200
MAX_RECORDS = 10_000
GOAL_RATIO = 1.5


def small_documents(n: int, seed: int) -> list:
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    docs = []
    for i in range(n):
        event = {
            "eventType": "COMPLETE",
            "eventTime": (t0 + dt.timedelta(seconds=i)).isoformat(),
            "producer": "https://provhub.org/benchmarks",
            "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "run": {"runId": str(uuid.UUID(int=seed * 10**9 + i)), "facets": {}},
            "job": {"namespace": "benchmarks", "name": f"step-{i % 10}"},
            "inputs": [{"namespace": "file", "name": f"/data/in-{i}.fits"}],
            "outputs": [{"namespace": "file", "name": f"/data/out-{i}.fits"}],
        }
        docs.append(run_event_document(event))
    return docs


def _rate(run: Run, docs: list, merged: bool) -> float:
    url = run.backend.new_store("batch-merged" if merged else "batch-single")
    with run.service(url) as svc:
        client = Client(f"http://127.0.0.1:{svc.port}", retry_for=60)
        t0 = time.perf_counter()
        if merged:
            results = client.post_many(docs, max_records=MAX_RECORDS)
        else:
            results = [client.post(d) for d in docs]
        seconds = time.perf_counter() - t0
    if not all(r.created for r in results):
        raise RuntimeError("a batching POST stored nothing new")
    return len(docs) / seconds


def batching(run: Run) -> list[dict]:
    n = DOCUMENTS if run.records >= 100_000 else DOCUMENTS // 4
    docs = small_documents(n, run.seed)
    single = _rate(run, docs, merged=False)
    merged = _rate(run, docs, merged=True)
    return [
        row(
            run.label(f"client: {n} small documents (~10 records), post_many merged vs one POST each"),
            merged,
            "documents/s",
            single,
            ("ratio", ">=", GOAL_RATIO),
        )
    ]
