"""``python -m benchmarks.fidelity``: does what prov can hold come back from provhub equal (issue 17)?

    python -m benchmarks.fidelity [--validation warn] [--list] [--json FILE]

The corpus: the test documents the ``prov`` package ships (``prov/tests``: ``examples.py``, the
PROV-JSON, PROV-N and PROV-XML files, the unification cases) and ``../shared/data/prov``
(ProvToolbox, cwlprov). A document counts when prov itself round-trips it: parsed, then written
and read back by prov in each of PROV-JSON, PROV-N and PROV-XML, it is prov-equal (``==``) to
itself. Each such document is posted in its own syntax to a fresh embedded store at the
validation level given, and read back from ``GET /documents/{id}`` in the three syntaxes; it is
*equal* when all three reads are prov-equal to prov's parse of what was posted.

Prints one table: the failure class, how many documents, and an example. Classes (issue 17):

- ``1 two kinds``: refused, one id with two kinds in one scope;
- ``2 same id twice``: refused, one relation (``2 relation``) or element (``2 element``) id
  asserted twice with different formal attributes;
- ``3 absent formal``: refused as missing-formal;
- ``4 bundle scopes``: refused, the conflicting records are in different bundles;
- ``5 bundle round trip``: stored, but a read-back differs and the document has bundles;
- ``other refused <code>`` / ``other round trip``: anything else.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
import tempfile
import warnings
from collections import Counter, defaultdict
from pathlib import Path

from prov.model import ProvDocument

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "prov"
SUFFIX = {".json": "json", ".provn": "provn", ".xml": "xml", ".provx": "xml"}
SYNTAXES = ("json", "provn", "xml")


def prov_tests() -> Path:
    import prov

    return Path(prov.__file__).resolve().parent / "tests"


def corpus() -> list[tuple[str, str, str]]:
    """``(name, syntax, text)`` of every candidate document."""
    out = []
    tests = prov_tests()
    roots = [tests / d for d in ("json", "provn", "xml", "unification")]
    roots.append(SHARED if SHARED.is_dir() else Path("/work/shared/data/prov"))
    for root in roots:
        for path in sorted(root.rglob("*")):
            fmt = SUFFIX.get(path.suffix)
            if fmt and path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                name = str(path.relative_to(tests)) if path.is_relative_to(tests) else "shared/" + path.name
                out.append((name, fmt, text))
    sys.path.insert(0, str(tests.parent.parent))
    try:
        examples = importlib.import_module("prov.tests.examples")
        for label, build in examples.tests:
            out.append((f"examples.py:{label}", "json", build().serialize(format="json")))
    except Exception as exc:  # noqa: BLE001 - the corpus is best effort
        print(f"(examples.py not read: {exc})", file=sys.stderr)
    return out


def _parse(text: str, fmt: str) -> ProvDocument:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ProvDocument.deserialize(content=text, format=fmt)


def _serialize(doc: ProvDocument, fmt: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return doc.get_provn() if fmt == "provn" else doc.serialize(format=fmt)


def prov_round_trips(text: str, fmt: str) -> ProvDocument | None:
    """prov's parse of ``text`` when prov round-trips it in every syntax, else None."""
    try:
        doc = _parse(text, fmt)
        if not doc.get_records() and not doc.bundles:
            return None
        for out in SYNTAXES:
            if _parse(_serialize(doc, out), out) != doc:
                return None
    except Exception:  # noqa: BLE001 - prov cannot hold it: not in the corpus
        return None
    return doc


def _bundle_scopes(doc: ProvDocument, ident: str | None) -> int:
    """In how many scopes (document, bundles) a record with id ``ident`` appears."""
    if not ident:
        return 0
    scopes = [doc, *doc.bundles]
    return sum(
        1 for b in scopes if any(r.identifier is not None and r.identifier.uri == ident for r in b.get_records())
    )


def classify(doc: ProvDocument, status: int, body: dict, equal: bool) -> str:
    if status in (200, 201):
        if equal:
            return "equal"
        return "5 bundle round trip" if doc.bundles else "other round trip"
    err = body.get("error", {}) if isinstance(body, dict) else {}
    message, details = err.get("message", ""), err.get("details") or []
    if "missing-formal" in message or "absent formal" in message:
        return "3 absent formal"
    first = details[0] if details and isinstance(details[0], dict) else {}
    if err.get("code") in ("invalid-document", "conflict") and first.get("attribute") in ("kind", "type"):
        return "4 bundle scopes" if _bundle_scopes(doc, first.get("id")) > 1 else "1 two kinds"
    if "contradicts itself" in message or err.get("code") == "conflict":
        if doc.bundles and _bundle_scopes(doc, first.get("id")) > 1:
            return "4 bundle scopes"
        return "2 relation" if message.split(":", 1)[-1].strip().startswith("relation") else "2 element"
    return f"other refused {err.get('code')}"


def measure(validation: str, only: str | None = None) -> tuple[dict, list[tuple[str, str]]]:
    from provhub.app import create_app
    from provhub.app.config import Settings
    from provhub.provdm import formats

    logging.getLogger("provhub.app").setLevel(logging.ERROR)  # PROVHUB_AUTH=off, once per store
    results: dict[str, list[str]] = defaultdict(list)
    rows = []
    considered = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, fmt, text) in enumerate(corpus()):
            if only and only not in name:
                continue
            doc = prov_round_trips(text, fmt)
            if doc is None:
                continue
            considered += 1
            settings = Settings(store_url=f"sqlite:///{tmp}/s{i}.db", sample="off", auth="off")
            app = create_app(settings)
            client = app.test_client()
            resp = client.post(
                f"/documents?validation={validation}",
                data=text.encode("utf-8"),
                headers={"Content-Type": formats.MEDIA_TYPES[fmt]},
            )
            body = resp.get_json(silent=True) or {}
            equal = False
            if resp.status_code in (200, 201):
                equal = True
                for out in SYNTAXES:
                    back = client.get(f"/documents/{body['id']}?format={out}")
                    try:
                        equal = back.status_code == 200 and _parse(back.get_data(as_text=True), out) == doc
                    except Exception:  # noqa: BLE001 - an unreadable answer is a difference
                        equal = False
                    if not equal:
                        break
            cls = classify(doc, resp.status_code, body, equal)
            results[cls].append(name)
            rows.append((name, cls))
            app.extensions["provhub.store"].close()
            Path(f"{tmp}/s{i}.db").unlink(missing_ok=True)
    results["_considered"] = [str(considered)]
    return results, rows


def expected_verdict(name: str) -> bool | None:
    """True (valid), False (invalid) or None from a PROV-CONSTRAINTS test case's file name
    (ProvToolbox's ``-PASS-``/``-success``, ``-FAIL-``/``-fail``)."""
    low = name.rsplit("/", 1)[-1].lower()
    if "pass" in low or "success" in low:
        return True
    if "fail" in low:
        return False
    return None


def confusion(level: str = "strict") -> tuple[Counter, int]:
    """The PROV-CONSTRAINTS cases of prov's corpus (``unification/``) posted at ``level``:
    counts of (valid|invalid, accepted|refused); and how many prov cannot read."""
    from provhub.app import create_app
    from provhub.app.config import Settings
    from provhub.provdm import formats

    logging.getLogger("provhub.app").setLevel(logging.ERROR)
    matrix: Counter = Counter()
    unread = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, fmt, text) in enumerate(corpus()):
            valid = expected_verdict(name) if name.startswith("unification/") else None
            if valid is None:
                continue
            try:
                _parse(text, fmt)
            except Exception:  # noqa: BLE001 - prov cannot read it: not counted
                unread += 1
                continue
            app = create_app(Settings(store_url=f"sqlite:///{tmp}/c{i}.db", sample="off", auth="off"))
            resp = app.test_client().post(
                f"/documents?validation={level}", data=text.encode(), headers={"Content-Type": formats.MEDIA_TYPES[fmt]}
            )
            matrix[("valid" if valid else "invalid", "accepted" if resp.status_code in (200, 201) else "refused")] += 1
            app.extensions["provhub.store"].close()
    return matrix, unread


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.fidelity", description=__doc__.split("\n\n")[0])
    p.add_argument("--validation", default="warn", choices=("strict", "warn", "off"))
    p.add_argument("--list", action="store_true", help="also list every document that is not equal")
    p.add_argument("--only", help="only documents whose name contains this")
    p.add_argument("--json", type=Path, help="also write {document: class} to this file")
    p.add_argument(
        "--constraints",
        action="store_true",
        help="instead: the confusion matrix of the PROV-CONSTRAINTS cases (unification/) at --validation",
    )
    args = p.parse_args(argv)
    if args.constraints:
        matrix, unread = confusion(args.validation)
        print(f"PROV-CONSTRAINTS cases at validation={args.validation} ({unread} that prov cannot read left out)")
        for valid in ("valid", "invalid"):
            print(f"{valid:<8} accepted {matrix[(valid, 'accepted')]:>4}   refused {matrix[(valid, 'refused')]:>4}")
        return 0
    results, rows = measure(args.validation, args.only)
    considered = int(results.pop("_considered")[0])
    counts = Counter({k: len(v) for k, v in results.items()})
    equal = counts.get("equal", 0)
    print(f"validation={args.validation}: {considered} documents prov round-trips")
    print(f"{'class':<28} {'documents':>9}  example")
    for cls, n in sorted(counts.items(), key=lambda kv: (kv[0] != "equal", kv[0])):
        print(f"{cls:<28} {n:>9}  {results[cls][0]}")
    print(f"{'equal / considered':<28} {equal:>4}/{considered:<4}  {100 * equal / max(considered, 1):.1f} %")
    if args.list:
        for name, cls in rows:
            if cls != "equal":
                print(f"  {cls:<28} {name}")
    if args.json:
        args.json.write_text(json.dumps(dict(rows), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
