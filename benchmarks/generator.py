"""Seeded, deterministic generator of CTA-like provenance, written as PROV-JSON dicts.

The shape follows a CTA-like data flow, with IVOA Provenance DM conventions (IVOA classes as
``prov:type voprov:*``; parameters and config files are entities linked by ``wasInfluencedBy``
typed ``voprov:wasConfiguredBy``; software is a ``prov:SoftwareAgent``, people ``prov:Person``):

- **setup** (one document): the observatory, people, software versions, config files,
  simulation productions (one per zenith x NSB bin), the IRF productions that derive four IRFs
  (aeff, edisp, psf, bkg) from each, and the DL2 models trained on simulations.
- **fan-in block**: an archival DL3 release of ``fanin_runs`` runs (1,000 from 10^5 records on),
  each DL3 file produced by an activity that used the 4 IRFs of its zenith/NSB bin, in documents
  of 50 runs, and one DL5 product (the *fan-in product*, :data:`FANIN_PRODUCT`) derived from all
  of them. It is generated first and from its own random stream, so its ids and content are the
  same at every size it fits (10^5 and 10^6 records hold the very same product).
- **nights**, each one document with the night's calibration (calibration run -> DL0 per
  telescope -> calibration coefficients), then one document per observation run: observation ->
  DL0 per telescope -> DL0-to-DL1 (with the night's coefficients) -> DL1 per telescope -> DL2
  (with the model files) -> DL3 (with the IRFs of the run's zenith/NSB bin); then one DL4
  document per target observed that night; every :data:`DL5_EVERY` nights one DL5 product per
  target combining every DL4 dataset of that target so far (large documents).
- **filler**: data-quality reports on DL3 files, so that the total is exactly ``records``.

Every activity is associated with a software agent (and observations with a person), is
configured by a config file and has its own parameter entity. Documents re-declare the shared
elements they use (software, config files, IRFs, models, coefficients) with identical content,
as pipelines do, so that they stand alone; the store merges the repeats.

A record is one PROV record as ``prov`` counts it (an element or a relation). Documents are
produced one at a time (:func:`documents`), so 10^6 or 10^7 records never sit in memory at once.
``python -m benchmarks.generator --records N --out DIR`` writes them as files.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from provhub.provdm.vocabulary import PROV_URI, VOPROV_URI

NS = "https://provhub.org/bench/cta#"
PREFIXES = {"cta": NS, "voprov": VOPROV_URI, "prov": PROV_URI}

TELESCOPES = 4
ZENITH_BINS = (10, 20, 30, 40, 50)
NSB_BINS = tuple(range(1, 11))  # x dark-sky level
IRF_KINDS = ("aeff", "edisp", "psf", "bkg")
TARGETS = ("crab", "mrk421", "mrk501", "1es1959", "bllac", "gc", "ngc1275", "3c279")
RUNS_PER_NIGHT = (6, 12)
DL5_EVERY = 10
FANIN_RUNS = 1000
FANIN_PER_DOC = 50
FANIN_PRODUCT = "cta:archive/dl5/fanin-spectrum"
FANIN_PRODUCT_IRI = NS + "archive/dl5/fanin-spectrum"  # what a ProvSAP ID= names
FANIN_DL3_IRI = NS + "archive/obs1000000/dl3"  # the first DL3 event list of the fan-in product (fanin_dl3(0))
EPOCH = _dt.datetime(2026, 1, 1, 20, 0, 0, tzinfo=_dt.timezone.utc)

SOFTWARE = {  # tool -> versions (a night uses version by era)
    "acada": ("1.2.0", "1.3.1"),
    "lstchain": ("0.10.3", "0.10.7", "0.11.0"),
    "ctapipe": ("0.19.3", "0.20.1"),
    "pyirf": ("0.10.1", "0.11.0"),
    "gammapy": ("1.1", "1.2"),
    "sim_telarray": ("2022.10",),
    "corsika": ("7.7.4",),
}


def fanin_runs_for(records: int) -> int:
    """Runs in the fan-in product for a store of ``records`` records (1,000 from 10^5 on)."""
    return min(FANIN_RUNS, max(10, records // 100))


def nsb_bins_for(records: int) -> int:
    """NSB bins of the simulations/IRFs: all of them from 10^4 records on, 2 below (small setup)."""
    return len(NSB_BINS) if records >= 10_000 else 2


# -- PROV-JSON writing ------------------------------------------------------------------------


def qn(name: str) -> dict:
    return {"$": name, "type": "prov:QUALIFIED_NAME"}


def _iso(t: _dt.datetime) -> str:
    return t.isoformat()


@dataclass
class Doc:
    """One PROV-JSON document being built; ``records`` counts its PROV records."""

    name: str
    body: dict = field(default_factory=lambda: {"prefix": dict(PREFIXES)})
    records: int = 0

    def add(self, group: str, key: str, attrs: dict) -> None:
        records = self.body.setdefault(group, {})
        old = records.get(key)
        if old is None:
            records[key] = attrs
            self.records += 1
        elif old != attrs and attrs:  # a bare mention ({}) adds nothing to a declaration
            if old:
                raise ValueError(f"{key} declared twice with different content in {self.name}")
            records[key] = attrs

    def new_records(self, other: "Doc") -> int:
        """How many records merging ``other`` would add."""
        return sum(
            1
            for group, records in other.body.items()
            if group != "prefix"
            for key in records
            if key not in self.body.get(group, {})
        )

    def merge(self, other: "Doc") -> None:
        for group, records in other.body.items():
            if group != "prefix":
                for key, attrs in records.items():
                    self.add(group, key, attrs)

    def text(self) -> str:
        return json.dumps(self.body, separators=(",", ":"))

    # relations: blank keys made from their content, so they are unique and stable
    def used(self, activity: str, entity: str, role: str | None = None) -> None:
        attrs = {"prov:activity": activity, "prov:entity": entity}
        if role:
            attrs["prov:role"] = role
        self.add("used", f"_:u.{_local(activity)}.{_local(entity)}", attrs)

    def generated(self, entity: str, activity: str) -> None:
        self.add("wasGeneratedBy", f"_:g.{_local(entity)}", {"prov:entity": entity, "prov:activity": activity})

    def associated(self, activity: str, agent: str, role: str | None = None) -> None:
        attrs = {"prov:activity": activity, "prov:agent": agent}
        if role:
            attrs["prov:role"] = role
        self.add("wasAssociatedWith", f"_:a.{_local(activity)}.{_local(agent)}", attrs)

    def configured(self, activity: str, artefact: str, artefact_type: str) -> None:
        self.add(
            "wasInfluencedBy",
            f"_:c.{_local(activity)}.{_local(artefact)}",
            {
                "prov:influencee": activity,
                "prov:influencer": artefact,
                "prov:type": qn("voprov:wasConfiguredBy"),
                "voprov:artefactType": artefact_type,
            },
        )

    def derived(self, generated: str, used: str) -> None:
        self.add(
            "wasDerivedFrom",
            f"_:d.{_local(generated)}.{_local(used)}",
            {"prov:generatedEntity": generated, "prov:usedEntity": used},
        )


def _local(ident: str) -> str:
    return ident.split(":", 1)[1]


# -- the shared catalogue -----------------------------------------------------------------------


class Catalogue:
    """Shared elements (agents, software, config files, simulations, IRFs, models) by id."""

    def __init__(self, seed: int, nsb_bins: int = len(NSB_BINS)):
        self.rng = random.Random(f"{seed}/setup")
        self.nsb_bins = NSB_BINS[:nsb_bins]
        self.elements: dict[str, tuple[str, dict]] = {}
        self.setup = Doc("setup")
        self._build()

    def element(self, group: str, ident: str, attrs: dict) -> str:
        self.elements[ident] = (group, attrs)
        self.setup.add(group, ident, attrs)
        return ident

    def declare(self, doc: Doc, *idents: str) -> None:
        for ident in idents:
            group, attrs = self.elements[ident]
            doc.add(group, ident, attrs)

    def software(self, tool: str, era: int) -> str:
        versions = SOFTWARE[tool]
        return f"cta:software/{tool}-{versions[min(era, len(versions) - 1)]}"

    def config(self, tool: str, era: int) -> str:
        return "cta:config/" + _local(self.software(tool, era)).split("/", 1)[1] + ".yaml"

    def irfs(self, zenith: int, nsb: int) -> list[str]:
        return [f"cta:irf/{kind}-zd{zenith}-nsb{nsb}" for kind in IRF_KINDS]

    def models(self, era: int) -> list[str]:
        return [f"cta:model/{name}-era{min(era, 2)}" for name in ("energy-regressor", "gh-classifier")]

    def _build(self) -> None:
        self.element("agent", "cta:org/ctao", {"prov:type": qn("prov:Organization"), "prov:label": "CTAO"})
        self.people = []
        for i in range(12):
            ident = self.element(
                "agent",
                f"cta:person/p{i:02d}",
                {
                    "prov:type": qn("prov:Person"),
                    "voprov:name": f"Observer {i:02d}",
                    "voprov:affiliation": "CTAO",
                    "voprov:email": f"p{i:02d}@provhub.org",
                },
            )
            self.setup.add(
                "actedOnBehalfOf", f"_:b.person/p{i:02d}", {"prov:delegate": ident, "prov:responsible": "cta:org/ctao"}
            )
            self.people.append(ident)
        for tool, versions in SOFTWARE.items():
            for era in range(len(versions)):
                sw = self.software(tool, era)
                self.element(
                    "agent",
                    sw,
                    {
                        "prov:type": qn("prov:SoftwareAgent"),
                        "prov:label": f"{tool} {versions[era]}",
                        "voprov:name": tool,
                        "voprov:version": versions[era],
                        "voprov:url": f"https://provhub.org/bench/software/{tool}",
                    },
                )
                self.element(
                    "entity",
                    self.config(tool, era),
                    {
                        "prov:type": qn("voprov:ConfigFile"),
                        "voprov:name": f"{tool} configuration",
                        "prov:location": f"/cta/config/{_local(self.config(tool, era))}",
                        "voprov:contentType": "application/x-yaml",
                    },
                )
        for zenith in ZENITH_BINS:
            for nsb in self.nsb_bins:
                self._irf_bin(zenith, nsb)
        for era in range(3):
            self._models(era)
        self.setup_ids = list(self.elements)

    def _activity(
        self,
        doc: Doc,
        ident: str,
        label: str,
        start: _dt.datetime,
        minutes: float,
        tool: str,
        era: int,
        params: dict,
        person: str | None = None,
    ) -> str:
        """An activity with its software agent, config file and own parameter entity."""
        doc.add(
            "activity",
            ident,
            {
                "prov:label": label,
                "prov:startTime": _iso(start),
                "prov:endTime": _iso(start + _dt.timedelta(minutes=minutes)),
            },
        )
        sw, cfg = self.software(tool, era), self.config(tool, era)
        self.declare(doc, sw, cfg)
        doc.associated(ident, sw, "pipeline")
        if person:
            self.declare(doc, person)
            doc.associated(ident, person, "operator")
        doc.configured(ident, cfg, "ConfigFile")
        param = ident + "/parameters"
        attrs = {"prov:type": qn("voprov:Parameter"), "voprov:name": f"{label} parameters"}
        attrs.update({f"cta:{k}": v for k, v in params.items()})
        doc.add("entity", param, attrs)
        doc.configured(ident, param, "Parameter")
        return ident

    def _irf_bin(self, zenith: int, nsb: int) -> None:
        doc, t = self.setup, EPOCH - _dt.timedelta(days=90)
        sim = self.element(
            "entity",
            f"cta:sim/prod6-zd{zenith}-nsb{nsb}",
            {
                "prov:type": qn("voprov:DatasetEntity"),
                "prov:label": f"Prod6 zd{zenith} nsb{nsb}",
                "cta:zenith": zenith,
                "cta:nsb": nsb,
                "cta:showers": 10_000_000 + self.rng.randrange(10**6),
            },
        )
        act = self._activity(
            doc,
            f"cta:sim/prod6-zd{zenith}-nsb{nsb}/simulation",
            "simulation",
            t,
            600,
            "sim_telarray",
            0,
            {"zenith": zenith, "nsb": nsb},
        )
        doc.generated(sim, act)
        irf_act = self._activity(
            doc,
            f"cta:irf/production-zd{zenith}-nsb{nsb}",
            "irf production",
            t + _dt.timedelta(days=1),
            90,
            "pyirf",
            0,
            {"zenith": zenith, "nsb": nsb, "gh_efficiency": 0.7},
        )
        doc.used(irf_act, sim)
        for ident in self.irfs(zenith, nsb):
            self.element(
                "entity",
                ident,
                {
                    "prov:type": qn("voprov:DatasetEntity"),
                    "prov:label": _local(ident),
                    "prov:location": f"/cta/irf/{_local(ident).split('/')[1]}.fits.gz",
                    "voprov:contentType": "application/fits",
                    "cta:dataLevel": "IRF",
                },
            )
            doc.generated(ident, irf_act)
            doc.derived(ident, sim)

    def _models(self, era: int) -> None:
        doc, t = self.setup, EPOCH - _dt.timedelta(days=60 - era)
        act = self._activity(
            doc,
            f"cta:model/training-era{era}",
            "model training",
            t,
            240,
            "lstchain",
            era,
            {"n_estimators": 150, "max_depth": 30},
        )
        doc.used(act, "cta:sim/prod6-zd20-nsb1")
        for ident in self.models(era):
            self.element(
                "entity",
                ident,
                {
                    "prov:type": qn("voprov:DatasetEntity"),
                    "prov:label": _local(ident),
                    "prov:location": f"/cta/models/{_local(ident).split('/')[1]}.joblib",
                    "cta:dataLevel": "MODEL",
                },
            )
            doc.generated(ident, act)


# -- the fan-in block ---------------------------------------------------------------------------


def fanin_dl3(i: int) -> str:
    return f"cta:archive/obs{1000000 + i}/dl3"


def _fanin_docs(cat: Catalogue, seed: int, runs: int) -> Iterator[Doc]:
    rng = random.Random(f"{seed}/fanin")
    doc = None
    for i in range(runs):
        if i % FANIN_PER_DOC == 0:
            if doc is not None:
                yield doc
            doc = Doc(f"fanin-dl3-{i // FANIN_PER_DOC:03d}")
        zenith, nsb = rng.choice(ZENITH_BINS), rng.choice(cat.nsb_bins)
        start = EPOCH - _dt.timedelta(days=30, minutes=-30 * i)
        dl3 = fanin_dl3(i)
        act = cat._activity(
            doc,
            dl3 + "/production",
            "dl2 to dl3",
            start,
            5,
            "lstchain",
            0,
            {"gh_cut": round(rng.uniform(0.6, 0.9), 2), "zenith": zenith, "nsb": nsb},
        )
        for irf in cat.irfs(zenith, nsb):
            cat.declare(doc, irf)
            doc.used(act, irf, "irf")
        doc.add(
            "entity",
            dl3,
            {
                "prov:type": qn("voprov:DatasetEntity"),
                "prov:location": f"/cta/archive/dl3/obs{1000000 + i}.fits.gz",
                "cta:dataLevel": "DL3",
                "cta:obsId": 1000000 + i,
                "cta:zenith": zenith,
                "cta:nsb": nsb,
            },
        )
        doc.generated(dl3, act)
    if doc is not None:
        yield doc
    doc = Doc("fanin-dl5")
    act = cat._activity(
        doc,
        FANIN_PRODUCT + "/fit",
        "joint likelihood fit",
        EPOCH - _dt.timedelta(days=1),
        180,
        "gammapy",
        0,
        {"model": "log-parabola"},
        cat.people[0],
    )
    for i in range(runs):
        doc.add("entity", fanin_dl3(i), {})  # declared elsewhere; named here so the doc stands alone
        doc.used(act, fanin_dl3(i))
    doc.add(
        "entity",
        FANIN_PRODUCT,
        {"prov:type": qn("voprov:DatasetEntity"), "prov:label": "archival spectrum", "cta:dataLevel": "DL5"},
    )
    doc.generated(FANIN_PRODUCT, act)
    yield doc


# -- nights -------------------------------------------------------------------------------------


class Nights:
    """Night documents, one night after another, each from its own random stream."""

    def __init__(self, cat: Catalogue, seed: int):
        self.cat, self.seed = cat, seed
        self.dl4_by_target: dict[str, list[str]] = {t: [] for t in TARGETS}

    def era(self, night: int) -> int:
        return night // 40

    def documents(self, night: int) -> Iterator[Doc]:
        cat, rng, era = self.cat, random.Random(f"{self.seed}/night/{night}"), self.era(night)
        date = (EPOCH + _dt.timedelta(days=night)).date().isoformat()
        start = EPOCH + _dt.timedelta(days=night)
        shifter = cat.people[night % len(cat.people)]
        doc = Doc(f"night-{date}")
        calrun = cat._activity(
            doc,
            f"cta:night/{date}/calibration-run",
            "calibration run",
            start,
            10,
            "acada",
            era,
            {"kind": "pedestal+flatfield"},
            shifter,
        )
        coefficients = []
        for tel in range(1, TELESCOPES + 1):
            raw = doc_entity(doc, f"cta:night/{date}/calibration-run/dl0/tel{tel}", "DL0", tel)
            doc.generated(raw, calrun)
            act = cat._activity(
                doc,
                f"cta:night/{date}/calibration/tel{tel}",
                "calibration",
                start + _dt.timedelta(minutes=15),
                5,
                "lstchain",
                era,
                {"pedestal_events": 5000, "flatfield_events": 5000},
            )
            doc.used(act, raw)
            coef = doc_entity(doc, f"cta:night/{date}/calibration/tel{tel}/coefficients", "CAL", tel)
            doc.generated(coef, act)
            coefficients.append((coef, doc.body["entity"][coef]))
        yield doc

        by_target: dict[str, list[str]] = {}
        t = start + _dt.timedelta(minutes=30)
        for run in range(rng.randint(*RUNS_PER_NIGHT)):
            target = rng.choice(TARGETS)
            zenith, nsb = rng.choice(ZENITH_BINS), rng.choice(cat.nsb_bins[:6])
            obs_id = 10000 + night * 100 + run
            yield self._run(obs_id, t, era, shifter, target, zenith, nsb, coefficients, rng)
            by_target.setdefault(target, []).append(f"cta:obs/{obs_id}/dl3")
            t += _dt.timedelta(minutes=25)

        for target, dl3s in sorted(by_target.items()):
            doc = Doc(f"dl4-{date}-{target}")
            act = cat._activity(
                doc,
                f"cta:dl4/{date}/{target}/reduction",
                "data reduction",
                t,
                20,
                "gammapy",
                era,
                {"target": target, "on_radius_deg": 0.2},
            )
            for dl3 in dl3s:
                doc.add("entity", dl3, {})
                doc.used(act, dl3)
            dl4 = doc_entity(doc, f"cta:dl4/{date}/{target}/dataset", "DL4")
            doc.generated(dl4, act)
            self.dl4_by_target[target].append(dl4)
            yield doc

        if (night + 1) % DL5_EVERY == 0:
            for target, dl4s in self.dl4_by_target.items():
                if not dl4s:
                    continue
                doc = Doc(f"dl5-{date}-{target}")
                act = cat._activity(
                    doc,
                    f"cta:dl5/{date}/{target}/fit",
                    "spectral fit",
                    t,
                    60,
                    "gammapy",
                    era,
                    {"target": target, "model": "power-law"},
                    cat.people[(night + 5) % len(cat.people)],
                )
                for dl4 in dl4s:
                    doc.add("entity", dl4, {})
                    doc.used(act, dl4)
                product = doc_entity(doc, f"cta:dl5/{date}/{target}/spectrum", "DL5")
                doc.generated(product, act)
                yield doc

    def _run(self, obs_id, t, era, shifter, target, zenith, nsb, coefficients, rng) -> Doc:
        cat, base = self.cat, f"cta:obs/{obs_id}"
        doc = Doc(f"run-{obs_id}")
        obs = cat._activity(
            doc,
            base + "/observation",
            "observation",
            t,
            20,
            "acada",
            era,
            {"target": target, "zenith": zenith, "nsb": nsb},
            shifter,
        )
        dl1s = []
        for tel in range(1, TELESCOPES + 1):
            dl0 = doc_entity(doc, f"{base}/dl0/tel{tel}", "DL0", tel, obs_id)
            doc.generated(dl0, obs)
            act = cat._activity(
                doc,
                f"{base}/dl0-to-dl1/tel{tel}",
                "dl0 to dl1",
                t + _dt.timedelta(hours=10),
                30,
                "lstchain",
                era,
                {"picture_threshold": 8, "boundary_threshold": 4},
            )
            coef, attrs = coefficients[tel - 1]
            doc.add("entity", coef, attrs)
            doc.used(act, dl0)
            doc.used(act, coef, "calibration")
            dl1 = doc_entity(doc, f"{base}/dl1/tel{tel}", "DL1", tel, obs_id)
            doc.generated(dl1, act)
            dl1s.append(dl1)
        act = cat._activity(
            doc,
            base + "/dl1-to-dl2",
            "dl1 to dl2",
            t + _dt.timedelta(hours=11),
            20,
            "lstchain",
            era,
            {"intensity_min": 50},
        )
        for dl1 in dl1s:
            doc.used(act, dl1)
        for model in cat.models(era):
            cat.declare(doc, model)
            doc.used(act, model, "model")
        dl2 = doc_entity(doc, base + "/dl2", "DL2", None, obs_id)
        doc.generated(dl2, act)
        act = cat._activity(
            doc,
            base + "/dl2-to-dl3",
            "dl2 to dl3",
            t + _dt.timedelta(hours=12),
            5,
            "lstchain",
            era,
            {"gh_cut": round(rng.uniform(0.6, 0.9), 2)},
        )
        doc.used(act, dl2)
        for irf in cat.irfs(zenith, nsb):
            cat.declare(doc, irf)
            doc.used(act, irf, "irf")
        dl3 = doc_entity(doc, base + "/dl3", "DL3", None, obs_id)
        doc.generated(dl3, act)
        return doc


def doc_entity(doc: Doc, ident: str, level: str, tel: int | None = None, obs_id: int | None = None) -> str:
    attrs = {
        "prov:type": qn("voprov:DatasetEntity"),
        "cta:dataLevel": level,
        "prov:location": "/cta/data/" + _local(ident) + (".h5" if level in ("DL1", "DL2") else ".fits.gz"),
    }
    if tel is not None:
        attrs["cta:telId"] = tel
    if obs_id is not None:
        attrs["cta:obsId"] = obs_id
    doc.add("entity", ident, attrs)
    return ident


def _filler(dl3s: list[str], count: int, name: str) -> Doc:
    """Exactly ``count`` records: data-quality reports derived from DL3 files."""
    doc = Doc(name)
    i = 0
    while doc.records < count:
        report = f"cta:dq/{name}/report{i}"
        doc.add("entity", report, {"prov:type": qn("voprov:DatasetEntity"), "cta:dataLevel": "DQ"})
        if doc.records < count:
            doc.derived(report, dl3s[i % len(dl3s)])
        i += 1
    return doc


# -- the streams --------------------------------------------------------------------------------


def documents(records: int, seed: int = 1, fanin_runs: int | None = None, nsb_bins: int | None = None) -> Iterator[Doc]:
    """Documents holding exactly ``records`` records in total (at least the setup and fan-in).

    The sequence for a larger ``records`` starts with the same documents as for a smaller one
    (with the same ``fanin_runs`` and ``nsb_bins``), up to the smaller one's last (filler) document.
    """
    cat = Catalogue(seed, nsb_bins_for(records) if nsb_bins is None else nsb_bins)
    runs = fanin_runs_for(records) if fanin_runs is None else fanin_runs
    total = cat.setup.records
    yield cat.setup
    dl3s = []
    for doc in _fanin_docs(cat, seed, runs):
        total += doc.records
        yield doc
    dl3s.extend(fanin_dl3(i) for i in range(min(runs, 100)))
    nights = Nights(cat, seed)
    night = 0
    while True:
        for doc in nights.documents(night):
            if total + doc.records > records:
                if records > total:
                    yield _filler(dl3s, records - total, f"filler-{records}")
                return
            total += doc.records
            dl3s.extend(k for k in doc.body.get("entity", {}) if k.endswith("/dl3"))
            del dl3s[:-200]
            yield doc
        night += 1


def large_document(records: int, seed: int = 1) -> Doc:
    """One document of exactly ``records`` records: consecutive nights merged into one, with the
    shared elements they use (a night batch re-posted as one file; the ingest benchmark's input)."""
    cat = Catalogue(seed, nsb_bins_for(records))
    big = Doc(f"large-{records}")
    nights, night, dl3s = Nights(cat, seed), 0, []
    while True:
        for doc in nights.documents(night):
            if big.records + big.new_records(doc) > records:
                big.merge(_filler(dl3s, records - big.records, big.name))
                return big
            big.merge(doc)
            dl3s.extend(k for k in doc.body.get("entity", {}) if k.endswith("/dl3"))
        night += 1


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generator", description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="directory for the .json documents")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, doc in enumerate(documents(args.records, args.seed)):
        (args.out / f"{i:06d}-{doc.name}.json").write_text(doc.text())
        total += doc.records
    print(f"{i + 1} documents, {total} records in {args.out}")


if __name__ == "__main__":
    main()
