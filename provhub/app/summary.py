"""What a record page says a product was made from, and an activity's parameters (issue 18).

``product_summary`` traces a product's full backward lineage as the viewer sees it (the same
:func:`provhub.app.services.trace` ProvSAP and the audit run, so hidden records stay out) and reads, with
:mod:`provhub.provdm.facts`, one row per observation (OBS_ID, object, date, livetime, zenith,
telescopes), the IRFs with versions, software with versions, analysis parameters and people; the
audit's findings come with it. ``activity_parameters`` lists the parameters of one activity.
Every row keeps the id of the record it comes from, so the page links it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from provhub.provdm import vocabulary as voc
from provhub.provdm.audit_report import AuditReport
from provhub.provdm.facts import (
    Element,
    Flat,
    data_level,
    is_irf,
    ivoa_class,
    natural_key,
    noun,
    obs_id,
    prov_types,
    read_facts,
    text_of,
    time_of,
    title,
    version,
)
from provhub.provdm.errors import AnswerTooLarge, QueryTimeout
from provhub.provdm.provsap import ProvSapQuery

from . import services
from .rights import HIDDEN_NS

#: the audit's findings are shown beside the summary for lineages of at most this many records
#: (auditing 2,000 records takes a second and more: larger ones link to the audit page)
AUDIT_INLINE = 500
#: a record page summarises its product inline when its lineage graph has at most this many
#: records; a larger one links the summary page (a 1,000-run product then opens in under 2 s)
SUMMARY_INLINE = 1000
#: data levels whose entities get a summary of what they were made from
PRODUCT_LEVELS = {"DL4", "DL5", "DL6"}
_VALUE_UNIT = re.compile(r"^\s*(-?[0-9][0-9.eE+\-]*)\s+([A-Za-z][A-Za-z0-9/^*.\-]*)\s*$")


@dataclass
class Observation:
    obs_id: str
    id: str  # the record a row links to: the DL3 observation, else the run, else a member
    object: str | None = None
    date: str | None = None
    livetime: str | None = None
    zenith: str | None = None
    telescopes: str | None = None
    records: int = 0


@dataclass
class Row:
    id: str
    name: str
    version: str | None = None
    kind: str | None = None
    obs_id: str | None = None


@dataclass
class Parameter:
    id: str
    name: str
    value: str | None
    unit: str | None
    description: str | None


@dataclass
class ProductSummary:
    observations: list[Observation] = field(default_factory=list)
    irfs: list[Row] = field(default_factory=list)
    software: list[Row] = field(default_factory=list)
    parameters: list[Parameter] = field(default_factory=list)
    people: list[Row] = field(default_factory=list)
    audit: AuditReport | None = None
    records: int = 0  # in the lineage the summary read
    error: str | None = None  # why there is no summary (the lineage is too large to read at once)

    @property
    def empty(self) -> bool:
        return not self.error and not (
            self.observations or self.irfs or self.software or self.parameters or self.people
        )


def is_product(el: Element) -> bool:
    return el.kind == "entity" and data_level(el) in PRODUCT_LEVELS


def product_summary(store, record_id: str, *, settings, viewer) -> ProductSummary:
    """What ``record_id`` was made from, as ``viewer`` may see it."""
    query = ProvSapQuery.from_args(
        [("ID", record_id), ("DEPTH", "ALL"), ("DIRECTION", "BACK")], max_depth=settings.max_depth
    )
    try:
        flat = read_facts(services.trace(store, query, settings=settings, viewer=viewer))
    except (AnswerTooLarge, QueryTimeout) as exc:
        return ProductSummary(error=f"{exc.message}.")
    shown = {iri: el for iri, el in flat.elements.items() if el.declared and not iri.startswith(HIDDEN_NS)}
    described: dict[str, list[str]] = defaultdict(list)  # record -> descriptions it is described by
    for link in flat.links:
        if link.category == voc.DESCRIPTION and link.src and link.dst in shown:
            described[link.src].append(link.dst)
    out = ProductSummary(
        observations=observations(shown),
        irfs=sorted(
            (
                Row(el.id, title(el), _irf_version(el, described, shown), "IRF", obs_id(el))
                for el in shown.values()
                if is_irf(el)
            ),
            key=lambda r: (r.name.lower(), r.id),
        ),
        software=sorted(
            (
                Row(el.id, title(el), version(el), noun(el))
                for el in shown.values()
                if (el.kind == "agent" and "SoftwareAgent" in prov_types(el)) or ivoa_class(el) == "ActivityDescription"
            ),
            key=lambda r: (r.name.lower(), r.id),
        ),
        parameters=sorted(
            (parameter(el) for el in shown.values() if ivoa_class(el) == "Parameter"), key=lambda p: (p.name, p.id)
        ),
        people=sorted(
            (
                Row(el.id, title(el), None, noun(el))
                for el in shown.values()
                if el.kind == "agent" and prov_types(el) & {"Person", "Organization"}
            ),
            key=lambda r: (r.name.lower(), r.id),
        ),
    )
    out.records = len(shown)
    if len(shown) <= AUDIT_INLINE:
        out.audit = services.audit_product(store, [record_id], settings=settings, viewer=viewer)
    return out


def observations(elements: dict[str, Element]) -> list[Observation]:
    """One row per OBS_ID among ``elements``, sorted by OBS_ID (numbers as numbers)."""
    runs: dict[str, list[Element]] = defaultdict(list)
    for el in elements.values():
        obs = obs_id(el) if el.kind != "agent" else None
        if obs:
            runs[obs].append(el)
    rows = []
    for obs, members in runs.items():
        members.sort(key=lambda e: e.id)
        link = min(members, key=_link_rank)
        starts = sorted(t for e in members for t in map(time_of, e.values("startTime")) if t is not None)
        days = sorted(text_of(v).strip()[:10] for e in members for v in e.values("date_obs"))
        rows.append(
            Observation(
                obs,
                link.id,
                object=_first(members, "object"),
                date=starts[0].strftime("%Y-%m-%d %H:%M") if starts else (days[0] if days else None),
                livetime=_seconds(_first(members, "livetime", "ontime")),
                zenith=_first(members, "zen_pnt", "zenith"),
                telescopes=_first(members, "tellist", "telescopes") or _first(members, "n_tels"),
                records=len(members),
            )
        )
    return sorted(rows, key=lambda r: natural_key(r.obs_id))


def parameter(el: Element) -> Parameter:
    value = el.first("value")
    unit = el.first("unit")
    if value is not None and unit is None:
        m = _VALUE_UNIT.match(value)
        if m:
            value, unit = m.group(1), m.group(2)
    return Parameter(el.id, el.first("name", "label") or el.short, value, unit, el.first("description"))


def activity_parameters(flat: Flat, activity_id: str) -> list[Parameter]:
    """The parameters configuring ``activity_id`` (voprov wasConfiguredBy, or a description link)."""
    ids = {link.dst for link in flat.links if link.src == activity_id and link.dst and link.category == voc.DESCRIPTION}
    found = [flat.elements[i] for i in ids if i in flat.elements and ivoa_class(flat.elements[i]) == "Parameter"]
    return sorted((parameter(el) for el in found if not el.id.startswith(HIDDEN_NS)), key=lambda p: (p.name, p.id))


def activity_software(flat: Flat, activity_id: str) -> list[Row]:
    """The agents associated with ``activity_id``, with their versions."""
    ids = {link.dst for link in flat.links if link.type == "wasAssociatedWith" and link.src == activity_id}
    return sorted(
        (
            Row(el.id, title(el), version(el), noun(el))
            for el in (flat.elements[i] for i in ids if i in flat.elements)
            if el.declared and not el.id.startswith(HIDDEN_NS)
        ),
        key=lambda r: (r.name.lower(), r.id),
    )


@dataclass
class ActivityFacts:
    start: str | None
    end: str | None
    parameters: list[Parameter]
    software: list[Row]


def activity_facts(store, activity_id: str, *, settings, viewer) -> ActivityFacts:
    """Start, end, parameters and software of an activity (one step back, as ``viewer`` sees it)."""
    query = ProvSapQuery.from_args(
        [("ID", activity_id), ("DEPTH", "1"), ("DIRECTION", "BACK")], max_depth=settings.max_depth
    )
    flat = read_facts(services.trace(store, query, settings=settings, viewer=viewer))
    el = flat.elements.get(activity_id)
    times = [time_of(next(iter(el.values(n)), None)) if el else None for n in ("startTime", "endTime")]
    start, end = (t.strftime("%Y-%m-%d %H:%M:%S UTC") if t else None for t in times)
    return ActivityFacts(start, end, activity_parameters(flat, activity_id), activity_software(flat, activity_id))


def _link_rank(el: Element) -> int:
    """Which record of a run its row links: the DL3 observation, the run, its events, any."""
    types = prov_types(el)
    if "Dl3Observation" in types:
        return 0
    if el.kind == "activity" and "Observation" in types:
        return 1
    return 2 if (el.first("hduclas1") or "").upper() == "EVENTS" else 3


def _first(members: list[Element], *names: str) -> str | None:
    for name in names:
        for el in members:
            found = el.first(name)
            if found not in (None, ""):
                return found
    return None


def _seconds(value: str | None) -> str | None:
    try:
        return f"{float(value) / 60:.1f} min" if value is not None else None
    except ValueError:
        return value


def _irf_version(el: Element, described: dict[str, list[str]], shown: dict[str, Element]) -> str | None:
    """An IRF's own version, else the format description (with version) it is described by
    (GADF ``HDUCLAS``/``HDUVERS``)."""
    own = version(el)
    if own:
        return own
    return next((title(shown[d]) for d in sorted(described.get(el.id, ())) if version(shown[d])), None)


__all__ = [
    "ProductSummary",
    "Observation",
    "Parameter",
    "Row",
    "is_product",
    "product_summary",
    "observations",
    "parameter",
    "ActivityFacts",
    "activity_facts",
    "activity_parameters",
    "activity_software",
    "natural_key",
]
