"""gammapy DataStore importer: ``obs-index`` + ``hdu-index`` -> per-observation DL3 lineage.

For each observation (``OBS_ID``) of the indexes:

- ``phobs:<TEL>/<OBS_ID>``: the observation run (activity; start/end from the obs-index).
- ``phobs:<TEL>/<OBS_ID>/instrument``: the instrument configuration (sub-array N_TELS/TELLIST,
  pointing zenith/altitude/azimuth, quality, muon efficiency, NSB, trigger rates, weather: every
  such column the obs-index has; EVENTS header values where the index lacks them; a TELARRAY
  HDU when the file has one). The DL3 production **used** it.
- ``phobs:<TEL>/<OBS_ID>/dl3-production``: the activity that generated the EVENTS/GTI HDUs
  (the same id the FITS importer gives it), informed by the observation.
- ``phobs:<TEL>/<OBS_ID>/dl3``: the DL3 observation as an analysis sees it; it
  **wasDerivedFrom** each HDU the hdu-index lists for it (events, gti, aeff, edisp, psf, bkg,
  rad_max), so lineage from a DL3 observation reaches its IRF HDUs.

Present files are imported with the FITS importer (same ids as ``import-fits``); rows pointing at
absent files get name placeholders (W07). The index tables are file entities too.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from astropy.table import Table
from prov.identifier import QualifiedName
from prov.model import PROV

from provhub.provdm.vocabulary import PROVHUB, VOPROV

from . import ids
from .base import DocBuilder, ImportResult, Warnings, literal, parse_time
from .fits import FitsFile, Resolver, attribute_name, map_file, read_fits
from .keywords import dl3_production, obs_id_value, observation_activity

INDEX_NAMES = {"hdu": ("hdu-index.fits.gz", "hdu-index.fits"), "obs": ("obs-index.fits.gz", "obs-index.fits")}
INDEX_HDUS = {"hdu": "HDU_INDEX", "obs": "OBS_INDEX"}
HDU_COLUMNS = ("OBS_ID", "HDU_TYPE", "HDU_CLASS", "FILE_DIR", "FILE_NAME", "HDU_NAME")
#: obs-index columns describing the instrument configuration of a run. The EVENTS keywords that
#: an obs-index has no column for (``keywords.HEADER_CONFIGURATION_KEYS``: OBS_MODE, EV_CLASS)
#: and the TELARRAY HDU come from the FITS importer, so that the configuration says the same
#: whether the run's file was there when the index was imported or came later.
CONFIGURATION_KEYS = (
    "N_TELS",
    "TELLIST",
    "ZEN_PNT",
    "ALT_PNT",
    "AZ_PNT",
    "RA_PNT",
    "DEC_PNT",
    "OBS_MODE",
    "QUALITY",
    "MUONEFF",
    "NSBLEVEL",
    "TRGRATE",
    "ZTRGRATE",
    "BROKPIX",
    "AIRTEMP",
    "PRESSURE",
    "RELHUM",
    "DEADC",
    "EV_CLASS",
)


def _cell(value):
    if value is np.ma.masked:
        return None
    if isinstance(value, np.float32):
        value = float(str(value))  # the float32 as written, not its float64 expansion
    value = literal(value)
    return None if value == "" else value


def _rows(table: Table) -> list[dict]:
    names = table.colnames
    return [{n: _cell(row[n]) for n in names} for row in table]


class DataStore:
    """The index tables of one DataStore directory, and the files they point at (read lazily)."""

    def __init__(self, directory, warn: Warnings):
        self.dir = Path(directory)
        self.warn = warn
        self.index_files: dict[str, FitsFile] = {}
        self.hdu_rows: list[dict] = []
        self.obs_rows: dict[object, dict] = {}
        self._files: dict[str, FitsFile | None] = {}
        self._mapped: dict[str, QualifiedName] = {}  # path -> file entity already in the builder
        self.absent: list[str] = []
        self._rows_by_obs: dict | None = None
        for kind in ("hdu", "obs"):
            self._read_index(kind)
        self.base_dir = self._base_dir()

    def _read_index(self, kind: str):
        path = next((self.dir / n for n in INDEX_NAMES[kind] if (self.dir / n).is_file()), None)
        if path is None:
            self.warn.add("W08", f"no {INDEX_NAMES[kind][0]} in {ids.local_path(self.dir)}", ids.local_path(self.dir))
            return
        label = ids.local_path(path)
        ff = read_fits(label, self.warn)
        if ff is None:
            return
        self.index_files[kind] = ff
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                hdu = INDEX_HDUS[kind] if any(h.name == INDEX_HDUS[kind] for h in ff.hdus) else 1
                table = Table.read(label, hdu=hdu)
            except (OSError, ValueError, KeyError, IndexError) as exc:
                self.warn.add("W08", f"cannot read the {kind} index table: {exc}", label)
                return
        for item in caught:
            self.warn.add("W02", " ".join(str(item.message).split()), label)
        rows = _rows(table)
        if kind == "hdu":
            missing = [c for c in HDU_COLUMNS if c not in table.colnames and c != "FILE_DIR"]
            if missing:
                self.warn.add("W08", f"hdu index lacks column(s) {', '.join(missing)}", label)
                return
            for row in rows:
                row["OBS_ID"] = obs_id_value(row["OBS_ID"], self.warn, label)
            self.hdu_rows = rows
        else:
            if "OBS_ID" not in table.colnames:
                self.warn.add("W08", "obs index lacks the OBS_ID column", label)
                return
            for row in rows:
                row["OBS_ID"] = obs_id_value(row["OBS_ID"], self.warn, label)
                self.obs_rows.setdefault(row["OBS_ID"], row)

    def _base_dir(self) -> Path:
        ff = self.index_files.get("hdu")
        base = ff.get("BASE_DIR") if ff else None
        if isinstance(base, str) and base.strip():
            candidate = Path(os.path.expandvars(base.strip()))
            candidate = candidate if candidate.is_absolute() else self.dir / candidate
            if candidate.is_dir():
                return candidate
            self.warn.add(
                "W08", f"BASE_DIR {base!r} is not a directory; paths are taken relative to the index", ff.path
            )
        return self.dir

    # lookups ---------------------------------------------------------------------------------

    @property
    def obs_ids(self) -> list:
        found = list(self.obs_rows) + [r["OBS_ID"] for r in self.hdu_rows]
        return sorted(set(found), key=lambda x: (isinstance(x, str), x))

    def rows(self, obs_id) -> list[dict]:
        if self._rows_by_obs is None:
            self._rows_by_obs = {}
            for row in self.hdu_rows:
                self._rows_by_obs.setdefault(row["OBS_ID"], []).append(row)
        return self._rows_by_obs.get(obs_id, [])

    def path(self, row: dict) -> str:
        return ids.local_path(self.base_dir / (row.get("FILE_DIR") or "") / row["FILE_NAME"])

    def file(self, path: str) -> FitsFile | None:
        """The headers of a file the index points at (None if absent or unreadable)."""
        if path not in self._files:
            if os.path.isfile(path):
                self._files[path] = read_fits(path, self.warn)
            else:
                self._files[path] = None
                self.absent.append(path)
        return self._files[path]

    def telescope(self, obs_id) -> str:
        """TELESCOP of the observation's own EVENTS file, else of the index tables, else
        ``unknown``: never guessed from another run's file, so that an observation gets the same
        id whether its file was there at this import or comes later (``phobs:unknown/<OBS_ID>``
        then joins ``phobs:<TEL>/<OBS_ID>``, see provhub/provdm/identity.py)."""
        for row in self.rows(obs_id):
            if str(row.get("HDU_TYPE", "")).lower() == "events":
                ff = self.file(self.path(row))
                if ff is not None and ff.get("TELESCOP"):
                    return str(ff.get("TELESCOP")).strip()
        found = [ff.get("TELESCOP") for ff in self.index_files.values() if ff.get("TELESCOP")]
        return str(found[0]).strip() if found else "unknown"

    # records ---------------------------------------------------------------------------------

    def mapped(self, ff: FitsFile, b: DocBuilder, resolver: Resolver) -> QualifiedName:
        """Import a file's headers once per builder; returns its entity."""
        if ff.path not in self._mapped:
            resolver.add(ff)
            self._mapped[ff.path] = map_file(ff, b, resolver, self.warn).fid
        return self._mapped[ff.path]

    def index_entity(self, kind: str, b: DocBuilder, resolver: Resolver) -> QualifiedName | None:
        ff = self.index_files.get(kind)
        if ff is None:
            return None
        fid = self.mapped(ff, b, resolver)
        b.entity(fid, [(PROV["type"], PROVHUB["HduIndex" if kind == "hdu" else "ObsIndex"])])
        return fid

    def add_observation(self, obs_id, b: DocBuilder, resolver: Resolver) -> QualifiedName:
        """Records of one observation (see module docstring); returns its DL3 entity."""
        telescope = self.telescope(obs_id)
        row = self.obs_rows.get(obs_id, {})
        run = ids.observation(telescope, obs_id)
        start = _utc(row.get("DATE-OBS"), row.get("TIME-OBS"))
        end = _utc(row.get("DATE-END"), row.get("TIME-END"))
        observation_activity(b, telescope, obs_id, start, end)
        production = dl3_production(telescope, obs_id)
        b.activity(
            production,
            [
                (PROV["type"], PROVHUB["Dl3Production"]),
                (PROV["label"], f"DL3 production of observation {obs_id}"),
                (PROVHUB["obsId"], obs_id),
            ],
        )
        b.relation("wasInformedBy", production, run)
        dl3 = b.entity(
            ids.sub(run, "dl3"),
            [
                (PROV["type"], VOPROV["DatasetEntity"]),
                (PROV["type"], PROVHUB["Dl3Observation"]),
                (PROV["label"], f"DL3 observation {obs_id}"),
                (PROVHUB["obsId"], obs_id),
                (PROVHUB["object"], row.get("OBJECT")),
            ],
        )
        hdu_index = self.index_entity("hdu", b, resolver)
        if hdu_index is not None:
            b.relation("wasDerivedFrom", dl3, hdu_index, attrs=[(PROVHUB["hduType"], "index")])
        events = None
        for hdu_row in self.rows(obs_id):
            hid, found = self._hdu_entity(hdu_row, b, resolver)
            hdu_type = str(hdu_row.get("HDU_TYPE") or "").lower()
            b.relation(
                "wasDerivedFrom",
                dl3,
                hid,
                attrs=[(PROVHUB["hduType"], hdu_type), (PROVHUB["hduClassIndex"], hdu_row.get("HDU_CLASS"))],
            )
            if hdu_type in ("events", "gti") and found is None:  # present files: FITS importer
                b.relation("wasGeneratedBy", hid, production, None)
            if hdu_type == "events" and found is not None:
                events = found
        configuration = self._configuration(run, telescope, obs_id, row, events, b, resolver)
        b.relation(
            "used",
            production,
            configuration,
            None,
            attrs=[(PROV["role"], "instrument configuration"), (PROVHUB["usageType"], "Context")],
        )
        return dl3

    def _hdu_entity(self, row: dict, b: DocBuilder, resolver: Resolver):
        """(HDU entity, (file, hdu) when the file is present) for an hdu-index row."""
        path = self.path(row)
        wanted = str(row.get("HDU_NAME") or "").strip().upper()
        ff = self.file(path)
        if ff is not None:
            fid = self.mapped(ff, b, resolver)
            for hdu in ff.hdus:
                if wanted in (hdu.name, hdu.name.split(",")[0]):
                    return ids.hdu(fid, hdu.name), (ff, hdu)
            self.warn.add("W07", f"{path} has no HDU named {wanted!r}", path)
        fid = resolver.lookup(row["FILE_NAME"]) or ids.file_by_name(row["FILE_NAME"])
        b.entity(
            fid,
            [
                (PROV["type"], PROVHUB["FileReference"]),
                (PROV["type"], PROV["Collection"]),
                (PROV["label"], ids.file_name(row["FILE_NAME"])),
                (PROV["location"], path),
            ],
        )
        hid = ids.hdu(fid, wanted)
        b.entity(
            hid,
            [
                (PROV["type"], PROVHUB["FitsHdu"]),
                (PROV["label"], f"{row['FILE_NAME']}[{wanted}]"),
                (PROVHUB["hduName"], wanted),
                (PROVHUB["hduClassIndex"], row.get("HDU_CLASS")),
                (PROVHUB["obsId"], row["OBS_ID"]),
            ],
        )
        b.relation("hadMember", fid, hid)
        return hid, None

    def _configuration(self, run, telescope, obs_id, row, events, b, resolver) -> QualifiedName:
        """The instrument configuration entity; ``events`` is (file, EVENTS hdu) or None."""
        qn = ids.sub(run, "instrument")
        ff, header = (events[0], dict(events[1].cards)) if events else (None, {})
        attrs = [
            (PROV["type"], PROVHUB["InstrumentConfiguration"]),
            (
                PROV["label"],
                f"configuration of observation {obs_id}"
                + (f" (telescopes {row['TELLIST']})" if row.get("TELLIST") else ""),
            ),
            (PROVHUB["obsId"], obs_id),
        ]
        for key in CONFIGURATION_KEYS:
            value = row.get(key)
            if value not in (None, ""):
                attrs.append((attribute_name(key), value))
        b.entity(qn, attrs)
        obs_index = self.index_entity("obs", b, resolver)
        if obs_index is not None and row:
            b.relation("wasDerivedFrom", qn, obs_index, attrs=[(PROVHUB["keyword"], "OBS_INDEX row")])
        return qn

    def report(self):
        if self.absent:
            shown = ", ".join(ids.file_name(p) for p in self.absent[:3])
            self.warn.add(
                "W07",
                f"{len(self.absent)} file(s) listed in the HDU index are absent "
                f"(kept as name placeholders): {shown}" + (", ..." if len(self.absent) > 3 else ""),
                ids.local_path(self.dir),
            )


def _utc(date, time):
    if not date:
        return None
    return parse_time(f"{str(date).strip()}T{str(time).strip()}" if time else str(date))


def import_datastore(directory) -> ImportResult:
    """Import a gammapy DataStore directory (its index tables and the files they list)."""
    warn = Warnings()
    store = DataStore(directory, warn)
    b = DocBuilder()
    resolver = Resolver(store.index_files.values())
    for kind in ("hdu", "obs"):
        store.index_entity(kind, b, resolver)
    for obs_id in store.obs_ids:
        store.add_observation(obs_id, b, resolver)
    store.report()
    resolver.report(warn)
    return ImportResult(b.build(), warn.items, list(warn.files.values()))
