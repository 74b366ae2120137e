"""ObsCore 1.1 tables: the columns provhub reads and writes, with their ObsCore 1.1 utypes, UCDs
and units (ObsCore 1.1, section 4 and its table of mandatory fields).

:func:`write_obscore` writes the products provhub knows as an ObsCore VOTable
(``GET /obscore``), one row per product, with ``access_url`` pointing to the product's DataLink
document and ``access_format`` the DataLink media type (ObsCore 1.1, section 4.7.1: how a row
announces that its access_url is a DataLink service). Every mandatory column of ObsCore 1.1 is
written, in its order. The values come from what the importers keep: every card of the FITS
headers, and the IRF summaries the FITS importer reads from the IRF tables
(:mod:`provhub.importers.irf`): ``s_fov`` is the field of view of the run's effective area
(``provhub:fovDiameterDeg``, deg), ``s_region`` the circle of that diameter around the pointing
(``CIRCLE ICRS <ra> <dec> <radius>``, an ADQL/STC-S region, ``xtype="adql:REGION"``) and
``s_resolution`` the PSF's 68 % containment radius at 1 TeV (``provhub:psfR68Deg``, in arcsec);
:mod:`provhub.app.obscore` builds the rows. A value provhub cannot derive (the energy
resolution, in the EDISP matrix; pixel and bin counts) is NULL, as ObsCore allows.
:func:`wavelength` turns the energies of gamma-ray data (TeV) into the metres of ``em_min`` and
``em_max``.
"""

from __future__ import annotations

import math

from astropy import units as u

from .votable import attr, document, info, text

_CHAR = 'datatype="char" arraysize="*"'
#: name -> (VOTable datatype attributes, utype, UCD, unit)
COLUMNS: dict[str, tuple[str, str, str, str | None]] = {
    "dataproduct_type": (_CHAR, "obscore:ObsDataset.dataProductType", "meta.code.class", None),
    "calib_level": ('datatype="short"', "obscore:ObsDataset.calibLevel", "meta.code;obs.calib", None),
    "obs_collection": (_CHAR, "obscore:DataID.Collection", "meta.id", None),
    "obs_id": (_CHAR, "obscore:DataID.observationID", "meta.id", None),
    "obs_publisher_did": (_CHAR, "obscore:Curation.PublisherDID", "meta.ref.ivoid", None),
    "access_url": (_CHAR, "obscore:Access.Reference", "meta.ref.url", None),
    "access_format": (_CHAR, "obscore:Access.Format", "meta.code.mime", None),
    "access_estsize": ('datatype="long"', "obscore:Access.Size", "phys.size;meta.file", "kbyte"),
    "target_name": (_CHAR, "obscore:Target.Name", "meta.id;src", None),
    "s_ra": (
        'datatype="double"',
        "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C1",
        "pos.eq.ra",
        "deg",
    ),
    "s_dec": (
        'datatype="double"',
        "obscore:Char.SpatialAxis.Coverage.Location.Coord.Position2D.Value2.C2",
        "pos.eq.dec",
        "deg",
    ),
    "s_fov": (
        'datatype="double"',
        "obscore:Char.SpatialAxis.Coverage.Bounds.Extent.diameter",
        "phys.angSize;instr.fov",
        "deg",
    ),
    "s_region": (
        _CHAR + ' xtype="adql:REGION"',
        "obscore:Char.SpatialAxis.Coverage.Support.Area",
        "pos.outline;obs.field",
        None,
    ),
    "s_resolution": (
        'datatype="double"',
        "obscore:Char.SpatialAxis.Resolution.Refval.value",
        "pos.angResolution",
        "arcsec",
    ),
    "s_xel1": ('datatype="long"', "obscore:Char.SpatialAxis.numBins1", "meta.number", None),
    "s_xel2": ('datatype="long"', "obscore:Char.SpatialAxis.numBins2", "meta.number", None),
    "t_min": (
        'datatype="double"',
        "obscore:Char.TimeAxis.Coverage.Bounds.Limits.StartTime",
        "time.start;obs.exposure",
        "d",
    ),
    "t_max": (
        'datatype="double"',
        "obscore:Char.TimeAxis.Coverage.Bounds.Limits.StopTime",
        "time.end;obs.exposure",
        "d",
    ),
    "t_exptime": (
        'datatype="double"',
        "obscore:Char.TimeAxis.Coverage.Support.Extent",
        "time.duration;obs.exposure",
        "s",
    ),
    "t_resolution": ('datatype="double"', "obscore:Char.TimeAxis.Resolution.Refval.value", "time.resolution", "s"),
    "t_xel": ('datatype="long"', "obscore:Char.TimeAxis.numBins", "meta.number", None),
    "em_min": ('datatype="double"', "obscore:Char.SpectralAxis.Coverage.Bounds.Limits.LoLimit", "em.wl;stat.min", "m"),
    "em_max": ('datatype="double"', "obscore:Char.SpectralAxis.Coverage.Bounds.Limits.HiLimit", "em.wl;stat.max", "m"),
    "em_res_power": (
        'datatype="double"',
        "obscore:Char.SpectralAxis.Resolution.ResolPower.refVal",
        "spect.resolution",
        None,
    ),
    "em_xel": ('datatype="long"', "obscore:Char.SpectralAxis.numBins", "meta.number", None),
    "o_ucd": (_CHAR, "obscore:Char.ObservableAxis.ucd", "meta.ucd", None),
    "pol_states": (_CHAR, "obscore:Char.PolarizationAxis.stateList", "meta.code;phys.polarization", None),
    "pol_xel": ('datatype="long"', "obscore:Char.PolarizationAxis.numBins", "meta.number", None),
    "facility_name": (_CHAR, "obscore:Provenance.ObsConfig.Facility.name", "meta.id;instr.tel", None),
    "instrument_name": (_CHAR, "obscore:Provenance.ObsConfig.Instrument.name", "meta.id;instr", None),
}
#: the columns ``provhub import-obscore`` reads (the others are ignored)
READ = ("obs_publisher_did", "obs_id", "access_url", "dataproduct_type", "calib_level", "access_estsize")
#: integer columns have no NaN: an empty cell needs a null value
_NULLS = {
    "calib_level": -1,
    "access_estsize": -1,
    **{c: -1 for c in ("s_xel1", "s_xel2", "t_xel", "em_xel", "pol_xel")},
}


def _cell(name: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<TD/>" if name not in _NULLS else f"<TD>{_NULLS[name]}</TD>"
    return f"<TD>{text(value)}</TD>"


def wavelength(energy_tev: float) -> float:
    """The wavelength in metres of a photon of ``energy_tev`` TeV (lambda = h c / E: 1 TeV is
    1.24e-18 m), as ObsCore's em_min and em_max are given."""
    return float((energy_tev * u.TeV).to_value(u.m, equivalencies=u.spectral()))


def write_obscore(rows: list[dict]) -> str:
    """An ObsCore VOTable (a table named ``ivoa.obscore``) of ``rows`` ({column: value})."""
    fields = ""
    for name, (dtype, utype, ucd, unit) in COLUMNS.items():
        unit_attr = f" unit={attr(unit)}" if unit else ""
        null = f'<VALUES null="{_NULLS[name]}"/>' if name in _NULLS else ""
        fields += f"   <FIELD name={attr(name)} {dtype} utype={attr(utype)} ucd={attr(ucd)}{unit_attr}>{null}</FIELD>\n"
    data = "".join("     <TR>" + "".join(_cell(c, row.get(c)) for c in COLUMNS) + "</TR>\n" for row in rows)
    body = info("QUERY_STATUS", "OK") + (
        f'  <TABLE name="ivoa.obscore">\n{fields}   <DATA><TABLEDATA>\n{data}   </TABLEDATA></DATA>\n  </TABLE>\n'
    )
    return document(body)


__all__ = ["COLUMNS", "READ", "wavelength", "write_obscore"]
