"""What only the embedded (SQLite) store does: its schema upgrade and its settings."""
from __future__ import annotations

import json
import sqlite3

from app import services
from app.config import Settings
from app.stores.base import TraceQuery
from app.stores.sqlite import SQLiteStore
from tests.conftest import ROOT

EX = "http://example.org/cta#"
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()


def test_a_store_made_before_fragments_is_upgraded_on_open(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    store = SQLiteStore(url, Settings(store_url=url))
    services.ingest(store, KNOWN, "provn", settings=Settings())
    query = TraceQuery(ids=[EX + "dl5"], depth=None, agents=True)
    expected = json.loads(store.trace_provjson(query))
    store.close()
    # the tables as they were: no fragment columns, the old indexes
    conn = sqlite3.connect(tmp_path / "old.db")
    for table in ("nodes", "relations"):
        for col in ("pjkey", "pj", "pjns"):
            conn.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
    conn.execute("DROP INDEX relations_out")
    conn.execute("CREATE INDEX relations_src ON relations(src, category)")
    conn.commit()
    conn.close()

    store = SQLiteStore(url, Settings(store_url=url))
    assert json.loads(store.trace_provjson(query)) == expected
    names = {r[0] for r in store._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"relations_out", "relations_in"} <= names and "relations_src" not in names
    store.close()


def test_memory_mapping_follows_the_setting(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    for mb in (0, 64):
        store = SQLiteStore(url, Settings(store_url=url, sqlite_mmap_mb=mb))
        assert store._conn().execute("PRAGMA mmap_size").fetchone()[0] == mb * 1024 * 1024
        store.close()
