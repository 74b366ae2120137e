"""A missing part fails at start, loudly: ``create_app`` and the ``provhub`` command import every
blueprint, ``app.security`` and every command module by name (no optional imports that fail open:
without ``app.security`` writes would silently stop needing a token)."""

from __future__ import annotations

import importlib
import sys

import pytest

import app.cli
from app import create_app
from tests.conftest import make_settings

APP_MODULES = [
    "app.errors",
    "app.security",
    "app.api.documents",
    "app.api.provsap",
    "app.api.health",
    "app.api.openapi",
    "app.api.fits",
    "app.api.audit",
    "app.web",
]
COMMAND_MODULES = ["app.cli.core", "app.cli.importers", "app.cli.visual", "app.cli.admin"]


def make_missing(monkeypatch, name: str) -> None:
    """Import ``name`` as if its file were gone (renamed or not installed)."""
    importlib.import_module(name)
    parent, _, child = name.rpartition(".")
    monkeypatch.delattr(sys.modules[parent], child)
    monkeypatch.setitem(sys.modules, name, None)  # the import system's "cannot be imported"


@pytest.mark.parametrize("name", APP_MODULES)
def test_create_app_fails_without_one_of_its_modules(monkeypatch, request, tmp_path, name):
    settings = make_settings("sqlite", request, tmp_path, auth="on")
    make_missing(monkeypatch, name)
    with pytest.raises(ModuleNotFoundError, match=name.rpartition(".")[2]):
        create_app(settings)  # before it opens the store


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_the_command_fails_without_one_of_its_modules(monkeypatch, name):
    make_missing(monkeypatch, name)
    monkeypatch.setattr(app.cli, "_load_done", False)
    with pytest.raises(ModuleNotFoundError, match=name.rpartition(".")[2]):
        app.cli.main(["--help"])
    with pytest.raises(ModuleNotFoundError):
        app.cli.load_commands()
