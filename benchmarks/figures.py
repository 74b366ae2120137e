"""The figures of the suite; each returns rows of the table (see :func:`row`).

``ratio`` is always ``value / baseline``; ``goal`` says what must hold, on the value or on the
ratio. Every loop is bounded in count and in time, and every request goes to 127.0.0.1.
"""

from __future__ import annotations

import importlib
import json
import random
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from prov.model import ProvDocument

from provhub.app import services
from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery

from . import generator as gen
from .service import Service, request

KEYS = ("figure", "value", "unit", "baseline", "ratio", "goal", "holds")
JSON_HEADERS = {"Content-Type": "application/json"}


def row(
    figure: str,
    value: float,
    unit: str,
    baseline: float | None = None,
    goal: tuple[str, str, float] | None = None,
    holds: bool | None = None,
    goal_text: str | None = None,
) -> dict:
    """A table row; ``goal`` = (``"value"`` or ``"ratio"``, ``"<="`` or ``">="``, limit)."""
    ratio = value / baseline if baseline else None
    if goal is not None:
        on, op, limit = goal
        x = value if on == "value" else ratio
        goal_text = f"{on} {op} {limit:g}"
        if holds is None and x is not None:
            holds = x <= limit if op == "<=" else x >= limit
    return {
        "figure": figure,
        "value": value,
        "unit": unit,
        "baseline": baseline,
        "ratio": ratio,
        "goal": goal_text or "-",
        "holds": holds,
    }


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(values: list[float], p: float) -> float | None:
    """The ``p`` percentile of ``values`` (seconds) in milliseconds, or None without values."""
    x = percentile(values, p)
    return None if x is None else 1000 * x


@dataclass
class Run:
    """What the figures share: the backend, the size, the time budgets and the service logs."""

    backend: object
    records: int
    seed: int
    workdir: Path
    repeats: int
    concurrency_s: float
    per_record_s: float
    lineage_s: float  # per lineage figure: repeats stop when it is spent
    peak_rss: list
    ingest_s: float = 600.0  # longest wait for one ingest
    peer_s: float = 300.0  # per peer figure (benchmarks/peers.py): a slower one is cut off
    #: provhub's figures that a later figure compares with (the peers): set by ingest and lineage
    measured: dict = field(default_factory=dict)

    def service(self, url: str) -> Service:
        return Service(self.backend.env(url), self.workdir / f"service-{self.backend.name}.log")

    def note_rss(self, svc: Service, what: str) -> None:
        self.peak_rss.append((svc.peak_rss_mb(), svc.peak_anon_mb(), what))

    def label(self, text: str) -> str:
        return f"{text} ({self.backend.name})"


# -- ingest -------------------------------------------------------------------------------------


def ingest(run: Run) -> list[dict]:
    """POST /documents of one large document vs prov parsing it; batched vs per-record writes."""
    n = min(run.records, 100_000)
    text = gen.large_document(n, run.seed).text()
    body = text.encode("utf-8")
    t0 = time.perf_counter()
    ProvDocument.deserialize(content=text, format="json")
    parse_s = time.perf_counter() - t0

    url = run.backend.new_store("ingest")
    with run.service(url) as svc:
        conn = svc.connection(timeout=run.ingest_s)
        t0 = time.perf_counter()
        try:
            status, answer, post_s = request(conn, "POST", "/documents", body, JSON_HEADERS)
        except TimeoutError:
            status, answer, post_s = None, b"(no answer)", time.perf_counter() - t0
        conn.close()
        run.note_rss(svc, f"POST of a {n}-record document")
    failed = status != 201
    run.measured["ingest"] = {"records": n, "rate": None if failed else n / post_s}
    if failed:
        print(
            f"# {run.backend.name}: POST /documents of {n} records answered {status} after {post_s:.0f} s: "
            f"{answer[:300]!r}; its figure is a bound and does not hold",
            file=sys.stderr,
        )
    rows = [
        row(
            run.label(f"ingest POST /documents, {n:,}-record document"),
            n / post_s,
            "records/s",
            n / parse_s,
            ("ratio", ">=", 1 / run.backend.ingest_goal),
            holds=False if failed else None,
        )
    ]

    settings = run.backend.settings(url)
    prepared, _ = services.prepare(text, "json", settings=settings)
    url = run.backend.new_store("batched")
    store = open_store(url, run.backend.settings(url))
    written = len(prepared.nodes) + len(prepared.relations)
    t0 = time.perf_counter()
    done = bounded(lambda: store.put_document(prepared), run.ingest_s)
    put_s = time.perf_counter() - t0
    if done:
        store.close()
    else:  # its driver is stuck: leave it to the daemon thread
        print(f"# {run.backend.name}: put_document of {n} records did not return in {put_s:.0f} s", file=sys.stderr)
    per_record = run.backend.per_record_rate(prepared, run.per_record_s)
    rows.append(
        row(
            run.label("store write, batched vs one statement per record"),
            written / put_s,
            "records/s",
            per_record,
            ("ratio", ">=", 20),
            holds=None if done else False,
        )
    )
    return rows


def bounded(work, seconds: float) -> bool:
    """Run ``work`` in a daemon thread; False if it did not finish within ``seconds``."""
    errors: list[BaseException] = []

    def target():
        try:
            work()
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    if errors:
        raise errors[0]
    return not thread.is_alive()


# -- concurrent writers -------------------------------------------------------------------------


def _pool(run: Run, size: int = 40) -> list[gen.Doc]:
    docs = []
    for doc in gen.documents(run.records, run.seed):
        if doc.name.startswith(("run-", "night-", "dl4-")):
            docs.append(doc)
            if len(docs) == size:
                break
    return docs


def _writers(
    svc: Service, bodies: list[bytes], clients: int, seconds: float, max_requests: int
) -> tuple[list[float], dict[int, int], set[int], float]:
    """``clients`` threads post ``bodies`` in their own shuffled orders until time or count runs out."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    posted: set[int] = set()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    budget = [max_requests]

    def client(k: int) -> None:
        order = list(range(len(bodies)))
        random.Random(k).shuffle(order)
        conn = svc.connection(timeout=max(seconds, 60))
        i = 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        return
                    budget[0] -= 1
                j = order[i % len(order)]
                i += 1
                status, _, dt = request(conn, "POST", "/documents", bodies[j], JSON_HEADERS)
                with lock:
                    latencies.append(dt)
                    statuses[status] = statuses.get(status, 0) + 1
                    if status in (200, 201):
                        posted.add(j)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 120)
    return latencies, statuses, posted, time.perf_counter() - t0


def concurrency(run: Run, clients: int = 8) -> list[dict]:
    """8 clients posting overlapping documents vs 1 client; counts checked exactly afterwards."""
    pool = _pool(run)
    bodies = [d.text().encode("utf-8") for d in pool]
    results = {}
    for n in (1, clients):
        url = run.backend.new_store(f"writers-{n}")
        with run.service(url) as svc:
            results[n] = _writers(svc, bodies, n, run.concurrency_s, max_requests=20_000)
            run.note_rss(svc, f"{n} concurrent writers")
        latencies, statuses, posted, _ = results[n]
    # exact counts: the store must hold the union of the documents that were accepted
    settings = run.backend.settings(url)
    node_ids, rel_ids, doc_ids = set(), set(), set()
    for j in posted:
        prepared, _ = services.prepare(pool[j].text(), "json", settings=settings, validation="off")
        node_ids.update(n.id for n in prepared.nodes)
        rel_ids.update(r.id for r in prepared.relations)
        doc_ids.add(prepared.id)
    store = open_store(url, settings)
    try:
        stats = store.stats()
    finally:
        store.close()
    exact = (stats.documents, stats.nodes, stats.relations) == (len(doc_ids), len(node_ids), len(rel_ids))
    failures = sum(c for s, c in statuses.items() if s not in (200, 201))
    if not exact or failures:
        print(
            f"concurrent writers ({run.backend.name}): statuses {statuses}; store {stats}; "
            f"expected documents={len(doc_ids)} nodes={len(node_ids)} relations={len(rel_ids)}",
            file=sys.stderr,
        )
    one_lat, _, _, one_s = results[1]
    many_lat, _, _, many_s = results[clients]
    ok = exact and failures == 0
    text = f"counts exact, no errors ({run.concurrency_s:g} s)"
    return [
        row(
            run.label(f"{clients} concurrent writers, throughput"),
            len(many_lat) / many_s,
            "requests/s",
            len(one_lat) / one_s,
            holds=ok,
            goal_text=text,
        ),
        row(
            run.label(f"{clients} concurrent writers, p95 latency"),
            1000 * percentile(many_lat, 95),
            "ms",
            1000 * percentile(one_lat, 95),
            holds=ok,
            goal_text=text,
        ),
    ]


# -- lineage ------------------------------------------------------------------------------------


def fill(store, settings, docs) -> int:
    """Ingest documents in-process (prepare + put_document); returns the records written."""
    total = 0
    for doc in docs:
        prepared, _ = services.prepare(doc.text(), "json", settings=settings, validation="off")
        store.put_document(prepared)
        total += doc.records
    return total


def _provsap_path(product: str, depth: str) -> str:
    return "/provsap?" + urllib.parse.urlencode({"ID": product, "DEPTH": depth})


def _time_lineage(
    run: Run, svc: Service, store, depth: str, product: str = gen.FANIN_PRODUCT_IRI
) -> tuple[list[float], list[float]]:
    """HTTP and in-process (store.trace) seconds: ``run.repeats`` of each after one warm-up,
    within ``run.lineage_s`` seconds. A request that times out counts as its time so far (a lower
    bound); when the first answer alone exceeds the budget it is the only sample."""
    path = _provsap_path(product, depth)
    query = TraceQuery([product], depth=None if depth == "ALL" else int(depth))
    http_s, trace_s = [], []
    t_end = time.monotonic() + run.lineage_s
    conn = svc.connection(timeout=run.lineage_s)
    try:
        for i in range(run.repeats + 1):
            t0 = time.perf_counter()
            try:
                status, body, dt = request(conn, "GET", path)
            except TimeoutError:
                print(f"# GET {path} timed out after {run.lineage_s:g} s", file=sys.stderr)
                return http_s or [time.perf_counter() - t0], trace_s
            if status != 200:
                raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
            if i or time.monotonic() > t_end:
                http_s.append(dt)
            if dt < run.lineage_s / 10:  # the in-process baseline only when it is affordable
                t0 = time.perf_counter()
                store.trace(query)
                trace_s.append(time.perf_counter() - t0)
            if time.monotonic() > t_end:
                break
    finally:
        conn.close()
    return http_s, trace_s


def lineage_stages(records: int, seed: int) -> tuple[list[gen.Doc], Iterator[gen.Doc]]:
    """The documents of the lineage store: those of the N/10-record store, then those the
    N-record store adds on top (the peers load both)."""
    runs, nsb = gen.fanin_runs_for(records), gen.nsb_bins_for(records)
    small_docs = list(gen.documents(max(records // 10, 1), seed, runs, nsb))
    names = {d.name for d in small_docs}
    return small_docs, (d for d in gen.documents(records, seed, runs, nsb) if d.name not in names)


def lineage(run: Run) -> list[dict]:
    """ProvSAP DEPTH=ALL and DEPTH=3 for the fan-in product on a small and on the full store."""
    runs = gen.fanin_runs_for(run.records)
    small_docs, rest = lineage_stages(run.records, run.seed)
    url = run.backend.new_store("lineage")
    settings = run.backend.settings(url)
    store = open_store(url, settings)
    measured = {}
    try:
        sizes = []
        for stage, docs in (("small", small_docs), ("full", rest)):
            sizes.append(fill(store, settings, docs) + sum(sizes))
            with run.service(url) as svc:
                measured[stage] = {
                    d: _time_lineage(run, svc, store, d) for d in (["ALL"] if stage == "small" else ["ALL", "3"])
                }
                if stage == "full":
                    measured["run"] = _time_lineage(run, svc, store, "3", gen.FANIN_DL3_IRI)
                run.note_rss(svc, f"lineage on the {stage} store")
        one_run = store.trace(TraceQuery([gen.FANIN_DL3_IRI], depth=3))
    finally:
        store.close()
    records_small, records_full = sizes
    goal_ms = run.backend.lineage_goal_ms
    http_all, trace_all = measured["full"]["ALL"]
    http_3, trace_3 = measured["full"]["3"]
    small_all, _ = measured["small"]["ALL"]
    http_run, trace_run = measured["run"]
    run_records = len(one_run.nodes) + len(one_run.relations)
    where = f"fan-in product ({runs} DL3 x 4 IRFs), {records_full:,} stored records"
    run.measured["lineage"] = {"url": url, "p95_ms": ms(http_all, 95), "records": records_full, "where": where}
    return [
        row(run.label(f"lineage DEPTH=ALL p50, {where}"), ms(http_all, 50), "ms", ms(trace_all, 50)),
        row(
            run.label(f"lineage DEPTH=ALL p95, {where}"),
            ms(http_all, 95),
            "ms",
            ms(trace_all, 95),
            ("value", "<=", goal_ms),
        ),
        row(run.label(f"lineage DEPTH=3 p95, {where}"), ms(http_3, 95), "ms", ms(trace_3, 95), ("value", "<=", 20)),
        row(
            run.label(
                f"lineage of one DL3 event list, DEPTH=3 p95 ({run_records} records in the answer), "
                f"{records_full:,} stored records"
            ),
            ms(http_run, 95),
            "ms",
            ms(trace_run, 95),
            ("value", "<=", 20),
        ),
        row(
            run.label(f"scaling: lineage DEPTH=ALL p50 at {records_full:,} vs {records_small:,} records"),
            ms(http_all, 50),
            "ms",
            ms(small_all, 50),
            ("ratio", "<=", 1.3),
        ),
    ]


def memory(run: Run) -> list[dict]:
    """The largest VmHWM of the service processes of this backend."""
    mine = [(mb, anon, what) for mb, anon, what in run.peak_rss if mb is not None]
    for mb, anon, what in mine:
        print(
            f"# {run.backend.name}: service VmHWM {mb:.0f} MB, peak RssAnon {anon:.0f} MB after {what}", file=sys.stderr
        )
    if getattr(run.backend, "server_rss_mb", None):
        print(f"# {run.backend.name}: Bolt server VmHWM {run.backend.server_rss_mb:.0f} MB", file=sys.stderr)
    mb, _, what = max(mine)
    anon, _, anon_what = max((anon, mb, what) for mb, anon, what in mine)
    return [
        row(run.label(f"peak RSS of the service ({what})"), mb, "MB", goal=("value", "<=", 500)),
        row(
            run.label(f"peak anonymous memory of the service, RSS without mapped files ({anon_what})"),
            anon,
            "MB",
            goal=("value", "<=", 500),
        ),
    ]


# -- rendering ----------------------------------------------------------------------------------


def rendering() -> list[dict]:
    """500-node SVG, by ``benchmarks/render_bench.run`` when it exists."""
    try:
        render_bench = importlib.import_module(f"{__package__}.render_bench")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.render_bench":
            raise
        return []
    out = []
    for r in render_bench.run(sizes=(500,)):
        if set(r) == set(KEYS):
            out.append(r)
        else:
            value = next(r[k] for k in ("seconds", "value", "s", "time_s") if k in r)
            out.append(row(f"render {r.get('nodes', 500)}-node lineage as SVG", value, "s", goal=("value", "<=", 2)))
    return out


def write_json(rows: list[dict], path: Path) -> None:
    path.write_text(json.dumps([{k: r[k] for k in KEYS} for r in rows], indent=1) + "\n")


def table(rows: list[dict]) -> str:
    def cell(v):
        if isinstance(v, bool):
            return "yes" if v else "NO"
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    cells = [list(KEYS)] + [[cell(r[k]) for k in KEYS] for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(KEYS))]
    lines = [
        "  ".join(c[i].ljust(widths[i]) if i == 0 else c[i].rjust(widths[i]) for i in range(len(KEYS))) for c in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
