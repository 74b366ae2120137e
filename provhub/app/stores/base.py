"""The store contract, stated once. Every backend implements :class:`Store` and passes
``tests/contract`` (run against each backend by the ``store`` fixture).

The contract has three parts (Protocols below): :class:`DocumentStore` (documents, records,
lineage, search, rights, identity and lifecycle), :class:`TokenStore` (API tokens and the
store's secret) and :class:`EdgeSource` (the three reads the shared lineage walk makes).
Backends register by URL scheme in :mod:`provhub.app.stores` and build a typed configuration from the
settings; the rule for what a reader may see is :class:`provhub.app.access.Readable`, which every
backend calls. docs/backends.md has the checklist for a new backend.

What a store keeps
------------------
- **documents**: ``id`` (canonical content hash, see :func:`provhub.provdm.codec.canonical_hash`), the
  original text and its format, the canonical PROV-JSON, the document's prefixes, record count,
  creation time, rights (``public``/``proprietary`` + group + release date), and its poster
  (:attr:`provhub.app.access.Viewer.principal` of who posted it; None in stores made before, and for
  documents posted without one).
- **nodes**: one per element IRI (:class:`provhub.provdm.codec.Node`: id, kind, qn, attrs).
- **relations**: one per relation id (:class:`provhub.provdm.codec.Relation`: id, type, src, dst,
  category, qn, attrs). ``src``/``dst`` need not be stored nodes (PROV allows references to
  undeclared elements).
- **assertions**: which documents asserted which node/relation.
- **namespaces**: prefix -> URI, first one seen wins (used to print answers with short names).

Operations
----------
``put_document(prepared) -> PutResult``
    Atomic: all records of the document and the document row in one transaction, or nothing.
    Idempotent: if a document with ``prepared.id`` exists, nothing is written and
    ``created=False``. Records already stored merge by :func:`provhub.provdm.merge.plan_merge`; a
    conflict raises :class:`provhub.provdm.errors.Conflict` and nothing is written.
``get_document(doc_id) -> StoredDocument`` (NotFound), ``has_document(doc_id) -> bool`` (without
    reading its texts), ``list_documents(offset, limit)``.
``get_nodes(ids)``, ``get_relations(ids)`` -> records found (missing ids are left out).
``documents_asserting(record_id) -> list[str]``.
``trace(query: TraceQuery) -> Graph``: lineage, semantics below.
``trace_provjson(query: TraceQuery, native=False) -> str | None``: the same answer as PROV-JSON
    text, joined from the fragment each record keeps (:func:`provhub.provdm.provjson.record_fragment`,
    written when the record is written) by :func:`provhub.provdm.provjson.join_fragments`
    (``native``: in voprov's native form, MODEL=IVOA); None when the fragments bind one prefix to
    two namespaces (the caller then writes ``trace(query)`` itself). Lets large answers skip
    decoding every record (issue 8).
``search(text, kind, limit, offset, groups, today, level, partial) -> (list[Node], total)``: nodes
    whose id or any attribute value contains ``text`` (case-insensitive); ``kind`` and ``level``
    filter (see :meth:`Store.search`).
``stats() -> {"documents", "nodes", "relations"}``; ``namespaces() -> {prefix: uri}``;
``ping()`` raises StoreUnavailable when the backend is down; ``close()``.

Access rights (provhub/app/access.py decides; the store only filters and reports):

``rights_of(ids) -> {record_id: [DocumentRights, ...]}``: for each stored record (node or
    relation) the rights of every document that asserted it.
``list_documents(offset, limit, groups=None, today=None)`` and ``search(..., groups=None,
    today=None)``: with ``groups`` (a set) only documents readable by members of those groups
    (public, released on or before ``today``, or owned by one of the groups), and only records
    asserted by at least one such document, are listed and counted. ``groups=None``: everything.
``set_rights(doc_id, rights, group, release)``: writes all three (the poster stays); NotFound if no
    such document.
``save_token(TokenRecord)``, ``find_token(token_hash) -> TokenRecord | None``,
``list_tokens() -> list[TokenRecord]``, ``revoke_token(token_id) -> bool``: API tokens, kept
    hashed (the token itself is never stored).
``secret() -> str``: a random secret made once per store (keys the opaque placeholder ids), when
    the store is opened: ``secret()`` never writes, so reads never wait for the write lock.

Identity and lifecycle (:mod:`provhub.provdm.identity`, :mod:`provhub.app.identity`):

``put_document`` also keeps ``prepared.aliases`` (the alias claims of its records).
``find_aliases(keys, record_ids, doc_ids, distinct=False) -> list[Claim]``: claims with any of
    those keys, of those records, or made by those documents (pins have doc_id ""); ``distinct``:
    each (key, record, strength) once, with doc_id "" (a record that a thousand documents
    re-declare is one row, not a thousand).
``document_records(doc_ids) -> {doc_id: [record ids]}``: what each document asserts.
``version() -> tuple``: changes whenever a document, a status or a history entry is written.
``rewrite(Rewrite) -> bool``: see :class:`Rewrite`; False when its new document already exists.
``history(doc_id=None) -> [HistoryEntry]``: in the order written.
``list_documents(..., retired=False)``: retracted and superseded documents only with ``retired``.

Lineage semantics (ProvSAP, DEPTH counts relations)
---------------------------------------------------
Relations have a category (:func:`provhub.provdm.vocabulary.relation_category`):

- ``causal`` (used, wasGeneratedBy, wasInfluencedBy, wasStartedBy, wasEndedBy) and ``shortcut``
  (wasDerivedFrom, wasInformedBy): traversed, one unit of depth each. BACK follows src -> dst
  (towards causes), FORTH follows dst -> src (towards effects). A shortcut stands for two long
  relations: the walk keeps a long and a short distance per node (:func:`provhub.app.stores.lineage.walk`),
  and the long path continues from a shortcut's end only at the level it would reach it.
- ``invalidation`` (wasInvalidatedBy): not a cause; FORTH only, src -> dst (entity -> activity).
- ``agent`` (wasAssociatedWith, wasAttributedTo, actedOnBehalfOf), ``member`` (hadMember),
  ``step`` (wasInfluencedBy typed voprov:hadStep), ``description`` (wasInfluencedBy typed
  voprov:isDescribedBy / wasConfiguredBy / hadReference): *attached*.
- ``other`` (alternateOf, specializationOf, mentionOf): not returned by lineage.

The traversal starts at ``query.ids`` (distance 0) and walks the traversal edges breadth first;
a node is reached when its distance is <= depth (``None`` = ALL). Traversal edges are the causal
edges in the query direction, plus, when asked:

- ``members``: hadMember collection -> member;
- ``steps``: hadStep flow -> step;
- ``agents``: agent relations in both directions (what an agent is responsible for, and whom it
  acted for).

The answer holds every reached node, every traversal edge leaving a node whose distance is
< depth, and the *attachments* of every reached node that is not an agent (or of every reached
node when ``agents``): its agent relations (node -> agent, delegate -> responsible), the
collections it is a member of (member -> collection, i.e. hadMember rows with dst = node), the
activity flows it is a step of, and its description relations (src = node; ``model`` does not
change the records: the service serialises them for it). Attached nodes are returned but not
expanded further, except that IVOA descriptions are completed: from every attached node, every start id and
every description named by a returned relation's ``voprov:descriptor``
(:meth:`EdgeSource.references`), the walk follows description relations leaving a node and
``isRelatedTo`` relations entering one, until nothing new is reached, so that no description
reference in an answer dangles (a Parameter's ParameterDescription, a hadReference's
ValueEntity and its ValueDescription, a UsageDescription and its ActivityDescription, and what
belongs to an ActivityDescription). Each record appears once;
cycles are safe. If more than ``query.node_cap`` nodes would be returned the store raises
:class:`provhub.provdm.errors.AnswerTooLarge`; if the walk takes longer than ``query.timeout`` seconds,
:class:`provhub.provdm.errors.QueryTimeout`. Unknown start ids are not an error for the store (the
service checks them first).
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from typing import Hashable, Iterable, Protocol

from provhub.provdm.codec import Graph, Node, Relation


@dataclass
class PreparedDocument:
    """A parsed, validated document ready to store (built by ``provhub.app.services.prepare``)."""

    id: str
    format: str  # json | provn | xml
    original: str  # text as posted
    provjson: str  # canonical PROV-JSON serialisation (prov), for format conversion
    prefixes: dict
    nodes: list[Node]
    relations: list[Relation]
    records: int  # number of PROV records in the document (as prov counts them)
    rights: str = "public"
    group: str | None = None
    release: str | None = None  # ISO date
    aliases: list = field(default_factory=list)  # provhub.provdm.identity.Claim of its records
    poster: str | None = None  # Viewer.principal of who posted it


@dataclass
class PutResult:
    id: str
    records: int
    created: bool


@dataclass
class StoredDocument:
    id: str
    format: str
    original: str
    provjson: str
    prefixes: dict
    records: int
    created_at: str
    rights: str = "public"
    group: str | None = None
    release: str | None = None
    status: str = "live"  # live | retracted | superseded
    superseded_by: str | None = None
    poster: str | None = None  # Viewer.principal of who posted it (None: not known)


@dataclass
class HistoryEntry:
    """One change in a document's life: ``ingested``, ``retracted``, ``superseded`` (``other`` is the
    new version), ``supersedes`` (``other`` is the old one), or ``pin``/``unpin`` (doc_id is "")."""

    doc_id: str
    action: str
    actor: str | None
    at: str
    other: str | None = None


@dataclass
class Rewrite:
    """Records rebuilt from their documents after a join changed or a document was retracted
    (``provhub.app.identity`` plans it; the store applies it in one transaction).

    ``version`` is :meth:`Store.version` as read when the plan was made: a store that has
    changed since raises :class:`provhub.provdm.errors.StoreBusy` and nothing is written (the planner
    plans again). The assertions and aliases of ``docs`` are replaced by ``assertions`` and
    ``aliases``; ``delete`` ids are removed (a node still named by a relation stays as a bare
    reference); ``nodes`` and ``relations`` are written whole. ``document`` is a new document
    row, whose records are in the lists."""

    version: tuple | None
    docs: list[str] = field(default_factory=list)
    assertions: list[tuple[str, str]] = field(default_factory=list)  # (record id, doc id)
    aliases: list = field(default_factory=list)  # provhub.provdm.identity.Claim with doc_id
    delete: list[str] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    document: PreparedDocument | None = None
    status: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)


@dataclass
class TraceQuery:
    ids: list[str]
    depth: int | None = 1  # None = ALL
    direction: str = "BACK"  # BACK | FORTH
    members: bool = False
    steps: bool = False
    agents: bool = False
    model: str = "IVOA"  # IVOA | W3C: the same records
    node_cap: int = 100_000
    timeout: float | None = None  # seconds; QueryTimeout when the walk takes longer
    max_depth: int | None = None  # levels DEPTH=ALL may walk (AnswerTooLarge beyond)
    #: at node_cap, stop at the level that passed it and answer what was reached (MAXREC cuts it),
    #: rather than AnswerTooLarge
    truncate: bool = False
    #: told the records reached after each level of the walk: the request's deadline and its
    #: place among the heavy requests (provhub.app.services.Budget); not part of what is asked
    budget: WalkBudget | None = field(default=None, repr=False, compare=False)


class WalkBudget(Protocol):
    def reached(self, records: int) -> None:
        """Called with the number of records the walk has reached; raises to stop it."""


@dataclass
class DocumentRights:
    doc_id: str
    rights: str
    group: str | None
    release: str | None


@dataclass
class TokenRecord:
    id: str  # public id, shown by `provhub tokens list`
    name: str
    role: str  # reader | writer | admin
    groups: list
    hash: str  # sha256 of the token
    created_at: str
    revoked: bool = False


@dataclass
class Stats:
    documents: int = 0
    nodes: int = 0
    relations: int = 0


class EdgeSource(Protocol):
    """What the shared lineage walk (:func:`provhub.app.stores.lineage.walk`) reads: a backend gives it
    one of these (itself, or an object bound to one read transaction)."""

    def edges_from(
        self, ids: list[str], out: Iterable[str], into: Iterable[str], words: tuple[str, ...] = ()
    ) -> list[tuple[Hashable, str, str]]:
        """``(relation key, this end, other end)`` for relations with category in ``out`` whose
        src is in ``ids`` (this end = src) and with category in ``into`` whose dst is in ``ids``
        (this end = dst), in ONE query. The key is what the backend reads the relation back by:
        its id, or its row number in the embedded store. ``words``: only relations whose stored
        text holds one of them (a cheap test, as :meth:`references` makes; the caller checks
        what it needs of those)."""
        ...

    def kinds(self, ids: list[str]) -> dict[str, str]:
        """Kind (entity/activity/agent) of each stored node among ``ids``."""
        ...

    def references(
        self, keys: list[Hashable], names: tuple[str, ...], words: tuple[str, ...] | None = None
    ) -> list[tuple[Hashable, str]]:
        """``(relation key, IRI)`` for each qualified-name value of an attribute whose IRI is in
        ``names``, on the relations with those keys (keys as :meth:`edges_from` gave them).
        ``words``: only relations whose stored text holds one of them are read (the caller
        wants only values that do; default: the local parts of ``names``,
        :func:`provhub.app.stores.lineage.mention_words`)."""
        ...

    def repeats(self, ids: list[str]) -> dict[str, list[str]]:
        """The store keys of the further assertions of each id among ``ids`` that has some (an
        element of a second kind, or an activity asserted with other times; see
        :attr:`provhub.provdm.records.Node.repeat`): the walk answers an id with all of them."""
        ...


class DocumentStore(Protocol):
    """Documents, their records, lineage, search, rights, identity and lifecycle."""

    url: str

    def put_document(self, prepared: PreparedDocument) -> PutResult: ...

    def get_document(self, doc_id: str) -> StoredDocument: ...

    def has_document(self, doc_id: str) -> bool: ...

    def list_documents(
        self,
        offset: int = 0,
        limit: int = 50,
        groups: frozenset | None = None,
        today: str | None = None,
        retired: bool = False,
    ) -> tuple[list[StoredDocument], int]: ...

    def get_nodes(self, ids: list[str]) -> list[Node]: ...

    def repeats(self, ids: list[str]) -> dict[str, list[str]]:
        """As :meth:`EdgeSource.repeats`: the keys of the further assertions of each id."""
        ...

    def get_relations(self, ids: list[str]) -> list[Relation]: ...

    def documents_asserting(self, record_id: str) -> list[str]: ...

    def trace(self, query: TraceQuery) -> Graph: ...

    def trace_provjson(self, query: TraceQuery, native: bool = False) -> str | None: ...

    def search(
        self,
        text: str = "",
        kind: str | None = None,
        limit: int = 50,
        offset: int = 0,
        groups: frozenset | None = None,
        today: str | None = None,
        level: str | None = None,
        partial: bool = False,
    ) -> tuple[list[Node], int]:
        """Declared records whose id or attributes contain ``text`` (case-insensitive), ordered
        by id, and how many there are. ``level``: only records stored with that level
        (:func:`provhub.provdm.facts.node_levels`: ``DL0``..``DL6`` or ``IRF``). ``groups`` and
        ``today``: only records some readable document asserts; with ``partial``, only those that
        an unreadable document asserts too."""
        ...

    def rights_of(self, ids: list[str]) -> dict[str, list[DocumentRights]]: ...

    def set_rights(self, doc_id: str, rights: str, group: str | None, release: str | None) -> None: ...

    def stats(self) -> Stats: ...

    def namespaces(self) -> dict[str, str]: ...

    # identity and lifecycle
    def find_aliases(
        self,
        keys: Iterable[str] = (),
        record_ids: Iterable[str] = (),
        doc_ids: Iterable[str] = (),
        distinct: bool = False,
    ) -> list: ...

    def document_records(self, doc_ids: list[str]) -> dict[str, list[str]]: ...

    def version(self) -> tuple: ...

    def rewrite(self, plan: Rewrite) -> bool: ...

    def history(self, doc_id: str | None = None) -> list[HistoryEntry]: ...


class TokenStore(Protocol):
    """API tokens (kept hashed) and the store's own secret."""

    def save_token(self, token: TokenRecord) -> None: ...

    def find_token(self, token_hash: str) -> TokenRecord | None: ...

    def list_tokens(self) -> list[TokenRecord]: ...

    def revoke_token(self, token_id: str) -> bool: ...

    def secret(self) -> str: ...


class Store(DocumentStore, TokenStore, Protocol):
    """What ``open_store`` returns: both parts, plus the connection's life."""

    def ping(self) -> None: ...

    def close(self) -> None: ...


def utcnow_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _ascii_json(text: str) -> str:
    """``text`` as it reads inside the JSON text the stores keep attributes in: every character
    past ASCII escaped (``ü`` is ``\\u00fc``, an astral one a surrogate pair), the rest as is."""
    return "".join(c if ord(c) < 128 else json.dumps(c)[1:-1] for c in text)


def attribute_needles(text: str) -> list[str]:
    """What :meth:`DocumentStore.search` looks for, lowercased, in a record's attributes: the
    stores keep them as JSON text with non-ASCII characters escaped, so ``Müller`` is looked
    for as ``m\\u00fcller``; and as lower-casing does not reach inside an escape, also as
    typed and in capitals (``MÜLLER`` finds ``MÜLLER``). Ids are matched as ``text.lower()``."""
    return sorted({_ascii_json(text.lower()), _ascii_json(text).lower(), _ascii_json(text.upper()).lower()})


def text_matches(text: str, record_id: str, attrs: object) -> bool:
    """Whether a search for ``text`` matches a record of ``record_id`` and (encoded) ``attrs``,
    by the rule the stores' searches apply (:func:`attribute_needles`)."""
    if text.lower() in record_id.lower():
        return True
    written = json.dumps(attrs).lower()
    return any(needle in written for needle in attribute_needles(text))


__all__ = [
    "attribute_needles",
    "text_matches",
    "Store",
    "DocumentStore",
    "TokenStore",
    "EdgeSource",
    "PreparedDocument",
    "PutResult",
    "StoredDocument",
    "TraceQuery",
    "Stats",
    "DocumentRights",
    "TokenRecord",
    "HistoryEntry",
    "Rewrite",
    "Graph",
    "Node",
    "Relation",
    "utcnow_iso",
]
