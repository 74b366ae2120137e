"""What went into a product, read off its full backward lineage as a viewer sees it: the
observations, their IRFs, the software and versions, the analysis parameters, the configuration
files, the agents and the input files. :mod:`provhub.app.diff` compares two profiles; :mod:`provhub.app.manifest`
writes one out to make the product again.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from provhub.provdm import vocabulary as voc
from provhub.provdm.errors import NotFound
from provhub.provdm.facts import Element, data_level, is_irf, ivoa_class, obs_id, prov_types, text_of, title, version
from provhub.provdm.provsap import ProvSapQuery
from provhub.provdm.selector import element_of

from . import services
from .access import OPERATOR, Viewer
from .rights import HIDDEN_NS, sees_everything, visible_ids
from .stores.base import Store

_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s+([A-Za-z].*?)\s*$")
_DIGEST = re.compile(r"(?:sha256-|hdr-sha256-|md5-)([0-9a-f]{32,64})$")


@dataclass
class Parameter:
    name: str
    value: str
    unit: str | None
    activity: str | None = None
    #: the stored value as it was (a number, a boolean, a text)
    raw: object = None

    def to_dict(self) -> dict:
        return {"name": self.name, "value": self.value, "unit": self.unit}


@dataclass
class Profile:
    id: str
    name: str
    observations: dict[str, set[str]] = field(default_factory=dict)  # obs id -> records
    irfs: dict[str, dict[str, str]] = field(default_factory=dict)  # obs id -> {irf id: "name version"}
    software: dict[str, set[str]] = field(default_factory=dict)  # name -> versions ("" unknown)
    parameters: dict[str, Parameter] = field(default_factory=dict)
    config_files: dict[str, dict] = field(default_factory=dict)  # id -> {name, digest, location}
    agents: dict[str, str] = field(default_factory=dict)  # id -> name (people, organisations)
    inputs: list[dict] = field(default_factory=list)  # files no activity of the lineage made
    elements: dict[str, Element] = field(default_factory=dict)


def split_quantity(text: str, unit: str | None = None) -> tuple[str, str | None]:
    """``"0.2 TeV"`` -> ``("0.2", "TeV")``; a value with its own unit attribute keeps it."""
    if unit:
        return text, unit
    m = _QUANTITY.match(text)
    return (m.group(1), m.group(2)) if m else (text, None)


def digest_of(el: Element) -> str | None:
    """The checksum of a file record: a checksum attribute, else the digest its id was minted from."""
    found = el.first("sha256", "checksum", "md5", "datasum")
    if found:
        return found
    m = _DIGEST.search(el.id)
    if m:
        kind = "md5" if "md5-" in el.id else "sha256"
        return f"{kind}:{m.group(1)}"
    return None


def profile(store: Store, ident: str, *, settings, viewer: Viewer = OPERATOR, where: str = "ID") -> Profile:
    """The profile of the product ``ident`` (any alias); NotFound (at ``where``) when unknown or hidden."""
    full = services.canonical(store, ident)
    found = store.get_nodes([full])
    if not found or (not sees_everything(store, viewer) and full not in visible_ids(store, [full], viewer)):
        raise NotFound(f"no record with id {ident!r} in this store", where=where)
    query = ProvSapQuery.from_args({"ID": [full], "DEPTH": "ALL", "DIRECTION": "BACK"}, max_depth=settings.max_depth)
    graph, _ns = services.trace_graph(store, query, settings=settings, viewer=viewer)
    els = {n.id: element_of(n) for n in graph.nodes if not n.id.startswith(HIDDEN_NS)}
    prof = Profile(full, title(els[full]) if full in els else full, elements=els)
    parents: dict[str, list[str]] = defaultdict(list)
    derived: dict[str, list[str]] = defaultdict(list)
    configured: dict[str, str] = {}
    for rel in graph.relations:
        if rel.type == "hadMember":
            parents[rel.dst].append(rel.src)
        elif rel.type == "wasDerivedFrom":
            derived[rel.dst].append(rel.src)
        elif rel.type == "wasInfluencedBy" and rel.category == voc.DESCRIPTION and rel.dst:
            configured[rel.dst] = rel.src
    for el in els.values():
        obs = obs_id(el)
        if obs and (data_level(el) == "DL3" or el.kind == "activity" or "InstrumentConfiguration" in prov_types(el)):
            prof.observations.setdefault(obs, set()).add(el.id)
    for el in els.values():
        cls = ivoa_class(el)
        if el.id == full:
            continue
        if is_irf(el):
            obs = obs_id(el) or next(
                (
                    obs_id(els[o])
                    for o in parents.get(el.id, []) + derived.get(el.id, [])
                    if o in els and obs_id(els[o])
                ),
                None,
            )
            prof.irfs.setdefault(obs or "", {})[el.id] = " ".join(x for x in (title(el), version(el)) if x)
        if (el.kind == "agent" and "SoftwareAgent" in prov_types(el)) or cls == "ActivityDescription":
            prof.software.setdefault(el.first("name", "label") or el.id, set()).add(version(el) or "")
        elif el.kind == "agent":
            prof.agents[el.id] = title(el)
        if cls == "Parameter":
            name = el.first("name", "label") or el.id
            raw = (el.values("value") or [None])[0]
            value, unit = split_quantity(el.first("value") or "", el.first("unit"))
            prof.parameters[name] = Parameter(name, value, unit, configured.get(el.id), raw)
        elif cls == "ConfigFile" or "ModelFile" in prov_types(el):
            prof.config_files[el.id] = {
                "id": el.id,
                "name": title(el),
                "digest": digest_of(el),
                "location": el.first("location"),
            }
    # software known with a version needs no version-less entry of the same name
    for versions in prof.software.values():
        if len(versions) > 1:
            versions.discard("")
    prof.inputs = _inputs(els, full, parents)
    return prof


def _inputs(els: dict[str, Element], product: str, parents: dict) -> list[dict]:
    """The files of the lineage: entities with a location or a checksum, the product and its
    parts left out (a part of a file, such as an HDU, is listed as its file)."""
    out = []
    for el in sorted(els.values(), key=lambda e: e.id):
        if el.kind != "entity" or el.id == product or product in parents.get(el.id, ()):
            continue
        if ivoa_class(el) == "Parameter" or "Hidden" in prov_types(el):
            continue
        location = el.first("location")
        digest = digest_of(el)
        if not location and not digest:
            continue
        if any(p in els and els[p].first("location") for p in parents.get(el.id, ())):
            continue
        out.append({"id": el.id, "name": title(el), "location": location, "checksum": digest})
    return out


def value_text(value) -> str:
    return text_of(value)
