"""Many small PROV-JSON documents as few large ones (``Client.post_many``, docs/client.md).

One POST per small document pays the HTTP exchange and a store transaction each; posting them
merged pays those once (``python -m benchmarks``, "client: small documents"). A merged document
says what its parts say: the same records (an id asserted in two parts is one record, its
assertions merged by the service's usual rules), prefixes kept, and anonymous ids (``_:...``)
made distinct per part. Standard library only, like :mod:`provhub.client`.
"""

from __future__ import annotations

from typing import Iterable, Iterator

#: PROV-JSON keys that are not kinds of record
_NOT_RECORDS = ("prefix",)


def records_of(doc: dict) -> int:
    """How many records a PROV-JSON document holds (a list under one id counts each)."""
    n = 0
    for kind, records in doc.items():
        if kind in _NOT_RECORDS or not isinstance(records, dict):
            continue
        n += sum(len(v) if isinstance(v, list) else 1 for v in records.values())
    return n


def mergeable(doc) -> bool:
    """A PROV-JSON document that can be merged: an object of records, no bundles."""
    return (
        isinstance(doc, dict)
        and "bundle" not in doc
        and isinstance(doc.get("prefix", {}), dict)
        and all(isinstance(v, dict) for k, v in doc.items())
    )


def _renamed(value, names: dict):
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, list):
        return [_renamed(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, names) for k, v in value.items()}
    return value


def merge(docs: Iterable[dict]) -> dict:
    """One PROV-JSON document holding the records of ``docs`` (their prefixes must agree)."""
    out: dict = {"prefix": {}}
    for k, doc in enumerate(docs):
        out["prefix"].update(doc.get("prefix", {}))
        blanks = {
            rid: f"_:p{k}.{rid[2:]}"
            for kind, records in doc.items()
            if kind not in _NOT_RECORDS
            for rid in records
            if rid.startswith("_:")
        }
        for kind, records in doc.items():
            if kind in _NOT_RECORDS:
                continue
            target = out.setdefault(kind, {})
            for rid, attrs in records.items():
                rid = blanks.get(rid, rid)
                attrs = _renamed(attrs, blanks) if blanks else attrs
                if rid not in target:
                    target[rid] = attrs
                    continue
                before = target[rid] if isinstance(target[rid], list) else [target[rid]]
                target[rid] = before + (attrs if isinstance(attrs, list) else [attrs])
    if not out["prefix"]:
        del out["prefix"]
    return out


def batches(docs: Iterable[dict], max_records: int) -> Iterator[list[dict]]:
    """``docs`` in order, grouped: at most ``max_records`` records a group (a larger document is
    a group of its own), and a new group where a prefix would name another namespace."""
    group: list[dict] = []
    prefixes: dict = {}
    size = 0
    for doc in docs:
        n = records_of(doc)
        clash = any(prefixes.get(p, uri) != uri for p, uri in doc.get("prefix", {}).items())
        if group and (clash or size + n > max_records):
            yield group
            group, prefixes, size = [], {}, 0
        group.append(doc)
        prefixes.update(doc.get("prefix", {}))
        size += n
    if group:
        yield group
