"""OpenLineage RunEvents as IVOA ProvDM in W3C PROV (``POST /api/v1/lineage``, docs/model.md).

One event is one small document; the events of a run join in the store because they name the
same records with the same ids (:mod:`provhub.importers.ids`), in whatever order they arrive:

- the run is the activity ``olrun:<runId>``; a START event gives its ``prov:startTime`` and
  nothing else of time, a COMPLETE, FAIL or ABORT event its ``prov:endTime``, so no two events
  of a run assert one formal attribute (RUNNING and OTHER events give no time);
- the job (namespace, name) is an ActivityDescription the activity ``voprov:isDescribedBy``;
- each dataset (namespace, name) is an entity the activity used or generated;
- the producer is a software agent associated with the activity;
- each facet is an ``olfacet:<facet name>`` attribute of the record it belongs to (run facets of
  the activity, job facets of the description, dataset facets of the entity, input and output
  facets of the used and wasGeneratedBy relation), its value the facet's JSON (``rdf:JSON``),
  ``_producer`` and ``_schemaURL`` included.

Every other attribute is one that all events of the run agree on or that merges as a set
(``ol:eventType``, ``provhub:status``), see :mod:`provhub.provdm.merge`.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from prov.identifier import Namespace
from prov.model import PROV, Literal

from provhub.provdm.errors import InvalidDocument, MalformedDocument
from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids
from .base import DocBuilder, parse_time

#: OpenLineage's terms (event fields provhub keeps) and its facets, by facet name
OL = Namespace("ol", "https://provhub.org/ns/openlineage#")
OLFACET = Namespace("olfacet", "https://provhub.org/ns/openlineage/facet#")
RDF = Namespace("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#")

EVENT_TYPES = ("START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER")
#: the event that gives the activity's start, and those that give its end (with its status)
STARTS = ("START",)
ENDS = {"COMPLETE": "succeeded", "FAIL": "failed", "ABORT": "aborted"}


def _invalid(message: str, where: str) -> InvalidDocument:
    return InvalidDocument(f"OpenLineage RunEvent: {message}", where=where)


def _text(obj: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = obj.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        shown = "missing" if value is None else f"not a non-empty string ({type(value).__name__})"
        raise _invalid(f"{where} is {shown}", where)
    return value


def _object(value: Any, where: str, *, required: bool = True) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        shown = "missing" if value is None else f"a JSON {type(value).__name__}, not an object"
        raise _invalid(f"{where} is {shown}", where)
    return value


def _facets(obj: dict, key: str, where: str, max_bytes: int | None) -> list[tuple]:
    """``obj[key]`` (facet name -> facet object) as ``olfacet:`` attributes with JSON values."""
    facets = _object(obj.get(key), f"{where}.{key}", required=False)
    attrs = []
    for name in sorted(facets):
        at = f"{where}.{key}.{name}"
        facet = _object(facets[name], at)
        text = json.dumps(facet, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        if max_bytes is not None and len(text.encode("utf-8")) > max_bytes:
            raise _invalid(
                f"the facet {at} is {len(text.encode('utf-8'))} bytes of JSON; an attribute may hold "
                f"{max_bytes} (PROVHUB_MAX_ATTRIBUTE_BYTES)",
                at,
            )
        attrs.append((OLFACET[ids.part(name)], Literal(text, RDF["JSON"])))
    return attrs


def run_id(event: dict) -> str:
    """The run's UUID, lower-case (``run.runId``)."""
    run = _object(event.get("run"), "run")
    raw = _text(run, "runId", "run.runId")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise _invalid(f"run.runId must be a UUID, not {raw[:60]!r}", "run.runId") from None


def _location(namespace: str, name: str) -> str:
    """Where a dataset is: a local file (namespace ``file`` or ``file://host``) at its path, so
    that it joins the file ``import-fits`` or capture records there (docs/model.md, "Identity
    and joins"); anything else at ``<namespace>/<name>``."""
    if namespace == "file" or namespace.startswith("file://") or "://" in name:
        return name
    return namespace.rstrip("/") + "/" + name.lstrip("/")


def _dataset(b: DocBuilder, ds: Any, where: str, max_bytes: int | None):
    ds = _object(ds, where)
    namespace, name = _text(ds, "namespace", f"{where}.namespace"), _text(ds, "name", f"{where}.name")
    assert namespace is not None and name is not None
    location = _location(namespace, name)
    return b.entity(
        ids.openlineage_dataset(namespace, name),
        [
            (PROV["type"], VOPROV["DatasetEntity"]),
            (PROV["label"], name),
            (PROV["location"], location),
            (OL["namespace"], namespace),
            (OL["name"], name),
            *_facets(ds, "facets", where, max_bytes),
        ],
    ), ds


def _datasets(event: dict, key: str) -> list:
    value = event.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid(f"{key} must be an array of datasets, not a JSON {type(value).__name__}", key)
    return value


def run_event_document(event: Any, *, max_attribute_bytes: int | None = None):
    """The ProvDocument of one OpenLineage RunEvent (a decoded JSON object).

    Raises MalformedDocument when the body is not a JSON object, InvalidDocument naming the
    OpenLineage field (``where``: ``run.runId``, ``inputs[0].name``, ...) when a field is missing
    or of the wrong type."""
    if not isinstance(event, dict):
        raise MalformedDocument(
            f"an OpenLineage RunEvent is a JSON object, not a JSON {type(event).__name__}", where="body"
        )
    if "run" not in event and "job" in event:
        raise _invalid("this is a JobEvent or DatasetEvent (no run); provhub takes RunEvents only", "run")
    event_type = event.get("eventType")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise _invalid(f"eventType must be one of {', '.join(EVENT_TYPES)}, not {str(event_type)[:40]!r}", "eventType")
    when = parse_time(_text(event, "eventTime", "eventTime"))
    if when is None:
        raise _invalid(f"eventTime must be an ISO 8601 date-time, not {event['eventTime'][:40]!r}", "eventTime")
    producer = _text(event, "producer", "producer")
    schema_url = _text(event, "schemaURL", "schemaURL")
    rid = run_id(event)
    run = event["run"]
    job = _object(event.get("job"), "job")
    job_ns, job_name = _text(job, "namespace", "job.namespace"), _text(job, "name", "job.name")
    assert job_ns is not None and job_name is not None

    b = DocBuilder()
    for ns in (OL, OLFACET, RDF):
        b.namespace(ns)
    run_facets = _object(run.get("facets"), "run.facets", required=False)
    error = run_facets.get("errorMessage") if isinstance(run_facets.get("errorMessage"), dict) else None
    act = b.activity(
        ids.openlineage_run(rid),
        [
            (PROV["label"], job_name),
            (VOPROV["name"], job_name),
            (OL["runId"], rid),
            (OL["eventType"], event_type),
            (OL["schemaURL"], schema_url),
            (OL["producer"], producer),
            (PROVHUB["status"], ENDS.get(event_type or "")),
            (PROVHUB["error"], str(error.get("message"))[:2000] if error and error.get("message") else None),
            *_facets(run, "facets", "run", max_attribute_bytes),
        ],
        start=when if event_type in STARTS else None,
        end=when if event_type in ENDS else None,
    )
    documentation = job.get("facets", {}).get("documentation") if isinstance(job.get("facets"), dict) else None
    desc = b.entity(
        ids.openlineage_job(job_ns, job_name),
        [
            (PROV["type"], VOPROV["ActivityDescription"]),
            (PROV["label"], job_name),
            (VOPROV["name"], job_name),
            (
                VOPROV["description"],
                documentation.get("description")
                if isinstance(documentation, dict) and isinstance(documentation.get("description"), str)
                else None,
            ),
            (OL["namespace"], job_ns),
            (OL["name"], job_name),
            *_facets(job, "facets", "job", max_attribute_bytes),
        ],
    )
    b.described_by(act, desc)
    agent = b.software(ids.software(producer), producer)
    b.relation("wasAssociatedWith", act, agent, None, attrs=[(PROV["role"], "producer")])
    for i, raw in enumerate(_datasets(event, "inputs")):
        where = f"inputs[{i}]"
        entity, ds = _dataset(b, raw, where, max_attribute_bytes)
        b.relation("used", act, entity, None, attrs=_facets(ds, "inputFacets", where, max_attribute_bytes))
    for i, raw in enumerate(_datasets(event, "outputs")):
        where = f"outputs[{i}]"
        entity, ds = _dataset(b, raw, where, max_attribute_bytes)
        b.relation("wasGeneratedBy", entity, act, None, attrs=_facets(ds, "outputFacets", where, max_attribute_bytes))
    return b.build()
