"""The embedded store: one SQLite file (stdlib ``sqlite3``), WAL mode, no server.

Tables: ``documents``, ``nodes``, ``relations`` (covering indexes for the walk: src, category, dst and the reverse),
``assertions`` (record id <-> document id) and ``namespaces``. Record attributes are JSON, and
each record also keeps its PROV-JSON fragment (``pjkey``, ``pj``, ``pjns``: see
:func:`provhub.provdm.provjson.record_fragment`) so that large PROV-JSON answers are joined, not rebuilt.
Each ingest is one ``BEGIN IMMEDIATE`` transaction (writers queue, readers go on under WAL).
Connections are per thread.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from provhub.app.access import Readable
from provhub.provdm import vocabulary as voc
from provhub.provdm import voprov
from provhub.provdm.codec import REPEAT_PREFIX, Graph, Node, Relation, tree_json
from provhub.provdm.facts import node_levels
from provhub.provdm.errors import InvalidParameter, NotFound, StoreBusy, StoreNotWritable, StoreUnavailable
from provhub.provdm.merge import plan_merge
from provhub.provdm.provjson import join_fragments, record_fragment

from .base import (
    DocumentRights,
    attribute_needles,
    HistoryEntry,
    PreparedDocument,
    PutResult,
    Rewrite,
    Store,
    Stats,
    StoredDocument,
    TokenRecord,
    TraceQuery,
    utcnow_iso,
)
from .lineage import ASKED_WORDS, attribute_references, mention_words, repeats_among, walk

#: A rowid table, its large columns last. Keyed by id (WITHOUT ROWID), every record lay in the
#: key b-tree, and SQLite reads the whole of an overflowing cell to compare keys: a record of 60
#: attributes of 1 MB made ProvSAP of an id beside it 0.65 ms -> 1.8 s, and get_nodes of 200 ids
#: 5 s (also inside a write). Here the id index holds ids only, and reading kind or qn stops
#: before attrs and pj (benchmarks/attack.py, "lookup beside a large record").
NODES_TABLE = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    qn TEXT NOT NULL,
    pjkey TEXT,
    pjns TEXT,
    attrs TEXT NOT NULL,
    pj TEXT,
    level TEXT,
    pjnative TEXT
);
"""
#: counts and searches by data level read the level off this index (see _add_level)
LEVEL_INDEX = "CREATE INDEX nodes_level ON nodes(level, kind)"
NODE_INDEXES = """CREATE INDEX IF NOT EXISTS nodes_kind ON nodes(kind);
"""
_NODE_COLS = "id, kind, qn, pjkey, pjns, attrs, pj"
#: the further assertions of element ids (keys REPEAT_PREFIX...), read off the id index: none in
#: most stores, so the walk's question costs one probe
_SELECT_REPEATS = "SELECT id, qn FROM nodes WHERE id > ? AND id < ?"
_REPEAT_RANGE = (REPEAT_PREFIX, REPEAT_PREFIX[:-1] + chr(ord(REPEAT_PREFIX[-1]) + 1))

#: A rowid table: rows written together (one document, sorted by src) lie together in the file, so
#: a lineage answer reads few pages. Keyed by id (WITHOUT ROWID), relations lay in the hash order
#: of anonymous ids, and the fragments of a 10^4-relation answer touched most of a 10^6-record
#: store: 1.1 GB of mapped pages and 80 ms, against 14 MB and 13 ms in row order.
RELATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS relations (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    src TEXT,
    dst TEXT,
    category TEXT NOT NULL,
    qn TEXT,
    attrs TEXT NOT NULL,
    pjkey TEXT,
    pj TEXT,
    pjns TEXT,
    mentions INTEGER,  -- 1 when attrs holds a word of lineage.ASKED_WORDS (see MENTIONS_INDEX)
    pjnative TEXT  -- the fragment in voprov's native form, or "" when the same (see _write_native)
);
"""

#: the walk reads these covering indexes alone (plus the rowid each index entry carries)
RELATION_INDEXES = """
CREATE INDEX IF NOT EXISTS relations_out ON relations(src, category, dst);
CREATE INDEX IF NOT EXISTS relations_in ON relations(dst, category, src);
"""
#: the relations that may answer the walk's references() questions: most stores hold few or none,
#: so a question about the 8,000 relations of an answer probes this index, not their rows (5 ->
#: 1.2 ms); filled from the texts once for stores made before it (meta ``mentions``)
MENTIONS_INDEX = "CREATE INDEX IF NOT EXISTS relations_mentions ON relations(rid) WHERE mentions IS NOT NULL"
#: ... and those entering a record: a description shared by 1,000 runs is entered by 1,000
#: description relations, of which the walk wants the few typed isRelatedTo (edges_from's words)
MENTIONS_IN_INDEX = (
    "CREATE INDEX IF NOT EXISTS relations_mentions_in ON relations(dst, category, src) WHERE mentions IS NOT NULL"
)
MENTIONS_VERSION = "2"

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    original TEXT NOT NULL,
    provjson TEXT NOT NULL,  -- canonical PROV-JSON; empty when it is the original text
    prefixes TEXT NOT NULL,
    records INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    rights TEXT NOT NULL DEFAULT 'public',
    grp TEXT,
    release TEXT
);
-- rights checks read documents from this index alone, never walking the pages of their texts
DROP INDEX IF EXISTS documents_rights;
CREATE INDEX IF NOT EXISTS documents_access ON documents(id, rights, grp, release, seq);
"""
    + NODES_TABLE
    + NODE_INDEXES
    + RELATIONS_TABLE
    + """DROP INDEX IF EXISTS relations_src;
DROP INDEX IF EXISTS relations_dst;
"""
    + RELATION_INDEXES
    + """
CREATE TABLE IF NOT EXISTS assertions (
    record_id TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (record_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS assertions_doc ON assertions(doc_id);
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    groups TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS namespaces (
    prefix TEXT PRIMARY KEY,
    uri TEXT NOT NULL
) WITHOUT ROWID;
-- identity: the alias claims of each document's records (provhub.provdm.identity); pins have doc_id ''
CREATE TABLE IF NOT EXISTS aliases (
    key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    strength TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (key, record_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS aliases_record ON aliases(record_id);
CREATE INDEX IF NOT EXISTS aliases_doc ON aliases(doc_id);
-- document lifecycle: what was retracted or superseded, by whom, when
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT,
    at TEXT NOT NULL,
    other TEXT
);
CREATE INDEX IF NOT EXISTS history_doc ON history(doc_id);
"""
)

IDLE_CONNECTIONS = 8  # connections of ended threads kept for new ones
_CHUNK = 900  # ids per IN-list query (json_each takes any number; chunks bound memory)


def path_from_url(url: str) -> str:
    """``sqlite:///rel.db`` -> ``rel.db``; ``sqlite:////abs/x.db`` -> ``/abs/x.db``;
    ``sqlite://:memory:`` is refused (each connection would see another database)."""
    if not url.startswith("sqlite://"):
        raise InvalidParameter(f"not a sqlite URL: {url!r}", where="PROVHUB_STORE_URL")
    rest = url[len("sqlite://") :]
    if not rest.startswith("/") or rest == "/":
        raise InvalidParameter(
            "sqlite store URL must look like sqlite:///relative.db or sqlite:////abs/path.db", where="PROVHUB_STORE_URL"
        )
    return rest[1:]


def _node(row) -> Node:
    return Node(row[0], row[1], json.loads(row[2]), json.loads(row[3]))


def _relation(row) -> Relation:
    return Relation(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]) if row[5] else None, json.loads(row[6]))


def _doc(row) -> StoredDocument:
    return StoredDocument(
        id=row[0],
        format=row[1],
        original=row[2],
        provjson=row[3] or row[2],
        prefixes=json.loads(row[4]),
        records=row[5],
        created_at=row[6],
        rights=row[7],
        group=row[8],
        release=row[9],
        status=row[10],
        superseded_by=row[11],
        poster=row[12],
    )


def _by_id(record) -> str:
    return record.id


def _by_src(relation) -> tuple[str, str]:
    return relation.src or "", relation.id


def _close(conn: sqlite3.Connection) -> None:
    try:
        conn.close()
    except sqlite3.Error:
        pass


_IN_ROWIDS = " WHERE rid IN (SELECT value FROM json_each(?))"
_SELECT_RELATIONS = "SELECT id, type, src, dst, category, qn, attrs FROM relations"  # rows for _relation

_DOC_COLS = "id, format, original, provjson, prefixes, records, created_at, rights, grp, release"
_DOC_READ = _DOC_COLS + ", status, superseded_by, poster"
_LIVE = "d.status = 'live'"


_FRAGMENT_COLUMNS = ("pjkey", "pj", "pjns")


UPGRADE_WAIT_S = 3600  # how long an opening process waits for another one's upgrade of the file


@contextmanager
def _patient(conn: sqlite3.Connection):
    """Opening a store waits for another process's schema work on the file longer than the
    store's busy timeout: the workers of one server open it together, and the upgrade of a
    10^6-record store takes about 20 s."""
    timeout_ms = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute(f"PRAGMA busy_timeout = {UPGRADE_WAIT_S * 1000}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")


def _upgrade(conn: sqlite3.Connection, needed, work) -> None:
    """Run ``work()`` in one write transaction if ``needed()``, asked again once the write lock is
    held: of processes opening an old store together, the first upgrades it and the others then
    find nothing left to do."""
    if not needed():
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        if needed():
            work()
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def _upgrade_marked(conn: sqlite3.Connection, key: str, version: str, work, missing=lambda: False) -> None:
    """:func:`_upgrade` under a mark in meta (``key`` = ``version``), so that no open scans the
    store to find out: ``work()`` runs when the mark is absent or another version's, or when
    ``missing()`` (what it makes was lost since), and the mark is then set."""

    def stale() -> bool:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row is None or row[0] != version or missing()

    def run() -> None:
        work()
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, version))

    _upgrade(conn, stale, run)


def _has_index(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", (name,)).fetchone() is not None


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _add_lifecycle(conn: sqlite3.Connection) -> None:
    """Stores made before documents had a lifecycle get its two columns (every document live)."""

    def add():
        conn.execute("ALTER TABLE documents ADD COLUMN status TEXT NOT NULL DEFAULT 'live'")
        conn.execute("ALTER TABLE documents ADD COLUMN superseded_by TEXT")
        # lists of live documents read the status from the index too, never the texts
        conn.execute("DROP INDEX IF EXISTS documents_access")
        conn.execute("CREATE INDEX documents_access ON documents(id, rights, grp, release, seq, status)")

    _upgrade(conn, lambda: "status" not in _columns(conn, "documents"), add)


def _add_poster(conn: sqlite3.Connection) -> None:
    """Stores made before documents kept their poster get the column (posters not known: the
    documents without an owner group are then changed by admins only)."""
    _upgrade(
        conn,
        lambda: "poster" not in _columns(conn, "documents"),
        lambda: conn.execute("ALTER TABLE documents ADD COLUMN poster TEXT"),
    )


def _store_secret(conn: sqlite3.Connection) -> str:
    """The store's secret, made by the first process that opens the store: a read that needs it
    (the placeholders of an anonymous answer) then never waits for the write lock."""

    def read() -> str | None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'secret'").fetchone()
        return row[0] if row else None

    def make() -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES ('secret', ?)", (secrets.token_hex(32),))

    _upgrade(conn, lambda: read() is None, make)
    return cast(str, read())


def _add_fragments(conn: sqlite3.Connection) -> None:
    """Stores made before records kept their PROV-JSON fragments get the columns, filled once."""
    for table in ("nodes", "relations"):

        def fill(table=table):
            have = _columns(conn, table)
            for col in _FRAGMENT_COLUMNS:
                if col not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {col} TEXT")
            rows = conn.execute(f"SELECT id, qn, attrs FROM {table}").fetchall()
            conn.executemany(
                f"UPDATE {table} SET pjkey = ?, pj = ?, pjns = ? WHERE id = ?",
                [(*record_fragment(json.loads(qn) if qn else None, json.loads(attrs)), rid) for rid, qn, attrs in rows],
            )

        _upgrade(conn, lambda table=table: "pj" not in _columns(conn, table), fill)


def _write_native(conn: sqlite3.Connection) -> None:
    """Each record keeps its PROV-JSON fragment in voprov's native form too (``pjnative``:
    :func:`provhub.provdm.voprov.native_fragment`, or "" when it is the same), so that a
    MODEL=IVOA answer, ProvSAP's default, joins it instead of rewriting it (about 10 us a record,
    4,000 records of the fan-in's DEPTH=3 answer). Stores made before, or by another version of
    the native writer (meta ``native`` = voprov.NATIVE_VERSION), get them written once when
    opened; only records whose prefixes bind voprov's namespace can differ."""

    def write() -> None:
        held = " OR ".join(["instr(pjns, ?) > 0"] * len(voc.VOPROV_URIS))
        for table, section in (("nodes", "kind"), ("relations", "type")):
            if "pjnative" not in _columns(conn, table):
                conn.execute(f"ALTER TABLE {table} ADD COLUMN pjnative TEXT")
            conn.execute(f"UPDATE {table} SET pjnative = ''")  # without voprov's namespace: the same
            rows = conn.execute(f"SELECT id, {section}, pj, pjns FROM {table} WHERE {held}", voc.VOPROV_URIS)
            conn.executemany(
                f"UPDATE {table} SET pjnative = ? WHERE id = ?",
                [(_native(name, pj, pjns), rid) for rid, name, pj, pjns in rows.fetchall()],
            )

    _upgrade_marked(conn, "native", voprov.NATIVE_VERSION, write)


#: the categories of relations the store's rows have (meta ``categories``)
CATEGORIES_VERSION = "2"


def _recategorize(conn: sqlite3.Connection) -> None:
    """Stores made when wasDerivedFrom, wasInformedBy and wasInvalidatedBy were ``causal`` get
    their categories of now (:data:`provhub.provdm.vocabulary.RELATION_CATEGORY`: shortcut, invalidation)."""
    moved = {t: c for t, c in voc.RELATION_CATEGORY.items() if c in (voc.SHORTCUT, voc.INVALIDATION)}

    def update() -> None:
        for rtype, category in moved.items():
            conn.execute(
                "UPDATE relations SET category = ? WHERE type = ? AND category = ?", (category, rtype, voc.CAUSAL)
            )

    _upgrade_marked(conn, "categories", CATEGORIES_VERSION, update)


_RELATION_COLS = "id, type, src, dst, category, qn, attrs, pjkey, pj, pjns"  # (mentions: _mark_mentions)


def _mentions(attrs_json: str) -> int | None:
    """The ``mentions`` mark of a relation whose attributes are ``attrs_json``."""
    return 1 if any(word in attrs_json for word in ASKED_WORDS) else None


def _mark_mentions(conn: sqlite3.Connection) -> None:
    """Stores made before relations were marked for the walk's references() questions get the
    column, the marks and the index (a mark in meta: no scan of the relations on every open)."""

    def mark() -> None:
        if "mentions" not in _columns(conn, "relations"):
            conn.execute("ALTER TABLE relations ADD COLUMN mentions INTEGER")
        held = " OR ".join(["instr(attrs, ?) > 0"] * len(ASKED_WORDS))
        conn.execute(f"UPDATE relations SET mentions = CASE WHEN {held} THEN 1 END", ASKED_WORDS)
        conn.execute(MENTIONS_INDEX)
        conn.execute(MENTIONS_IN_INDEX)

    def missing() -> bool:  # the relations were rewritten since (_relations_by_row), indexes and all
        return not (_has_index(conn, "relations_mentions") and _has_index(conn, "relations_mentions_in"))

    _upgrade_marked(conn, "mentions", MENTIONS_VERSION, mark, missing)


def _relations_by_row(conn: sqlite3.Connection) -> None:
    """Stores made when relations were keyed by id (WITHOUT ROWID) get them rewritten once into
    the rowid table, in the order a new store has them: by the first document asserting them,
    then by src (see RELATIONS_TABLE). In dst order instead, the relations that use one IRF
    lay together and those of one run apart: a fan-in lineage touched 3x the pages."""

    def rewrite():
        conn.execute("ALTER TABLE relations RENAME TO relations_by_id")
        conn.execute(RELATIONS_TABLE)
        # copied before the old table and its indexes are dropped: their pages, once free, would
        # be reused in free-list order and scatter the new table over the file
        conn.execute(
            f"INSERT INTO relations ({_RELATION_COLS}) SELECT {_RELATION_COLS} FROM relations_by_id "
            "ORDER BY (SELECT min(d.seq) FROM assertions a JOIN documents d ON d.id = a.doc_id "
            "WHERE a.record_id = relations_by_id.id), src, id"
        )
        conn.execute("DROP TABLE relations_by_id")  # and its indexes, named as the new ones
        for statement in RELATION_INDEXES.strip().splitlines():
            conn.execute(statement)

    _upgrade(conn, lambda: "rid" not in _columns(conn, "relations"), rewrite)


def _nodes_by_row(conn: sqlite3.Connection) -> None:
    """Stores made when nodes were keyed by id (WITHOUT ROWID) get them rewritten once into the
    rowid table (NODES_TABLE), in id order as before."""

    def without_rowid() -> bool:
        row = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'nodes'").fetchone()
        return bool(row) and "WITHOUT ROWID" in row[0].upper()

    def rewrite():
        conn.execute("ALTER TABLE nodes RENAME TO nodes_by_id")
        conn.execute("DROP INDEX IF EXISTS nodes_kind")
        conn.execute(NODES_TABLE)
        conn.execute(f"INSERT INTO nodes ({_NODE_COLS}) SELECT {_NODE_COLS} FROM nodes_by_id ORDER BY id")
        conn.execute("DROP TABLE nodes_by_id")
        conn.execute(NODE_INDEXES)

    _upgrade(conn, without_rowid, rewrite)


def _add_level(conn: sqlite3.Connection) -> None:
    """Stores made before records kept their data level get the column, filled once (about
    15 us a record), and its index (:data:`LEVEL_INDEX`)."""

    def fill():
        if "level" not in _columns(conn, "nodes"):
            conn.execute("ALTER TABLE nodes ADD COLUMN level TEXT")
        last = 0
        while True:
            rows = conn.execute(
                "SELECT rowid, id, kind, qn, attrs FROM nodes WHERE rowid > ? ORDER BY rowid LIMIT 10000", (last,)
            ).fetchall()
            if not rows:
                break
            last = rows[-1][0]
            levels = node_levels([Node(r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows])
            conn.executemany(
                "UPDATE nodes SET level = ? WHERE rowid = ?",
                [(lv, r[0]) for lv, r in zip(levels, rows, strict=True) if lv],
            )
        conn.execute(LEVEL_INDEX)

    _upgrade(conn, lambda: not _has_index(conn, "nodes_level"), fill)


def _write_records(conn: sqlite3.Connection, nodes, relations) -> None:
    """Write records whole (new ones inserted, stored ones replaced), with their fragments and
    data level."""
    nodes = sorted(nodes, key=_by_id)
    conn.executemany(
        "INSERT INTO nodes (id, kind, qn, attrs, pjkey, pj, pjns, pjnative, level) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, qn = excluded.qn, attrs = excluded.attrs, "
        "pjkey = excluded.pjkey, pj = excluded.pj, pjns = excluded.pjns, pjnative = excluded.pjnative, "
        "level = excluded.level",
        [
            (n.id, n.kind, tree_json(n.qn), tree_json(n.attrs), *_fragments(n.kind, n.qn, n.attrs), level)
            for n, level in zip(nodes, node_levels(nodes), strict=True)
        ],
    )
    conn.executemany(
        "INSERT INTO relations (id, type, src, dst, category, qn, attrs, pjkey, pj, pjns, pjnative, mentions) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET type = excluded.type, category = excluded.category, "
        "attrs = excluded.attrs, src = excluded.src, dst = excluded.dst, "
        "qn = excluded.qn, pjkey = excluded.pjkey, pj = excluded.pj, pjns = excluded.pjns, "
        "pjnative = excluded.pjnative, mentions = excluded.mentions",
        [
            (
                r.id,
                r.type,
                r.src,
                r.dst,
                r.category,
                tree_json(r.qn) if r.qn else None,
                attrs,
                *_fragments(r.type, r.qn, r.attrs),
                _mentions(attrs),
            )
            for r in sorted(relations, key=_by_src)
            for attrs in (tree_json(r.attrs),)
        ],
    )


def _holding(words) -> tuple[str, bool]:
    """`` AND ...``: a relation's text holds one of ``words`` (parameters: the words), and whether
    the mark answers first: when every word is one the walk asks for (ASKED_WORDS), a relation
    without a ``mentions`` mark holds none, so the question reads the marked ones only (the
    partial indexes relations_mentions and relations_mentions_in)."""
    held = " AND (" + " OR ".join(["instr(attrs, ?) > 0"] * len(words)) + ")"
    if set(words) <= set(ASKED_WORDS):
        return " AND mentions IS NOT NULL" + held, True
    return held, False


def _where(conditions: list[tuple[str, list]]) -> str:
    return " WHERE " + " AND ".join(sql for sql, _ in conditions) if conditions else ""


def _params(conditions: list[tuple[str, list]]) -> list:
    return [p for _, params in conditions for p in params]


def _fragments(section: str, qn, attrs) -> tuple[str | None, str, str, str]:
    """A record's PROV-JSON fragment (key, body, prefixes) and its native form (``pjnative``)."""
    key, body, prefixes = record_fragment(qn, attrs)
    return key, body, prefixes, _native(section, body, prefixes)


def _native(section: str, body: str, prefixes: str) -> str:
    """``pjnative``: the fragment's native form, or "" when it is the fragment itself (NULL is a
    record whose native form was not written, by an earlier version: the answer rewrites it)."""
    return voprov.native_fragment(section, body, prefixes) or ""


def _insert_document(conn: sqlite3.Connection, doc: PreparedDocument) -> None:
    conn.executemany("INSERT OR IGNORE INTO namespaces (prefix, uri) VALUES (?, ?)", sorted(doc.prefixes.items()))
    conn.execute(
        f"INSERT INTO documents ({_DOC_COLS}, poster) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            doc.id,
            doc.format,
            doc.original,
            "" if doc.provjson == doc.original else doc.provjson,  # "": the same text
            json.dumps(doc.prefixes),
            doc.records,
            utcnow_iso(),
            doc.rights,
            doc.group,
            doc.release,
            doc.poster,
        ),
    )


class _Checkpointer:
    """Copies the write-ahead log into the store file in a thread of its own, after each ingest.

    SQLite's automatic checkpoint runs inside the COMMIT of the connection that crosses the WAL
    threshold, so a client waited for it: 0.3 s of a 10^5-record POST. Request connections turn
    it off (``wal_autocheckpoint=0``) and ask here instead. It is the same PASSIVE checkpoint,
    off the request's path; what is committed is in the WAL, durable, before the answer."""

    def __init__(self, open_connection):
        self._open = open_connection
        self._wanted = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.runs = 0  # checkpoints done (tests wait on it)

    def request(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _loop(self) -> None:
        conn = None
        while True:
            self._wanted.wait()
            self._wanted.clear()
            if self._closing:
                break
            try:
                conn = conn or self._open()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.runs += 1
            except (sqlite3.Error, StoreUnavailable):
                pass  # the next ingest asks again; SQLite also checkpoints when its last connection closes
        if conn is not None:
            _close(conn)

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._closing = True
            self._wanted.set()
            thread.join(60)
            self._closing = False


@dataclass(frozen=True)
class SQLiteConfig:
    """What the embedded store takes from the settings."""

    path: str
    timeout: float = 10.0  # seconds a writer waits for the write lock (PROVHUB_STORE_TIMEOUT)
    mmap_bytes: int = 2048 * 1024 * 1024  # PROVHUB_SQLITE_MMAP_MB

    @classmethod
    def from_settings(cls, url: str, settings=None) -> "SQLiteConfig":
        if settings is None:
            return cls(path_from_url(url))
        return cls(
            path_from_url(url), float(settings.store_timeout or 10.0), int(settings.sqlite_mmap_mb) * 1024 * 1024
        )


class SQLiteStore:
    def __init__(self, url: str, settings=None):
        self.url = url
        self.config = config = SQLiteConfig.from_settings(url, settings)
        self.path, self.timeout, self.mmap_bytes = config.path, config.timeout, config.mmap_bytes
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._idle: list[sqlite3.Connection] = []  # connections of threads that have ended
        self._lock = threading.Lock()
        self._checkpointer = _Checkpointer(self._open)
        parent = Path(self.path).parent
        if not parent.exists():
            raise StoreUnavailable(f"directory {parent} of the SQLite store does not exist", where="PROVHUB_STORE_URL")
        conn = self._conn()
        with _patient(conn):
            conn.executescript(SCHEMA)
            _add_fragments(conn)
            _relations_by_row(conn)
            _nodes_by_row(conn)
            _add_lifecycle(conn)
            _add_poster(conn)
            _add_level(conn)
            _recategorize(conn)
            _mark_mentions(conn)
            _write_native(conn)
            self._secret = _store_secret(conn)

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._reuse() or self._open()
            self._local.conn = conn
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(f"PRAGMA mmap_size={self.mmap_bytes}")
            conn.execute("PRAGMA wal_autocheckpoint=0")  # the _Checkpointer's work
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open SQLite store {self.path}: {exc}", where="PROVHUB_STORE_URL") from None
        return conn

    def _reuse(self) -> sqlite3.Connection | None:
        """A threaded server runs each request (or keep-alive connection) in a new thread. The
        connection of a thread that has ended goes to the next new thread: its page cache and
        memory map are warm (a new connection to a 10^6-record store made each lineage answer
        60-80 ms slower). Beyond IDLE_CONNECTIONS idle ones are closed, or they pile up."""
        with self._lock:
            self._idle += [c for t, c in self._all if not t.is_alive()]
            self._all = [(t, c) for t, c in self._all if t.is_alive()]
            while len(self._idle) > IDLE_CONNECTIONS:
                _close(self._idle.pop(0))
            while self._idle:
                conn = self._idle.pop()
                if not conn.in_transaction:
                    return conn
                _close(conn)  # its thread died inside a transaction: let SQLite roll it back
        return None

    def close(self) -> None:
        self._checkpointer.stop()
        with self._lock:
            for conn in [c for _t, c in self._all] + self._idle:
                _close(conn)
            self._all.clear()
            self._idle.clear()
        self._local = threading.local()

    def ping(self) -> None:
        try:
            self._conn().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"SQLite store {self.path} is not usable: {exc}") from None

    # -- reads -------------------------------------------------------------------------------
    def _in(self, sql: str, ids: list, extra: tuple = ()) -> list:
        conn = self._conn()
        out = []
        for i in range(0, len(ids), _CHUNK):
            chunk = json.dumps(ids[i : i + _CHUNK])
            out.extend(conn.execute(sql, (chunk, *extra)).fetchall())
        return out

    def get_nodes(self, ids: list[str]) -> list[Node]:
        rows = self._in("SELECT id, kind, qn, attrs FROM nodes WHERE id IN (SELECT value FROM json_each(?))", list(ids))
        return [_node(r) for r in rows]

    def get_relations(self, ids: list[str]) -> list[Relation]:
        rows = self._in(_SELECT_RELATIONS + " WHERE id IN (SELECT value FROM json_each(?))", list(ids))
        return [_relation(r) for r in rows]

    def get_document(self, doc_id: str) -> StoredDocument:
        row = self._conn().execute(f"SELECT {_DOC_READ} FROM documents WHERE id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"no document with id {doc_id!r}", where="id")
        return _doc(row)

    def has_document(self, doc_id: str) -> bool:
        return self._conn().execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def list_documents(self, offset: int = 0, limit: int = 50, groups=None, today=None, retired=False):
        conn = self._conn()
        where: list[str] = [] if retired else [_LIVE]
        params: list = []
        if groups is not None:
            clause, params = Readable.of(groups, today).sql("d")
            where.append(clause)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        total = conn.execute(f"SELECT count(*) FROM documents d{clause}", params).fetchone()[0]
        rows = conn.execute(
            f"SELECT {_DOC_READ} FROM documents d{clause} ORDER BY seq LIMIT ? OFFSET ?", (*params, limit, offset)
        ).fetchall()
        return [_doc(r) for r in rows], total

    def documents_asserting(self, record_id: str) -> list[str]:
        rows = (
            self._conn()
            .execute(
                "SELECT a.doc_id FROM assertions a JOIN documents d ON d.id = a.doc_id "
                "WHERE a.record_id = ? ORDER BY d.seq",
                (record_id,),
            )
            .fetchall()
        )
        return [r[0] for r in rows]

    def namespaces(self) -> dict[str, str]:
        return dict(self._conn().execute("SELECT prefix, uri FROM namespaces ORDER BY prefix").fetchall())

    def stats(self) -> Stats:
        conn = self._conn()
        return Stats(
            *(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("documents", "nodes", "relations"))
        )

    def search(
        self,
        text: str = "",
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
        groups=None,
        today=None,
        level=None,
        partial=False,
    ):
        # conditions as (SQL, parameters); an id's further assertions are not listed apart
        base: list[tuple[str, list]] = [("NOT (id > ? AND id < ?)", list(_REPEAT_RANGE))]
        if level:
            base.append(("level = ?", [level]))
        if text:
            needles = attribute_needles(text)
            held = "(instr(lower(id), ?) > 0" + " OR instr(lower(attrs), ?) > 0" * len(needles) + ")"
            base.append((held, [text.lower(), *needles]))
        if kind:
            base.append(("kind = ?", [kind]))
        conn = self._conn()

        def count(conditions) -> int:
            return conn.execute(f"SELECT count(*) FROM nodes{_where(conditions)}", _params(conditions)).fetchone()[0]

        listed = base
        if groups is None:
            total = count(base)
        else:
            clause, readable = Readable.of(groups, today).sql("d")
            asserted = (
                "EXISTS (SELECT 1 FROM assertions a JOIN documents d INDEXED BY documents_access "
                f"ON d.id = a.doc_id WHERE a.record_id = nodes.id AND {clause})",
                readable,
            )
            # asserted by a document outside the groups (a NULL group is outside): read from those
            # documents' assertions, not checked record by record
            hidden = (
                "id IN (SELECT a.record_id FROM documents d CROSS JOIN assertions a INDEXED BY assertions_doc "
                f"ON a.doc_id = d.id WHERE NOT coalesce({clause}, 0))",
                readable,
            )
            listed = base + [asserted] + ([hidden] if partial else [])
            if partial:
                total = count(listed)
            else:  # every match but those that only hidden documents assert, which are among the
                # hidden documents' records (few in most stores): 15 -> 0.3 ms for a level at 10^5
                total = count(base) - count(base + [hidden, ("NOT " + asserted[0], asserted[1])])
        rows = conn.execute(
            f"SELECT id, kind, qn, attrs FROM nodes{_where(listed)} ORDER BY id LIMIT ? OFFSET ?",
            [*_params(listed), limit, offset],
        ).fetchall()
        return [_node(r) for r in rows], total

    # -- access rights -------------------------------------------------------------------------
    def rights_of(self, ids):
        rows = self._in(
            "SELECT a.record_id, d.id, d.rights, d.grp, d.release FROM assertions a "
            "JOIN documents d INDEXED BY documents_access ON d.id = a.doc_id "
            "WHERE a.record_id IN (SELECT value FROM json_each(?)) ORDER BY d.seq",
            list(ids),
        )
        out: dict[str, list[DocumentRights]] = {}
        for rid, doc_id, rights, grp, release in rows:
            out.setdefault(rid, []).append(DocumentRights(doc_id, rights, grp, release))
        return out

    def set_rights(self, doc_id, rights, group, release):
        with self._writing() as conn:
            cur = conn.execute(
                "UPDATE documents SET rights = ?, grp = ?, release = ? WHERE id = ?", (rights, group, release, doc_id)
            )
        if cur.rowcount == 0:
            raise NotFound(f"no document with id {doc_id!r}", where="id")

    def save_token(self, token: TokenRecord) -> None:
        with self._writing() as conn:
            conn.execute(
                "INSERT INTO tokens (id, name, role, groups, hash, created_at, revoked) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    token.id,
                    token.name,
                    token.role,
                    json.dumps(token.groups),
                    token.hash,
                    token.created_at,
                    int(token.revoked),
                ),
            )

    def _tokens(self, where: str = "", params: tuple = ()) -> list[TokenRecord]:
        rows = (
            self._conn()
            .execute(
                f"SELECT id, name, role, groups, hash, created_at, revoked FROM tokens{where} ORDER BY created_at, id",
                params,
            )
            .fetchall()
        )
        return [TokenRecord(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], bool(r[6])) for r in rows]

    def find_token(self, token_hash):
        found = self._tokens(" WHERE hash = ?", (token_hash,))
        return found[0] if found else None

    def list_tokens(self):
        return self._tokens()

    def revoke_token(self, token_id):
        with self._writing() as conn:
            return conn.execute("UPDATE tokens SET revoked = 1 WHERE id = ?", (token_id,)).rowcount > 0

    def secret(self) -> str:
        return self._secret  # read when the store was opened (_store_secret): no write

    # -- lineage -----------------------------------------------------------------------------
    def edges_from(self, ids, out, into, words=()):
        out, into = list(out), list(into)
        held, by_mark = _holding(words) if words else ("", False)
        marked = " INDEXED BY relations_mentions_in" if by_mark else ""
        res = []
        if out:
            res += self._in(
                "SELECT rid, src, dst FROM relations WHERE src IN (SELECT value FROM json_each(?)) "
                "AND category IN (SELECT value FROM json_each(?))" + held,
                list(ids),
                (json.dumps(out), *words),
            )
        if into:
            res += self._in(
                f"SELECT rid, dst, src FROM relations{marked} WHERE dst IN (SELECT value FROM json_each(?)) "
                "AND category IN (SELECT value FROM json_each(?))" + held,
                list(ids),
                (json.dumps(into), *words),
            )
        return [r for r in res if r[2] is not None]

    def kinds(self, ids):
        return dict(self._in("SELECT id, kind FROM nodes WHERE id IN (SELECT value FROM json_each(?))", list(ids)))

    def repeats(self, ids):
        return repeats_among(self._conn().execute(_SELECT_REPEATS, _REPEAT_RANGE).fetchall(), ids)

    def references(self, keys, names, words=None):
        words = words or mention_words(names)  # only the rows that may hold them are sent
        if not words:
            return []
        held, by_mark = _holding(words)
        rows = self._in(
            "SELECT rid, attrs FROM relations"
            + (" INDEXED BY relations_mentions" if by_mark else "")
            + _IN_ROWIDS
            + held,
            sorted(cast("list[int]", keys)),
            tuple(words),
        )
        return [(rid, iri) for rid, attrs in rows for iri in attribute_references(json.loads(attrs), names)]

    # The walk's relation keys are rowids (edges_from), read here in row order.
    def trace(self, query: TraceQuery) -> Graph:
        node_ids, keys = walk(self, query)
        rids = cast("set[int]", keys)
        rels = self._in(_SELECT_RELATIONS + _IN_ROWIDS, sorted(rids))
        return Graph(self.get_nodes(sorted(node_ids)), sorted(map(_relation, rels), key=_by_id))

    def trace_provjson(self, query: TraceQuery, native: bool = False) -> str | None:
        node_ids, keys = walk(self, query)
        rids = cast("set[int]", keys)
        native_column = ", pjnative" if native else ""  # the fragments' native form, as kept
        return join_fragments(
            self._in(
                f"SELECT kind, id, pjkey, pj, pjns{native_column} FROM nodes WHERE id IN (SELECT value FROM json_each(?))",
                list(node_ids),
            ),
            self._in(f"SELECT type, id, pjkey, pj, pjns{native_column} FROM relations" + _IN_ROWIDS, sorted(rids)),
            native=native,
        )

    # -- writes ------------------------------------------------------------------------------
    @contextmanager
    def _writing(self):
        """One write transaction (``BEGIN IMMEDIATE``: writers queue, readers go on under WAL),
        committed unless the body rolled it back itself or raised; then a WAL checkpoint. A full
        disk or a read-only file is StoreNotWritable (503), the transaction rolled back whole."""
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._not_writable(exc) or StoreUnavailable(f"the SQLite store is busy or locked: {exc}") from None
        try:
            yield conn
            if conn.in_transaction:
                conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error) and (refused := self._not_writable(exc)):
                raise refused from None
            raise
        self._checkpointer.request()

    def _not_writable(self, exc: sqlite3.Error) -> StoreNotWritable | None:
        """SQLITE_FULL (the disk, or PRAGMA max_page_count) and SQLITE_READONLY*, as a 503 that
        says so; None for other errors."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        if name.startswith("SQLITE_FULL"):
            what = f"the disk of the SQLite store {self.path} is full"
        elif name.startswith("SQLITE_READONLY"):
            what = f"the SQLite store {self.path} is read-only ({name})"
        else:
            return None
        return StoreNotWritable(
            f"{what}: nothing of this write was stored; reads go on. Free space or make the store "
            "writable, then send it again",
            where="PROVHUB_STORE_URL",
        )

    def put_document(self, prepared: PreparedDocument) -> PutResult:
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM documents WHERE id = ?", (prepared.id,)).fetchone():
                conn.execute("ROLLBACK")
                return PutResult(prepared.id, prepared.records, False)
            stored_nodes = {n.id: n for n in self.get_nodes([n.id for n in prepared.nodes])}
            stored_rels = {r.id: r for r in self.get_relations([r.id for r in prepared.relations])}
            nodes, rels = plan_merge(
                prepared.nodes,
                prepared.relations,
                stored_nodes,
                stored_rels,
                fetch=lambda keys: {n.id: n for n in self.get_nodes(keys)},
            )
            _write_records(conn, nodes, rels)
            conn.executemany(
                "INSERT OR IGNORE INTO assertions (record_id, doc_id) VALUES (?, ?)",
                [
                    (rid, prepared.id)
                    for rid in sorted([n.id for n in prepared.nodes] + [r.id for r in prepared.relations])
                ],
            )
            self._write_aliases(conn, prepared.aliases, prepared.id)
            _insert_document(conn, prepared)
        return PutResult(prepared.id, prepared.records, True)

    @staticmethod
    def _write_aliases(conn, claims, doc_id: str | None = None) -> None:
        conn.executemany(
            "INSERT OR IGNORE INTO aliases (key, record_id, strength, doc_id) VALUES (?, ?, ?, ?)",
            [(c.key, c.record_id, c.strength, c.doc_id if doc_id is None else doc_id) for c in claims],
        )

    # -- identity and lifecycle ----------------------------------------------------------------
    def find_aliases(self, keys=(), record_ids=(), doc_ids=(), distinct=False):
        from provhub.provdm.identity import Claim

        rows = []
        cols = "DISTINCT key, record_id, strength, ''" if distinct else "key, record_id, strength, doc_id"
        for column, values in (("key", keys), ("record_id", record_ids), ("doc_id", doc_ids)):
            if values:
                rows += self._in(
                    f"SELECT {cols} FROM aliases WHERE {column} IN (SELECT value FROM json_each(?))",
                    sorted(set(values)),
                )
        return sorted({Claim(*r) for r in rows}, key=lambda c: (c.key, c.record_id, c.doc_id))

    def document_records(self, doc_ids):
        out: dict[str, list[str]] = {d: [] for d in doc_ids}
        for doc_id, rid in self._in(
            "SELECT doc_id, record_id FROM assertions WHERE doc_id IN (SELECT value FROM json_each(?))", list(doc_ids)
        ):
            out[doc_id].append(rid)
        return out

    def version(self) -> tuple:
        conn = self._conn()
        return (
            conn.execute("SELECT coalesce(max(seq), 0) FROM documents").fetchone()[0],
            conn.execute("SELECT coalesce(max(seq), 0) FROM history").fetchone()[0],
        )

    def history(self, doc_id=None):
        sql = "SELECT doc_id, action, actor, at, other FROM history"
        rows = (
            self._conn()
            .execute(
                sql + (" WHERE doc_id = ? OR other = ?" if doc_id else "") + " ORDER BY seq",
                (doc_id, doc_id) if doc_id else (),
            )
            .fetchall()
        )
        return [HistoryEntry(*r) for r in rows]

    def rewrite(self, plan: Rewrite) -> bool:
        with self._writing() as conn:
            if plan.version is not None and self.version() != tuple(plan.version):
                raise StoreBusy("the store changed while the rewrite was planned")
            doc = plan.document
            if doc is not None and conn.execute("SELECT 1 FROM documents WHERE id = ?", (doc.id,)).fetchone():
                conn.execute("ROLLBACK")
                return False
            docs = json.dumps(sorted(set(plan.docs)))
            conn.execute("DELETE FROM assertions WHERE doc_id IN (SELECT value FROM json_each(?))", (docs,))
            conn.execute("DELETE FROM aliases WHERE doc_id IN (SELECT value FROM json_each(?))", (docs,))
            gone = json.dumps(sorted(set(plan.delete)))
            conn.execute("DELETE FROM nodes WHERE id IN (SELECT value FROM json_each(?))", (gone,))
            conn.execute("DELETE FROM relations WHERE id IN (SELECT value FROM json_each(?))", (gone,))
            _write_records(conn, plan.nodes, plan.relations)
            conn.executemany(
                "INSERT OR IGNORE INTO assertions (record_id, doc_id) VALUES (?, ?)", sorted(set(plan.assertions))
            )
            self._write_aliases(conn, plan.aliases)
            if doc is not None:
                _insert_document(conn, doc)
            for doc_id, (status, other) in sorted(plan.status.items()):
                conn.execute("UPDATE documents SET status = ?, superseded_by = ? WHERE id = ?", (status, other, doc_id))
            conn.executemany(
                "INSERT INTO history (doc_id, action, actor, at, other) VALUES (?, ?, ?, ?, ?)",
                [(h.doc_id, h.action, h.actor, h.at, h.other) for h in plan.history],
            )
        return True


def _conforms(store: SQLiteStore) -> Store:
    """mypy checks here that the backend implements the whole contract (provhub/app/stores/base.py)."""
    return store
