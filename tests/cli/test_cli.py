"""The provhub command: CliRunner for each command, and one subprocess test of the installed script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from click.testing import CliRunner

from provhub.app.cli import load_commands
from tests.conftest import ROOT

KNOWN = ROOT / "tests" / "fixtures" / "known_graph.provn"
PC1 = ROOT / "data" / "prov" / "provtoolbox" / "pc1-full.provn"


def run(*args, env=None):
    return CliRunner().invoke(load_commands(), list(args), env=env, catch_exceptions=False)


def test_ingest_provsap_validate(tmp_path):
    url = f"sqlite:///{tmp_path / 'p.db'}"
    r = run("ingest", "--store", url, str(KNOWN), str(PC1))
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 2 and lines[0].split("\t")[2:4] == ["35 records", "created"]
    again = run("ingest", str(KNOWN), env={"PROVHUB_STORE_URL": url})
    assert again.output.split("\t")[3] == "unchanged"
    out = run("provsap", "--store", url, "--id", "ex:dl5", "--depth", "ALL")
    assert out.exit_code == 0
    assert "ex:irf" in json.loads(out.output)["entity"]
    bad = run("provsap", "--store", url, "--id", "ex:dl5", "--depth", "x")
    assert bad.exit_code == 1 and "DEPTH" in bad.output
    missing = run("provsap", "--store", url, "--id", "ex:none")
    assert missing.exit_code == 1 and "not-found" in missing.output
    ok = run("validate", str(KNOWN))
    assert ok.exit_code == 0 and "valid (35 records" in ok.output
    broken = tmp_path / "broken.provn"
    broken.write_text("document\n prefix ex <http://e/>\n entity(ex:e\nendDocument\n")
    res = run("validate", str(KNOWN), str(broken))
    assert res.exit_code == 1 and "INVALID malformed-document" in res.output and "line 4" in res.output


def test_installed_command_in_a_subprocess(tmp_path):
    exe = shutil.which("provhub")
    cmd = [exe] if exe else [sys.executable, "-c", "from provhub.app.cli import main; main()"]
    url = f"sqlite:///{tmp_path / 's.db'}"
    help_ = subprocess.run(cmd + ["--help"], capture_output=True, text=True, timeout=60)
    assert help_.returncode == 0
    for name in ("serve", "ingest", "provsap", "validate"):
        assert name in help_.stdout
    ing = subprocess.run(cmd + ["ingest", "--store", url, str(KNOWN)], capture_output=True, text=True, timeout=60)
    assert ing.returncode == 0 and "created" in ing.stdout
    ans = subprocess.run(
        cmd + ["provsap", "--store", url, "--id", "ex:dl5", "--depth", "2", "--responseformat", "PROV-N"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ans.returncode == 0 and "used(ex:u1; ex:analysis, ex:dl3a" in ans.stdout
