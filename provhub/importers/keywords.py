"""Header keywords that say how a file was made, mapped to PROV records.

One function per convention, each given a :class:`FileContext`:

- :func:`map_cta`: CTA reference metadata as ctapipe writes it (``HIERARCH CTA <GROUP> <KEY>``,
  also the ``CTAO`` spelling and dotted keys).
- :func:`map_eso`: ESO DICB ``PRO`` keywords (``PRO REC{i}`` recipe chain, RAW/CAL inputs,
  PARAM, PIPE ID, DRS ID, ANCESTOR).
- :func:`map_gadf`: GADF HDU classes (descriptions) and OBS_ID (DL3 production of an observation).
- :func:`map_irf`: the field of view and PSF 68 % radius of IRF HDUs (``provhub:fovDiameterDeg``,
  ``provhub:psfR68Deg``...), which :mod:`provhub.importers.irf` read from their tables.
- :func:`map_generic`: CREATOR/PROCSOFT/PROGRAM, ORIGIN, AUTHOR, DATE/CREATED, TELESCOP/INSTRUME,
  PROVi/PRVn, CALDB+IRF, reference files (``*FILE``/``*TAB``, e.g. HST), drizzle inputs.

Keywords stay on their HDU entity as ``fits:`` attributes whatever is mapped here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from prov.identifier import QualifiedName
from prov.model import PROV

from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids
from .base import DocBuilder, Warnings, literal, parse_time
from .ctameta import cta_pairs as cta_pairs  # re-exported: provhub.importers.keywords.cta_pairs
from .fitsfile import FitsFile, Hdu, Resolver, attribute_name, read_fits

_VERSIONED = re.compile(r"^(?P<name>.+?)[\s/_-]+[vV]?(?P<version>\d[\w.+-]*)$")
_ESO_REC = re.compile(r"^ESO PRO REC(\d+) (.+)$")
_ESO_INPUT = re.compile(r"^(RAW|CAL|PARAM)(\d+) (NAME|CATG|DATAMD5|VALUE)$")
_DERIVED_FROM = re.compile(r"^(PROV|PRV)\d+$")
_SOFTWARE_KEYS = re.compile(r"^(CREATOR|PROCSOFT|PROGRAM|D\d{3}VER)$")
_REFERENCE_FILE = re.compile(r"^[A-Z0-9]{2,5}(FILE|DFIL|TAB)$")
_DRIZZLE_INPUT = re.compile(r"^D\d{3}DATA$")
#: one quick filter for the keys the generic mappers look at
_GENERIC = re.compile(r"^(CREATOR|PROCSOFT|PROGRAM|PROV\d+|PRV\d+|D\d{3}(VER|DATA)|[A-Z0-9]{2,5}(FILE|DFIL|TAB))$")
_NOT_A_FILE = {"", "N/A", "NONE", "NO", "OMIT", "UNKNOWN", "-"}


def split_version(text: str) -> tuple[str, str | None]:
    """``"Gammapy 2.0.dev1"`` -> (``Gammapy``, ``2.0.dev1``); ``"muse/0.07.00"``, ``"cpl-6.3"`` too."""
    text = " ".join(str(text).split())
    m = _VERSIONED.match(text)
    if m:
        return m.group("name"), m.group("version")
    return text, None


def cta_metadata(ff: FitsFile) -> dict[tuple[str, str], object]:
    """CTA reference metadata of a file, from every HDU (primary first): :attr:`FitsFile.cta`."""
    return ff.cta


def read_time(value, warn: Warnings, path: str):
    """A time value as UTC datetime; W05 when it cannot be read."""
    if value in (None, ""):
        return None
    parsed = parse_time(value)
    if parsed is None:
        warn.add("W05", f"cannot read the time {value!r}", path)
    return parsed


def obs_id_value(value, warn: Warnings, path: str):
    """OBS_ID as an int; a string OBS_ID is converted (W04) or kept as text."""
    if isinstance(value, bool):
        value = str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    try:
        number = int(text)
    except ValueError:
        warn.add("W04", f"OBS_ID {value!r} is not an integer; kept as text", path)
        return text
    warn.add("W04", f"OBS_ID {value!r} is a string; read as {number}", path)
    return number


def events_observation(ff: FitsFile, warn: Warnings) -> tuple[str, object] | None:
    """(telescope, obs_id) of a DL3 file: an EVENTS HDU with OBS_ID."""
    for hdu in ff.hdus:
        if "EVENTS" in [c.upper() for c in hdu.hduclass[1:2]] or hdu.name == "EVENTS":
            if hdu.has("OBS_ID"):
                telescope = str(hdu.get("TELESCOP") or ff.get("TELESCOP") or "unknown").strip()
                return telescope, obs_id_value(hdu.get("OBS_ID"), warn, ff.path)
    return None


class FileContext:
    """What the mappers of one file share: its ids, builder, resolver, and generation activity."""

    def __init__(self, ff: FitsFile, fid: QualifiedName, b: DocBuilder, resolver: Resolver, warn: Warnings):
        self.ff, self.fid, self.b, self.resolver, self.warn = ff, fid, b, resolver, warn
        self.cta = ff.cta
        self.observation = events_observation(ff, warn)
        self.generation_role: str | None = None
        self._generic: list | None = None
        self._generation: QualifiedName | None = None

    def generic_keys(self) -> list:
        if self._generic is None:
            self._generic = [(h, k, v) for h, k, v in self.ff.keys() if _GENERIC.match(k)]
        return self._generic

    # times ---------------------------------------------------------------------------------

    def time(self, value):
        return read_time(value, self.warn, self.ff.path)

    def file_time(self):
        return self.time(self.cta.get(("PRODUCT", "CREATION TIME")) or self.ff.get("CREATED") or self.ff.get("DATE"))

    def hdu_time(self, hdu: Hdu):
        own = hdu.get("CREATED") or hdu.get("DATE")
        return self.time(own) if own else self.file_time()

    # generation ----------------------------------------------------------------------------

    def generation_id(self) -> QualifiedName:
        activity_id = self.cta.get(("ACTIVITY", "ID"))
        if activity_id:
            return ids.CTA_ACTIVITY[ids.part(activity_id)]
        if self.ff.get("ESO PRO REC1 ID"):
            return ids.sub(self.fid, "REC1")
        if self.observation:
            return dl3_production(*self.observation)
        return ids.sub(self.fid, "generation")

    @property
    def has_generation(self) -> bool:
        return self._generation is not None

    def generation(self) -> QualifiedName:
        """The activity that wrote the file (created on first use), generating it and its HDUs."""
        if self._generation is None:
            gen = self._generation = self.generation_id()
            self.b.activity(
                gen,
                [(PROV["label"], f"creation of {self.ff.basename}")] if gen.localpart.endswith("/generation") else [],
            )
            role = [(PROV["role"], self.generation_role)] if self.generation_role else []
            self.b.relation("wasGeneratedBy", self.fid, gen, self.file_time(), attrs=role)
            for hdu in self.ff.hdus:
                self.b.relation("wasGeneratedBy", ids.hdu(self.fid, hdu.name), gen, self.hdu_time(hdu))
        return self._generation

    def use(self, entity: QualifiedName, role: str, usage_type: str | None = None):
        self.b.relation(
            "used", self.generation(), entity, None, attrs=[(PROV["role"], role), (PROVHUB["usageType"], usage_type)]
        )


def dl3_production(telescope: str, obs_id) -> QualifiedName:
    return ids.sub(ids.observation(telescope, obs_id), "dl3-production")


def observation_activity(b: DocBuilder, telescope: str, obs_id, start=None, end=None) -> QualifiedName:
    """The observation run (times only from the obs-index, so imports never disagree). Its label
    and the records below it do not name the telescope: an observation first seen without it
    (``phobs:unknown/<OBS_ID>``) joins the one with it and they must say the same."""
    qn = ids.observation(telescope, obs_id)
    known = telescope and telescope != "unknown"
    return b.activity(
        qn,
        [
            (PROV["type"], PROVHUB["Observation"]),
            (PROV["label"], f"observation {obs_id}"),
            (PROVHUB["telescope"], telescope if known else None),
            (PROVHUB["obsId"], obs_id),
        ],
        start=start,
        end=end,
    )


def software_agent(b: DocBuilder, text: str) -> QualifiedName:
    name, version = split_version(text)
    return b.software(ids.software(name, version), name, version)


# -- CTA ---------------------------------------------------------------------------------------


def map_cta(ctx: FileContext):
    if ctx.cta:
        cta_records(ctx.cta, ctx.fid, ctx.b, ctx.warn, ctx.ff.path, ctx.generation)


def cta_records(
    cta: dict, fid: QualifiedName, b: DocBuilder, warn: Warnings, path: str, generation, *, start_time: bool = True
):
    """Records of CTA reference metadata describing the product ``fid``.

    ``generation()`` returns (and links) the activity that made the product; ``start_time``
    False leaves the activity's start to another source (the provenance log of that activity).
    """
    get = cta.get
    if not get(("PRODUCT", "ID")):
        warn.add(
            "W13",
            "CTA reference metadata without CTA PRODUCT ID: the product is identified by its checksum or name",
            path,
        )
    b.entity(
        fid,
        [
            (VOPROV["comment"], get(("PRODUCT", "DESCRIPTION"))),
            (PROVHUB["productId"], get(("PRODUCT", "ID"))),
            (PROVHUB["dataCategory"], get(("PRODUCT", "DATA CATEGORY"))),
            (PROVHUB["dataLevels"], get(("PRODUCT", "DATA LEVELS"))),
            (PROVHUB["dataAssociation"], get(("PRODUCT", "DATA ASSOCIATION"))),
            (PROVHUB["format"], get(("PRODUCT", "FORMAT"))),
            (PROVHUB["ctaReferenceVersion"], get(("REFERENCE", "VERSION"))),
        ],
    )
    model = get(("PRODUCT", "DATA MODEL NAME"))
    if model:
        version = get(("PRODUCT", "DATA MODEL VERSION"))
        desc = ids.DESCRIPTION["cta/data-model/" + ids.part(model) + "/" + ids.part(version or "")]
        b.entity(
            desc,
            [
                (PROV["type"], VOPROV["DatasetDescription"]),
                (PROV["label"], model),
                (VOPROV["name"], model),
                (VOPROV["version"], version),
                (VOPROV["docurl"], get(("PRODUCT", "DATA MODEL URL"))),
            ],
        )
        b.described_by(fid, desc)
    if not any(group in ("ACTIVITY", "PROCESS", "INSTRUMENT", "CONTACT") for group, _ in cta):
        return
    gen = generation()
    name = get(("ACTIVITY", "NAME"))
    start = read_time(get(("ACTIVITY", "START TIME")), warn, path)
    b.activity(
        gen,
        [
            (PROV["type"], PROVHUB["CtaActivity"]),
            (PROV["label"], name),
            (VOPROV["name"], name),
            (VOPROV["type"], get(("ACTIVITY", "TYPE"))),
            # a header is written before its activity ends: its STOP TIME is kept apart
            # so that it never contradicts the endTime of the provenance log
            (PROVHUB["stopTimeInHeader"], read_time(get(("ACTIVITY", "STOP TIME")), warn, path)),
        ],
        start=start if start_time else None,
    )
    software = get(("ACTIVITY", "SOFTWARE NAME"))
    if software:
        version = get(("ACTIVITY", "SOFTWARE VERSION"))
        agent = b.software(ids.software(software, version), software, version)
        b.relation("wasAssociatedWith", gen, agent, None, attrs=[(PROV["role"], "software")])
        if name:
            desc = ids.DESCRIPTION[
                "cta/activity/" + ids.part(name) + "/" + ids.part(software) + "/" + ids.part(version or "")
            ]
            b.entity(
                desc,
                [
                    (PROV["type"], VOPROV["ActivityDescription"]),
                    (PROV["label"], name),
                    (VOPROV["name"], name),
                    (VOPROV["version"], version),
                    (VOPROV["type"], get(("ACTIVITY", "TYPE"))),
                ],
            )
            b.described_by(gen, desc)
    _cta_process(cta, b, gen)
    _cta_contact(cta, b, fid)
    _cta_instrument(cta, b, gen)


def _cta_process(cta: dict, b: DocBuilder, gen: QualifiedName):
    get = cta.get
    kind, sub, pid = get(("PROCESS", "TYPE")), get(("PROCESS", "SUBTYPE")), get(("PROCESS", "ID"))
    if kind or pid:
        process = ids.CTA_ACTIVITY["process/" + ids.part(kind or "Other") + "/" + ids.part(pid or "")]
        b.activity(
            process,
            [
                (PROV["type"], PROVHUB["CtaProcess"]),
                (PROV["label"], " ".join(str(x) for x in (kind, sub, pid) if x)),
                (VOPROV["type"], kind),
                (VOPROV["subtype"], sub or None),
                (PROVHUB["processId"], pid or None),
            ],
        )
        b.relation("wasInformedBy", gen, process)


def _cta_contact(cta: dict, b: DocBuilder, fid: QualifiedName):
    get = cta.get
    name, email, org = get(("CONTACT", "NAME")), get(("CONTACT", "EMAIL")), get(("CONTACT", "ORGANIZATION"))
    person = None
    if name or email:
        person = b.agent(
            ids.person(name or email, email),
            [
                (PROV["type"], PROV["Person"]),
                (PROV["label"], name or email),
                (VOPROV["name"], name),
                (VOPROV["email"], email),
                (VOPROV["affiliation"], org),
            ],
        )
        b.relation("wasAttributedTo", fid, person, attrs=[(PROV["role"], "contact")])
    if org:
        organization = b.agent(
            ids.organization(org), [(PROV["type"], PROV["Organization"]), (PROV["label"], org), (VOPROV["name"], org)]
        )
        if person is not None:
            b.relation("actedOnBehalfOf", person, organization)
        else:
            b.relation("wasAttributedTo", fid, organization, attrs=[(PROV["role"], "contact")])


def _cta_instrument(cta: dict, b: DocBuilder, gen: QualifiedName):
    keys = ("SITE", "CLASS", "TYPE", "SUBTYPE", "VERSION", "ID")
    values = [cta.get(("INSTRUMENT", k)) for k in keys]
    if not any(values):
        return
    qn = ids.INSTRUMENT["cta/" + "/".join(ids.part(v or "") for v in values)]
    attrs = [(PROV["type"], PROVHUB["Instrument"]), (PROV["label"], " ".join(str(v) for v in values if v))]
    attrs += [(PROVHUB["instrument" + k.title()], v) for k, v in zip(keys, values, strict=True)]
    b.entity(qn, attrs)
    b.relation("used", gen, qn, None, attrs=[(PROV["role"], "instrument"), (PROVHUB["usageType"], "Context")])


# -- ESO ---------------------------------------------------------------------------------------


def eso_recipes(ff: FitsFile) -> dict[int, dict]:
    """{i: {"ID":..., "DRS ID":..., "PIPE ID":..., "RAW": {j: {...}}, "CAL": ..., "PARAM": ...}}"""
    recipes: dict[int, dict] = {}
    for _hdu, key, value in ff.keys():
        m = _ESO_REC.match(key) if key.startswith("ESO PRO REC") else None
        if not m:
            continue
        rec = recipes.setdefault(int(m.group(1)), {"RAW": {}, "CAL": {}, "PARAM": {}})
        rest = m.group(2)
        sub = _ESO_INPUT.match(rest)
        if sub:
            rec[sub.group(1)].setdefault(int(sub.group(2)), {}).setdefault(sub.group(3), value)
        else:
            rec.setdefault(rest, value)
    return recipes


def map_eso(ctx: FileContext):
    recipes = eso_recipes(ctx.ff)
    b, ff = ctx.b, ctx.ff
    ancestor = ff.get("ESO PRO ANCESTOR")
    if ancestor:
        b.relation(
            "wasDerivedFrom",
            ctx.fid,
            ctx.resolver.file(ancestor, b, ff.path),
            attrs=[(PROVHUB["keyword"], "ESO PRO ANCESTOR")],
        )
    if not recipes:
        return
    ctx.generation_role = literal(ff.get("ESO PRO CATG")) or None
    b.entity(
        ctx.fid, [(PROVHUB["category"], ctx.generation_role), (PROVHUB["productType"], literal(ff.get("ESO PRO TYPE")))]
    )
    for i in sorted(recipes):
        rec = recipes[i]
        act = ctx.generation() if i == 1 else ids.sub(ctx.fid, f"REC{i}")
        recipe = literal(rec.get("ID")) or f"REC{i}"
        b.activity(
            act,
            [
                (PROV["type"], PROVHUB["PipelineRecipe"]),
                (PROV["label"], recipe),
                (VOPROV["name"], recipe),
                (PROVHUB["recipeStep"], i),
            ],
        )
        if i > 1:
            b.relation("wasInformedBy", ids.sub(ctx.fid, f"REC{i - 1}") if i > 2 else ctx.generation(), act)
        pipe = literal(rec.get("PIPE ID"))
        for key, role in (("PIPE ID", "pipeline"), ("DRS ID", "DRS")):
            if rec.get(key):
                b.relation(
                    "wasAssociatedWith", act, software_agent(b, literal(rec[key])), None, attrs=[(PROV["role"], role)]
                )
        desc = ids.DESCRIPTION["eso/recipe/" + ids.part(recipe) + "/" + ids.part(pipe or "")]
        b.entity(
            desc,
            [
                (PROV["type"], VOPROV["ActivityDescription"]),
                (PROV["label"], recipe),
                (VOPROV["name"], recipe),
                (VOPROV["version"], split_version(pipe)[1] if pipe else None),
                (VOPROV["type"], "ESO pipeline recipe"),
            ],
        )
        b.described_by(act, desc)
        for kind, usage_type in (("RAW", "Main"), ("CAL", "Calibration")):
            for j, item in sorted(rec[kind].items()):
                if not item.get("NAME"):
                    continue
                md5 = item.get("DATAMD5")
                fallback = ids.file_by_md5(md5) if isinstance(md5, str) and md5.strip() else None
                entity = ctx.resolver.file(item["NAME"], b, ff.path, fallback)
                b.entity(entity, [(PROVHUB["category"], literal(item.get("CATG")))])
                b.relation(
                    "used",
                    act,
                    entity,
                    None,
                    attrs=[
                        (PROV["role"], literal(item.get("CATG")) or f"{kind}{j}"),
                        (PROVHUB["usageType"], usage_type),
                    ],
                )
        for _j, item in sorted(rec["PARAM"].items()):
            if item.get("NAME"):
                name = literal(item["NAME"])
                b.parameter(ids.sub(act, "param", name), act, name, item.get("VALUE", ""))


# -- GADF --------------------------------------------------------------------------------------


def map_gadf(ctx: FileContext):
    b = ctx.b
    for hdu in ctx.ff.hdus:
        chain = hdu.hduclass
        if chain:
            version = literal(hdu.get("HDUVERS")) or ""
            desc = ids.DESCRIPTION["/".join(ids.part(c) for c in chain) + "/" + ids.part(version)]
            b.entity(
                desc,
                [
                    (PROV["type"], VOPROV["DatasetDescription"]),
                    (PROV["label"], " ".join(chain) + (f" {version}" if version else "")),
                    (VOPROV["name"], " ".join(chain)),
                    (VOPROV["version"], version or None),
                    (VOPROV["docurl"], literal(hdu.get("HDUDOC")) or None),
                ],
            )
            b.described_by(ids.hdu(ctx.fid, hdu.name), desc)
        if hdu.has("OBS_ID"):
            b.entity(
                ids.hdu(ctx.fid, hdu.name), [(PROVHUB["obsId"], obs_id_value(hdu.get("OBS_ID"), ctx.warn, ctx.ff.path))]
            )
    if ctx.observation:
        telescope, obs_id = ctx.observation
        # the file and every HDU of it (GTI, IRFs, whose headers may not repeat OBS_ID) belong to
        # the run its EVENTS HDU names; the DataStore's stand-ins for them say the same
        for qn in [ctx.fid] + [ids.hdu(ctx.fid, hdu.name) for hdu in ctx.ff.hdus]:
            b.entity(qn, [(PROVHUB["obsId"], obs_id)])
        _configuration_from_header(ctx, telescope, obs_id)
        gen = ctx.generation()
        b.activity(
            gen,
            [
                (PROV["type"], PROVHUB["Dl3Production"]),
                (PROV["label"], f"DL3 production of observation {obs_id}"),
                (PROVHUB["obsId"], obs_id),
            ],
        )
        b.relation("wasInformedBy", gen, observation_activity(b, telescope, obs_id))


#: EVENTS keywords of the instrument configuration that a GADF obs-index has no column for
HEADER_CONFIGURATION_KEYS = ("OBS_MODE", "EV_CLASS")


def _configuration_from_header(ctx: FileContext, telescope: str, obs_id):
    """What a DL3 file says of its observation's instrument configuration (the DataStore importer
    adds the obs-index row): header keywords of :data:`HEADER_CONFIGURATION_KEYS` and the
    TELARRAY HDU."""
    events = next((h for h in ctx.ff.hdus if h.name == "EVENTS" or h.has("OBS_ID")), None)
    qn = ids.sub(ids.observation(telescope, obs_id), "instrument")
    attrs = [
        (attribute_name(k), literal(events.get(k)))
        for k in HEADER_CONFIGURATION_KEYS
        if events is not None and literal(events.get(k)) not in (None, "")
    ]
    telarrays = [h for h in ctx.ff.hdus if h.name.startswith("TELARRAY")]
    if not attrs and not telarrays:
        return
    ctx.b.entity(qn, [(PROV["type"], PROVHUB["InstrumentConfiguration"])] + attrs)
    for hdu in telarrays:
        ctx.b.relation("wasDerivedFrom", qn, ids.hdu(ctx.fid, hdu.name), attrs=[(PROVHUB["hduType"], "telarray")])


# -- IRF summaries ---------------------------------------------------------------------------


def map_irf(ctx: FileContext):
    """The summaries of the IRF tables (:mod:`provhub.importers.irf`) as attributes of their HDU
    entities; a table that could not be summarised is a W15 with the reason."""
    for hdu in ctx.ff.hdus:
        if hdu.irf:
            ctx.b.entity(ids.hdu(ctx.fid, hdu.name), [(PROVHUB[name], value) for name, value in hdu.irf.items()])
        if hdu.irf_problem:
            ctx.warn.add(
                "W15", f"HDU {hdu.name} ({'/'.join(hdu.hduclass)}): {hdu.irf_problem}; no summary kept", ctx.ff.path
            )


# -- generic -----------------------------------------------------------------------------------


def map_generic(ctx: FileContext):
    ff, b = ctx.ff, ctx.b
    seen_software: set = set()
    for _hdu, key, value in ctx.generic_keys():
        if _SOFTWARE_KEYS.match(key) and literal(value) and literal(value) not in seen_software:
            seen_software.add(literal(value))
            b.relation(
                "wasAssociatedWith",
                ctx.generation(),
                software_agent(b, literal(value)),
                None,
                attrs=[(PROV["role"], "creator" if key == "CREATOR" else key.lower())],
            )
    if ff.get("CREATED") or ff.get("DATE"):
        ctx.generation()
    for key, role in (("ORIGIN", "origin"), ("AUTHOR", "author")):
        value = literal(ff.get(key))
        if value:
            kind = PROV["Organization"] if key == "ORIGIN" else PROV["Person"]
            qn = ids.organization(value) if key == "ORIGIN" else ids.person(value)
            b.agent(qn, [(PROV["type"], kind), (PROV["label"], value), (VOPROV["name"], value)])
            b.relation("wasAttributedTo", ctx.fid, qn, attrs=[(PROV["role"], role)])
    map_references(ctx)
    telescope, instrument = literal(ff.get("TELESCOP")), literal(ff.get("INSTRUME"))
    if ctx.has_generation and (telescope or instrument):
        qn = ids.INSTRUMENT[ids.part(telescope or "") + "/" + ids.part(instrument or "")]
        b.entity(
            qn,
            [
                (PROV["type"], PROVHUB["Instrument"]),
                (PROV["label"], instrument_label(telescope, instrument)),
                (PROVHUB["telescope"], telescope or None),
                (PROVHUB["instrument"], instrument or None),
            ],
        )
        ctx.use(qn, "instrument", "Context")


def instrument_label(telescope, instrument) -> str:
    """``TELESCOP INSTRUME``, or only INSTRUME when it names the telescope already
    (``H.E.S.S. Phase I`` for HESS, not ``HESS H.E.S.S. Phase I``)."""

    def squash(x):
        return re.sub(r"[^a-z0-9]", "", str(x or "").lower())

    if telescope and instrument and squash(telescope) in squash(instrument):
        return str(instrument)
    return " ".join(str(x) for x in (telescope, instrument) if x)


def map_references(ctx: FileContext):
    """Keywords naming other files: derivation (PROVi/PRVn), used reference files, CALDB/IRF."""
    ff, b, resolver = ctx.ff, ctx.b, ctx.resolver
    for _hdu, key, value in ctx.generic_keys():
        text = literal(value)
        if not isinstance(text, str) or text.upper() in _NOT_A_FILE:
            continue
        if _DERIVED_FROM.match(key):
            b.relation("wasDerivedFrom", ctx.fid, resolver.file(text, b, ff.path), attrs=[(PROVHUB["keyword"], key)])
        elif _DRIZZLE_INPUT.match(key):
            ctx.use(resolver.file(text, b, ff.path), "drizzle input", "Main")
        elif _REFERENCE_FILE.match(key) and key != "PIPEFILE" and ("$" in text or "." in text or "/" in text):
            ctx.use(resolver.file(text, b, ff.path), key, "Calibration")
    for hdu in ff.hdus:
        caldb, irf = literal(hdu.get("CALDB")), literal(hdu.get("IRF"))
        if caldb and irf:
            ctx.use(caldb_irf(ctx, hdu, caldb, irf), "irf", "Calibration")


def caldb_irf(ctx: FileContext, hdu: Hdu, caldb: str, irf: str) -> QualifiedName:
    """The IRF file a CTA-1DC style CALDB+IRF pair names: $CALDB/data/<tel>/<caldb>/bcf/<irf>/."""
    telescope = str(literal(hdu.get("TELESCOP") or ctx.ff.get("TELESCOP")) or "cta").lower()
    root = os.environ.get("CALDB")
    if root:
        folder = Path(root) / "data" / telescope / caldb / "bcf" / irf
        found = sorted(p for p in folder.glob("*") if p.is_file()) if folder.is_dir() else []
        if len(found) == 1:
            other = read_fits(str(found[0]), Warnings())
            if other is not None:
                return ctx.resolver.lookup(found[0].name) or other.identity()
    name = f"{caldb}/{irf}"
    fallback = ids.FILE["caldb/" + ids.part(telescope) + "/" + ids.part(caldb) + "/" + ids.part(irf)]
    return ctx.resolver.file(name, ctx.b, ctx.ff.path, fallback)


def map_keywords(ff: FitsFile, fid: QualifiedName, b: DocBuilder, resolver: Resolver, warn: Warnings) -> FileContext:
    ctx = FileContext(ff, fid, b, resolver, warn)
    map_eso(ctx)
    map_cta(ctx)
    map_gadf(ctx)
    map_irf(ctx)
    map_generic(ctx)
    return ctx
