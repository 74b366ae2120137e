"""The quick-start sample lineage, built by the importers from the repository's real data.

``sample_documents()`` imports, from ``data/`` (paths recorded relative to the repository):

1. the H.E.S.S. DL3 DR1 DataStore (``data/dl3/hess-dl3-dr1``: obs/hdu index, 5 runs present);
2. the headers of the DL3 files themselves (``import-fits``);
3. the gammapy Crab flux-points analysis (``crab_hess_fp/config.yaml`` + ``crab_hess_fp.fits``);
4. the gammapy PKS 2155-304 light-curve analysis (``pks2155_hess_lc``).

Tracing :data:`SAMPLE_PRODUCT_ID` back (``provhub provsap --id ... --depth ALL``) reaches the four
Crab runs (23523, 23526, 23559, 23592), their IRF HDUs and instrument configurations.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from prov.model import ProvDocument

from provhub.importers import import_analysis, import_datastore, import_fits

#: The repository root (the sample reads ``data/`` below it).
ROOT = Path(__file__).resolve().parents[2]  # the checkout: provhub/app/sample.py -> .
DATASTORE = "data/dl3/hess-dl3-dr1"
ANALYSES = [
    (
        "data/dl5/gammapy-estimators-cc-by-nc-sa/crab_hess_fp/config.yaml",
        "data/dl5/gammapy-estimators-cc-by-nc-sa/crab_hess_fp/crab_hess_fp.fits",
    ),
    (
        "data/dl5/gammapy-estimators-cc-by-nc-sa/pks2155_hess_lc/config.yaml",
        "data/dl5/gammapy-estimators-cc-by-nc-sa/pks2155_hess_lc/pks2155_hess_lc_3bins.fits",
    ),
]

#: IRI of the Crab flux points (crab_hess_fp.fits): its header digest, see provhub/importers/ids.py.
SAMPLE_PRODUCT_ID = (
    "https://provhub.org/id/file/hdr-sha256-d5e99b2ec887f282f5fa4802f21e2045be848051075e5e9feba471d999c8cd24"
)


def sample_documents() -> list[ProvDocument]:
    """The sample PROV documents (empty list when the data directory is not there)."""
    if not (ROOT / DATASTORE).is_dir():
        return []
    with contextlib.chdir(ROOT):
        results = [import_datastore(DATASTORE), import_fits([DATASTORE + "/data"])]
        results += [import_analysis(config, product, datastore=DATASTORE) for config, product in ANALYSES]
    return [r.document for r in results]
