"""gammapy high-level analysis importer: config YAML + output product -> the analysis step.

The analysis activity is the activity that generated the DL5 product (the id the FITS importer
gives the product's generation, so both imports meet). It

- **used** the DL3 observations the configuration selects (``observations.obs_ids``, else the
  obs-index filtered by ``obs_cone`` and ``obs_time``, keeping those with the ``required_irf``),
  as ``phobs:<TEL>/<OBS_ID>/dl3`` entities built exactly as the DataStore importer builds them
  (so lineage reaches the events, GTI and IRF HDUs), and the index tables;
- **was configured by** the config file (voprov:ConfigFile) and one voprov:Parameter per
  setting (dotted name, e.g. ``observations.obs_cone.radius``);
- **used** the models file next to the config (``models.yaml``) when there is one;
- **was associated with** Gammapy (version from the product's ``CREATOR`` when it has one).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from astropy.units import UnitsError
from prov.model import PROV

from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids
from .base import DocBuilder, ImportResult, Warnings, parse_time
from .datastore import DataStore
from .fits import Resolver, map_file, read_fits
from .keywords import software_agent


def config_leaves(config, prefix: str = "") -> list[tuple[str, object]]:
    """Leaves of a nested mapping as (dotted name, value); lists as JSON text; nulls left out."""
    out: list = []
    if isinstance(config, dict):
        for key in config:
            out += config_leaves(config[key], f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(config, list):
        out.append((prefix, json.dumps(config)))
    elif config is not None:
        out.append((prefix, config if isinstance(config, (bool, int, float)) else str(config)))
    return out


def _times(value) -> list:
    values = value if isinstance(value, list) else [value]
    return [parse_time(str(v).replace(" ", "T", 1)) if v is not None else None for v in values]


def select_observations(config: dict, store: DataStore, warn: Warnings, where: str) -> list:
    """OBS_IDs the config's ``observations`` section selects from the DataStore."""
    section = config.get("observations") or {}
    wanted = section.get("obs_ids") or []
    if wanted:
        selected = [int(x) if str(x).strip().isdigit() else x for x in wanted]
    else:
        selected = list(store.obs_rows)
        cone = section.get("obs_cone") or {}
        if cone.get("lon") is not None and cone.get("radius") is not None:
            try:
                selected = [o for o in selected if _in_cone(store.obs_rows[o], cone)]
            except (ValueError, TypeError, KeyError, UnitsError) as exc:
                warn.add("W09", f"observations.obs_cone cannot be read ({exc}); cone not applied", where)
        starts, stops = (
            _times((section.get("obs_time") or {}).get("start")),
            _times((section.get("obs_time") or {}).get("stop")),
        )
        intervals = [(a, b) for a, b in zip(starts, stops, strict=False) if a or b]
        if intervals:
            selected = [o for o in selected if _overlaps(store.obs_rows[o], intervals)]
    required = [str(x).lower() for x in section.get("required_irf") or []]
    kept = []
    for obs_id in selected:
        types = {str(r.get("HDU_TYPE", "")).lower() for r in store.rows(obs_id)}
        lacking = [t for t in ["events", "gti"] + required if t not in types]
        if lacking:
            warn.add("W10", f"observation {obs_id} lacks {', '.join(lacking)} in the HDU index; left out", where)
            continue
        kept.append(obs_id)
    if not kept:
        warn.add("W09", "the configuration selects no observation of the DataStore", where)
    return kept


def _in_cone(row: dict, cone: dict) -> bool:
    import astropy.units as u
    from astropy.coordinates import Angle, SkyCoord

    if row.get("RA_PNT") is None or row.get("DEC_PNT") is None:
        return False
    frame = str(cone.get("frame") or "icrs")
    centre = SkyCoord(Angle(str(cone["lon"])), Angle(str(cone["lat"])), frame=frame)
    pointing = SkyCoord(row["RA_PNT"] * u.deg, row["DEC_PNT"] * u.deg, frame="icrs")
    return bool(pointing.separation(centre) <= Angle(str(cone["radius"])))


def _overlaps(row: dict, intervals) -> bool:
    from .datastore import _utc

    start = _utc(row.get("DATE-OBS"), row.get("TIME-OBS"))
    end = _utc(row.get("DATE-END"), row.get("TIME-END"))
    if start is None or end is None:
        return False
    return any((a is None or end > a) and (b is None or start < b) for a, b in intervals)


def import_analysis(config_path, product_path, *, datastore=None) -> ImportResult:
    """Import one gammapy analysis: its config, its product and the observations it used.

    ``datastore`` is the DataStore directory; by default the config's
    ``observations.datastore`` with environment variables expanded (``$GAMMAPY_DATA``).
    """
    warn = Warnings()
    config_label, b = ids.local_path(config_path), DocBuilder()
    try:
        text = Path(config_path).read_text()
        config = yaml.safe_load(text) or {}
    except (OSError, yaml.YAMLError) as exc:
        warn.add("W09", f"cannot read the analysis configuration: {exc}", config_label, failed=True)
        return ImportResult(b.build(), warn.items, list(warn.files.values()))
    product = read_fits(ids.local_path(product_path), warn)
    if product is None:
        warn.add("W09", "the analysis product cannot be read", config_label, failed=True)
        return ImportResult(b.build(), warn.items, list(warn.files.values()))
    resolver = Resolver([product])
    ctx = map_file(product, b, resolver, warn)
    # the output of a gammapy high-level analysis (flux points, light curve) is a DL5 product
    b.entity(ctx.fid, [(PROVHUB["dataLevel"], "DL5")])
    analysis = ctx.generation()
    section = config.get("observations") or {}
    sources = [(config.get(k) or {}).get("source") for k in ("flux_points", "light_curve")]
    target = next((s for s in sources if s), None)
    b.activity(analysis, [(PROV["type"], PROVHUB["Analysis"]), (VOPROV["name"], "gammapy high-level analysis")])
    # one prov:label: this one says more than the FITS mapper's "creation of <file>"
    b.replace(analysis, PROV["label"], f"gammapy analysis of {target or 'a source'} producing {product.basename}")
    creator = product.get("CREATOR")
    b.relation(
        "wasAssociatedWith",
        analysis,
        software_agent(b, str(creator)) if creator else b.software(ids.software("Gammapy"), "Gammapy"),
        None,
        attrs=[(PROV["role"], "software")],
    )

    cfg = b.entity(
        ids.file_by_bytes(ids.file_digest(config_path)),
        [
            (PROV["type"], VOPROV["ConfigFile"]),
            (PROV["label"], Path(config_path).name),
            (PROV["location"], config_label),
            (VOPROV["contentType"], "application/yaml"),
        ],
    )
    b.configured_by(analysis, cfg, "ConfigFile")
    for name, value in config_leaves(config):
        b.parameter(ids.sub(analysis, "param", name), analysis, name, value)
    models = Path(config_path).with_name("models.yaml")
    if models.is_file():
        entity = b.entity(
            ids.file_by_bytes(ids.file_digest(models)),
            [
                (PROV["type"], PROVHUB["ModelFile"]),
                (PROV["label"], models.name),
                (PROV["location"], ids.local_path(models)),
                (VOPROV["contentType"], "application/yaml"),
            ],
        )
        b.relation("used", analysis, entity, None, attrs=[(PROV["role"], "models")])

    directory = datastore or os.path.expandvars(str(section.get("datastore") or ""))
    if not directory or not Path(directory).is_dir():
        warn.add(
            "W09",
            f"DataStore {directory or section.get('datastore')!r} not found: pass it "
            "explicitly (--datastore); observations are not linked",
            config_label,
        )
    else:
        store = DataStore(directory, warn)
        for kind in ("obs", "hdu"):
            index = store.index_entity(kind, b, resolver)
            if index is not None:
                b.relation(
                    "used",
                    analysis,
                    index,
                    None,
                    attrs=[(PROV["role"], f"{kind}-index"), (PROVHUB["usageType"], "Setup")],
                )
        for obs_id in select_observations(config, store, warn, config_label):
            dl3 = store.add_observation(obs_id, b, resolver)
            b.relation(
                "used",
                analysis,
                dl3,
                None,
                attrs=[(PROV["role"], "observation"), (PROVHUB["usageType"], "Main"), (PROVHUB["obsId"], obs_id)],
            )
        store.report()
    warn.file(config_label).entity = cfg.uri
    resolver.report(warn)
    return ImportResult(b.build(), warn.items, list(warn.files.values()))
