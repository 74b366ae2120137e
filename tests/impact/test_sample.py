"""Impact, diff and manifest on the real sample (the H.E.S.S. DL3 DR1 runs and the two gammapy
analyses that `provhub serve` loads), both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from provhub.app import diff, impact, manifest
from provhub.app.cli.core import load_sample
from provhub.app.sample import ANALYSES, DATASTORE, ROOT, SAMPLE_PRODUCT_ID
from provhub.importers.analysis import config_leaves, select_observations
from provhub.importers.base import Warnings
from provhub.importers.datastore import DataStore

PKS = "pks2155_hess_lc_3bins.fits"


@pytest.fixture
def sample(store, settings):
    assert load_sample(store, settings) == 4
    return store


def test_impact_of_an_irf_and_a_run_file(sample, settings):
    # the AEFF HDU of run 23523, by its file name alias and HDU
    report = impact.impact(sample, ["hess_dl3_dr1_obs_id_023523.fits.gz"], settings=settings)
    by_level = report.by_level()
    assert [p.name for p in by_level["DL5"]] == ["crab_hess_fp.fits"]
    assert [p.name for p in by_level["DL3"]] == ["DL3 observation 23523"]
    assert [r.name for r in report.rerun] == ["gammapy analysis of Crab producing crab_hess_fp.fits"]
    crab = by_level["DL5"][0]
    assert crab.id == SAMPLE_PRODUCT_ID and crab.parts == 3
    assert report.names[crab.path[1]] == "DL3 observation 23523"
    # a PKS 2155-304 run affects the light curve only
    pks = impact.impact(sample, ["hess_dl3_dr1_obs_id_033787.fits.gz"], settings=settings, levels=["DL5"])
    assert [p.name for p in pks.products] == [PKS]


def test_crab_flux_points_against_the_pks_light_curve(sample, settings):
    report = diff.diff(sample, SAMPLE_PRODUCT_ID, PKS, settings=settings)
    d = report.differences
    assert d["observations"]["only_a"] == ["23523", "23526", "23559", "23592"]
    assert d["observations"]["only_b"] == [str(o) for o in range(33787, 33799)]
    assert d["irfs"] == {"differ": []}  # no observation in common
    params = {p["name"]: p for p in d["parameters"]["differ"]}
    assert params["datasets.on_region.lon"]["a"] == {"name": "datasets.on_region.lon", "value": "83.63", "unit": "deg"}
    assert params["datasets.geom.axes.energy.min"]["b"]["value"] == "0.4"
    assert "datasets.background.method" not in params  # reflected in both
    assert [p["name"] for p in d["parameters"]["only_a"]][:2] == ["fit.fit_range.max", "fit.fit_range.min"]
    assert {c["name"] for c in d["config_files"]["differ"]} == {"config.yaml", "models.yaml"}
    assert d["software"]["differ"] == [{"name": "Gammapy", "a": "(no version)", "b": "2.0.dev1650+g774105d36"}]


def test_crab_manifest_equals_its_config(sample, settings):
    config_path, _product = ANALYSES[0]
    assert config_path.endswith("crab_hess_fp/config.yaml")
    config = yaml.safe_load(Path(ROOT / config_path).read_text())
    data = manifest.manifest(sample, SAMPLE_PRODUCT_ID, settings=settings)
    # the parameters are the config's settings (nulls are not recorded), as gammapy reads them
    assert {p["name"] for p in data["parameters"]} == {name for name, _v in config_leaves(config)}
    assert data["gammapy_config"] == _without_nulls(config)
    assert data["gammapy_config"]["observations"] == _without_nulls(config["observations"])
    # the observations: what the config selects from the DataStore
    store = DataStore(str(ROOT / DATASTORE), Warnings())
    assert (
        data["observations"]
        == sorted(select_observations(config, store, Warnings(), "config"))
        == [
            23523,
            23526,
            23559,
            23592,
        ]
    )
    inputs = {i["name"]: i for i in data["inputs"]}
    assert {f"hess_dl3_dr1_obs_id_0{o}.fits.gz" for o in data["observations"]} <= set(inputs)
    assert inputs["config.yaml"]["checksum"].startswith("sha256:")
    assert inputs["hess_dl3_dr1_obs_id_023523.fits.gz"]["location"] == (
        "data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"
    )
    assert data["requirements"] == ["gammapy"]
    assert [c["name"] for c in data["config_files"]] == ["config.yaml", "models.yaml"]


def _without_nulls(tree):
    if isinstance(tree, dict):
        return {k: _without_nulls(v) for k, v in tree.items() if v is not None and _without_nulls(v) != {}}
    return tree
