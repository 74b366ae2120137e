"""Importers: PROV from files that were never described in PROV.

Each importer returns an :class:`ImportResult` (``document``, ``warnings``, ``files``):

- :func:`import_fits` / :func:`import_fits_bytes`: FITS headers (``provhub.importers.fits``).
- :func:`import_datastore`: a gammapy DataStore (obs-index / hdu-index).
- :func:`import_analysis`: a gammapy high-level analysis config plus its DL5 product.
- :func:`import_ctapipe_log`: a ctapipe ``*.provenance.log``.

Warning codes are in :data:`WARNING_CODES` and docs/importers.md. Dependency direction:
``app -> importers -> provdm`` (no Flask or click here).
"""

from .analysis import import_analysis
from .base import WARNING_CODES, FileStatus, ImportResult, ImportWarning
from .ctapipe_log import import_ctapipe_log
from .datastore import import_datastore
from .fits import import_fits, import_fits_bytes

__all__ = [
    "WARNING_CODES",
    "FileStatus",
    "ImportResult",
    "ImportWarning",
    "import_analysis",
    "import_ctapipe_log",
    "import_datastore",
    "import_fits",
    "import_fits_bytes",
]
