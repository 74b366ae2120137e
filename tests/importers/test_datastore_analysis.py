"""DataStore and analysis importers on the H.E.S.S. DL3 DR1 DataStore and the gammapy DL5 files."""

from __future__ import annotations

import shutil
import warnings

import pytest
from astropy.io import fits
from astropy.table import Table

from provhub.app.sample import SAMPLE_PRODUCT_ID, sample_documents
from provhub.importers import import_analysis, import_datastore, import_fits
from provhub.importers.analysis import select_observations
from provhub.importers.base import Warnings
from provhub.importers.datastore import DataStore
from provhub.provdm.codec import records_of
from provhub.provdm.merge import plan_merge

from .conftest import CRAB, CRAB_RUNS, DATASTORE, FITS_NS, PKS, PROV_NS, PROVHUB_NS, Records

OBS = "https://provhub.org/id/obs/HESS/"
IRF_TYPES = {"aeff", "edisp", "psf", "bkg"}


@pytest.fixture(scope="module")
def datastore_result():
    return import_datastore(DATASTORE)


@pytest.fixture(scope="module")
def crab_result():
    return import_analysis(*CRAB, datastore=DATASTORE)


def hdu_types(records: Records, dl3: str) -> dict[str, str]:
    out = {}
    for rel in records.related("wasDerivedFrom", src=dl3):
        kind = dict((n["qn"][1], v) for n, v in rel.attrs).get("hduType")
        out[kind] = rel.dst
    return out


def test_datastore_has_every_observation_and_its_hdus(datastore_result):
    records = Records(datastore_result.document)
    dl3 = records.of_type(PROVHUB_NS + "Dl3Observation")
    assert len(dl3) == 105
    types = hdu_types(records, OBS + "23523/dl3")
    assert set(types) == {"events", "gti", "index"} | IRF_TYPES
    present = import_fits(["data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"]).files[0].entity
    assert types["aeff"] == present + "/AEFF" and types["events"] == present + "/EVENTS"
    # a run whose file is absent: its telescope is not guessed from another run's file
    absent = hdu_types(records, "https://provhub.org/id/obs/unknown/20136/dl3")
    assert absent["aeff"] == "https://provhub.org/id/file/name/hess_dl3_dr1_obs_id_020136.fits.gz/AEFF"
    w07 = [w for w in datastore_result.warnings if w.code == "W07"]
    assert len(w07) == 1 and w07[0].message.startswith("100 file(s)")
    assert not datastore_result.failed


def test_index_tables_are_entities(datastore_result):
    records = Records(datastore_result.document)
    hdu_index = records.of_type(PROVHUB_NS + "HduIndex")
    obs_index = records.of_type(PROVHUB_NS + "ObsIndex")
    assert len(hdu_index) == len(obs_index) == 1
    assert records.related("wasDerivedFrom", src=OBS + "23523/dl3", dst=hdu_index[0])
    assert records.related("wasDerivedFrom", src=OBS + "23523/instrument", dst=obs_index[0])


def test_instrument_configuration_is_used_by_the_dl3_production(datastore_result):
    records = Records(datastore_result.document)
    config = OBS + "23523/instrument"
    assert records.related("used", src=OBS + "23523/dl3-production", dst=config)
    assert records.values(config, FITS_NS + "N_TELS") == [4]
    assert records.values(config, FITS_NS + "TELLIST") == ["1,2,3,4"]
    assert records.values(config, FITS_NS + "ZEN_PNT") == [48.61021]
    assert records.values(config, FITS_NS + "QUALITY") == [0]
    assert records.values(config, FITS_NS + "EV_CLASS") == ["std"]  # from the EVENTS header
    run = OBS + "23523"
    assert records.values(run, PROV_NS + "startTime") == ["2004-12-04T22:08:10.184000+00:00"]
    assert records.related("wasInformedBy", src=OBS + "23523/dl3-production", dst=run)


def test_datastore_agrees_with_the_fits_import_of_its_files(datastore_result):
    fits_doc = import_fits(["data/dl3/hess-dl3-dr1"], recursive=True).document
    ds_nodes, ds_rels = records_of(datastore_result.document)
    nodes, rels = records_of(fits_doc)
    plan_merge(nodes, rels, {n.id: n for n in ds_nodes}, {r.id: r for r in ds_rels})  # no Conflict
    assert {n.id for n in nodes if n.kind == "entity"} <= {n.id for n in ds_nodes}


def test_base_dir_string_obs_ids_and_relative_file_dir(tmp_path):
    store = tmp_path / "store"
    store.mkdir()
    rows = Table.read(f"{DATASTORE}/hdu-index.fits.gz", hdu="HDU_INDEX")
    rows = rows[rows["OBS_ID"] == 23523]
    rows["OBS_ID"] = rows["OBS_ID"].astype(str)  # a string OBS_ID column
    hdu = fits.table_to_hdu(rows)
    hdu.header.update(
        {
            "EXTNAME": "HDU_INDEX",
            "HDUCLAS1": "INDEX",
            "HDUCLAS2": "HDU",
            "BASE_DIR": str((tmp_path / "../" / tmp_path.name / "files").resolve()),
        }
    )
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(store / "hdu-index.fits.gz")
    shutil.copy(f"{DATASTORE}/obs-index.fits.gz", store / "obs-index.fits.gz")
    (tmp_path / "files" / "data").mkdir(parents=True)
    shutil.copy(f"{DATASTORE}/data/hess_dl3_dr1_obs_id_023523.fits.gz", tmp_path / "files" / "data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = import_datastore(store)
    records = Records(result.document)
    assert any(w.code == "W04" for w in result.warnings)
    present = import_fits([str(tmp_path / "files/data/hess_dl3_dr1_obs_id_023523.fits.gz")]).files[0].entity
    assert hdu_types(records, OBS + "23523/dl3")["psf"] == present + "/PSF"


def test_missing_indexes_are_a_warning(tmp_path):
    result = import_datastore(tmp_path)
    assert [w.code for w in result.warnings] == ["W08", "W08"]


# -- analysis ----------------------------------------------------------------------------------


def test_crab_config_selects_the_four_crab_runs():
    warn = Warnings()
    import yaml

    store = DataStore(DATASTORE, warn)
    config = yaml.safe_load(open(CRAB[0]))
    assert select_observations(config, store, warn, CRAB[0]) == list(CRAB_RUNS)
    pks = yaml.safe_load(open(PKS[0]))
    assert select_observations(pks, store, warn, PKS[0]) == list(range(33787, 33799))


def test_crab_flux_points_trace_back_to_the_runs_and_their_irfs(datastore_result, crab_result):
    records = Records(datastore_result.document, crab_result.document)
    product = import_fits([CRAB[1]]).files[0].entity
    assert product == SAMPLE_PRODUCT_ID
    lineage = records.closure(product)
    for run in CRAB_RUNS:
        dl3 = f"{OBS}{run}/dl3"
        assert dl3 in lineage
        types = hdu_types(records, dl3)
        for kind in IRF_TYPES | {"events", "gti"}:
            assert types[kind] in lineage, (run, kind)
        assert f"{OBS}{run}/instrument" in lineage
        file_iri = types["aeff"].rsplit("/", 1)[0]
        assert file_iri in lineage  # the DL3 file (collection of the HDUs)
    assert not any("33787" in i for i in lineage)


def test_analysis_records_config_parameters_models_and_software(crab_result):
    records = Records(crab_result.document)
    product = crab_result.files[0].entity
    assert records.values(product, PROVHUB_NS + "dataLevel") == ["DL5"]
    analysis = records.related("wasGeneratedBy", src=product)[0].dst
    assert PROVHUB_NS + "Analysis" in records.values(analysis, PROV_NS + "type")
    influences = [r.dst for r in records.related("wasInfluencedBy", src=analysis)]
    names = {
        records.values(i, "http://www.ivoa.net/documents/ProvenanceDM/index.html#name")[0]
        for i in influences
        if records.values(i, "http://www.ivoa.net/documents/ProvenanceDM/index.html#name")
    }
    assert {"observations.obs_cone.radius", "flux_points.source", "datasets.type"} <= names
    used_roles = {dict((n["qn"][1], v) for n, v in r.attrs).get("role") for r in records.related("used", src=analysis)}
    assert {"models", "obs-index", "hdu-index", "observation"} <= used_roles
    assert records.related("wasAssociatedWith", src=analysis, dst="https://provhub.org/id/agent/software/Gammapy")


def test_light_curve_analysis_uses_gammapy_version_from_creator():
    result = import_analysis(*PKS, datastore=DATASTORE)
    records = Records(result.document)
    analysis = records.related("wasGeneratedBy", src=result.files[0].entity)[0].dst
    assert records.related(
        "wasAssociatedWith", src=analysis, dst="https://provhub.org/id/agent/software/Gammapy/2.0.dev1650%2Bg774105d36"
    )
    used = [r.dst for r in records.related("used", src=analysis) if r.dst.endswith("/dl3")]
    assert len(used) == 12
    assert any(w.code == "W07" for w in result.warnings)  # 11 of the 12 runs are absent


def test_analysis_without_datastore_is_a_warning(monkeypatch):
    monkeypatch.delenv("GAMMAPY_DATA", raising=False)
    result = import_analysis(*CRAB)
    assert [w.code for w in result.warnings] == ["W09"]
    assert not result.failed


def test_sample_documents_hold_the_crab_lineage():
    docs = sample_documents()
    assert len(docs) == 4
    records = Records(*docs)
    lineage = records.closure(SAMPLE_PRODUCT_ID)
    assert {f"{OBS}{run}/dl3" for run in CRAB_RUNS} <= lineage


def test_configuration_from_events_header_and_telarray_hdu(tmp_path):
    events = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=[1.0])], name="EVENTS")
    events.header.update(
        {
            "HDUCLASS": "GADF",
            "HDUCLAS1": "EVENTS",
            "OBS_ID": 7,
            "TELESCOP": "CTA",
            "N_TELS": 3,
            "TELLIST": "1,4,9",
            "NSBLEVEL": 1.5,
            "TRGRATE": 1200.0,
        }
    )
    telarray = fits.BinTableHDU.from_columns([fits.Column("TELID", "J", array=[1, 4, 9])], name="TELARRAY")
    fits.HDUList([fits.PrimaryHDU(), events, telarray]).writeto(tmp_path / "run7.fits")
    hdu_rows = Table(
        {
            "OBS_ID": [7],
            "HDU_TYPE": ["events"],
            "HDU_CLASS": ["events"],
            "FILE_DIR": ["."],
            "FILE_NAME": ["run7.fits"],
            "HDU_NAME": ["EVENTS"],
        }
    )
    obs_rows = Table({"OBS_ID": [7], "ZEN_PNT": [20.0], "AZ_PNT": [180.0]})
    for name, table, extname in (("hdu-index.fits", hdu_rows, "HDU_INDEX"), ("obs-index.fits", obs_rows, "OBS_INDEX")):
        hdu = fits.table_to_hdu(table)
        hdu.header["EXTNAME"] = extname
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(tmp_path / name)
    result = import_datastore(tmp_path)
    records = Records(result.document)
    config = "https://provhub.org/id/obs/CTA/7/instrument"
    # the configuration holds the obs-index row; keywords the index has no column for stay on
    # the EVENTS HDU (so the record is the same whether the file came with the index or later)
    assert records.values(config, FITS_NS + "ZEN_PNT") == [20.0]
    assert records.values(config, FITS_NS + "N_TELS") == []
    run_file = import_fits([str(tmp_path / "run7.fits")]).files[0].entity
    assert records.values(run_file + "/EVENTS", FITS_NS + "N_TELS") == [3]
    assert records.values(run_file + "/EVENTS", FITS_NS + "TRGRATE") == [1200.0]
    telarray_hdu = run_file + "/TELARRAY"
    assert records.related("wasDerivedFrom", src=config, dst=telarray_hdu)
    assert records.related("used", src="https://provhub.org/id/obs/CTA/7/dl3-production", dst=config)
