"""Store backends behind one contract (see :mod:`provhub.app.stores.base`); ``open_store`` picks one by
the scheme of its URL from :data:`BACKENDS`.

A backend is a class ``Cls(url, settings)`` in a module of this package, imported only when a
URL of its scheme is opened (so the Neo4j driver is not loaded for an embedded store). It builds
its own typed configuration from the settings (``SQLiteConfig``, ``Neo4jConfig``). Adding one is
one entry here and the checklist in docs/backends.md.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from provhub.provdm.errors import InvalidParameter

from .base import PreparedDocument, PutResult, Store, StoredDocument, TraceQuery


@dataclass(frozen=True)
class Backend:
    name: str
    schemes: tuple[str, ...]
    target: str  # "module:Class"
    example: str  # a URL shown in errors and help

    def load(self):
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


BACKENDS = (
    Backend("embedded", ("sqlite",), "provhub.app.stores.sqlite:SQLiteStore", "sqlite:///FILE"),
    Backend(
        "neo4j",
        ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc"),
        "provhub.app.stores.neo4j:Neo4jStore",
        "bolt://HOST:PORT",
    ),
)
SCHEMES = {scheme: backend for backend in BACKENDS for scheme in backend.schemes}


def open_store(url: str, settings=None) -> Store:
    """Open the store a URL names: ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
    ``neo4j://host:7687`` / ``bolt://host:7687`` (credentials from settings)."""
    scheme = url.split(":", 1)[0].lower()
    backend = SCHEMES.get(scheme)
    if backend is None:
        choices = " or ".join(b.example for b in BACKENDS)
        raise InvalidParameter(f"unknown store URL scheme {scheme!r}: use {choices}", where="PROVHUB_STORE_URL")
    return backend.load()(url, settings=settings)


__all__ = [
    "open_store",
    "BACKENDS",
    "Backend",
    "Store",
    "PreparedDocument",
    "PutResult",
    "StoredDocument",
    "TraceQuery",
]
