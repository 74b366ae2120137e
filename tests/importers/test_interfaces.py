"""The importer commands (CliRunner, sqlite store) and POST /fits (Flask test client)."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

from click.testing import CliRunner

from provhub.app import create_app
from provhub.app.cli import load_commands
from provhub.app.config import Settings
from provhub.app.sample import SAMPLE_PRODUCT_ID
from provhub.app.stores import open_store
from provhub.importers import WARNING_CODES

from .conftest import CRAB, CRAB_RUNS, DATASTORE, PKS, ROOT

DL3 = "data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"


def run(*args):
    return CliRunner().invoke(load_commands(), list(args), catch_exceptions=False)


def test_done_when_files_alone_trace_the_crab_flux_points(sqlite_settings):
    url = sqlite_settings.store_url
    for args in (
        ("import-datastore", DATASTORE),
        ("import-fits", "data", "--recursive"),
        ("import-analysis", *CRAB, "--datastore", DATASTORE),
        ("import-analysis", *PKS, "--datastore", DATASTORE),
    ):
        result = run(*args, "--store", url)
        assert result.exit_code == 0, result.output
        assert re.search(r"document [0-9a-f]+: \d+ records, created", result.stdout)
    trace = run("provsap", "--store", url, "--id", SAMPLE_PRODUCT_ID, "--depth", "ALL", "--model", "W3C")
    assert trace.exit_code == 0, trace.output
    doc = json.loads(trace.stdout)
    entities = set(doc["entity"])
    prefixes = doc.get("prefix", {})
    full = {prefixes.get(e.split(":", 1)[0], "") + e.split(":", 1)[1] if ":" in e else e for e in entities}
    for run_id in CRAB_RUNS:
        assert f"https://provhub.org/id/obs/HESS/{run_id}/dl3" in full
        assert f"https://provhub.org/id/obs/HESS/{run_id}/instrument" in full
    irfs = [e for e in full if e.endswith(("/AEFF", "/EDISP", "/PSF", "/BKG"))]
    assert len(irfs) == 16
    again = run("import-analysis", *CRAB, "--datastore", DATASTORE, "--store", url)
    assert "unchanged" in again.stdout
    store = open_store(url, sqlite_settings)
    try:  # header values are findable in the store (search matches any attribute value)
        for text in (
            "Settings used in processing",
            "uref$i9817383u.r2h",
            "muse_qi_mask",
            "std_fullEnclosure_fits_release",
            "Name=1ES0229+200_HESS_2005-2006",
        ):
            nodes, total = store.search(text)
            assert total >= 1, text
    finally:
        store.close()


def test_import_fits_summary_progress_and_exit_code(tmp_path, sqlite_settings):
    broken = tmp_path / "broken.fits"
    broken.write_bytes(gzip.decompress(open(DL3, "rb").read())[:50_000])
    result = run(
        "import-fits",
        DL3,
        str(broken),
        "data/dl5/gadf-examples",
        "--store",
        sqlite_settings.store_url,
        "--rights",
        "proprietary",
        "--group",
        "hess",
        "--release",
        "2030-01-01",
    )
    assert result.exit_code == 1
    assert "reading FITS headers" in result.stderr
    table = result.stderr[result.stderr.index("status") :]
    assert re.search(r"failed\s+0\s+0\s+.*broken\.fits", table)
    assert re.search(r"ok\s+7\s+293\s+" + re.escape(DL3), table)
    assert "warning: W01" in result.stderr and "files/s" in result.stderr
    assert "records, created" in result.stdout  # the readable files are stored
    doc_id = re.search(r"document ([0-9a-f]+)", result.stdout).group(1)
    store = open_store(sqlite_settings.store_url, sqlite_settings)
    try:
        stored = store.get_document(doc_id)
        assert (stored.rights, stored.group, stored.release) == ("proprietary", "hess", "2030-01-01")
    finally:
        store.close()


def test_output_writes_prov_json_without_a_store(tmp_path):
    out = tmp_path / "muse.json"
    result = run(
        "import-fits",
        "data/fits-provenance/eso-muse-mpdaf/PAE_July2013.fits.gz",
        "--output",
        str(out),
        "--store",
        f"sqlite:///{tmp_path / 'never.db'}",
    )
    assert result.exit_code == 0
    doc = json.loads(out.read_text())
    assert "phfile:md5-635fa220693ef7c72870819443146fd9" in doc["entity"]
    assert not (tmp_path / "never.db").exists()
    log = tmp_path / "tool.provenance.log"
    log.write_text(
        json.dumps(
            [
                {
                    "activity_name": "ctapipe-process",
                    "activity_uuid": "u1",
                    "start": {"time_utc": "2024-01-01T00:00:00.000"},
                    "stop": {"time_utc": "2024-01-01T00:01:00.000"},
                    "system": {},
                    "input": [],
                    "output": [],
                }
            ]
        )
        * 2
    )
    piped = run("import-ctapipe-log", str(log), "--output", "-")
    assert piped.exit_code == 0 and "ctaact:u1" in json.loads(piped.stdout)["activity"]


def fits_client(tmp_path, **overrides):
    settings = Settings(store_url=f"sqlite:///{tmp_path / 'api.db'}", auth="off", sample="off", **overrides)
    return create_app(settings).test_client()


def test_post_fits_file_then_header_only_upload(tmp_path):
    client = fits_client(tmp_path)
    body = open("data/fits-provenance/hst-history-mpdaf/HST-HDFS.fits", "rb").read()
    first = client.post("/fits?filename=HST-HDFS.fits", data=body, content_type="application/fits")
    assert first.status_code == 201, first.json
    assert set(first.json) >= {"id", "records", "created", "warnings", "entity"}
    assert first.json["created"] is True and any(w.startswith("W06") for w in first.json["warnings"])
    again = client.post("/fits?filename=HST-HDFS.fits", data=body, content_type="application/fits")
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    from astropy.io import fits

    with fits.open("data/fits-provenance/hst-history-mpdaf/HST-HDFS.fits") as hdul:
        headers_only = b"".join(h.header.tostring().encode() for h in hdul)
    upload = client.post(
        "/fits",
        data={"file": (__import__("io").BytesIO(headers_only), "HST-HDFS.fits")},
        content_type="multipart/form-data",
    )
    assert upload.status_code in (200, 201) and upload.json["entity"] == first.json["entity"]


def test_post_fits_errors(tmp_path):
    client = fits_client(tmp_path, max_body_mb=0.01)
    big = client.post("/fits", data=b"SIMPLE  =" + b" " * 20_000, content_type="application/fits")
    assert big.status_code == 413 and big.json["error"]["code"] == "payload-too-large"
    bad = client.post("/fits", data=b"not a fits file", content_type="application/fits")
    assert bad.status_code == 422 and bad.json["error"]["code"] == "ingest-error"
    empty = client.post("/fits", data=b"", content_type="application/fits")
    assert empty.status_code == 400


def test_every_warning_code_is_documented():
    doc = (ROOT / "docs" / "importers.md").read_text()
    for code in WARNING_CODES:
        assert f"| {code} |" in doc, code
    for command in ("import-fits", "import-datastore", "import-analysis", "import-ctapipe-log", "POST /fits"):
        assert command in doc
    assert Path(ROOT / "provhub" / "app" / "sample.py").read_text().count(SAMPLE_PRODUCT_ID.rsplit("-", 1)[-1]) == 1
