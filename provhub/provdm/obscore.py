"""ObsCore 1.1 tables: the columns provhub reads and writes, with their ObsCore 1.1 utypes, UCDs
and units (ObsCore 1.1, section 4 and its table of mandatory fields).

:func:`write_obscore` writes the products provhub knows as an ObsCore VOTable
(``GET /obscore``), one row per product, with ``access_url`` pointing to the product's DataLink
document and ``access_format`` the DataLink media type (ObsCore 1.1, section 4.7.1: how a row
announces that its access_url is a DataLink service). Only the columns of :data:`COLUMNS` are
written, a subset of the mandatory ones: the spectral, polarisation and resolution columns
are left out because provhub has nothing to put in them.
"""

from __future__ import annotations

import math

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
    "facility_name": (_CHAR, "obscore:Provenance.ObsConfig.Facility.name", "meta.id;instr.tel", None),
    "instrument_name": (_CHAR, "obscore:Provenance.ObsConfig.Instrument.name", "meta.id;instr", None),
}
#: the columns ``provhub import-obscore`` reads (the others are ignored)
READ = ("obs_publisher_did", "obs_id", "access_url", "dataproduct_type", "calib_level", "access_estsize")
#: integer columns have no NaN: an empty cell needs a null value
_NULLS = {"calib_level": -1, "access_estsize": -1}


def _cell(name: str, value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<TD/>" if name not in _NULLS else f"<TD>{_NULLS[name]}</TD>"
    return f"<TD>{text(value)}</TD>"


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


__all__ = ["COLUMNS", "READ", "write_obscore"]
