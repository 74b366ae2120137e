"""Shared fixtures: every store test runs against each backend (real stores, no fakes).

``sqlite``: a file in tmp_path. ``bolt``: a real Bolt server (ArcadeDB, started once per session
by tests/bolt_server.py), or the server named by PROVHUB_TEST_NEO4J_URL.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from provhub.app import create_app
from provhub.app.config import Settings
from provhub.app.stores import open_store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
BACKENDS = ["sqlite", "bolt"]


@pytest.fixture(scope="session")
def bolt_server(tmp_path_factory):
    url = os.environ.get("PROVHUB_TEST_NEO4J_URL")
    if url:
        yield SimpleNamespace(
            url=url,
            user=os.environ.get("PROVHUB_TEST_NEO4J_USER", "neo4j"),
            password=os.environ.get("PROVHUB_TEST_NEO4J_PASSWORD", ""),
            database=os.environ.get("PROVHUB_TEST_NEO4J_DATABASE", ""),
        )
        return
    try:
        from tests.bolt_server import start_bolt_server
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            raise
        pytest.skip("tests/bolt_server.py is not there yet")
    server = start_bolt_server(tmp_path_factory.mktemp("arcadedb"))
    yield server
    server.stop()


def make_settings(backend: str, request, tmp_path: Path, **overrides) -> Settings:
    """Settings for a test store; authentication is off unless a test turns it on."""
    overrides = {"sample": "off", "auth": "off", **overrides}
    if backend == "sqlite":
        return Settings(store_url=f"sqlite:///{tmp_path / 'provhub.db'}", **overrides)
    server = request.getfixturevalue("bolt_server")
    from tests.bolt_server import reset

    settings = Settings(
        store_url=server.url,
        neo4j_user=server.user,
        neo4j_password=server.password,
        neo4j_database=server.database,
        **overrides,
    )
    reset(settings)
    return settings


@pytest.fixture(scope="session")
def oidc_provider():
    """A real OpenID Connect provider on loopback (tests/oidc/provider.py)."""
    from tests.oidc.provider import Provider

    provider = Provider()
    yield provider
    provider.stop()


@pytest.fixture(params=["token", "oidc"])
def caller(request):
    """The kind of caller of a leak test: provhub's own API tokens, or OIDC access tokens from
    :func:`oidc_provider`. Rights must hold alike for both."""
    return request.param


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture
def settings(backend, request, tmp_path):
    return make_settings(backend, request, tmp_path)


@pytest.fixture
def store(settings):
    s = open_store(settings.store_url, settings)
    yield s
    s.close()


@pytest.fixture
def app(settings, store):
    return create_app(settings, store=store)


@pytest.fixture
def client(app):
    return app.test_client()


def prov_files():
    """Every PROV document of the shared corpus with its syntax."""
    suffix = {".json": "json", ".provn": "provn", ".xml": "xml", ".provx": "xml"}
    return sorted((p, suffix[p.suffix]) for p in (DATA / "prov").rglob("*") if p.suffix in suffix)
