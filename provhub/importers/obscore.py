"""Read an ObsCore table (VOTable or FITS, as a TAP service returns it) into plain rows.

Column names are matched without regard to case; only :data:`provhub.provdm.obscore.READ` are kept.
A row without ``obs_publisher_did`` is kept (it is reported as unmatched by the join, not
dropped here). Masked cells are None.
"""

from __future__ import annotations

from pathlib import Path

from provhub.provdm.errors import IngestError
from provhub.provdm.obscore import READ


def _plain(value):
    if value is None or getattr(value, "mask", False) is True:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def read_obscore(path: str | Path) -> list[dict]:
    """The rows of the ObsCore table in ``path``: [{column: value}] for the columns of READ."""
    from astropy.table import Table

    path = Path(path)
    fmt = "votable" if path.suffix.lower() in (".xml", ".vot", ".votable") else None
    try:
        table = Table.read(path, format=fmt) if fmt else Table.read(path)
    except Exception as exc:  # astropy raises many types for a file that is not a table
        raise IngestError(f"cannot read an ObsCore table from {path.name}: {exc}", where=str(path)) from None
    names = {c.lower(): c for c in table.colnames}
    if "obs_publisher_did" not in names:
        raise IngestError(f"{path.name} has no obs_publisher_did column: not an ObsCore table", where=str(path))
    return [{c: _plain(row[names[c]]) if c in names else None for c in READ} for row in table]
