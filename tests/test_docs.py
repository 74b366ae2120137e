"""The documentation and the layout keep up with the code."""

from __future__ import annotations

import subprocess
import sys

from provhub.app.config import SETTINGS
from scripts.cli_reference import reference
from tests.conftest import ROOT


def test_every_setting_is_documented():
    text = (ROOT / "docs" / "settings.md").read_text()
    missing = [f"PROVHUB_{name.upper()}" for name, _, _ in SETTINGS if f"`PROVHUB_{name.upper()}`" not in text]
    assert not missing, f"document these settings in docs/settings.md: {missing}"


def test_cli_reference_is_current():
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current == reference(), "run: python scripts/cli_reference.py > docs/cli.md"


def test_readme_has_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "provhub serve" in readme
    test_command = "pip install -c requirements/ci.txt -e '.[test]' && python -m pytest"
    assert test_command in readme
    assert test_command in ci


def test_provdm_imports_no_service_layer():
    """provdm is the model: it must import without Flask, neo4j, click or the app package."""
    code = (
        "import sys, importlib, pkgutil, provhub.provdm\n"
        "for m in pkgutil.iter_modules(provhub.provdm.__path__): importlib.import_module('provhub.provdm.' + m.name)\n"
        "bad = [m for m in ('flask', 'neo4j', 'click', 'provhub.app', 'werkzeug') if m in sys.modules]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"provdm imports {out.stdout.strip()}"
