"""The impact figure of ``python -m benchmarks``: what depends on one IRF, on a large store.

A store of ``--records`` records (the generator's CTA-like stream, :mod:`benchmarks.generator`)
holds also one IRF that :data:`FANOUT_DL3` DL3 event lists were made with, each reduced to a DL4
dataset, every ten DL4 datasets analysed into a DL5 product (``FANOUT_DL3 * 9.3`` records more).
The figure is ``GET /impact?ID=<that IRF>`` (p50 and p95 over HTTP: the FORTH walk with
DEPTH=ALL, the paths, the dates and groups of ~2,100 products, the JSON report); its baseline is
the bare FORTH walk in the same process (``store.trace``), so the ratio is what impact adds.

The same store gives the ``AS_OF`` figures (:mod:`provhub.app.asof`): ``GET /impact?AS_OF=T``
for a moment ``T`` before the last fan-out document was ingested, and, after one earlier
document is retracted, for a moment before that retraction; the first question builds the
store as it was then (on the embedded store a copy with what changed since undone, on Bolt a
replay of every document live then, done only up to :data:`REPLAY_RECORDS` records), the next
one finds it built. The baseline is the same question without ``AS_OF``.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.parse

import datetime as dt

from provhub.app import identity
from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery

from . import generator as gen
from .figures import Run, fill, ms, row
from .service import request

FANOUT_DL3 = 1000
FANOUT_PER_DOC = 100
IRF = "cta:impact/irf/aeff-prod5-v0.1"
IRF_IRI = gen.NS + "impact/irf/aeff-prod5-v0.1"
GOAL_MS = 2000.0
#: largest store whose AS_OF figure is measured where it needs a replay (about 0.4 ms a record)
REPLAY_RECORDS = 30_000


def fanout_documents(n_dl3: int = FANOUT_DL3) -> list[gen.Doc]:
    docs = []
    for start in range(0, n_dl3, FANOUT_PER_DOC):
        doc = gen.Doc(f"impact-fanout-{start}")
        doc.add(
            "entity",
            IRF,
            {"prov:type": gen.qn("cta:aeff"), "cta:irfProduction": "prod5-v0.1", "prov:location": "/cta/irf/aeff.fits"},
        )
        for i in range(start, min(start + FANOUT_PER_DOC, n_dl3)):
            make = f"cta:impact/dl3-production/{i}"
            doc.add("activity", make, {"prov:label": f"DL3 production {i}"})
            doc.used(make, IRF, "irf")
            dl3 = gen.doc_entity(doc, f"cta:impact/dl3/{i}", "DL3", obs_id=2_000_000 + i)
            doc.generated(dl3, make)
            reduce = f"cta:impact/reduction/{i}"
            doc.add("activity", reduce, {"prov:label": f"DL4 reduction {i}"})
            doc.used(reduce, dl3)
            dl4 = gen.doc_entity(doc, f"cta:impact/dl4/{i}", "DL4")
            doc.generated(dl4, reduce)
            analysis = f"cta:impact/analysis/{i // 10}"
            doc.add("activity", analysis, {"prov:label": f"DL5 analysis {i // 10}"})
            doc.used(analysis, dl4)
            dl5 = gen.doc_entity(doc, f"cta:impact/dl5/{i // 10}", "DL5")
            doc.generated(dl5, analysis)
        docs.append(doc)
    return docs


def impact(run: Run) -> list[dict]:
    block = fanout_documents()
    extra = sum(d.records for d in block)
    url = run.backend.new_store("impact")
    settings = run.backend.settings(url)
    store = open_store(url, settings)
    try:
        stored = fill(store, settings, gen.documents(max(run.records - extra, 1), run.seed))
        stored += fill(store, settings, block[:-1])
        before_last = _moment()
        stored += fill(store, settings, block[-1:])
        path = "/impact?" + urllib.parse.urlencode({"ID": IRF_IRI})
        http_s, walk_s, products = [], [], 0
        query = TraceQuery([IRF_IRI], direction="FORTH", depth=None, members=True)
        t_end = time.monotonic() + run.lineage_s
        with run.service(url) as svc:
            conn = svc.connection(timeout=run.lineage_s)
            try:
                for i in range(run.repeats + 1):
                    status, body, dt = request(conn, "GET", path)
                    if status != 200:
                        raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
                    http_s.append(dt)
                    t0 = time.perf_counter()
                    store.trace(query)
                    walk_s.append(time.perf_counter() - t0)
                    if time.monotonic() > t_end:
                        print(f"# impact: stopped after {i + 1} answers ({run.lineage_s:g} s)", file=sys.stderr)
                        break
                products = json.loads(body)["affected"]
                # the warm-up answer is left out, unless it is the only one (it spent the time budget)
                if len(http_s) > 1:
                    del http_s[0], walk_s[0]
                rows = _as_of(run, store, conn, path, before_last, ms(http_s, 50))
            finally:
                conn.close()
            run.note_rss(svc, "impact")
    finally:
        store.close()
    where = f"one IRF -> {FANOUT_DL3} DL3 -> DL4 -> DL5 ({products} products), {stored:,} stored records"
    return rows + [
        row(run.label(f"impact GET /impact p50, {where}"), ms(http_s, 50), "ms", ms(walk_s, 50)),
        row(
            run.label(f"impact GET /impact p95, {where}"),
            ms(http_s, 95),
            "ms",
            ms(walk_s, 95),
            ("value", "<=", GOAL_MS),
        ),
    ]


def _moment() -> dt.datetime:
    """Now, between two seconds (the store keeps ingest and history times to the second)."""
    time.sleep(1.1)
    moment = dt.datetime.now(dt.timezone.utc)
    time.sleep(1.1)
    return moment


def _as_of(run: Run, store, conn, path: str, before_last: dt.datetime, plain_ms: float | None) -> list[dict]:
    """AS_OF figures: building the store as it was (first question) and asking it again."""
    embedded = str(getattr(store, "url", "")).startswith("sqlite:")
    if not embedded and run.records > REPLAY_RECORDS:
        print(
            f"# impact: AS_OF not measured on {run.backend.name} (a replay of {run.records:,} records)", file=sys.stderr
        )
        return []
    docs = store.list_documents(offset=0, limit=1)[1]
    first_fanout = store.list_documents(offset=docs - len(fanout_documents()), limit=1)[0][0]
    before_retraction = _moment()
    identity.retract(store, first_fanout.id)
    rows = []
    for moment, what in ((before_last, "before the last document"), (before_retraction, "before a retraction")):
        asked = path + "&" + urllib.parse.urlencode({"AS_OF": moment.isoformat()})
        times = []
        for _ in range(3):
            status, body, seconds = request(conn, "GET", asked)
            if status != 200:
                raise RuntimeError(f"GET {asked} answered {status}: {body[:300]!r}")
            times.append(seconds)
        way = "copy" if embedded else "replay"
        rows.append(
            row(
                run.label(f"impact AS_OF {what}: first ({way}), {run.records:,} records"),
                1000 * times[0],
                "ms",
                plain_ms,
            )
        )
        rows.append(row(run.label(f"impact AS_OF {what}: again"), ms(times[1:], 50), "ms", plain_ms))
    return rows
