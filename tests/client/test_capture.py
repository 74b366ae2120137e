"""provhub.capture and `provhub run` against a real service: the captured FITS file is the record
`import-fits` makes of it; a failing block or command is posted, marked failed."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from provhub.app import create_app
from provhub.app.cli import load_commands
from provhub import capture
from provhub.client import Client
from tests.client.helpers import serve
from tests.conftest import ROOT, make_settings
from tests.faults.test_faults import env_for

RUN_FILE = ROOT / "data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"


@pytest.fixture
def service(backend, request, tmp_path):
    settings = make_settings(backend, request, tmp_path)
    app = create_app(settings)
    server, url = serve(app)
    yield url, app.extensions["provhub.store"], settings
    server.shutdown()
    app.extensions["provhub.store"].close()


def entity(doc: dict, suffix: str) -> tuple[str, dict]:
    found = [(k, v) for k, v in doc.get("entity", {}).items() if k.endswith(suffix)]
    assert len(found) == 1, sorted(doc.get("entity", {}))
    return found[0]


def test_captured_fits_file_joins_import_fits(service, tmp_path):
    url, store, settings = service
    c = Client(url, retry_for=5)
    cfg = tmp_path / "config.yaml"
    cfg.write_text("energy_min: 0.1\n")
    out = tmp_path / "counts.txt"
    with capture.activity("counts-map", description="count events of one run", client=c, software=["astropy"]) as act:
        act.used(RUN_FILE, role="events")
        act.parameter("energy_min", 0.1, unit="TeV")
        act.config(cfg)
        out.write_text("42\n")
        act.generated(out)
    assert act.result.created and act.status == "succeeded"

    r = CliRunner().invoke(
        load_commands(), ["import-fits", str(RUN_FILE)], env=env_for(settings), catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    [imported_id] = re.findall(r"https://provhub.org/id/file/\S+", r.output)
    captured = c.document(act.result.id)
    fits_qn, fits_attrs = entity(captured, "hdr-sha256-" + fits_attrs_digest(captured))
    assert imported_id == fits_qn.replace("phfile:", "https://provhub.org/id/file/")  # the same id
    back = c.provsap(imported_id, model="W3C", direction="FORTH")
    text = json.dumps(back)
    assert "counts-map" in text  # the captured activity that used it
    assert "hess_dl3_dr1_obs_id_023523" in text
    # what only import-fits says of the file (a prov:Collection of its HDUs) is on the same record
    lineage = c.provsap(act.id.uri, model="W3C", direction="BACK")
    used_attrs = lineage["entity"][
        next(k for k in lineage["entity"] if "hdr-sha256" in k and "/" not in k.split(":")[1])
    ]
    assert "prov:Collection" in json.dumps(used_attrs), used_attrs

    # ids and IVOA records of the capture itself
    assert fits_attrs["prov:location"].endswith("hess_dl3_dr1_obs_id_023523.fits.gz")
    _k, param = entity(captured, "/param/energy_min")
    assert float(param["voprov:value"]["$"]) == 0.1 and param["voprov:unit"] == "TeV"
    assert any("ActivityDescription" in json.dumps(v) for v in captured["entity"].values())
    assert any("ConfigFile" in json.dumps(v) for v in captured["entity"].values())
    [(_aid, activity)] = captured["activity"].items()
    assert activity["provhub:status"] == "succeeded" and activity["prov:startTime"] <= activity["prov:endTime"]
    assert any("software/astropy/" in k for k in captured["agent"])


def fits_attrs_digest(doc: dict) -> str:
    [(_k, v)] = [(k, v) for k, v in doc["entity"].items() if "hdr-sha256-" in k]
    return v["provhub:headerSha256"]


def test_failed_block_is_posted_marked_failed(service):
    url, _store, _settings = service
    c = Client(url, retry_for=5)
    with pytest.raises(RuntimeError, match="boom"):
        with capture.activity("fails", client=c) as act:
            act.used(RUN_FILE)
            raise RuntimeError("boom")
    assert act.result and act.result.created
    [(_aid, activity)] = c.document(act.result.id)["activity"].items()
    assert activity["provhub:status"] == "failed" and "RuntimeError: boom" in activity["provhub:error"]


def test_provhub_run_wraps_a_command(service, tmp_path):
    url, _store, _settings = service
    src, dst = tmp_path / "in.txt", tmp_path / "out.txt"
    src.write_text("data\n")
    copy = f"import shutil; shutil.copy({str(src)!r}, {str(dst)!r})"
    runner = CliRunner()
    args = ["run", "--url", url, "--used", str(src), "--generated", str(dst), "--", sys.executable, "-c"]
    r = runner.invoke(load_commands(), [*args, copy], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert dst.read_text() == "data\n" and "succeeded" in r.output
    doc_id = r.output.strip().rsplit(" as ", 1)[1]
    doc = Client(url).document(doc_id)
    [(_aid, activity)] = doc["activity"].items()
    assert activity["provhub:exitCode"]["$"] == "0" and copy in activity["provhub:commandLine"]
    assert len(doc["used"]) == 1 and len(doc["wasGeneratedBy"]) == 1

    bad = runner.invoke(load_commands(), [*args, "raise SystemExit(3)"], catch_exceptions=False)
    assert bad.exit_code == 3 and "failed" in bad.output
    [(_aid, activity)] = Client(url).document(bad.output.strip().rsplit(" as ", 1)[1])["activity"].items()
    assert activity["provhub:status"] == "failed" and activity["provhub:error"] == "exit code 3"
    assert Path(dst).exists()
