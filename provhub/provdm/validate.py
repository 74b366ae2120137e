"""Validation of a document before it is stored.

Levels: ``strict`` (any finding rejects the document with 422), ``warn`` (findings come back as
warnings, the default), ``off`` (no checks beyond what is needed to store the document).

Checks, each with a stable code that starts the message:

- ``schema``: the PROV-JSON JSON Schema (W3C Member Submission; PROV-JSON input only).
- ``absent-formal``: a relation lacks its first formal argument (``used(ex:u1; -, ex:e1, -)``),
  which PROV-DM makes mandatory and prov reads anyway: refused by ``strict``, stored with a
  warning by ``warn`` (lineage has no edge to follow through it), stored by ``off``.
- ``key-properties``, ``property-overlap``: one relation id asserted several times with
  formal attributes (or relation types) that do not unify (PROV-CONSTRAINTS 23 and 53): every
  assertion is kept (:func:`provhub.provdm.codec.records_and_hash`); refused by ``strict``.
- ``dangling``: a relation refers to an element the document does not declare (legal in PROV,
  where it is inferred; reported at every level so pipelines notice typos, never refused:
  :data:`ADVISORY`).
- ``uniqueness``, ``start-time``, ``end-time``: one generation or invalidation of an entity by an
  activity, one start or end of an activity by a starter or ender, and an activity's times equal
  to its start and end events (PROV-CONSTRAINTS 24-29); ``absent-formal`` also covers a second
  argument the PROV-N grammar requires (``wasAttributedTo(ex:e, -)``).
- ``typing``, ``id-overlap``, ``specialization-reflexive``, ``empty-collection``: an entity
  where an activity must be or the reverse, one id for an element and a relation, a
  specialization of itself, a member of an empty collection (PROV-CONSTRAINTS 40, 50-56).
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
from .codec import REPEAT_PREFIX, Node, Relation, attr_iri
from .errors import InvalidDocument

LEVELS = ("strict", "warn", "off")
_P = voc.PROV_URI
#: formal attributes of relations (endpoints, times, plans...), as IRIs
_FORMAL_IRIS = {_P + name.split(":", 1)[1] for name in voc.FORMAL_ATTRIBUTES} | {
    _P + end.split(":", 1)[1] for pair in voc.RELATION_ENDPOINTS.values() for end in pair
}


def _schema() -> dict:
    """The 2013 PROV-JSON schema with its defects fixed here rather than in the vendored file:
    it spells the key "wasEndedby"; it does not allow the array form that the Member Submission
    uses for several records with one id; it says qualified names are URIs (``"format": "uri"``),
    so ``"e"`` under a default namespace was refused, and times RFC 3339 date-times
    (``"format": "date-time"``), so an ``xsd:dateTime`` without a time zone was refused: neither is
    a rule of PROV, and prov reads both (the same document in PROV-N or PROV-XML had no finding)."""
    schema = json.loads(resources.files("provhub.provdm").joinpath("schemas/prov-json.schema.json").read_text())
    props = schema["properties"]
    props["wasEndedBy"] = props.pop("wasEndedby")
    for definition in schema["definitions"].values():
        for prop in (definition.get("properties") or {}).values():
            if isinstance(prop, dict) and prop.get("format") in ("uri", "date-time"):
                del prop["format"]
    return schema


@functools.lru_cache(maxsize=1)
def _schema_validator():
    """The PROV-JSON schema, checked by jsonschema-rs (Rust: 30,000 records in ~10 ms, where the
    pure-Python jsonschema took 13 s, 2/3 of the whole ingest)."""
    import jsonschema_rs

    schema = _schema()
    for key, section in schema["properties"].items():
        ref = section.get("additionalProperties") if isinstance(section, dict) else None
        if key not in ("prefix", "bundle") and isinstance(ref, dict) and "$ref" in ref:
            section["additionalProperties"] = {"anyOf": [ref, {"type": "array", "items": ref}]}
    return jsonschema_rs.Draft4Validator(schema)


@functools.lru_cache(maxsize=64)
def _record_validator(section: str):
    """The schema of one record of ``section`` (``used``...), or None: it tells what is wrong
    with a record where the whole schema only says "not valid under any of the schemas"."""
    import jsonschema_rs

    schema = _schema()
    ref = (schema["properties"].get(section) or {}).get("additionalProperties")
    if not isinstance(ref, dict) or "$ref" not in ref:
        return None
    return jsonschema_rs.Draft4Validator({"$ref": ref["$ref"], "definitions": schema["definitions"]})


def schema_findings(data: dict) -> list[str]:
    """The PROV-JSON schema's findings in words: the record (section and id), the attribute and
    what the schema expects there."""
    out = []
    for err in sorted(_schema_validator().iter_errors(data), key=lambda e: [str(p) for p in e.instance_path])[:20]:
        path = [str(p) for p in err.instance_path]
        if path[:1] == ["bundle"] and len(path) >= 2:
            where, path = f"in bundle {path[1]}, ", path[2:]
        else:
            where = ""
        if len(path) < 2:
            out.append(f"schema: {where}{'/'.join(path) or 'the document'}: {err.message[:300]} (PROV-JSON schema)")
            continue
        section, rid = path[0], path[1]
        inner = _record_validator(section)
        details = [err]
        if inner is not None and isinstance(err.instance, (dict, list)):
            bodies = err.instance if isinstance(err.instance, list) else [err.instance]
            details = [e for body in bodies for e in inner.iter_errors(body)] or [err]
        for e in details[:3]:
            attr = "/".join(str(p) for p in e.instance_path) if e is not err else "/".join(path[2:])
            what = f"attribute {attr}" if attr else "the record"
            out.append(f"schema: {where}{section} {rid}, {what}: {_in_words(e, bool(attr))} (PROV-JSON schema)")
    return out


_ANY_OF = "is not valid under any of the schemas listed in the 'anyOf' keyword"
_VALUE_FORMS = (
    'a string, a number, a boolean, {"$": text, "type": datatype}, {"$": text, "lang": tag}, or a list of these'
)


def _in_words(err, attribute: bool) -> str:
    """jsonschema's message, with the one that names no rule ("anyOf") said in PROV-JSON's terms."""
    if _ANY_OF not in err.message:
        return err.message[:300]
    shown = json.dumps(err.instance, ensure_ascii=False)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    if not attribute:
        return f"{shown} is not a record (a JSON object of attributes) nor a list of records"
    return f"{shown} is not a PROV-JSON attribute value ({_VALUE_FORMS})"


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
) -> list[str]:
    """Absent first arguments and dangling references (findings subject to the validation level)."""
    findings: list[str] = []
    declared = {n.id for n in nodes} | set(known_ids)
    for rel in relations:
        src_name, _ = voc.RELATION_ENDPOINTS.get(rel.type, (None, None))
        if src_name and rel.src is None:
            findings.append(
                f"absent-formal: {rel.type} {_label(rel)} has no {src_name.split(':', 1)[1]} (its first argument, "
                f"{src_name}, is '-'); PROV-DM requires it. It is stored as written, and lineage has no edge "
                "to follow through it"
            )
        dst_name = voc.RELATION_ENDPOINTS.get(rel.type, (None, None))[1]
        if dst_name and rel.type in SECOND_REQUIRED and rel.src is not None and rel.dst is None:
            findings.append(
                f"absent-formal: {rel.type} {_label(rel)} has no {dst_name.split(':', 1)[1]} (its second "
                f"argument, {dst_name}, is '-'); the PROV-N grammar requires it. It is stored as written, and "
                "lineage has no edge to follow through it"
            )
        if rel.type == "mentionOf" and _ref(rel, "bundle") is None:
            findings.append(f"absent-formal: mentionOf {_label(rel)} names no bundle; the PROV-N grammar requires it")
        for end in (rel.src, rel.dst):
            if end is not None and end not in declared:
                findings.append(
                    f"dangling: {rel.type} {_label(rel)} refers to {end}, which this document does not declare"
                )
    return findings


def repeat_findings(relations: list[Relation]) -> list[str]:
    """Relation ids asserted more than once with assertions that do not unify
    (``key-properties``, PROV-CONSTRAINTS 23; ``property-overlap``, 53, for two relation types)."""
    repeats: dict[str, list[Relation]] = {}
    for rel in relations:
        if rel.id.startswith(REPEAT_PREFIX):
            repeats.setdefault(rel.name, []).append(rel)
    if not repeats:
        return []
    first = {rel.id: rel for rel in relations if rel.id in repeats}
    out = []
    for name, others in repeats.items():
        main = first.get(name)
        kept = [main, *others] if main else others
        types = sorted({r.type for r in kept})
        if len(types) > 1:
            out.append(
                f"property-overlap: {name} is the id of {len(kept)} relations of different types "
                f"({', '.join(types)}); PROV-CONSTRAINTS (constraint 53) makes that invalid. Every "
                "assertion is kept as written, and lineage follows each"
            )
            continue
        differ = sorted({_short(attr_iri(n)) for r in kept for n, _ in r.attrs if attr_iri(n) in _FORMAL_IRIS})
        differ = [a for a in differ if len({_shown(_first(r.attrs, _expand(a))) for r in kept}) > 1] or ["attributes"]
        out.append(
            f"key-properties: {types[0]} {name} is asserted {len(kept)} times with different "
            f"{', '.join(differ)}; PROV-CONSTRAINTS (constraint 23) requires one id to name one relation. "
            "Every assertion is kept as written, and lineage follows each"
        )
    return out


def element_findings(
    nodes: list[Node], same_scope: Collection[str] | None = None, stored_kinds: dict[str, set[str]] | None = None
) -> list[str]:
    """Element ids asserted more than once in ways that do not unify: as an entity and as an
    activity (``typing``, PROV-CONSTRAINTS 55), or as an activity with other times
    (``key-properties``, 22). An entity that is also an agent is valid PROV and no finding.
    ``same_scope``: the ids asserted as an entity and as an activity within one bundle (or the
    document's top level); None counts the whole document as one scope. ``stored_kinds``: the
    kinds the store already holds of the document's ids, as the poster may read them."""
    assertions: dict[str, list[Node]] = {}
    for node in nodes:
        assertions.setdefault(node.name, []).append(node)
    out = []
    for name, kept in assertions.items():
        kinds = {n.kind for n in kept}
        before = (stored_kinds or {}).get(name, set())
        if {"entity", "activity"} <= kinds and (same_scope is None or name in same_scope):
            out.append(
                f"typing: {name} is asserted as an entity and as an activity; PROV-CONSTRAINTS (constraint 55) "
                "keeps entities and activities apart. Every assertion is kept as written"
            )
        elif len(kinds) == 1 and {"entity", "activity"} <= kinds | before:
            out.append(
                f"typing: {name} is an {next(iter(kinds))} here and an {next(iter(before - kinds))} in the store; "
                "PROV-CONSTRAINTS (constraint 55) keeps entities and activities apart"
            )
        activities = [n for n in kept if n.kind == "activity"]
        if len(activities) > 1:
            differ = [
                a
                for a in ("startTime", "endTime")
                if len({_shown(_first(n.attrs, _P + a)) for n in activities} - {"null"}) > 1
            ]
            out.append(
                f"key-properties: activity {name} is asserted {len(activities)} times with different "
                f"{' and '.join(differ) or 'times'}; PROV-CONSTRAINTS (constraint 22) requires one id to name "
                "one activity. Every assertion is kept as written, and lineage follows the id"
            )
    return out


def disjoint_in_scope(doc) -> set[str]:
    """The ids a prov document asserts as an entity and as an activity within one bundle or
    within its top level (PROV-CONSTRAINTS checks each bundle on its own: two bundles may
    describe one id differently)."""
    from prov.model import ProvActivity, ProvEntity

    out: set[str] = set()
    for bundle in [doc, *doc.bundles]:
        entities, activities = set(), set()
        for record in bundle.get_records():
            ident = record.identifier
            if ident is not None and isinstance(record, ProvEntity):
                entities.add(ident.uri)
            elif ident is not None and isinstance(record, ProvActivity):
                activities.add(ident.uri)
        out |= entities & activities
    return out


#: relations whose second argument the PROV-N grammar requires (an eIdentifier, not
#: eIdentifierOrMarker: PROV-N section 3.3 to 3.7)
SECOND_REQUIRED = frozenset(
    {
        "wasDerivedFrom",
        "wasInformedBy",
        "wasAttributedTo",
        "actedOnBehalfOf",
        "wasInfluencedBy",
        "alternateOf",
        "specializationOf",
        "mentionOf",
        "hadMember",
    }
)

#: the uniqueness constraints (PROV-CONSTRAINTS 24 to 27): relations of these types that share the
#: key (their first argument and the named formal attribute, or the second argument) are one event
_UNIQUE = {
    "wasGeneratedBy": (24, None),
    "wasInvalidatedBy": (25, None),
    "wasStartedBy": (26, "starter"),
    "wasEndedBy": (27, "ender"),
}


def uniqueness_findings(nodes: list[Node], relations: list[Relation]) -> list[str]:
    """PROV-CONSTRAINTS 24-29: one generation (invalidation) of an entity by an activity, one
    start (end) of an activity by a starter (ender), and an activity's start and end times equal
    to those of its start and end events (``uniqueness``, ``start-time``, ``end-time``). Events
    that share a key unify: two ids, or two different times or triggers, cannot."""
    out = []
    events: dict[tuple, list[Relation]] = {}
    for rel in relations:
        if rel.type not in _UNIQUE or rel.id.startswith(REPEAT_PREFIX) or rel.src is None:
            continue
        other = _UNIQUE[rel.type][1]
        second = _ref(rel, other) if other else rel.dst
        if second is not None:
            events.setdefault((rel.type, rel.src, second), []).append(rel)
    for (rtype, first, second), same in events.items():
        if len(same) < 2:
            continue
        number = _UNIQUE[rtype][0]
        ids = sorted({r.name for r in same if not r.anonymous})
        times = sorted({_shown(_first(r.attrs, _P + "time")) for r in same} - {"null"})
        triggers = sorted({r.dst for r in same if r.dst} if rtype in ("wasStartedBy", "wasEndedBy") else set())
        what = "ids " + ", ".join(ids) if len(ids) > 1 else ("times" if len(times) > 1 else "triggers")
        if len(ids) > 1 or len(times) > 1 or len(triggers) > 1:
            out.append(
                f"uniqueness: {len(same)} {rtype} relations of {first} and {second} have "
                f"different {what}; PROV-CONSTRAINTS (constraint {number}) makes them one event"
            )
    mentions: dict[tuple, set] = {}
    for rel in relations:
        if rel.type == "mentionOf" and rel.src is not None:
            mentions.setdefault((rel.src,), set()).add((rel.dst, _ref(rel, "bundle")))
    for (specific,), said in mentions.items():
        if len(said) > 1:
            out.append(
                f"uniqueness: {specific} is a mention of {len(said)} entities or bundles "
                f"({', '.join(sorted(f'{g} in {b}' for g, b in said))}); PROV-LINKS (constraint mention-unique) allows one"
            )
    bounds = {n.id: (_first(n.attrs, _P + "startTime"), _first(n.attrs, _P + "endTime")) for n in nodes}
    for rel in relations:
        if rel.type in ("wasStartedBy", "wasEndedBy") and rel.src in bounds:
            start = rel.type == "wasStartedBy"
            mine, event = bounds[rel.src][0 if start else 1], _first(rel.attrs, _P + "time")
            if mine is not None and event is not None and _time(mine) != _time(event):
                word = "start" if start else "end"
                out.append(
                    f"{word}-time: activity {rel.src} {word}s at {mine['time']}, but {rel.type} "
                    f"{_label(rel)} says {event['time']}; PROV-CONSTRAINTS (constraint {28 if start else 29}) "
                    "makes them equal"
                )
    return out


#: the kind of element each end of a relation must be, where PROV-CONSTRAINTS' typing (50-52)
#: says, by the end's formal attribute; entity and activity are disjoint (55), an agent may be
#: either, so only those two are checked
_END_KINDS = {
    "prov:entity": "entity",
    "prov:activity": "activity",
    "prov:generatedEntity": "entity",
    "prov:usedEntity": "entity",
    "prov:informed": "activity",
    "prov:informant": "activity",
    "prov:trigger": "entity",
    "prov:alternate1": "entity",
    "prov:alternate2": "entity",
    "prov:specificEntity": "entity",
    "prov:generalEntity": "entity",
    "prov:collection": "entity",
}
_EMPTY_COLLECTION = _P + "EmptyCollection"
_TYPE = _P + "type"


def typing_findings(nodes: list[Node], relations: list[Relation]) -> list[str]:
    """PROV-CONSTRAINTS typing (50-52) with the entity-activity disjointness (55), the
    disjointness of element and relation ids (54), the irreflexive specialization (40) and the
    empty collection (56): ``typing``, ``id-overlap``, ``specialization-reflexive``,
    ``empty-collection``."""
    out = []
    kinds: dict[str, set[str]] = {}  # an id's kinds: one element may be an entity and an agent
    for n in nodes:
        kinds.setdefault(n.name, set()).add(n.kind)
    relation_ids = {r.id for r in relations if not r.anonymous and r.id not in kinds}
    empty = {n.id for n in nodes if any(_is_qn(v, _EMPTY_COLLECTION) for name, v in n.attrs if attr_iri(name) == _TYPE)}
    for rel in relations:
        ends = voc.RELATION_ENDPOINTS.get(rel.type, (None, None))
        for end, formal in zip((rel.src, rel.dst), ends, strict=True):
            want = _END_KINDS.get(formal or "")
            apart = ({"entity", "activity"} & kinds.get(end, set())) if end else set()
            have = next(iter(apart)) if len(apart) == 1 else None  # both: element_findings says so
            if want and have is not None and have != want:
                out.append(
                    f"typing: {rel.type} {_label(rel)} names {end} as its {formal}, which must be an {want}, "
                    f"but the document declares it an {have}; PROV-CONSTRAINTS (constraints 50-52 and 55) "
                    "keeps entities and activities apart"
                )
        for end, formal in zip((rel.src, rel.dst), ends, strict=True):
            if end in relation_ids:
                out.append(
                    f"typing: {rel.type} {_label(rel)} names the relation {end} as its {formal}, where "
                    "PROV-DM wants an element (an entity, activity or agent)"
                )
        if rel.type == "specializationOf" and rel.src is not None and rel.src == rel.dst:
            out.append(
                f"specialization-reflexive: specializationOf {_label(rel)} says {rel.src} is a specialization of "
                "itself; PROV-CONSTRAINTS (constraint 40) makes specialization irreflexive"
            )
        if rel.type == "hadMember" and rel.src in empty and rel.dst is not None:
            out.append(
                f"empty-collection: {rel.src} is a prov:EmptyCollection with the member {rel.dst}; "
                "PROV-CONSTRAINTS (constraint 56) allows it none"
            )
        if not rel.anonymous and not rel.id.startswith(REPEAT_PREFIX) and rel.id in kinds:
            out.append(
                f"id-overlap: {rel.id} is the id of an {' and '.join(sorted(kinds[rel.id]))} and of a {rel.type}; PROV-CONSTRAINTS "
                "(constraint 54) keeps the ids of elements and relations apart"
            )
    cycle = _cycle([(r.src, r.dst) for r in relations if r.type == "specializationOf" and r.src and r.dst])
    if cycle:
        out.append(
            f"specialization-reflexive: {' -> '.join(cycle)} is a cycle of specializationOf; specialization "
            "is transitive and irreflexive (PROV-CONSTRAINTS constraints 39 and 40), so a cycle makes one a "
            "specialization of itself"
        )
    return out


def _cycle(edges: list[tuple[str, str]]) -> list[str] | None:
    """A cycle of two or more distinct records in ``edges`` (src -> dst), if there is one."""
    after: dict[str, list[str]] = {}
    for a, b in edges:
        if a != b:
            after.setdefault(a, []).append(b)
    state: dict[str, int] = {}  # 1: on the path, 2: done
    for root in sorted(after):
        if root in state:
            continue
        path, stack = [root], [iter(after.get(root, ()))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(after.get(nxt, ())))
    return None


def _is_qn(value, iri: str) -> bool:
    return isinstance(value, dict) and "qn" in value and value["qn"][0] + value["qn"][1] == iri


def _short(iri: str) -> str:
    return "prov:" + iri[len(_P) :] if iri.startswith(_P) else iri


def _expand(name: str) -> str:
    return _P + name[5:] if name.startswith("prov:") else name


def _shown(value) -> str:
    return json.dumps(value, sort_keys=True)


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


#: the default limits (those of provhub.app.config's defaults)
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
    same_scope: Collection[str] | None = None,
    stored_kinds: dict[str, set[str]] | None = None,
) -> list[str]:
    """Check a document; return warnings, or raise InvalidDocument (422) when it must be refused.

    ``known_ids``: ids already in the store; a dangling reference to one of them is not reported.
    ``same_scope`` and ``stored_kinds``: see :func:`element_findings`.
    """
    if level not in LEVELS:
        raise ValueError(f"validation level must be one of {LEVELS}")
    errors = size_errors(nodes, relations, limits)
    if errors:
        raise InvalidDocument(f"{len(errors)} error(s): {errors[0]}", where=_where(errors[0]), details=errors)
    if level == "off":
        return []
    findings = structure_findings(nodes, relations, known_ids or set()) + repeat_findings(relations)
    if provjson is not None:
        findings = schema_findings(provjson) + findings
    findings += ordering_findings(nodes, relations) + uniqueness_findings(nodes, relations)
    findings += typing_findings(nodes, relations) + element_findings(nodes, same_scope, stored_kinds)
    refusing = [f for f in findings if _where(f) not in ADVISORY]
    if level == "strict" and refusing:
        raise InvalidDocument(
            f"{len(refusing)} problem(s) (validation=strict): {refusing[0]}",
            where=_where(refusing[0]),
            details=refusing,
        )
    return findings


#: findings reported at every level but never a reason to refuse: what PROV-CONSTRAINTS calls
#: valid (a relation may name an element no document declares: PROV infers it)
ADVISORY = frozenset({"dangling"})


def _label(rel: Relation) -> str:
    return "(anonymous)" if rel.anonymous else rel.name


def _where(message: str) -> str | None:
    code = message.split(":", 1)[0]
    return code or None
