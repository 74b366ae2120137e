"""``provhub bundle``: the dataset and the files of its #calibration and #auxiliary links that are
on disk, with a manifest; on both stores, real files from data/, rights held."""

from __future__ import annotations

import hashlib
import json
import tarfile

import pytest
from click.testing import CliRunner

from provhub.app import services
from provhub.app.access import ANONYMOUS
from provhub.app.bundle import bundle
from provhub.app.cli import load_commands
from provhub.app.sample import SAMPLE_PRODUCT_ID
from provhub.provdm.errors import NotFound
from tests.conftest import ROOT
from tests.datalink.test_datalink import CRAB_RUNS, DL3_023523, _sample

DL3_PATH = ROOT / "data/dl3/hess-dl3-dr1/data" / DL3_023523


@pytest.fixture
def sample_store(store, settings):
    for doc in _sample():
        services.ingest_prov(store, doc, settings=settings)
    return store


def cli_env(settings) -> dict:
    return {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }


def test_a_dl3_file_bundles_itself_once_for_its_irfs_and_gti(sample_store, settings, tmp_path):
    out = tmp_path / "b"
    r = CliRunner().invoke(
        load_commands(), ["bundle", DL3_023523, "-o", str(out), "--root", str(ROOT)], env=cli_env(settings)
    )
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [DL3_023523, "manifest.json"]
    assert (out / DL3_023523).read_bytes() == DL3_PATH.read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    (entry,) = manifest["files"]
    assert entry["sha256"] == hashlib.sha256(DL3_PATH.read_bytes()).hexdigest()
    assert entry["bytes"] == DL3_PATH.stat().st_size
    kinds = {lk["local_semantics"] or lk["semantics"] for lk in entry["links"]}
    assert kinds == {"#this", "AEFF", "EDISP", "PSF", "BKG", "GTI"}
    # the instrument configuration is a record without a file: listed, not copied
    assert [w["local_semantics"] for w in manifest["without_file"]] == ["configuration"]
    assert manifest["not_copied"] == []


def test_the_crab_flux_points_bundle_as_a_tar(sample_store, settings, tmp_path):
    out = tmp_path / "crab.tar"
    manifest = bundle(sample_store, SAMPLE_PRODUCT_ID, out, settings=settings, root=ROOT)
    with tarfile.open(out) as tar:
        names = sorted(tar.getnames())
        inside = json.load(tar.extractfile("manifest.json"))
    runs = [f"hess_dl3_dr1_obs_id_{n}.fits.gz" for n in CRAB_RUNS]
    assert names == sorted(
        [
            *runs,
            "crab_hess_fp.fits",
            "config.yaml",
            "models.yaml",
            "obs-index.fits.gz",
            "hdu-index.fits.gz",
            "manifest.json",
        ]
    )
    assert inside == manifest and manifest["record"] == SAMPLE_PRODUCT_ID
    for f in manifest["files"]:
        if f["path"] in runs:  # a run is bundled for the IRFs applied from it
            assert sorted(lk["local_semantics"] for lk in f["links"]) == ["AEFF", "BKG", "EDISP", "PSF"]


LOCATIONS = """document
  prefix ex <http://example.org/b#>
  prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>
  entity(ex:product, [prov:location="data/dl5/gadf-examples/flux_points.fits"])
  activity(ex:make)
  wasGeneratedBy(ex:product, ex:make, -)
  used(ex:make, ex:cfg, -)
  wasInfluencedBy(ex:make, ex:cfg, [prov:type='voprov:wasConfiguredBy'])
  entity(ex:cfg, [prov:location="/etc/hostname", prov:type='voprov:ConfigFile'])
  used(ex:make, ex:far, -, [voprov:usageType="Setup"])
  entity(ex:far, [prov:location="https://example.org/index.fits"])
  used(ex:make, ex:gone, -, [voprov:usageType="Setup"])
  entity(ex:gone, [prov:location="data/no/such/file.fits"])
endDocument"""


def test_locations_outside_the_root_urls_and_missing_files_are_not_copied(store, settings, tmp_path):
    services.ingest(store, LOCATIONS, "provn", settings=settings)
    manifest = bundle(store, "ex:product", tmp_path / "b", settings=settings, root=ROOT)
    assert [f["path"] for f in manifest["files"]] == ["flux_points.fits"]
    why = {f["location"]: f["why"] for f in manifest["not_copied"]}
    assert why == {
        "/etc/hostname": f"outside {ROOT}",
        "https://example.org/index.fits": "a URL (not fetched)",
        "data/no/such/file.fits": "not on disk",
    }
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["flux_points.fits", "manifest.json"]


def test_an_unknown_or_hidden_id_bundles_nothing(store, settings, tmp_path):
    from tests.security.test_rights import PRIVATE_MIDDLE

    services.ingest(store, PRIVATE_MIDDLE, "provn", settings=settings, rights="proprietary", group="hess")
    for ident in ("ex:nosuch", "ex:secretmodel"):
        with pytest.raises(NotFound):
            bundle(store, ident, tmp_path / ident, settings=settings, viewer=ANONYMOUS)
        assert not (tmp_path / ident).exists()
    r = CliRunner().invoke(load_commands(), ["bundle", "ex:nosuch", "-o", str(tmp_path / "x")], env=cli_env(settings))
    assert r.exit_code == 1 and "not-found" in r.output


def test_an_existing_output_is_refused(store, settings, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "f").write_text("x")
    r = CliRunner().invoke(load_commands(), ["bundle", "ex:x", "-o", str(tmp_path / "full")], env=cli_env(settings))
    assert r.exit_code == 1 and "exists already" in r.output
