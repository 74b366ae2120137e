"""``python -m benchmarks.attack``: the figures of issue 15 (trust, round 2) after its fixes.

    python -m benchmarks.attack [--mb 8] [--json-mb 16]

Each case runs in a fresh child process on a fresh embedded store with the default limits, so
its peak resident memory (VmHWM) is its own. Prints one table: case, answer, seconds, peak MB.

- the worst bodies: PROV-N and PROV-XML of many small records at PROVHUB_MAX_PARSE_MB (what prov's
  parsers take most memory for), just over it (refused before parsing), and PROV-JSON;
- a lookup beside three large records (item 8): ProvSAP of a nearby id;
- the slowest anonymous picture: a dense tangle Graphviz cannot lay out, bounded by
  PROVHUB_QUERY_TIMEOUT;
- the search oracle (item 1): for every prefix of a hidden value, whether an anonymous count
  differs from the count of a word that matches nothing (0 differences is the goal).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _body(head: str, record, tail: str, mb: float) -> str:
    """``head``, then ``record(i)`` for i = 0, 1, ... while the text stays under ``mb`` MiB, then ``tail``."""
    parts, size, i = [head], len(head) + len(tail), 0
    while size < mb * 1024 * 1024 - 128:
        parts.append(record(i))
        size += len(parts[-1])
        i += 1
    return "".join(parts) + tail


def _provn(mb: float) -> str:
    return _body(
        "document\nprefix ex <http://example.org/>\n",
        lambda i: f'entity(ex:e{i}, [prov:label="entity {i}"])\n',
        "endDocument\n",
        mb,
    )


def _xml(mb: float) -> str:
    return _body(
        '<prov:document xmlns:prov="http://www.w3.org/ns/prov#" xmlns:ex="http://example.org/">',
        lambda i: f'<prov:entity prov:id="ex:e{i}"><prov:label>entity {i}</prov:label></prov:entity>',
        "</prov:document>",
        mb,
    )


def _json(mb: float) -> str:
    n = int(mb * 1024 * 1024 / 40)
    return json.dumps(
        {
            "prefix": {"ex": "http://example.org/"},
            "entity": {f"ex:e{i}": {"prov:label": f"entity {i}"} for i in range(n)},
        }
    )


def run_case(case: str, mb: float, json_mb: float) -> dict:
    """One case, in this process: {"answer", "seconds"} (the parent adds the peak)."""
    from app import services
    from app.access import Viewer
    from app.config import Settings
    from app.stores import open_store
    from provdm.errors import ProvhubError
    from provdm.provsap import ProvSapQuery

    workdir = tempfile.mkdtemp(prefix="provhub-attack-")
    settings = Settings(store_url=f"sqlite:///{workdir}/p.db", sample="off", auth="off")
    store = open_store(settings.store_url, settings)
    anon = Viewer()

    def ingest(text: str, fmt: str, **kw) -> None:
        services.ingest(store, text, fmt, settings=settings, **kw)

    def answer(args: dict, viewer=anon) -> bytes:
        query = ProvSapQuery.from_args(args, max_depth=settings.max_depth)
        return services.provsap_response(store, query, settings=settings, viewer=viewer)[0]

    bodies = {
        "PROV-N at the parse limit": lambda: (_provn(mb), "provn"),
        "PROV-N just over the parse limit": lambda: (_provn(mb + 0.5), "provn"),
        "PROV-XML at the parse limit": lambda: (_xml(mb), "xml"),
        "PROV-JSON": lambda: (_json(json_mb), "json"),
    }
    t0 = time.perf_counter()
    try:
        if case in bodies:
            text, fmt = bodies[case]()
            t0 = time.perf_counter()
            ingest(text, fmt)
            result = f"stored, {len(text) / 2**20:.1f} MiB"
        elif case == "lookup beside large records":
            ents = {f"ex:n{i:04d}": {} for i in range(200)}
            ingest(json.dumps({"prefix": {"ex": "http://example.org/"}, "entity": ents}), "json")
            for k in range(3):
                big = {f"ex:a{j}": "x" * 1_000_000 for j in range(7)}
                ingest(
                    json.dumps({"prefix": {"ex": "http://example.org/"}, "entity": {f"ex:n{100 + k:04d}x": big}}),
                    "json",
                )
            t0 = time.perf_counter()
            for _ in range(20):
                answer({"ID": ["ex:n0100"], "DEPTH": "1"})
            return {"answer": "200", "seconds": (time.perf_counter() - t0) / 20}
        elif case == "anonymous picture of a tangle":
            n = 300
            body = "".join(
                f"entity(ex:s{i})\nwasDerivedFrom(ex:p, ex:s{i})\nwasDerivedFrom(ex:s{i}, ex:s{(i + 7) % n})\n"
                for i in range(n)
            )
            ingest(f"document\nprefix ex <http://example.org/>\nentity(ex:p)\n{body}endDocument\n", "provn")
            t0 = time.perf_counter()
            answer({"ID": ["ex:p"], "DEPTH": "2", "RESPONSEFORMAT": "PROV-SVG"})
            result = "200"
        elif case == "search oracle":
            from tests.security.test_search_and_prefixes import PRIVATE, PUBLIC, SECRET

            ingest(PUBLIC, "provn")
            ingest(PRIVATE, "provn", rights="proprietary", group="A")
            nothing = [services.search_records(store, "zzqqxx", viewer=anon, limit=1, offset=o)[1] for o in (0, 1)]
            differ = asked = 0
            for k in range(3, len(SECRET) + 1):
                for offset in (0, 1):
                    asked += 1
                    total = services.search_records(store, SECRET[:k], viewer=anon, limit=1, offset=offset)[1]
                    differ += total != nothing[offset]
            return {"answer": f"{differ} of {asked} counts differ", "seconds": time.perf_counter() - t0}
        else:
            raise SystemExit(f"unknown case {case!r}")
    except ProvhubError as exc:
        result = f"{type(exc).__name__}: {exc.message[:70]}"
    return {"answer": result, "seconds": time.perf_counter() - t0}


CASES = (
    "PROV-N at the parse limit",
    "PROV-N just over the parse limit",
    "PROV-XML at the parse limit",
    "PROV-JSON",
    "lookup beside large records",
    "anonymous picture of a tangle",
    "search oracle",
)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.attack", description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=8.0, help="PROV-N/PROV-XML body size (PROVHUB_MAX_PARSE_MB)")
    p.add_argument("--json-mb", type=float, default=16.0, help="PROV-JSON body size")
    p.add_argument("--case", help=argparse.SUPPRESS)  # run one case in this process (the child)
    args = p.parse_args(argv)
    if args.case:
        out = run_case(args.case, args.mb, args.json_mb)
        print(json.dumps({**out, "peak_mb": _peak_mb()}))
        return
    print(f"{'case':38} {'answer':72} {'seconds':>9} {'peak MB':>8}")
    for case in CASES:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.attack",
                "--case",
                case,
                "--mb",
                str(args.mb),
                "--json-mb",
                str(args.json_mb),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            print(f"{case:38} failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{case:38} {row['answer'][:72]:72} {row['seconds']:9.3f} {row['peak_mb']:8.0f}", flush=True)


if __name__ == "__main__":
    main()
