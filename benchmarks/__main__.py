"""``python -m benchmarks``: provhub's published figures, each against a baseline measured in the
same run, on the embedded store and over Bolt (the ArcadeDB server of the tests).

    python -m benchmarks [--records N] [--store embedded|bolt|both] [--json FILE]

prints one table (figure, value, unit, baseline, ratio = value / baseline, goal, holds);
``--json`` writes the same rows as a list of objects with exactly those keys.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

from . import batch_bench, figures, impact_bench, peers
from .backends import BACKENDS


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--records",
        type=int,
        default=100_000,
        help="records in the lineage store (the ingest document has min(N, 100000))",
    )
    p.add_argument("--store", choices=("embedded", "bolt", "both"), default="both")
    p.add_argument("--json", type=Path, help="also write the rows to this file")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=None, help="timed lineage queries (default 20, 5 below 10^5)")
    p.add_argument(
        "--writers-seconds",
        type=float,
        default=None,
        help="how long the concurrent writers post (default 30 s, 3 s below 10^5 records)",
    )
    p.add_argument(
        "--lineage-seconds",
        type=float,
        default=120.0,
        help="time budget of each lineage figure (a slower answer is cut off and counted as this)",
    )
    p.add_argument(
        "--ingest-seconds",
        type=float,
        default=600.0,
        help="longest wait for the ingest of the large document (a slower one is cut off)",
    )
    p.add_argument(
        "--per-record-seconds",
        type=float,
        default=None,
        help="time budget of the per-record write baseline (default 20 s, 3 s below 10^5 records)",
    )
    p.add_argument(
        "--peer-seconds",
        type=float,
        default=300.0,
        help="longest wait for the prov + networkx peer (parse, build and queries in a child process)",
    )
    p.add_argument("--workdir", type=Path, help="keep stores and logs here (default: a temporary directory)")
    return p.parse_args(argv)


def run(args: argparse.Namespace) -> list[dict]:
    big = args.records >= 100_000
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="provhub-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        names = ["embedded", "bolt"] if args.store == "both" else [args.store]
        for name in names:
            backend = BACKENDS[name](workdir / name)
            try:
                r = figures.Run(
                    backend=backend,
                    records=args.records,
                    seed=args.seed,
                    workdir=workdir,
                    repeats=args.repeats or (20 if big else 5),
                    concurrency_s=args.writers_seconds or (30.0 if big else 3.0),
                    per_record_s=args.per_record_seconds or (20.0 if big else 3.0),
                    lineage_s=args.lineage_seconds,
                    ingest_s=args.ingest_seconds,
                    peer_s=args.peer_seconds,
                    peak_rss=[],
                )
                for figure in (
                    figures.ingest,
                    figures.concurrency,
                    figures.lineage,
                    peers.peers,  # reads the lineage store: before the next figure empties a Bolt server
                    impact_bench.impact,
                    batch_bench.batching,
                    figures.memory,
                ):
                    t0 = time.perf_counter()
                    rows += figure(r)
                    print(
                        f"# {name}: {figure.__name__} done in {time.perf_counter() - t0:.1f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            finally:
                backend.close()
        rows += figures.rendering()
    return rows


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds the finally blocks: services and servers stop


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    rows = run(args)
    print(figures.table(rows))
    if args.json:
        figures.write_json(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
