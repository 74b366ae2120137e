"""Validation of a document before it is stored.

Levels: ``strict`` (any finding rejects the document with 422), ``warn`` (findings come back as
warnings, the default), ``off`` (no checks beyond what is needed to store the document).

Checks, each with a stable code that starts the message:

- ``schema``: the PROV-JSON JSON Schema (W3C Member Submission; PROV-JSON input only).
- ``missing-formal``: a relation lacks its first formal argument (always an error: the store
  cannot place it).
- ``dangling``: a relation refers to an element the document does not declare (legal in PROV,
  where it is inferred; reported so pipelines notice typos).
- ``start-after-end``, ``usage-outside-activity``, ``generation-after-usage``,
  ``generation-outside-activity``: the PROV-CONSTRAINTS event orderings that need times.
- ``attribute-too-large``: a value larger than the configured limit (always an error).
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from importlib import resources
from typing import Collection, NamedTuple

from . import vocabulary as voc
from .codec import Node, Relation, attr_iri
from .errors import InvalidDocument

LEVELS = ("strict", "warn", "off")
_P = voc.PROV_URI


@functools.lru_cache(maxsize=1)
def _schema_validator():
    """The PROV-JSON schema, checked by jsonschema-rs (Rust: 30,000 records in ~10 ms, where the
    pure-Python jsonschema took 13 s, 2/3 of the whole ingest)."""
    import jsonschema_rs

    schema = json.loads(resources.files("provdm").joinpath("schemas/prov-json.schema.json").read_text())
    # Two known defects of the 2013 schema, fixed here rather than in the vendored file:
    # it spells the key "wasEndedby", and it does not allow the array form that the Member
    # Submission uses for several records with one id.
    props = schema["properties"]
    props["wasEndedBy"] = props.pop("wasEndedby")
    for key, section in props.items():
        ref = section.get("additionalProperties") if isinstance(section, dict) else None
        if key not in ("prefix", "bundle") and isinstance(ref, dict) and "$ref" in ref:
            section["additionalProperties"] = {"anyOf": [ref, {"type": "array", "items": ref}]}
    return jsonschema_rs.Draft4Validator(schema)


def schema_findings(data: dict) -> list[str]:
    out = []
    for err in sorted(_schema_validator().iter_errors(data), key=lambda e: [str(p) for p in e.instance_path])[:20]:
        path = "/".join(str(p) for p in err.instance_path) or "(document)"
        out.append(f"schema: at {path}: {err.message[:300]}")
    return out


def _time(value) -> _dt.datetime | None:
    if isinstance(value, dict) and "time" in value:
        t = _dt.datetime.fromisoformat(value["time"])
        return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)
    return None


def _first(attrs: list, iri: str):
    for n, v in attrs:
        if attr_iri(n) == iri:
            return v
    return None


def _ref(rel: Relation, name: str) -> str | None:
    v = _first(rel.attrs, _P + name)
    return v["qn"][0] + v["qn"][1] if isinstance(v, dict) and "qn" in v else None


def structure_findings(
    nodes: list[Node], relations: list[Relation], known_ids: Collection[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """Return (errors that always reject, findings subject to the validation level)."""
    errors: list[str] = []
    findings: list[str] = []
    declared = {n.id for n in nodes} | set(known_ids)
    for rel in relations:
        src_name, dst_name = voc.RELATION_ENDPOINTS.get(rel.type, (None, None))
        if src_name and rel.src is None:
            errors.append(f"missing-formal: {rel.type} {_label(rel)} has no {src_name}")
            continue
        for end in (rel.src, rel.dst):
            if end is not None and end not in declared:
                findings.append(
                    f"dangling: {rel.type} {_label(rel)} refers to {end}, which this document does not declare"
                )
    return errors, findings


def ordering_findings(nodes: list[Node], relations: list[Relation]) -> list[str]:
    out = []
    # keyed by record IRI; read and written with relation ends, which may be absent (None)
    intervals: dict[str | None, tuple[_dt.datetime | None, _dt.datetime | None]] = {}
    for n in nodes:
        if n.kind != "activity":
            continue
        start, end = _time(_first(n.attrs, _P + "startTime")), _time(_first(n.attrs, _P + "endTime"))
        intervals[n.id] = (start, end)
        if start and end and start > end:
            out.append(
                f"start-after-end: activity {n.id} starts at {start.isoformat()} after it ends at {end.isoformat()}"
            )
    generated: dict[str | None, _dt.datetime] = {}
    for rel in relations:
        if rel.type == "wasGeneratedBy":
            t = _time(_first(rel.attrs, _P + "time"))
            if t:
                generated[rel.src] = t
                start, end = intervals.get(rel.dst, (None, None))
                if (start and t < start) or (end and t > end):
                    out.append(
                        f"generation-outside-activity: {rel.src} is generated at {t.isoformat()}, "
                        f"outside the interval of activity {rel.dst}"
                    )
    for rel in relations:
        if rel.type != "used":
            continue
        t = _time(_first(rel.attrs, _P + "time"))
        if not t:
            continue
        start, end = intervals.get(rel.src, (None, None))
        if (start and t < start) or (end and t > end):
            out.append(
                f"usage-outside-activity: activity {rel.src} uses {rel.dst} at {t.isoformat()}, "
                "outside its start/end interval"
            )
        g = generated.get(rel.dst)
        if g and g > t:
            out.append(
                f"generation-after-usage: {rel.dst} is used at {t.isoformat()} "
                f"before it is generated at {g.isoformat()}"
            )
    return out


class Limits(NamedTuple):
    """Sizes a record may have (PROVHUB_MAX_ATTRIBUTE_BYTES, _RECORD_BYTES, _ID_BYTES)."""

    attribute_bytes: int = 1_000_000
    record_bytes: int = 8_000_000
    id_bytes: int = 4096


#: the default limits (those of app.config's defaults)
DEFAULT_LIMITS = Limits()


def _nbytes(text: str) -> int:
    """The UTF-8 size of ``text``; encoded only when it is not ASCII (``isascii`` reads a flag).
    Exact, because a record's size is the sum of these (a length that only told whether one
    value is over its limit undercounted multi-byte values and names in the record's total)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def size_errors(nodes: list[Node], relations: list[Relation], limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Records, ids, attribute names or values over the limits (``attribute-too-large``,
    ``record-too-large``, ``id-too-long``), each naming the record."""
    out = []
    records: list[Node | Relation] = [*nodes, *relations]
    for rec in records:
        if rec.id and _nbytes(rec.id) > limits.id_bytes:
            out.append(
                f"id-too-long: the id {rec.id[:60]}... has {len(rec.id)} characters (limit {limits.id_bytes} bytes)"
            )
            continue
        total = 0
        for n, v in rec.attrs:
            name = attr_iri(n)
            if (name_size := _nbytes(name)) > limits.id_bytes:
                out.append(
                    f"id-too-long: an attribute name of {rec.id} has {len(name)} characters "
                    f"(limit {limits.id_bytes} bytes): {name[:60]}..."
                )
            text = v if isinstance(v, str) else v.get("lit") if isinstance(v, dict) else None
            size = _nbytes(text) if isinstance(text, str) else 0
            if size > limits.attribute_bytes:
                out.append(f"attribute-too-large: {name} of {rec.id} has {size} bytes (limit {limits.attribute_bytes})")
            total += size + name_size
        if total > limits.record_bytes:
            out.append(
                f"record-too-large: {rec.id} has {total} bytes of attributes (limit {limits.record_bytes}, "
                "PROVHUB_MAX_RECORD_BYTES)"
            )
    return out


def validate(
    nodes: list[Node],
    relations: list[Relation],
    *,
    level: str = "warn",
    provjson: dict | None = None,
    limits: Limits = DEFAULT_LIMITS,
    known_ids: set[str] | None = None,
) -> list[str]:
    """Check a document; return warnings, or raise InvalidDocument (422) when it must be refused.

    ``known_ids``: ids already in the store; a dangling reference to one of them is not reported.
    """
    if level not in LEVELS:
        raise ValueError(f"validation level must be one of {LEVELS}")
    errors, findings = structure_findings(nodes, relations, known_ids or set())
    errors += size_errors(nodes, relations, limits)
    if errors:
        raise InvalidDocument(f"{len(errors)} error(s): {errors[0]}", where=_where(errors[0]), details=errors)
    if level == "off":
        return []
    if provjson is not None:
        findings = schema_findings(provjson) + findings
    findings += ordering_findings(nodes, relations)
    if level == "strict" and findings:
        raise InvalidDocument(
            f"{len(findings)} problem(s) (validation=strict): {findings[0]}",
            where=_where(findings[0]),
            details=findings,
        )
    return findings


def _label(rel: Relation) -> str:
    return "(anonymous)" if rel.anonymous else rel.id


def _where(message: str) -> str | None:
    code = message.split(":", 1)[0]
    return code or None
