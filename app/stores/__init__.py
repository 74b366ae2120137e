"""Store backends behind one contract (see :mod:`app.stores.base`); ``open_store`` picks one by URL."""
from __future__ import annotations

from .base import PreparedDocument, PutResult, Store, StoredDocument, TraceQuery

SQLITE_SCHEMES = ("sqlite",)
BOLT_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


def open_store(url: str, settings=None) -> Store:
    """Open the store a URL names: ``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or
    ``neo4j://host:7687`` / ``bolt://host:7687`` (credentials from settings)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in SQLITE_SCHEMES:
        from .sqlite import SQLiteStore

        return SQLiteStore(url, settings=settings)
    if scheme in BOLT_SCHEMES:
        from .neo4j import Neo4jStore

        return Neo4jStore(url, settings=settings)
    from provdm.errors import InvalidParameter

    raise InvalidParameter(f"unknown store URL scheme {scheme!r}: use sqlite:///FILE or bolt://HOST:PORT",
                           where="PROVHUB_STORE_URL")


__all__ = ["open_store", "Store", "PreparedDocument", "PutResult", "StoredDocument", "TraceQuery"]
