"""ctapipe provenance log importer (``<tool>.provenance.log``).

ctapipe appends one JSON array of activities per run to the same file (``mode="a+"``), so a log
holds several arrays back to back (``[...][...]``): they are read one by one with
:meth:`json.JSONDecoder.raw_decode`. A chunk that is not valid JSON is reported (W11) and the
reader resumes at the next array that starts a line.

Each activity (``activity_uuid``) becomes ``ctaact:<uuid>``, the id the FITS importer gives the
``CTA ACTIVITY ID`` of the files it wrote, with start/end times from ``start``/``stop``
``time_utc``. Inputs are **used** and outputs **generated** (``prov:role`` from the log); a file
with a CTA product id in its ``reference_meta`` is ``ctaprod:<id>`` (so the FITS import of that
file is the same entity), else a name placeholder. The reference metadata of inputs and outputs
is mapped like FITS headers (upstream activity, contact, instrument...). ``config`` becomes
voprov:Parameters (dotted names), ``system`` a software environment entity (python packages,
platform, arguments) used as context, and ctapipe (version) the associated SoftwareAgent.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from prov.identifier import QualifiedName
from prov.model import PROV

from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids
from .analysis import config_leaves
from .base import DocBuilder, ImportResult, Warnings, literal
from .ctameta import cta_pairs
from .keywords import cta_records, read_time

_ARRAY_START = re.compile(r"\n\s*\[")


def read_chunks(text: str, warn: Warnings, path: str) -> list[dict]:
    """Activities of every JSON chunk of a log, in order."""
    decoder = json.JSONDecoder()
    activities: list[dict] = []
    pos, n = 0, 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            break
        n += 1
        try:
            chunk, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            warn.add("W11", f"chunk {n} (character {pos}) is not valid JSON: {exc.msg}", path)
            resume = _ARRAY_START.search(text, pos + 1)
            if resume is None:
                break
            pos = resume.start() + 1
            continue
        items = chunk if isinstance(chunk, list) else [chunk]
        for item in items:
            if isinstance(item, dict):
                activities.append(item)
            else:
                warn.add("W11", f"chunk {n} holds a {type(item).__name__}, not an activity", path)
    return activities


def _file_entity(item: dict, b: DocBuilder) -> tuple[QualifiedName, dict]:
    url = str(item.get("url") or "").removeprefix("file://")
    meta = cta_pairs(item.get("reference_meta") or {})
    product = meta.get(("PRODUCT", "ID"))
    qn = ids.file_by_product(product) if product else ids.file_by_name(url or "unnamed")
    b.entity(
        qn,
        [
            (PROV["label"], ids.file_name(url) if url else None),
            (PROV["location"], url or None),
            (PROV["type"], PROVHUB["FileReference"] if not product else VOPROV["DatasetEntity"]),
        ],
    )
    return qn, meta


def _environment(act: QualifiedName, system: dict, b: DocBuilder) -> QualifiedName | None:
    if not any(system.get(k) for k in ("python", "platform", "executable", "arguments")):
        return None
    python = system.get("python") or {}
    platform = system.get("platform") or {}
    packages = [f"{p.get('name')}=={p.get('version')}" for p in python.get("packages") or [] if isinstance(p, dict)]
    env = ids.sub(act, "environment")
    b.entity(
        env,
        [
            (PROV["type"], PROVHUB["SoftwareEnvironment"]),
            (PROV["label"], "software environment"),
            (PROVHUB["executable"], system.get("executable")),
            (
                PROVHUB["arguments"],
                json.dumps(system.get("arguments")) if system.get("arguments") is not None else None,
            ),
            (PROVHUB["pythonVersion"], literal(python.get("version_string")) or None),
            (
                PROVHUB["platform"],
                " ".join(str(platform.get(k) or "") for k in ("system", "release", "machine")).strip() or None,
            ),
            (PROVHUB["node"], platform.get("node")),
            (PROVHUB["packages"], "\n".join(packages) or None),
            (
                PROVHUB["environmentVariables"],
                json.dumps(system.get("environment"), sort_keys=True) if system.get("environment") else None,
            ),
        ],
    )
    b.relation("used", act, env, None, attrs=[(PROV["role"], "environment"), (PROVHUB["usageType"], "Context")])
    return env


def map_activity(
    item: dict, n: int, log_id: QualifiedName, known: set, b: DocBuilder, warn: Warnings, path: str
) -> QualifiedName:
    uuid = item.get("activity_uuid")
    if not uuid:
        warn.add("W11", f"activity {n} has no activity_uuid; it is named after the log", path)
    act = ids.CTA_ACTIVITY[ids.part(uuid)] if uuid else ids.sub(log_id, "activity", n)
    system = item.get("system") or {}
    start = read_time((item.get("start") or {}).get("time_utc"), warn, path)
    end = read_time((item.get("stop") or {}).get("time_utc"), warn, path)
    name = item.get("activity_name")
    b.activity(
        act,
        [
            (PROV["type"], PROVHUB["CtaActivity"]),
            (PROV["label"], name),
            (VOPROV["name"], name),
            (PROVHUB["status"], item.get("status")),
            (PROVHUB["exitCode"], item.get("exit_code")),
            (PROVHUB["durationMin"], item.get("duration_min")),
            (PROVHUB["provenanceLog"], path),
        ],
        start=start,
        end=end,
    )
    b.relation("wasInfluencedBy", act, log_id, attrs=[(PROV["type"], VOPROV["hadReference"])])
    version = system.get("ctapipe_version")
    agent = b.software(ids.software("ctapipe", version), "ctapipe", version)
    b.relation("wasAssociatedWith", act, agent, None, attrs=[(PROV["role"], "software")])
    _environment(act, system, b)
    config = item.get("config")
    if isinstance(config, dict):
        for key, value in config_leaves(config):
            b.parameter(ids.sub(act, "param", key), act, key, value)
    for direction in ("input", "output"):
        for entry in item.get(direction) or []:
            if not isinstance(entry, dict):
                warn.add("W11", f"activity {n}: {direction} entry {entry!r} is not an object", path)
                continue
            entity, meta = _file_entity(entry, b)
            role = [(PROV["role"], entry.get("role") or direction)]
            if direction == "input":
                b.relation("used", act, entity, None, attrs=role)
            else:
                b.relation("wasGeneratedBy", entity, act, None, attrs=role)
            if meta:
                upstream = meta.get(("ACTIVITY", "ID"))
                producer = ids.CTA_ACTIVITY[ids.part(upstream)] if upstream else act

                def generation(producer=producer, entity=entity, upstream=upstream):
                    if producer != act and str(upstream) not in known:  # else asserted with its role
                        b.relation("wasGeneratedBy", entity, producer, None)
                    return producer

                cta_records(meta, entity, b, warn, path, generation, start_time=str(upstream) not in known)
    return act


def import_ctapipe_log(path) -> ImportResult:
    """Import a ctapipe provenance log (one or several JSON arrays of activities)."""
    warn = Warnings()
    label = ids.local_path(path)
    b = DocBuilder()
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        warn.add("W11", f"cannot read the provenance log: {exc}", label, failed=True)
        return ImportResult(b.build(), warn.items, list(warn.files.values()))
    warn.file(label)
    activities = read_chunks(text, warn, label)
    if not activities:
        warn.add("W11", "no activity found in the provenance log", label, failed=True)
    log_id = b.entity(
        ids.file_by_bytes(ids.file_digest(path)),
        [
            (PROV["type"], PROVHUB["ProvenanceLog"]),
            (PROV["label"], Path(path).name),
            (PROV["location"], label),
            (VOPROV["contentType"], "application/json"),
        ],
    )
    known = {str(a.get("activity_uuid")) for a in activities if a.get("activity_uuid")}
    for n, item in enumerate(activities, 1):
        map_activity(item, n, log_id, known, b, warn, label)
    status = warn.file(label)
    status.entity, status.message = log_id.uri, f"{len(activities)} activities"
    return ImportResult(b.build(), warn.items, list(warn.files.values()))
