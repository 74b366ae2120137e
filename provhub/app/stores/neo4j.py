"""The Neo4j store: the contract of :mod:`provhub.app.stores.base` over Bolt with the official driver.

Graph model (Neo4j 5; CI runs it against ArcadeDB's Bolt server, see docs/deployment.md):

- every element is a ``:Record`` node (``id``, ``kind``, ``qn`` and ``attrs`` as JSON text,
  ``declared = true``) with one more label, ``:Entity``, ``:Activity`` or ``:Agent``;
- an element that relations name but no document declared is a placeholder ``:Record`` with
  ``declared = false`` (never returned as a record); a relation with a missing endpoint
  (``wasGeneratedBy(e, -, t)``) points to the placeholder :data:`NIL` instead;
- every relation is a relationship whose type is the PROV relation (``:USED``,
  ``:WAS_GENERATED_BY``... and, for ``wasInfluencedBy`` typed ``voprov:hadStep`` or a
  description type, ``:HAD_STEP`` / ``:IS_DESCRIBED_BY``), with ``id``, ``type``, ``category``,
  ``src``, ``dst``, ``qn``, ``attrs``;
- nodes and relationships also keep their PROV-JSON fragment (``pjkey``, ``pj``, ``pjns``, see
  :func:`provhub.provdm.provjson.record_fragment`), which ``trace_provjson`` joins into an answer;
- which documents asserted which record: one ``:Assertion {record, doc}`` node per record of a
  document (the SQLite store's ``assertions`` rows; relationships cannot point at relationships,
  so nodes and relations are treated alike), indexed on ``record`` and on ``doc``. A record's
  properties do not grow with the documents asserting it, so writing a document costs the same
  however many documents asserted its shared records before;
- ``:Document`` nodes (``seq`` keeps the order of ingest) whose texts are in ``:DocumentPart``
  nodes (the PROV-JSON only when it is not the original text); ``:Namespace``, ``:Token`` and ``:Meta`` nodes.

Writes run only in managed transactions (``execute_write``; ArcadeDB 26.10 commits auto-commit
relationship batches partially), one per document: lock and read the records the document
touches, :func:`provhub.provdm.merge.plan_merge`, then parameterised ``UNWIND $rows`` batches (new
records CREATEd, changed ones updated by id, unchanged ones left alone) and one ``:Assertion``
CREATEd per record of the document. Relationship types and labels are spliced into
Cypher only from the fixed tables below. Lineage is :func:`provhub.app.stores.lineage.walk` (one query
per depth level, the same answer as SQLite). The choices forced by ArcadeDB, the CI server, are
listed in docs/deployment.md.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Hashable, cast

from neo4j import Bookmarks, GraphDatabase, unit_of_work
from neo4j import exceptions as nx

from provhub.app import bookmarks
from provhub.app.access import Readable
from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import ANON_PREFIX, REPEAT_PREFIX, Graph, Node, Relation, tree_json
from provhub.provdm.facts import node_levels
from provhub.provdm.errors import (
    Conflict,
    InvalidParameter,
    NotFound,
    ProvhubError,
    QueryTimeout,
    StoreBusy,
    StoreNotWritable,
    StoreUnavailable,
)
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
from .lineage import attribute_references, mention_words, repeats_among, walk

log = logging.getLogger(__name__)

#: Placeholder node that relations with a missing endpoint point to (never traversed).
NIL = "urn:provhub:nil"
BATCH = 2000  # rows per UNWIND statement (all in the document's one transaction)
#: Bolt messages stay far below 16 MB (ArcadeDB 26.10 fails on larger ones, then stops answering):
#: row batches hold at most BATCH_CHARS characters; a document's texts are stored in parts.
BATCH_CHARS = 2_000_000
PART_CHARS = 1_000_000
ID_CHUNK = 250  # ids per ``e.id IN $ids`` lookup (ArcadeDB checks the list linearly for each hit)
TYPE_CACHE = 200_000  # relation ids whose relationship type a store remembers
PUT_MIN_ATTEMPTS = 3  # a uniqueness race with concurrent ingests is redone for store_timeout

KIND_LABEL = {"entity": "Entity", "activity": "Activity", "agent": "Agent"}
REL_TYPE = {
    "used": "USED",
    "wasGeneratedBy": "WAS_GENERATED_BY",
    "wasInformedBy": "WAS_INFORMED_BY",
    "wasStartedBy": "WAS_STARTED_BY",
    "wasEndedBy": "WAS_ENDED_BY",
    "wasInvalidatedBy": "WAS_INVALIDATED_BY",
    "wasDerivedFrom": "WAS_DERIVED_FROM",
    "wasAttributedTo": "WAS_ATTRIBUTED_TO",
    "wasAssociatedWith": "WAS_ASSOCIATED_WITH",
    "actedOnBehalfOf": "ACTED_ON_BEHALF_OF",
    "wasInfluencedBy": "WAS_INFLUENCED_BY",
    "alternateOf": "ALTERNATE_OF",
    "specializationOf": "SPECIALIZATION_OF",
    "mentionOf": "MENTION_OF",
    "hadMember": "HAD_MEMBER",
}
#: wasInfluencedBy relations of the IVOA categories get their own types (typed traversal).
INFLUENCE_TYPE = {voc.STEP: "HAD_STEP", voc.DESCRIPTION: "IS_DESCRIBED_BY"}
ALL_REL_TYPES = tuple(REL_TYPE.values()) + tuple(INFLUENCE_TYPE.values())
#: Relationship types of each lineage category (typed traversal).
CATEGORY_TYPES = {
    cat: tuple(t for name, t in REL_TYPE.items() if voc.RELATION_CATEGORY[name] == cat) for cat in voc.CATEGORIES
}
CATEGORY_TYPES.update({cat: (t,) for cat, t in INFLUENCE_TYPE.items()})
TYPE_CATEGORY = {t: cat for cat, types in CATEGORY_TYPES.items() for t in types}


def rel_type(rel: Relation) -> str:
    """The relationship type of a relation (from the fixed tables only)."""
    if rel.type == "wasInfluencedBy" and rel.category in INFLUENCE_TYPE:
        return INFLUENCE_TYPE[rel.category]
    return REL_TYPE[rel.type]


def schema_statements() -> list[str]:
    """Constraints and indexes, Neo4j 5 syntax, idempotent, one statement each."""
    out = [
        f"CREATE CONSTRAINT {name}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
        for name, label in (
            ("record", "Record"),
            ("entity", "Entity"),
            ("activity", "Activity"),
            ("agent", "Agent"),
            ("document", "Document"),
        )
    ]
    out += [
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
        for name, label, prop in (
            ("namespace_prefix", "Namespace", "prefix"),
            ("token_id", "Token", "id"),
            ("token_hash", "Token", "hash"),
            ("meta_key", "Meta", "key"),
        )
    ]
    out += [
        f"CREATE CONSTRAINT rel_{t.lower()}_id IF NOT EXISTS FOR ()-[e:{t}]-() REQUIRE e.id IS UNIQUE"
        for t in ALL_REL_TYPES
    ]
    out += [
        "CREATE INDEX document_seq IF NOT EXISTS FOR (n:Document) ON (n.seq)",
        "CREATE INDEX record_level IF NOT EXISTS FOR (n:Record) ON (n.level)",
        "CREATE INDEX document_part_doc IF NOT EXISTS FOR (n:DocumentPart) ON (n.doc)",
        "CREATE INDEX assertion_record IF NOT EXISTS FOR (n:Assertion) ON (n.record)",
        "CREATE INDEX assertion_doc IF NOT EXISTS FOR (n:Assertion) ON (n.doc)",
        "CREATE INDEX alias_key IF NOT EXISTS FOR (n:Alias) ON (n.key)",
        "CREATE INDEX alias_record IF NOT EXISTS FOR (n:Alias) ON (n.record)",
        "CREATE INDEX alias_doc IF NOT EXISTS FOR (n:Alias) ON (n.doc)",
        "CREATE INDEX history_doc IF NOT EXISTS FOR (n:History) ON (n.doc)",
    ]
    return out


# -- Cypher (types and labels only from the tables above) ---------------------------------------

LOCK_NODES = """
UNWIND $ids AS id
MATCH (n:Record {id: id}) SET n.declared = n.declared
RETURN n.id AS id, n.declared AS declared, n.kind AS kind, n.qn AS qn, n.attrs AS attrs
"""
CREATE_PLACEHOLDERS = "UNWIND $ids AS id CREATE (n:Record {id: id, declared: false})"
#: a document (``$doc``) asserts the records ``$ids`` (each once: a document is written once)
CREATE_ASSERTIONS = "UNWIND $ids AS id CREATE (:Assertion {record: id, doc: $doc})"
REL_COLUMNS = (
    "e.id AS id, e.type AS type, e.src AS src, e.dst AS dst, e.category AS category, e.qn AS qn, e.attrs AS attrs"
)
NODE_COLUMNS = "n.id AS id, n.kind AS kind, n.qn AS qn, n.attrs AS attrs"
#: a record ``n`` asserted by a document whose id is a key of the map ``$readable`` (a map: ArcadeDB
#: checks ``x IN $list`` linearly; this was 2x faster than the ``docs`` lists it replaces)
ASSERTED_READABLE = "EXISTS { MATCH (a:Assertion {record: n.id}) WHERE $readable[a.doc] }"
TOKEN_COLUMNS = (
    "t.id AS id, t.name AS name, t.role AS role, t.groups AS groups, t.hash AS hash, "
    "t.created_at AS created_at, t.revoked AS revoked"
)
DOC_COLUMNS = (
    "d.id AS id, d.format AS format, d.prefixes AS prefixes, d.records AS records, d.created_at AS created_at, "
    "d.rights AS rights, d.group AS group, d.release AS release, "
    "coalesce(d.status, 'live') AS status, d.superseded_by AS superseded_by, d.poster AS poster"
)
LIVE = "coalesce(d.status, 'live') = 'live'"
LEVELS_READ = "MATCH (m:Meta {key: 'levels'}) RETURN m.value AS value"
LEVELS_MARK = "MERGE (m:Meta {key: 'levels'}) ON CREATE SET m.value = '1'"
SECRET_READ = "MATCH (m:Meta {key: 'secret'}) RETURN m.value AS value"
SECRET_MERGE = "MERGE (m:Meta {key: 'secret'}) ON CREATE SET m.value = $value RETURN m.value AS value"
ALIAS_COLUMNS = "a.key AS key, a.record AS record, a.strength AS strength, a.doc AS doc"
CREATE_ALIASES = "UNWIND $rows AS r CREATE (:Alias {key: r.key, record: r.record, strength: r.strength, doc: r.doc})"


@lru_cache(maxsize=None)
def write_nodes_cypher(label: str, new: bool) -> str:
    """Nodes the store does not hold yet are created with their label (ArcadeDB 26.10 refuses
    to relabel a node inside the transaction that created it); others are updated."""
    assert label in KIND_LABEL.values()
    if new:
        return f"UNWIND $rows AS r CREATE (n:Record:{label}) SET n = r"
    return f"UNWIND $rows AS r MATCH (n:Record {{id: r.id}}) SET n:{label}, n += r"


# Relationships are found by id only with ``e.id IN $ids`` (a relationship index seek in Neo4j
# and in ArcadeDB; ``UNWIND ... MATCH ()-[e:T {id: id}]->()`` scans every node in ArcadeDB), and
# new ones are CREATEd after the lookup (a relationship MERGE expands the start node: 3 ms a row
# on a node with 1,000 relationships in ArcadeDB).


@lru_cache(maxsize=None)
def create_rels_cypher(rtype: str) -> str:
    assert rtype in ALL_REL_TYPES
    return (
        "UNWIND $rows AS r MATCH (a:Record {id: coalesce(r.src, $nil)}) "
        "MATCH (b:Record {id: coalesce(r.dst, $nil)}) "
        f"CREATE (a)-[e:{rtype}]->(b) SET e = r"
    )


@lru_cache(maxsize=None)
def update_rels_cypher(rtype: str) -> str:
    assert rtype in ALL_REL_TYPES
    return f"MATCH ()-[e:{rtype}]->() WHERE e.id IN $ids WITH e, $rows[e.id] AS r SET e += r"


@lru_cache(maxsize=None)
def delete_rels_cypher(rtype: str) -> str:
    assert rtype in ALL_REL_TYPES
    return f"MATCH ()-[e:{rtype}]->() WHERE e.id IN $ids DELETE e"


@lru_cache(maxsize=None)
def find_rels_cypher(branches: tuple[tuple[str, str], ...]) -> str:
    """Relationships by id, one ``(type, parameter)`` branch each: an index seek per branch."""
    assert {t for t, _ in branches} <= set(ALL_REL_TYPES)
    return " UNION ALL ".join(f"MATCH ()-[e:{t}]->() WHERE e.id IN ${p} RETURN {REL_COLUMNS}" for t, p in branches)


#: what the walk of trace_provjson brings of each relation and of the node it reaches: their
#: PROV-JSON fragments (one query instead of a second round of node lookups)
FRAGMENT_COLUMNS = (
    "e.type AS type, e.id AS id, e.pjkey AS pjkey, e.pj AS pj, e.pjns AS pjns, "
    "m.pjkey AS other_pjkey, m.pj AS other_pj, m.pjns AS other_pjns"
)


@lru_cache(maxsize=None)
def edges_cypher(out: tuple[str, ...], into: tuple[str, ...], columns: str = REL_COLUMNS, words: int = 0) -> str:
    """Relations of the categories ``out`` leaving, and of the categories ``into`` entering, the
    nodes ``$ids`` (with the id of the node at the other end and its kind), in one typed
    expansion. When both are asked, the expansion goes both ways over the union of their types
    and returns ``type(e)`` and whether ``e`` leaves ``n``; :func:`wanted_edge` keeps the rows
    asked for. Each id lookup costs the server about 15 µs (ArcadeDB), so one statement instead
    of one a direction made the attachments of a 13,000-record answer 30 % faster; a
    ``CALL { ... UNION ... }`` was 25-40 % slower than two statements. ``words``: how many
    parameters ``$w0``... the relation's text must hold one of."""
    types = "|".join(t for c in out + into for t in CATEGORY_TYPES[c])
    head = "RETURN n.id AS this, m.id AS other, m.kind AS other_kind, "
    if out and into:
        pattern, head = f"-[e:{types}]-", head + "type(e) AS rtype, startNode(e) = n AS leaves, "
    else:
        pattern = f"-[e:{types}]->" if out else f"<-[e:{types}]-"
    held = " WHERE " + " OR ".join(f"e.attrs CONTAINS $w{i}" for i in range(words)) + " " if words else " "
    return f"UNWIND $ids AS id MATCH (n:Record {{id: id}}){pattern}(m){held}{head}{columns}"


def wanted_edge(rtype: str, leaves: bool, loop: bool, out: tuple[str, ...], into: tuple[str, ...]) -> bool:
    """Whether a row of a both-ways :func:`edges_cypher` is one of the relations asked for. A
    loop (a relation from a node to itself) both leaves and enters, but comes back once."""
    category = TYPE_CATEGORY[rtype]
    return (leaves and category in out) or ((loop or not leaves) and category in into)


# -- row encoding ------------------------------------------------------------------------------


def node_row(node: Node, level: str | None) -> dict:
    """A record's properties; ``level`` is its :func:`provhub.provdm.facts.node_levels` (counts and
    searches by level read the ``record_level`` index)."""
    return {
        "id": node.id,
        "kind": node.kind,
        "qn": tree_json(node.qn),
        "attrs": tree_json(node.attrs),
        "declared": True,
        "level": level,
        **fragment(node.qn, node.attrs),
    }


def rel_row(rel: Relation) -> dict:
    return {
        "id": rel.id,
        "type": rel.type,
        "category": rel.category,
        "src": rel.src,
        "dst": rel.dst,
        "qn": tree_json(rel.qn) if rel.qn else None,
        "attrs": tree_json(rel.attrs),
        **fragment(rel.qn, rel.attrs),
    }


def fragment(qn, attrs) -> dict:
    """The record's PROV-JSON fragment (:func:`provhub.provdm.provjson.record_fragment`) as properties."""
    return dict(zip(("pjkey", "pj", "pjns"), record_fragment(qn, attrs), strict=True))


def to_node(rec) -> Node:
    return Node(rec["id"], rec["kind"], json.loads(rec["qn"]), json.loads(rec["attrs"]))


def to_relation(rec) -> Relation:
    return Relation(
        rec["id"],
        rec["type"],
        rec["src"],
        rec["dst"],
        rec["category"],
        json.loads(rec["qn"]) if rec["qn"] else None,
        json.loads(rec["attrs"]),
    )


def to_document(rec, texts: dict) -> StoredDocument:
    """``texts``: (doc id, field) -> the text of the document's parts, in order."""
    return StoredDocument(
        id=rec["id"],
        format=rec["format"],
        original=texts.get((rec["id"], "original"), ""),
        provjson=texts.get((rec["id"], "provjson")) or texts.get((rec["id"], "original"), ""),
        prefixes=json.loads(rec["prefixes"]),
        records=rec["records"],
        created_at=rec["created_at"],
        rights=rec["rights"],
        group=rec["group"],
        release=rec["release"],
        status=rec["status"],
        superseded_by=rec["superseded_by"],
        poster=rec["poster"],
    )


def to_token(rec) -> TokenRecord:
    return TokenRecord(
        rec["id"],
        rec["name"],
        rec["role"],
        json.loads(rec["groups"]),
        rec["hash"],
        rec["created_at"],
        bool(rec["revoked"]),
    )


def text_parts(text: str) -> list[str]:
    return [text[i : i + PART_CHARS] for i in range(0, len(text), PART_CHARS)]


def batches(rows: list[dict], size: int):
    """Slices of at most ``size`` rows and about :data:`BATCH_CHARS` characters of text."""
    part: list[dict] = []
    chars = 0
    for row in rows:
        n = sum(len(v) for v in row.values() if isinstance(v, str))
        if part and (len(part) >= size or chars + n > BATCH_CHARS):
            yield part
            part, chars = [], 0
        part.append(row)
        chars += n
    if part:
        yield part


def chunks(rows: list, size: int):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


# -- the store ---------------------------------------------------------------------------------


def _claims(recs) -> list:
    from provhub.provdm.identity import Claim

    return [Claim(r["key"], r["record"], r["strength"], r["doc"]) for r in recs]


@dataclass(frozen=True)
class Neo4jConfig:
    """What the Neo4j store takes from the settings."""

    url: str
    user: str = "neo4j"
    password: str = ""  # PROVHUB_NEO4J_PASSWORD (or _FILE); never a default in code
    database: str | None = None  # None: the server's default database
    timeout: float = 10.0  # connection, acquisition and write retry time (PROVHUB_STORE_TIMEOUT)
    query_timeout: float = 30.0  # PROVHUB_QUERY_TIMEOUT

    @classmethod
    def from_settings(cls, url: str, settings=None) -> "Neo4jConfig":
        if settings is None:
            return cls(url)
        return cls(
            url,
            settings.neo4j_user or "neo4j",
            settings.neo4j_password or "",
            settings.neo4j_database or None,
            float(settings.store_timeout or 10.0),
            float(settings.query_timeout or 30.0),
        )


class Neo4jStore:
    def __init__(self, url: str, settings=None):
        self.url = url
        self.settings = settings
        self.config = config = Neo4jConfig.from_settings(url, settings)
        self.timeout = timeout = config.timeout
        self.query_timeout = config.query_timeout
        self.database = config.database
        self.user = config.user
        self.batch = BATCH
        self._rel_types: dict[str, str] = {}  # relation id -> relationship type (never changes)
        self.driver = GraphDatabase.driver(
            url,
            auth=(self.user, config.password),
            connection_timeout=timeout,
            connection_acquisition_timeout=timeout,
            max_transaction_retry_time=timeout,
        )
        self._schema_ready = False
        self._secret: str | None = None
        try:
            self._ensure_schema()
        except StoreUnavailable as exc:  # start anyway: requests answer 503 until it is back
            log.warning("%s; the schema is created when the store is reachable", exc.message)

    # -- plumbing ----------------------------------------------------------------------------
    @contextmanager
    def _errors(self):
        """Translate driver errors into provhub's hierarchy."""
        where = "PROVHUB_STORE_URL"
        try:
            yield
        except ProvhubError:
            raise
        except nx.AuthError as exc:
            raise StoreUnavailable(
                f"the Neo4j store at {self.url} refused the credentials of user {self.user!r}: {exc.message}",
                where="PROVHUB_NEO4J_PASSWORD",
            ) from None
        except nx.ConstraintError as exc:
            raise Conflict(f"the store refused a duplicate: {exc.message}", where="id") from None
        except (
            nx.ServiceUnavailable,
            nx.SessionExpired,
            nx.ConnectionAcquisitionTimeoutError,
            nx.DatabaseUnavailable,
            OSError,
        ) as exc:
            raise StoreUnavailable(f"the Neo4j store at {self.url} is unreachable: {exc}", where=where) from None
        except nx.TransientError as exc:
            self._refuse_if_not_writable(exc)
            if exc.code and "BookmarkTimeout" in exc.code:
                raise StoreUnavailable(
                    f"the Neo4j member serving this request did not catch up with {bookmarks.HEADER} in time: "
                    f"try again ({exc.message})",
                    where=bookmarks.HEADER,
                ) from None
            raise StoreUnavailable(
                f"the Neo4j store at {self.url} is busy, retried for the store timeout: {exc.message}", where=where
            ) from None
        except nx.ClientError as exc:
            self._refuse_if_not_writable(exc)
            if exc.code and "TransactionTimedOut" in exc.code:
                raise QueryTimeout(
                    f"the query ran longer than {self.query_timeout:g} s (PROVHUB_QUERY_TIMEOUT)", where="DEPTH"
                ) from None
            if exc.code and "InvalidBookmark" in exc.code:  # a value no earlier answer gave
                raise InvalidParameter(
                    f"{bookmarks.HEADER} is not a bookmark of this Neo4j store: send back the value of an earlier "
                    f"{bookmarks.HEADER} answer header ({exc.message})",
                    where=bookmarks.HEADER,
                ) from None
            if exc.code and "DatabaseNotFound" in exc.code:
                raise StoreUnavailable(
                    f"the Neo4j store at {self.url} has no database {self.database!r}", where="PROVHUB_NEO4J_DATABASE"
                ) from None
            raise ProvhubError(f"the Neo4j store at {self.url} rejected a query: {exc.message}") from exc
        except (nx.Neo4jError, nx.DriverError) as exc:
            if isinstance(exc, nx.Neo4jError):
                self._refuse_if_not_writable(exc)
            raise ProvhubError(f"the Neo4j store at {self.url} failed: {exc}") from exc

    def _refuse_if_not_writable(self, exc: nx.Neo4jError) -> None:
        """A read-only database (Neo.ClientError.General.ForbiddenOnReadOnlyDatabase, a read-only
        server or mode) or a full disk ("No space left on device") is StoreNotWritable, a 503."""
        code, message = exc.code or "", str(exc.message or exc)
        if "ReadOnly" in code or "read-only" in message.lower() or "read only" in message.lower():
            what = f"the Neo4j database {self.database!r} at {self.url} is read-only"
        elif "No space left" in message or "disk is full" in message.lower():
            what = f"the disk of the Neo4j store at {self.url} is full"
        else:
            return
        raise StoreNotWritable(
            f"{what}: nothing of this write was stored; reads go on ({code or message[:200]})",
            where="PROVHUB_STORE_URL",
        ) from None

    @contextmanager
    def _session(self):
        """A driver session that waits for the caller's ``Provhub-Bookmark`` (provhub/app/bookmarks.py)
        and hands its own bookmarks back when it ends."""
        waits = bookmarks.given()
        with self.driver.session(
            database=self.database, bookmarks=Bookmarks.from_raw_values(waits) if waits else None
        ) as session:
            yield session
            bookmarks.note(session.last_bookmarks().raw_values)

    def _read(self, work, *args):
        """Run ``work(tx, *args)`` in a managed read transaction (timeout: ``query_timeout``)."""
        self._ensure_schema()
        with self._errors(), self._session() as session:
            return session.execute_read(unit_of_work(timeout=self.query_timeout)(work), *args)

    def _write(self, work):
        """Run ``work(tx)`` in a managed write transaction."""
        self._ensure_schema()
        with self._errors(), self._session() as session:
            return session.execute_write(work)

    def _query(self, text: str, **params) -> list:
        """One read query, all records."""
        return self._read(lambda tx: list(tx.run(text, **params)))

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._errors(), self._session() as session:
            for stmt in schema_statements():
                session.execute_write(lambda tx, s=stmt: tx.run(s).consume())
            found = session.execute_read(lambda tx: tx.run(SECRET_READ).single())
            if found is None:
                found = session.execute_write(lambda tx: tx.run(SECRET_MERGE, value=secrets.token_hex(32)).single())
            self._secret = found["value"]
            if session.execute_read(lambda tx: tx.run(LEVELS_READ).single()) is None:
                self._fill_levels(session)
        self._schema_ready = True

    @staticmethod
    def _fill_levels(session) -> None:
        """Stores made before records kept their data level get it once, a batch of records a
        transaction, then the ``levels`` mark (which a store made since has from the start)."""
        last = ""
        while True:
            rows = session.execute_read(
                lambda tx, last=last: [
                    to_node(r)
                    for r in tx.run(
                        "MATCH (n:Record) WHERE n.id > $last AND n.attrs IS NOT NULL "
                        f"RETURN {NODE_COLUMNS} ORDER BY n.id LIMIT $limit",
                        last=last,
                        limit=BATCH,
                    )
                ]
            )
            if not rows:
                break
            last = rows[-1].id
            levels = [{"id": n.id, "level": lv} for n, lv in zip(rows, node_levels(rows), strict=True) if lv]
            session.execute_write(
                lambda tx, levels=levels: tx.run(
                    "UNWIND $rows AS r MATCH (n:Record {id: r.id}) SET n.level = r.level", rows=levels
                ).consume()
            )
        session.execute_write(lambda tx: tx.run(LEVELS_MARK).consume())

    def close(self) -> None:
        self.driver.close()

    def ping(self) -> None:
        with self._errors(), self._session() as session:
            session.run("RETURN 1 AS one").consume()

    # -- reads -------------------------------------------------------------------------------
    def get_nodes(self, ids: list[str]) -> list[Node]:
        ids = list(dict.fromkeys(ids))
        return self._read(self._fetch_nodes, ids)

    def repeats(self, ids: list[str]) -> dict[str, list[str]]:
        return self._read(_repeats, list(ids))

    @staticmethod
    def _fetch_nodes(tx, ids: list[str]) -> list[Node]:
        out = []
        for part in chunks(ids, BATCH):
            out += [
                to_node(r)
                for r in tx.run(
                    f"UNWIND $ids AS id MATCH (n:Record {{id: id}}) WHERE n.declared RETURN {NODE_COLUMNS}", ids=part
                )
            ]
        return out

    def get_relations(self, ids: list[str]) -> list[Relation]:
        ids = list(dict.fromkeys(ids))
        return self._read(lambda tx: [to_relation(r) for r in self._find_relations(tx, ids)])

    def _find_relations(self, tx, ids: list[str], types: dict[str, str] | None = None) -> list:
        """Records of the stored relations among ``ids``.

        A relationship is found by id only within its type. Ids whose type is likely (``types``,
        else the types this process has seen: a relation never changes type) are looked up in
        that type; the others, and likely ones not found there, in every type, except anonymous
        ids with a given type (their id encodes their type).
        """
        likely = {i: (types or {}).get(i) or self._rel_types.get(i) for i in ids}
        found = self._find_by_type(tx, [(i, likely[i]) for i in ids if likely[i]])
        seen = {rec["id"] for rec in found}
        certain = {i for i in ids if types and i in types and i.startswith(ANON_PREFIX)}
        rest: list[tuple[str, str | None]] = [(i, None) for i in ids if i not in seen and i not in certain]
        found += self._find_by_type(tx, rest)
        self._remember(to_relation(rec) for rec in found)
        return found

    @staticmethod
    def _find_by_type(tx, pairs: list[tuple[str, str | None]]) -> list:
        """``(id, type or None for every type)`` pairs -> records; one query per chunk of ids."""
        out = []
        for part in chunks(pairs, ID_CHUNK):
            groups: dict[str, list] = {}
            for rid, rtype in part:
                groups.setdefault(rtype or "*", []).append(rid)
            params = {f"p{k}": group for k, group in enumerate(groups.values())}
            branches = tuple(
                (t, f"p{k}") for k, key in enumerate(groups) for t in (ALL_REL_TYPES if key == "*" else (key,))
            )
            out += list(tx.run(find_rels_cypher(branches), **params))
        return out

    def _remember(self, relations) -> None:
        """Note the relationship type of relations seen (bounded: forgotten all at once when full)."""
        for rel in relations:
            if len(self._rel_types) >= TYPE_CACHE:
                self._rel_types.clear()
            self._rel_types[rel.id] = rel_type(rel)

    def get_document(self, doc_id: str) -> StoredDocument:
        def work(tx):
            return self._documents(tx, tx.run(f"MATCH (d:Document {{id: $id}}) RETURN {DOC_COLUMNS}", id=doc_id))

        docs = self._read(work)
        if not docs:
            raise NotFound(f"no document with id {doc_id!r}", where="id")
        return docs[0]

    @staticmethod
    def _documents(tx, recs) -> list[StoredDocument]:
        """Documents from their ``DOC_COLUMNS`` records, with their texts (``:DocumentPart``)."""
        recs = list(recs)
        texts: dict[tuple, list] = {}
        for rec in tx.run(
            "UNWIND $ids AS id MATCH (p:DocumentPart {doc: id}) "
            "RETURN p.doc AS doc, p.field AS field, p.n AS n, p.text AS text ORDER BY p.n",
            ids=[r["id"] for r in recs],
        ):
            texts.setdefault((rec["doc"], rec["field"]), []).append(rec["text"])
        joined = {key: "".join(parts) for key, parts in texts.items()}
        return [to_document(r, joined) for r in recs]

    def has_document(self, doc_id: str) -> bool:
        return bool(self._query("MATCH (d:Document {id: $id}) RETURN d.id AS id", id=doc_id))

    def list_documents(self, offset: int = 0, limit: int = 50, groups=None, today=None, retired=False):
        rule, params = Readable.of(groups, today).cypher("d")
        where = ([] if retired else [LIVE]) + ([] if groups is None else [rule])
        match = "MATCH (d:Document)" + (" WHERE " + " AND ".join(where) if where else "")

        def work(tx):
            total = tx.run(f"{match} RETURN count(d) AS c", **params).single()["c"]
            rows = tx.run(
                f"{match} RETURN {DOC_COLUMNS} ORDER BY d.seq SKIP $offset LIMIT $limit",
                offset=int(offset),
                limit=int(limit),
                **params,
            )
            return self._documents(tx, rows), total

        return self._read(work)

    def documents_asserting(self, record_id: str) -> list[str]:
        return [r.doc_id for r in self.rights_of([record_id]).get(record_id, [])]

    # -- access rights -----------------------------------------------------------------------
    def rights_of(self, ids):
        """Rights of the documents asserting each record, in the order of ingest."""
        ids = list(dict.fromkeys(ids))

        def work(tx):
            docs: dict[str, list] = {}
            for part in chunks(ids, BATCH):
                for rec in tx.run(
                    "UNWIND $ids AS id MATCH (a:Assertion {record: id}) RETURN a.record AS id, a.doc AS doc", ids=part
                ):
                    docs.setdefault(rec["id"], []).append(rec["doc"])
            wanted = sorted({d for ds in docs.values() for d in ds})
            rights = {}
            for part in chunks(wanted, BATCH):
                for rec in tx.run(
                    "UNWIND $ids AS id MATCH (d:Document {id: id}) RETURN d.id AS id, "
                    "d.rights AS rights, d.group AS group, d.release AS release, d.seq AS seq",
                    ids=part,
                ):
                    rights[rec["id"]] = (
                        rec["seq"],
                        DocumentRights(rec["id"], rec["rights"], rec["group"], rec["release"]),
                    )
            return {
                rid: [rights[d][1] for d in sorted(set(ds), key=lambda d: rights[d][0]) if d in rights]
                for rid, ds in docs.items()
                if ds
            }

        return self._read(work)

    def set_rights(self, doc_id, rights, group, release):
        def work(tx):
            return tx.run(
                "MATCH (d:Document {id: $id}) SET d.rights = $rights, d.group = $group, "
                "d.release = $release RETURN d.id AS id",
                id=doc_id,
                rights=rights,
                group=group,
                release=release,
            ).single()

        if self._write(work) is None:
            raise NotFound(f"no document with id {doc_id!r}", where="id")

    def save_token(self, token: TokenRecord) -> None:
        self._write(
            lambda tx: tx.run(
                "CREATE (t:Token {id: $id, name: $name, role: $role, groups: $groups, hash: $hash, "
                "created_at: $created_at, revoked: $revoked})",
                id=token.id,
                name=token.name,
                role=token.role,
                groups=json.dumps(token.groups),
                hash=token.hash,
                created_at=token.created_at,
                revoked=bool(token.revoked),
            ).consume()
        )

    def find_token(self, token_hash):
        rows = self._query(f"MATCH (t:Token {{hash: $hash}}) RETURN {TOKEN_COLUMNS}", hash=token_hash)
        return to_token(rows[0]) if rows else None

    def list_tokens(self):
        return [to_token(r) for r in self._query(f"MATCH (t:Token) RETURN {TOKEN_COLUMNS} ORDER BY t.created_at, t.id")]

    def revoke_token(self, token_id):
        return (
            self._write(
                lambda tx: tx.run(
                    "MATCH (t:Token {id: $id}) SET t.revoked = true RETURN t.id AS id", id=token_id
                ).single()
            )
            is not None
        )

    def secret(self) -> str:
        """Made with the schema (``_ensure_schema``) and read once: a read that needs it (the
        placeholders of an anonymous answer) never opens a write transaction."""
        self._ensure_schema()
        return cast(str, self._secret)

    def namespaces(self) -> dict[str, str]:
        rows = self._query("MATCH (s:Namespace) RETURN s.prefix AS prefix, s.uri AS uri ORDER BY s.prefix")
        return {r["prefix"]: r["uri"] for r in rows}

    def stats(self) -> Stats:
        def work(tx):
            def count(cypher):
                return tx.run(cypher).single()["c"]

            return Stats(
                count("MATCH (d:Document) RETURN count(d) AS c"),
                sum(count(f"MATCH (n:{label}) WHERE n.declared RETURN count(n) AS c") for label in KIND_LABEL.values()),
                count("MATCH ()-[e]->() RETURN count(e) AS c"),
            )

        return self._read(work)

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
        label = KIND_LABEL.get(kind) if kind else "Record"
        needle = (text or "").lower()
        if label is None:  # no such kind
            return [], 0
        needles = {f"a{i}": t for i, t in enumerate(attribute_needles(text or ""))}
        in_attrs = "".join(f" OR toLower(n.attrs) CONTAINS ${k}" for k in needles)
        match = (
            f"MATCH (n:{label}) WHERE n.declared AND (toLower(n.id) CONTAINS $text{in_attrs})"
            f" AND NOT n.id STARTS WITH '{REPEAT_PREFIX}'"  # an id's further assertions are not listed apart
        )
        if level:
            match = match.replace(" WHERE ", " WHERE n.level = $level AND ", 1)

        def work(tx):
            params: dict = {"text": needle, "level": level, **needles}
            found = match
            if groups is not None:  # only records asserted by a readable document
                rule, rule_params = Readable.of(groups, today).cypher("d")
                docs = {
                    r["id"]: r["ok"]
                    for r in tx.run(
                        f"MATCH (d:Document) RETURN d.id AS id, coalesce({rule}, false) AS ok", **rule_params
                    )
                }
                params["readable"] = {doc: True for doc, ok in docs.items() if ok}
                if partial:  # also asserted by a document outside the groups: read from those
                    # documents' assertions (index assertion_doc), not checked record by record
                    params["mixed"] = [
                        r["id"]
                        for r in tx.run(
                            "UNWIND $hidden AS doc MATCH (a:Assertion {doc: doc}) RETURN DISTINCT a.record AS id",
                            hidden=[doc for doc, ok in docs.items() if not ok],
                        )
                    ]
                    found = match.replace(
                        f"MATCH (n:{label}) WHERE ",
                        f"UNWIND $mixed AS mid MATCH (n:Record {{id: mid}}) WHERE n:{label} AND ",
                        1,
                    )
            where = "" if groups is None else f" AND {ASSERTED_READABLE}"
            total = tx.run(f"{found}{where} RETURN count(n) AS c", **params).single()["c"]
            rows = tx.run(
                f"{found}{where} RETURN {NODE_COLUMNS} ORDER BY n.id SKIP $offset LIMIT $limit",
                offset=int(offset),
                limit=int(limit),
                **params,
            )
            return [to_node(r) for r in rows], total

        return self._read(work)

    # -- lineage -----------------------------------------------------------------------------
    # The walk's edge source is a _Walk in one read transaction: its level queries share the
    # BEGIN and COMMIT round trips (about 15 % of a large answer over Bolt), and
    # PROVHUB_QUERY_TIMEOUT bounds the whole walk.
    def trace(self, query: TraceQuery) -> Graph:
        def work(tx):
            source = _Walk(tx)
            node_ids, keys = walk(source, query)
            rel_ids = cast("set[str]", keys)  # the _Walk keys relations by id
            return self._fetch_nodes(tx, sorted(node_ids)), [source.relations[r] for r in sorted(rel_ids)]

        nodes, relations = self._read(work)
        self._remember(relations)
        return Graph(nodes, relations)

    def trace_provjson(self, query: TraceQuery, native: bool = False) -> str | None:
        def work(tx):
            source = _Walk(tx, fragments=True)
            node_ids, keys = walk(source, query)
            rel_ids = cast("set[str]", keys)
            nodes = [source.nodes[i] for i in node_ids if i in source.nodes]
            for part in chunks(sorted(i for i in node_ids if i not in source.nodes), BATCH):
                nodes += [
                    tuple(r)
                    for r in tx.run(
                        "UNWIND $ids AS id MATCH (n:Record {id: id}) WHERE n.declared "
                        "RETURN n.kind AS kind, n.id AS id, n.pjkey AS pjkey, n.pj AS pj, n.pjns AS pjns",
                        ids=part,
                    )
                ]
            return nodes, [source.relations[r] for r in rel_ids]

        return join_fragments(*self._read(work), native=native)

    # -- writes ------------------------------------------------------------------------------
    def put_document(self, prepared: PreparedDocument) -> PutResult:
        self._ensure_schema()
        deadline = time.monotonic() + self.timeout
        attempt = 0
        with self._errors():
            while True:
                attempt += 1
                try:
                    with self._session() as session:
                        created = session.execute_write(self._put, prepared)
                    return PutResult(prepared.id, prepared.records, created)
                except nx.ConstraintError:
                    # A concurrent ingest created one of our new records first (an optimistic
                    # server reports it at commit): redo, reading it this time.
                    if attempt >= PUT_MIN_ATTEMPTS and time.monotonic() > deadline:
                        raise
                    time.sleep(random.uniform(0, 0.02 * min(attempt, 10)))

    def _put(self, tx, prepared: PreparedDocument) -> bool:
        """The unit of work of one document: all of it or nothing (the caller's transaction)."""
        if tx.run("MATCH (d:Document {id: $id}) RETURN d.id AS id", id=prepared.id).single():
            return False
        # Lock (SET) every stored node the document touches before reading it, so that a
        # concurrent ingest cannot slip a change in between; a concurrent creation of a new
        # node fails on the uniqueness constraint and the whole document is redone.
        ids = {n.id for n in prepared.nodes}
        ids |= {end or NIL for r in prepared.relations for end in (r.src, r.dst)}
        existing: set[str] = set()
        stored_nodes = self._lock_nodes(tx, sorted(ids), existing)
        types = {r.id: rel_type(r) for r in prepared.relations}
        # An anonymous relation's id hashes its content, endpoints included: it cannot be stored
        # when one of its endpoints is not.
        maybe = [
            r.id
            for r in prepared.relations
            if not (r.anonymous and any(end and end not in existing for end in (r.src, r.dst)))
        ]
        stored_rels = {rec["id"]: to_relation(rec) for rec in self._find_relations(tx, maybe, types)}
        changed_nodes, changed_rels = plan_merge(
            prepared.nodes,
            prepared.relations,
            stored_nodes,
            stored_rels,
            fetch=lambda keys: self._lock_nodes(tx, keys, existing),  # an id's other assertions
        )

        # Only new and changed records are written (with their merge); the document's assertions
        # of all its records are rows of their own, below.
        by_label: dict[tuple, list] = {}
        changed_nodes = list(changed_nodes)
        for node, level in zip(changed_nodes, node_levels(changed_nodes), strict=True):
            by_label.setdefault((KIND_LABEL[node.kind], node.id not in existing), []).append(node_row(node, level))
        for (label, new), rows in by_label.items():
            self._run_batches(tx, write_nodes_cypher(label, new), rows)
        placeholders = sorted(ids - existing - {n.id for n in prepared.nodes})
        for part in chunks(placeholders, self.batch):
            tx.run(CREATE_PLACEHOLDERS, ids=part).consume()

        new_rels: dict[str, list] = {}
        updated: dict[str, list] = {}
        moved: dict[str, list] = {}
        for rel in changed_rels:
            old = stored_rels.get(rel.id)
            if old is None:
                group = new_rels
            elif (old.src, old.dst) != (rel.src, rel.dst):
                group = moved  # an endpoint was filled in: recreated (its assertions stay)
            else:
                group = updated
            group.setdefault(rel_type(rel), []).append(rel_row(rel))
        for rtype, rows in moved.items():
            for part in chunks(rows, ID_CHUNK):
                tx.run(delete_rels_cypher(rtype), ids=[row["id"] for row in part]).consume()
            new_rels.setdefault(rtype, []).extend(rows)
        for rtype, rows in updated.items():
            for part in chunks(rows, ID_CHUNK):
                tx.run(
                    update_rels_cypher(rtype), ids=[row["id"] for row in part], rows={row["id"]: row for row in part}
                ).consume()
        for rtype, rows in new_rels.items():
            self._run_batches(tx, create_rels_cypher(rtype), rows, nil=NIL)
        asserted = list(dict.fromkeys([n.id for n in prepared.nodes] + [r.id for r in prepared.relations]))
        for part in chunks(asserted, self.batch):
            tx.run(CREATE_ASSERTIONS, ids=part, doc=prepared.id).consume()

        self._create_aliases(tx, prepared.aliases, prepared.id)
        self._create_document(tx, prepared)
        return True

    def _lock_nodes(self, tx, ids: list[str], existing: set[str]) -> dict[str, Node]:
        """Lock the stored nodes among ``ids`` (adding them to ``existing``); the declared ones."""
        found = {}
        for part in chunks(ids, self.batch):
            for rec in tx.run(LOCK_NODES, ids=part):
                existing.add(rec["id"])
                if rec["declared"]:
                    found[rec["id"]] = to_node(rec)
        return found

    def _create_aliases(self, tx, claims, doc_id: str | None = None) -> None:
        rows = [
            {"key": c.key, "record": c.record_id, "strength": c.strength, "doc": c.doc_id if doc_id is None else doc_id}
            for c in claims
        ]
        self._run_batches(tx, CREATE_ALIASES, rows)

    @staticmethod
    def _create_document(tx, prepared: PreparedDocument) -> None:
        tx.run(
            "UNWIND $rows AS r MERGE (s:Namespace {prefix: r.prefix}) ON CREATE SET s.uri = r.uri",
            rows=[{"prefix": p, "uri": u} for p, u in sorted(prepared.prefixes.items())],
        ).consume()
        # One part a statement: messages stay small. The PROV-JSON is not kept twice when it is
        # the original text.
        fields = ("original",) if prepared.provjson == prepared.original else ("original", "provjson")
        for field in fields:
            for n, text in enumerate(text_parts(getattr(prepared, field))):
                tx.run(
                    "CREATE (:DocumentPart {doc: $doc, field: $field, n: $n, text: $text})",
                    doc=prepared.id,
                    field=field,
                    n=n,
                    text=text,
                ).consume()
        tx.run(
            "CREATE (d:Document {id: $id, format: $format, "
            "prefixes: $prefixes, records: $records, created_at: $created_at, seq: $seq, "
            "rights: $rights, group: $group, release: $release, poster: $poster})",
            id=prepared.id,
            format=prepared.format,
            prefixes=json.dumps(prepared.prefixes),
            records=prepared.records,
            created_at=utcnow_iso(),
            seq=time.time_ns(),
            rights=prepared.rights,
            group=prepared.group,
            release=prepared.release,
            poster=prepared.poster,
        ).consume()

    def _run_batches(self, tx, cypher: str, rows: list, **params) -> None:
        for part in batches(rows, self.batch):
            tx.run(cypher, rows=part, **params).consume()

    # -- identity and lifecycle ----------------------------------------------------------------
    def find_aliases(self, keys=(), record_ids=(), doc_ids=(), distinct=False):
        columns = (
            "DISTINCT a.key AS key, a.record AS record, a.strength AS strength, '' AS doc"
            if distinct
            else ALIAS_COLUMNS
        )

        def work(tx):
            out = []
            for prop, values in (("key", keys), ("record", record_ids), ("doc", doc_ids)):
                if values:
                    out += _claims(
                        tx.run(
                            f"UNWIND $values AS v MATCH (a:Alias {{{prop}: v}}) RETURN {columns}",
                            values=sorted(set(values)),
                        )
                    )
            return out

        return sorted(set(self._read(work)), key=lambda c: (c.key, c.record_id, c.doc_id))

    def document_records(self, doc_ids):
        out: dict[str, list[str]] = {d: [] for d in doc_ids}
        for rec in self._query(
            "UNWIND $docs AS d MATCH (a:Assertion {doc: d}) RETURN a.doc AS doc, a.record AS record", docs=list(doc_ids)
        ):
            out[rec["doc"]].append(rec["record"])
        return out

    @staticmethod
    def _version(tx) -> tuple:
        docs = tx.run("MATCH (d:Document) RETURN max(d.seq) AS m").single()["m"]
        hist = tx.run("MATCH (h:History) RETURN max(h.seq) AS m").single()["m"]
        return (docs or 0, hist or 0)

    def version(self) -> tuple:
        return self._read(self._version)

    def history(self, doc_id=None):
        where = " WHERE h.doc = $id OR h.other = $id" if doc_id else ""
        rows = self._query(
            f"MATCH (h:History){where} RETURN h.doc AS doc, h.action AS action, h.actor AS actor, "
            "h.at AS at, h.other AS other ORDER BY h.seq",
            id=doc_id,
        )
        return [HistoryEntry(r["doc"], r["action"], r["actor"], r["at"], r["other"]) for r in rows]

    def rewrite(self, plan: Rewrite) -> bool:
        self._ensure_schema()
        with self._errors(), self._session() as session:
            return session.execute_write(self._rewrite, plan)

    def _rewrite(self, tx, plan: Rewrite) -> bool:
        if plan.version is not None and self._version(tx) != tuple(plan.version):
            raise StoreBusy("the store changed while the rewrite was planned")
        doc = plan.document
        if doc is not None and tx.run("MATCH (d:Document {id: $id}) RETURN d.id AS id", id=doc.id).single():
            return False
        docs = sorted(set(plan.docs))
        tx.run("UNWIND $docs AS d MATCH (a:Assertion {doc: d}) DELETE a", docs=docs).consume()
        tx.run("UNWIND $docs AS d MATCH (a:Alias {doc: d}) DELETE a", docs=docs).consume()
        # relations are written afresh: the deleted ones and the rewritten ones go first
        rel_ids = sorted(set(plan.delete) | {r.id for r in plan.relations})
        for rel in self._find_relations(tx, rel_ids):
            tx.run(delete_rels_cypher(rel_type(to_relation(rel))), ids=[rel["id"]]).consume()
        node_ids = sorted(set(plan.delete) - {r.id for r in plan.relations})
        for part in chunks(node_ids, self.batch):
            tx.run("UNWIND $ids AS id MATCH (n:Record {id: id}) SET n.declared = false", ids=part).consume()
        wanted = {n.id for n in plan.nodes} | {end or NIL for r in plan.relations for end in (r.src, r.dst)}
        existing = set()
        for part in chunks(sorted(wanted), self.batch):
            existing |= {rec["id"] for rec in tx.run(LOCK_NODES, ids=part)}
        by_label: dict[tuple, list] = {}
        for node, level in zip(plan.nodes, node_levels(plan.nodes), strict=True):
            by_label.setdefault((KIND_LABEL[node.kind], node.id not in existing), []).append(node_row(node, level))
        for (label, new), rows in by_label.items():
            self._run_batches(tx, write_nodes_cypher(label, new), rows)
        for part in chunks(sorted(wanted - existing - {n.id for n in plan.nodes}), self.batch):
            tx.run(CREATE_PLACEHOLDERS, ids=part).consume()
        by_type: dict[str, list] = {}
        for rel in plan.relations:
            by_type.setdefault(rel_type(rel), []).append(rel_row(rel))
            self._rel_types[rel.id] = rel_type(rel)
        for rtype, rows in by_type.items():
            self._run_batches(tx, create_rels_cypher(rtype), rows, nil=NIL)
        rows = [{"record": r, "doc": d} for r, d in sorted(set(plan.assertions))]
        self._run_batches(tx, "UNWIND $rows AS r CREATE (:Assertion {record: r.record, doc: r.doc})", rows)
        self._create_aliases(tx, plan.aliases)
        if doc is not None:
            self._create_document(tx, doc)
        for doc_id, (status, other) in sorted(plan.status.items()):
            tx.run(
                "MATCH (d:Document {id: $id}) SET d.status = $status, d.superseded_by = $other",
                id=doc_id,
                status=status,
                other=other,
            ).consume()
        for entry in plan.history:
            tx.run(
                "CREATE (:History {seq: $seq, doc: $doc, action: $action, actor: $actor, at: $at, other: $other})",
                seq=time.time_ns(),
                doc=entry.doc_id,
                action=entry.action,
                actor=entry.actor,
                at=entry.at,
                other=entry.other,
            ).consume()
        return True


#: the further assertions of element ids (keys REPEAT_PREFIX...), off the index of Record.id
_SELECT_REPEATS = "MATCH (n:Record) WHERE n.id STARTS WITH $prefix AND n.declared RETURN n.id AS id, n.qn AS qn"


def _repeats(tx, ids) -> dict[str, list[str]]:
    return repeats_among(((r["id"], r["qn"]) for r in tx.run(_SELECT_REPEATS, prefix=REPEAT_PREFIX)), ids)


def _kinds(tx, ids: list[str]) -> dict[str, str]:
    """Kind of each declared node among ``ids``."""
    out: dict[str, str] = {}
    for part in chunks(ids, BATCH):
        out.update(
            (r["id"], r["kind"])
            for r in tx.run(
                "UNWIND $ids AS id MATCH (n:Record {id: id}) WHERE n.declared RETURN n.id AS id, n.kind AS kind",
                ids=part,
            )
        )
    return out


class _Walk:
    """The edge source of one lineage walk: the level queries bring the relations' records (or,
    with ``fragments``, their PROV-JSON fragment rows) and the kinds of the nodes they reach, so
    neither is fetched again."""

    def __init__(self, tx, fragments: bool = False):
        self.tx = tx
        self.fragments = fragments
        self.relations: dict[str, Relation | tuple] = {}
        self.nodes: dict[str, tuple] = {}  # fragment rows of the declared nodes reached
        self.known: dict[str, str | None] = {}

    def edges_from(self, ids, out, into, words=()):
        out, into = tuple(out), tuple(into)
        if not ids or not (out or into):
            return []
        if out and into and voc.CAUSAL in out + into:
            # a FORTH level (causal in, invalidation out): both ways over the union of their
            # types would bring every causal relation leaving the level too, to be dropped
            return self.edges_from(ids, out, (), words) + self.edges_from(ids, (), into, words)
        edges = []
        query = edges_cypher(out, into, FRAGMENT_COLUMNS if self.fragments else REL_COLUMNS, len(words))
        held = {f"w{i}": word for i, word in enumerate(words)}
        both = bool(out and into)
        for part in chunks(list(ids), BATCH):
            for rec in self.tx.run(query, ids=part, **held):
                # Records are tuples in the order of edges_cypher's columns; reading them by
                # position is 5x cheaper than by key, which was a third of a large walk.
                this, other, other_kind, *rest = rec
                if both:
                    rtype, leaves, *rest = rest
                    if not wanted_edge(rtype, leaves, this == other, out, into):
                        continue
                if other == NIL:  # a missing endpoint
                    continue
                if self.fragments:  # FRAGMENT_COLUMNS
                    rtype, rid, pjkey, pj, pjns, other_pjkey, other_pj, other_pjns = rest
                    self.relations[rid] = (rtype, rid, pjkey, pj, pjns)
                    if other_kind and other not in self.nodes:
                        self.nodes[other] = (other_kind, other, other_pjkey, other_pj, other_pjns)
                else:
                    rid = rec["id"]
                    self.relations[rid] = to_relation(rec)
                self.known[other] = other_kind
                edges.append((rid, this, other))
        return edges

    def references(self, keys, names, words=None):
        """From the relations the walk brought: decoded when they are records, read again (their
        attributes only) when they are fragments whose text holds one of ``words``."""
        words = words or mention_words(names)
        out: list[tuple[Hashable, str]] = []
        fetch = []
        for key in keys:
            rel = self.relations.get(cast(str, key))
            if isinstance(rel, Relation):
                out += [(key, iri) for iri in attribute_references(rel.attrs, names)]
            elif rel is not None and any(w in rel[3] for w in words):
                fetch.append((rel[1], REL_TYPE.get(rel[0]) if rel[0] != "wasInfluencedBy" else None))
        for rec in Neo4jStore._find_by_type(self.tx, fetch):
            out += [(rec["id"], iri) for iri in attribute_references(json.loads(rec["attrs"]), names)]
        return out

    def repeats(self, ids):
        return _repeats(self.tx, ids)

    def kinds(self, ids):
        missing = [i for i in ids if i not in self.known]
        if missing:
            found = _kinds(self.tx, missing)
            self.known.update((i, found.get(i)) for i in missing)
        return {i: self.known[i] for i in ids if self.known[i]}


__all__ = ["Neo4jStore", "NIL", "schema_statements", "rel_type"]


def _conforms(store: Neo4jStore) -> Store:
    """mypy checks here that the backend implements the whole contract (provhub/app/stores/base.py)."""
    return store
