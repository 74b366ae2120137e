"""What only the embedded (SQLite) store does: its schema upgrade and its settings."""

from __future__ import annotations

import json
import sqlite3

from provhub.app import services
from provhub.app.config import Settings
from provhub.app.stores.base import TraceQuery
from provhub.app.stores.sqlite import SQLiteStore
from tests.conftest import ROOT

EX = "http://example.org/cta#"
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()


def _to_the_old_layout(path) -> None:
    """The tables as they were: relations keyed by id, no fragment columns, the old indexes."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE old_relations (id TEXT PRIMARY KEY, type TEXT NOT NULL, src TEXT, dst TEXT,
                                    category TEXT NOT NULL, qn TEXT, attrs TEXT NOT NULL) WITHOUT ROWID;
        INSERT INTO old_relations SELECT id, type, src, dst, category, qn, attrs FROM relations;
        DROP TABLE relations;
        ALTER TABLE old_relations RENAME TO relations;
        CREATE INDEX relations_src ON relations(src, category);
        CREATE INDEX relations_in ON relations(dst, category, src);
        ALTER TABLE nodes DROP COLUMN pjkey;
        ALTER TABLE nodes DROP COLUMN pj;
        ALTER TABLE nodes DROP COLUMN pjns;
        DROP INDEX IF EXISTS nodes_level;
    """)
    if "level" in {r[1] for r in conn.execute("PRAGMA table_info(nodes)")}:
        conn.execute("ALTER TABLE nodes DROP COLUMN level")
    conn.commit()
    conn.close()


def test_relations_lie_in_the_order_their_documents_came(tmp_path):
    """A lineage answer reads the relations of the documents it reaches: those of one document
    lie together (consecutive row numbers), in new stores and in upgraded ones."""
    from benchmarks import generator as gen

    url = f"sqlite:///{tmp_path}/o.db"
    store = SQLiteStore(url, Settings(store_url=url))
    docs = [d for d in gen.documents(3000, 1) if d.name.startswith("run-")][:3]
    for doc in docs:
        services.ingest(store, doc.text(), "json", settings=Settings())
    store.close()

    def first_document_of_each_row() -> list[int]:
        """In the order of the table's key: row number, or id in the old layout."""
        conn = sqlite3.connect(tmp_path / "o.db")
        try:
            key = "rid" if "rid" in {r[1] for r in conn.execute("PRAGMA table_info(relations)")} else "id"
            return [
                row[0]
                for row in conn.execute(
                    "SELECT (SELECT min(d.seq) FROM assertions a JOIN documents d ON d.id = a.doc_id "
                    f"WHERE a.record_id = r.id) FROM relations r ORDER BY r.{key}"
                )
            ]
        finally:
            conn.close()

    written = first_document_of_each_row()
    assert len(set(written)) == 3 and written == sorted(written), written
    _to_the_old_layout(tmp_path / "o.db")
    assert first_document_of_each_row() != written  # keyed by hashed ids, the order is lost...
    SQLiteStore(url, Settings(store_url=url)).close()
    assert first_document_of_each_row() == written  # ...and the upgrade puts it back


def test_a_store_made_before_fragments_is_upgraded_on_open(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    store = SQLiteStore(url, Settings(store_url=url))
    services.ingest(store, KNOWN, "provn", settings=Settings())
    query = TraceQuery(ids=[EX + "dl5"], depth=None, agents=True)
    expected = json.loads(store.trace_provjson(query))
    levels = {lv: store.search("", None, limit=100, level=lv) for lv in ("DL3", "DL5", "DL6")}
    assert all(total for _, total in levels.values())
    store.close()
    _to_the_old_layout(tmp_path / "old.db")

    store = SQLiteStore(url, Settings(store_url=url))
    assert json.loads(store.trace_provjson(query)) == expected
    assert {lv: store.search("", None, limit=100, level=lv) for lv in levels} == levels  # filled once
    conn = store._conn()
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"relations_out", "relations_in", "documents_access"} <= names and "relations_src" not in names
    assert "rid" in {r[1] for r in conn.execute("PRAGMA table_info(relations)")}
    # the walk reads the relations_in index alone, and the fragments by row number
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT rid, dst, src FROM relations WHERE dst IN "
        "(SELECT value FROM json_each(?)) AND category IN (SELECT value FROM json_each(?))",
        ("[]", "[]"),
    ).fetchall()
    assert "COVERING INDEX relations_in" in " ".join(r[3] for r in plan), plan
    store.close()
    # opening it again changes nothing
    store = SQLiteStore(url, Settings(store_url=url))
    assert json.loads(store.trace_provjson(query)) == expected
    store.close()


def test_memory_mapping_follows_the_setting(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    for mb in (0, 64):
        store = SQLiteStore(url, Settings(store_url=url, sqlite_mmap_mb=mb))
        assert store._conn().execute("PRAGMA mmap_size").fetchone()[0] == mb * 1024 * 1024
        store.close()


def test_rights_checks_do_not_read_the_document_texts(tmp_path):
    """Counting readable documents and reading the rights of records use the documents_access
    index only: the rows hold the documents' texts (MBs each), which a scan would walk through."""
    url = f"sqlite:///{tmp_path}/r.db"
    store = SQLiteStore(url, Settings(store_url=url))
    conn = store._conn()
    from provhub.app.access import Readable

    clause, params = Readable.of(frozenset({"A"}), "2026-01-01").sql("d")
    plans = [
        conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM documents d WHERE d.status = 'live' AND " + clause, params
        ).fetchall()
    ]
    calls = []
    real = store._in
    store._in = lambda sql, ids, extra=(): calls.append(sql) or real(sql, ids, extra)
    store.rights_of(["x"])
    plans.append(conn.execute("EXPLAIN QUERY PLAN " + calls[0], ('["x"]',)).fetchall())
    for plan in plans:
        details = " ".join(row[3] for row in plan if "d " in row[3] or "documents" in row[3])
        assert "COVERING INDEX documents_access" in details, plan


def test_threads_of_a_threaded_server_reuse_connections_without_piling_them_up(tmp_path):
    import threading

    from provhub.app.stores.sqlite import IDLE_CONNECTIONS

    url = f"sqlite:///{tmp_path}/t.db"
    store = SQLiteStore(url, Settings(store_url=url))
    seen = []

    def request(begin=False):
        conn = store._conn()
        seen.append(conn)
        store.stats()
        if begin:  # a thread that dies inside a transaction
            conn.execute("BEGIN IMMEDIATE")

    def run(n, **kw):
        threads = [threading.Thread(target=request, kwargs=kw) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    for _ in range(30):  # one request after the other: one connection, warm, serves them all
        run(1)
    assert len({id(c) for c in seen}) == 1
    run(20)  # 20 at once, then they end: a few stay open for the next threads
    run(1)
    assert len(store._all) + len(store._idle) <= IDLE_CONNECTIONS + 1
    seen.clear()
    run(1, begin=True)
    run(1)
    assert seen[1] is not seen[0]  # never handed on inside a transaction
    assert store.stats().documents == 0  # and its write lock is gone
    services.ingest(store, KNOWN, "provn", settings=Settings())
    store.close()


def test_an_ingest_is_checkpointed_by_a_thread_of_its_own(tmp_path):
    """The request's COMMIT leaves the records in the write-ahead log; the store's checkpoint
    thread copies them into the store file, so no client waits for that copy."""
    import os
    import time

    url = f"sqlite:///{tmp_path}/c.db"
    store = SQLiteStore(url, Settings(store_url=url))
    assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    size = os.path.getsize(tmp_path / "c.db")
    services.ingest(store, KNOWN, "provn", settings=Settings())
    deadline = time.monotonic() + 10
    # a write of the ingest before its records' (the store's secret, say) may be checkpointed first
    while not (store._checkpointer.runs and os.path.getsize(tmp_path / "c.db") > size) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store._checkpointer.runs >= 1
    assert os.path.getsize(tmp_path / "c.db") > size  # the records are in the file, not only in the WAL
    thread = store._checkpointer._thread
    assert thread is not None and thread.name == "sqlite-checkpoint" and thread.is_alive()
    store.close()
    assert not thread.is_alive()  # this store's thread (other tests' stores may still have theirs)
    store = SQLiteStore(url, Settings(store_url=url))
    assert store.stats().documents == 1
    store.close()


def test_processes_opening_an_old_store_together_upgrade_it_once(tmp_path):
    """The workers of one server open the file at the same moment: one upgrades it, the others
    wait for it (even past the store's busy timeout) and find nothing left to do."""
    import threading
    import time

    import provhub.app.stores.sqlite as sqlite_store

    url = f"sqlite:///{tmp_path}/w.db"
    store = SQLiteStore(url, Settings(store_url=url))
    services.ingest(store, KNOWN, "provn", settings=Settings())
    query = TraceQuery(ids=[EX + "dl5"], depth=None, agents=True)
    expected, stats = json.loads(store.trace_provjson(query)), store.stats()
    store.close()

    rewrites, errors, opened, fragments = [], [], [], []
    real_indexes, real_fragment = sqlite_store.RELATION_INDEXES, sqlite_store.record_fragment

    class CountingIndexes(str):  # the relations rewrite reads it once
        def strip(self):
            rewrites.append(1)
            return real_indexes.strip()

    def slow_fragment(qn, attrs):
        """The first upgrade holds the write lock long enough for the others to queue behind it."""
        if not fragments:
            time.sleep(0.5)
        fragments.append(1)
        return real_fragment(qn, attrs)

    sqlite_store.RELATION_INDEXES = CountingIndexes(real_indexes)
    sqlite_store.record_fragment = slow_fragment
    barrier = threading.Barrier(3)

    def open_store():
        try:
            barrier.wait()
            opened.append(SQLiteStore(url, Settings(store_url=url, store_timeout=0.1)))
        except Exception as exc:  # reported below
            errors.append(exc)

    def upgrade_only():
        """What opening does past the schema script: every thread asks whether an upgrade is
        needed while the first one holds the write lock, so all of them queue for it."""
        conn = sqlite3.connect(tmp_path / "w.db", timeout=0.1, isolation_level=None)
        try:
            barrier.wait()
            with sqlite_store._patient(conn):
                sqlite_store._add_fragments(conn)
                sqlite_store._relations_by_row(conn)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            conn.close()

    try:
        for target in (upgrade_only, open_store):
            _to_the_old_layout(tmp_path / "w.db")
            rewrites.clear()
            fragments.clear()
            threads = [threading.Thread(target=target) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            assert not errors, (target.__name__, errors)
            assert len(rewrites) == 1, target.__name__
            assert len(fragments) == stats.nodes + stats.relations, target.__name__  # each written once
    finally:
        sqlite_store.RELATION_INDEXES = real_indexes
        sqlite_store.record_fragment = real_fragment
    assert len(opened) == 3
    for s in opened:
        assert json.loads(s.trace_provjson(query)) == expected and s.stats() == stats
        s.close()


def test_a_store_made_before_relations_were_marked_gets_the_marks_on_open(tmp_path):
    """The walk's references() questions (descriptors, isRelatedTo types) read only relations
    marked as holding one of their words (index relations_mentions). A store made before the
    marks gets them when opened, and every answer, descriptions and all, stays the same."""
    url = f"sqlite:///{tmp_path}/marks.db"
    store = SQLiteStore(url, Settings(store_url=url))
    for name in ("voprov-all-native.json", "voprov-described-relation-native.json"):
        services.ingest(store, (ROOT / "tests" / "fixtures" / "voprov" / name).read_text(), "json", settings=Settings())
    starts = [n.id for n in store.search("", None, limit=1000)[0]]

    def answers():
        return [json.loads(store.trace_provjson(TraceQuery(ids=[rid], depth=None))) for rid in starts]

    expected = answers()
    marked = store._conn().execute("SELECT count(*) FROM relations WHERE mentions IS NOT NULL").fetchone()[0]
    assert marked > 0
    store.close()
    conn = sqlite3.connect(tmp_path / "marks.db")
    conn.executescript("""
        DROP INDEX relations_mentions;
        DROP INDEX relations_mentions_in;
        ALTER TABLE relations DROP COLUMN mentions;
        DELETE FROM meta WHERE key = 'mentions';
    """)
    conn.close()

    store = SQLiteStore(url, Settings(store_url=url))
    assert store._conn().execute("SELECT count(*) FROM relations WHERE mentions IS NOT NULL").fetchone()[0] == marked
    assert answers() == expected
    store.close()


def _voprov_store(tmp_path, name: str) -> tuple[str, SQLiteStore]:
    url = f"sqlite:///{tmp_path}/{name}.db"
    store = SQLiteStore(url, Settings(store_url=url))
    for doc in ("voprov-all-native.json", "voprov-described-relation-native.json"):
        services.ingest(store, (ROOT / "tests" / "fixtures" / "voprov" / doc).read_text(), "json", settings=Settings())
    return url, store


def test_ivoa_answers_join_the_native_fragments_the_store_kept(tmp_path, monkeypatch):
    """Each record keeps its fragment in voprov's native form (pjnative), so a MODEL=IVOA answer
    rewrites none of them, and is byte for byte the W3C answer rewritten whole."""
    from provhub.provdm import voprov

    _, store = _voprov_store(tmp_path, "native")
    starts = [n.id for n in store.search("", None, limit=1000)[0]]
    queries = [TraceQuery(ids=[rid], depth=None) for rid in starts]
    expected = [voprov.to_native(store.trace_provjson(q), "json") for q in queries]
    kept = store._conn().execute("SELECT count(*) FROM nodes WHERE pjnative != ''").fetchone()[0]
    assert kept > 0

    def rewritten(*args):
        raise AssertionError("a fragment the store kept in native form was rewritten")

    monkeypatch.setattr(voprov, "_native_record", rewritten)
    assert [store.trace_provjson(q, native=True) for q in queries] == expected
    store.close()


def test_a_store_made_before_native_fragments_gets_them_on_open(tmp_path, monkeypatch):
    """Stores made before records kept their native form, or by another version of the native
    writer (meta ``native``), get them written when opened; a record whose native form is NULL
    (written by an earlier version) is rewritten in the answer, not taken as unchanged."""
    from provhub.provdm import voprov

    url, store = _voprov_store(tmp_path, "old-native")
    starts = [n.id for n in store.search("", None, limit=1000)[0]]
    queries = [TraceQuery(ids=[rid], depth=None) for rid in starts]
    expected = [store.trace_provjson(q, native=True) for q in queries]
    written = store._conn().execute("SELECT id, pjnative FROM nodes ORDER BY id").fetchall()
    store._conn().execute("UPDATE nodes SET pjnative = NULL")  # as an earlier version wrote them
    store._conn().execute("UPDATE relations SET pjnative = NULL")
    assert [store.trace_provjson(q, native=True) for q in queries] == expected
    store.close()
    conn = sqlite3.connect(tmp_path / "old-native.db")
    conn.executescript("""
        ALTER TABLE nodes DROP COLUMN pjnative;
        ALTER TABLE relations DROP COLUMN pjnative;
        DELETE FROM meta WHERE key = 'native';
    """)
    conn.close()

    store = SQLiteStore(url, Settings(store_url=url))
    assert store._conn().execute("SELECT id, pjnative FROM nodes ORDER BY id").fetchall() == written
    assert [store.trace_provjson(q, native=True) for q in queries] == expected
    # forms written by another version of the native writer are written again
    store._conn().execute("UPDATE nodes SET pjnative = 'entity\t{}' WHERE pjnative != ''")
    store.close()
    monkeypatch.setattr(voprov, "NATIVE_VERSION", "another writer")
    store = SQLiteStore(url, Settings(store_url=url))
    assert store._conn().execute("SELECT id, pjnative FROM nodes ORDER BY id").fetchall() == written
    store.close()
