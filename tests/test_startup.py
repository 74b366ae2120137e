"""A missing part fails at start, loudly: ``create_app`` and the ``provhub`` command import every
blueprint, ``provhub.app.security`` and every command module by name (no optional imports that fail open:
without ``provhub.app.security`` writes would silently stop needing a token)."""

from __future__ import annotations

import importlib
import sys

import pytest

import provhub.app.cli
from provhub.app import create_app
from tests.conftest import make_settings

APP_MODULES = [
    "provhub.app.errors",
    "provhub.app.security",
    "provhub.app.api.documents",
    "provhub.app.api.provsap",
    "provhub.app.api.health",
    "provhub.app.api.openapi",
    "provhub.app.api.fits",
    "provhub.app.api.audit",
    "provhub.app.web",
]
COMMAND_MODULES = [
    "provhub.app.cli.core",
    "provhub.app.cli.importers",
    "provhub.app.cli.visual",
    "provhub.app.cli.admin",
]


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
    monkeypatch.setattr(provhub.app.cli, "_load_done", False)
    with pytest.raises(ModuleNotFoundError, match=name.rpartition(".")[2]):
        provhub.app.cli.main(["--help"])
    with pytest.raises(ModuleNotFoundError):
        provhub.app.cli.load_commands()
