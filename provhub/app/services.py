"""What provhub does, shared by the HTTP API and the CLI: route/command -> service -> store -> provdm.

No Flask and no click here: services take a store and settings and return provdm objects or
plain dataclasses.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from prov.model import ProvDocument

from provhub.provdm import formats, jsonreader, registry, voprov
from provhub.provdm.audit import RAW_TYPES, AuditReport, audit, referenced_ids
from provhub.provdm.codec import Graph, Node, count_records, records_and_hash, to_document
from provhub.provdm.errors import (
    AnswerTooLarge,
    Busy,
    Conflict,
    Forbidden,
    InvalidDocument,
    InvalidParameter,
    NotFound,
    PayloadTooLarge,
    QueryTimeout,
)
from provhub.provdm.provjson import graph_to_provjson
from provhub.provdm.provsap import ProvSapQuery, limit_records
from provhub.provdm.facts import DATA_LEVELS, node_levels, read_facts
from provhub.provdm.render import render
from provhub.provdm.validate import LEVELS, Limits, disjoint_in_scope, validate

from .access import ANONYMOUS, OPERATOR, Viewer, document_readable, may_manage, today
from .rights import HIDDEN_NS, as_readable, readable_ids, restrict, sees_everything, visible_ids
from .stores.base import PreparedDocument, Store, TraceQuery, text_matches

RIGHTS = ("public", "proprietary")
#: stored format of a document that voprov wrote (kept as posted, served translated to W3C)
VOPROV_FORMAT_PREFIX = "voprov-"


@dataclass
class IngestResult:
    id: str
    records: int
    created: bool
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "records": self.records, "created": self.created, "warnings": self.warnings}


def check_rights(rights, group, release) -> tuple[str, str | None, str | None]:
    """Rights as posted or set, their types and values checked (400); ``rights`` None: public."""
    rights = "public" if rights is None else rights
    if not isinstance(rights, str) or rights.lower() not in RIGHTS:
        raise InvalidParameter(f"rights must be public or proprietary, not {_shown(rights)}", where="rights")
    rights = rights.lower()
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise InvalidParameter(f"group must be the name of a group, not {_shown(group)}", where="group")
    if rights == "proprietary" and not group:
        raise InvalidParameter("proprietary documents need an owner group", where="group")
    if release is not None:
        try:
            release = _dt.date.fromisoformat(release).isoformat()
        except (TypeError, ValueError):
            raise InvalidParameter(
                f"release must be a date YYYY-MM-DD, not {_shown(release)}", where="release"
            ) from None
    return rights, group, release


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_provjson(doc: ProvDocument) -> str:
    """Compact PROV-JSON (what the store keeps of documents built in Python or converted)."""
    return doc.serialize(format="json")


def prepare(
    text: str,
    fmt: str,
    *,
    settings,
    store: Store | None = None,
    validation: str | None = None,
    rights: str | None = None,
    group: str | None = None,
    release: str | None = None,
    doc: ProvDocument | None = None,
    viewer: Viewer = OPERATOR,
) -> tuple[PreparedDocument, list[str]]:
    """Parse, check and flatten a document; return it ready for ``store.put_document``.
    Validation knows only the stored records ``viewer`` may read (a hidden id is as absent)."""
    level = (validation or settings.validation).lower()
    if level not in LEVELS:
        raise InvalidParameter(f"validation must be one of {', '.join(LEVELS)}, not {level!r}", where="validation")
    rights, group, release = check_rights(rights, group, release)
    fmt = fmt.removeprefix(VOPROV_FORMAT_PREFIX)
    data = formats.load_json(text) if doc is None and fmt == "json" else None
    with _contradiction():
        plain = jsonreader.read(data, text) if data is not None else None
    if plain is not None:  # plain PROV-JSON: flattened straight from its JSON
        nodes, relations, content_hash, records, prefixes = plain
        _check_size(records, settings)
        warnings, translated, provjson = [], False, text
        same_scope = None
    else:
        nodes, relations, content_hash, records, prefixes, provjson, warnings, translated, doc = _flatten_with_prov(
            text, fmt, doc, settings
        )
        same_scope = disjoint_in_scope(doc) if doc.bundles else None
    if level == "off" or fmt != "json":
        data = None  # the PROV-JSON schema check needs the decoded JSON of what is stored
    elif data is None or provjson is not text:
        data = json.loads(provjson)
    known = set()
    if store is not None and level != "off":
        declared = {n.id for n in nodes}
        refs = {e for r in relations for e in (r.src, r.dst) if e and e not in declared}
        if refs:
            known = {n.id for n in store.get_nodes(sorted(refs))}
            if known and not sees_everything(store, viewer):
                known &= visible_ids(store, known, viewer)
    stored_kinds = _stored_kinds(store, nodes, viewer) if store is not None and level == "strict" else None
    warnings += validate(
        nodes,
        relations,
        level=level,
        provjson=data,
        limits=limits_of(settings),
        known_ids=known,
        same_scope=same_scope,
        stored_kinds=stored_kinds,
    )
    del data
    prepared = PreparedDocument(
        id=content_hash[:32],
        format=VOPROV_FORMAT_PREFIX + fmt if translated else fmt,
        original=text,
        provjson=provjson,
        prefixes=prefixes,
        nodes=nodes,
        relations=relations,
        records=records,
        rights=rights,
        group=group,
        release=release,
        poster=viewer.principal,
    )
    return prepared, warnings


def _stored_kinds(store: Store, nodes: list[Node], viewer: Viewer) -> dict[str, set[str]]:
    """The kinds the store holds of the document's element ids, as ``viewer`` may read them (for
    strict validation: an entity here that the store holds as an activity)."""
    names = sorted({n.name for n in nodes})
    stored = store.get_nodes(names)
    keys = [n.id for n in stored] + [k for ks in store.repeats(names).values() for k in ks]
    readable = set(keys) if sees_everything(store, viewer) else visible_ids(store, keys, viewer)
    out: dict[str, set[str]] = {}
    for node in stored + store.get_nodes(sorted(set(keys) - {n.id for n in stored})):
        if node.id in readable:
            out.setdefault(node.name, set()).add(node.kind)
    return out


@contextmanager
def _contradiction():
    """A document whose own records conflict is invalid (422), not a conflict with the store."""
    try:
        yield
    except Conflict as exc:
        raise InvalidDocument(
            f"the document contradicts itself: {exc.message}", where=exc.where, details=exc.details
        ) from None


def _check_size(records: int, settings) -> None:
    if records == 0:
        raise InvalidDocument("the document holds no PROV records", where="document")
    if records > settings.max_records:
        raise PayloadTooLarge(
            f"the document has {records} records; the limit is {settings.max_records}", where="records"
        )


def limits_of(settings) -> Limits:
    return Limits(settings.max_attribute_bytes, settings.max_record_bytes, settings.max_id_bytes)


def _check_parse_size(text: str, fmt: str, settings) -> None:
    """A body read by prov's parsers is held to PROVHUB_MAX_PARSE_MB, in UTF-8 bytes: PROV-N and
    PROV-XML (prov's parsers took about 100x (PROV-N) and 37x (PROV-XML) the body in memory) and
    the PROV-JSON that provhub's own reader does not take (voprov's W3C form, ...), which falls
    back to prov's parser. Plain PROV-JSON, read by provhub itself, is held only to
    PROVHUB_MAX_BODY_MB."""
    limit = int(settings.max_parse_mb * 1024 * 1024)
    if utf8_over(text, limit):
        why = " is not plain PROV-JSON, so it" if fmt == "json" else ""
        raise PayloadTooLarge(
            f"a {_label(fmt)} body{why} is read by prov's parser, which takes up to 100x its size "
            f"in memory: this one is over the limit of {settings.max_parse_mb:g} MiB "
            "(PROVHUB_MAX_PARSE_MB); post large documents as plain PROV-JSON",
            where="body",
        )


def utf8_over(text: str, limit: int) -> bool:
    """Whether ``text`` is longer than ``limit`` bytes in UTF-8 (a character is 1 to 4 bytes, so
    most bodies are decided without encoding them)."""
    if len(text) > limit or 4 * len(text) <= limit:
        return len(text) > limit
    return len(text.encode("utf-8", "surrogatepass")) > limit


def _label(fmt: str) -> str:
    syntax = registry.get(registry.SYNTAX, fmt)
    return syntax.label if syntax else fmt


def _check_literals(text: str, fmt: str, limit: int) -> None:
    """Refuse a PROV-N, PROV-XML or PROV-O body holding a value longer than
    PROVHUB_MAX_ATTRIBUTE_BYTES before prov parses it: prov's parser took 136x the body in memory
    for one 60 MB literal.

    PROV-N is cut into the tokens prov's lexer reads (long and short strings with their escapes,
    qualified-name literals, IRIs, comments), so an escaped quote cannot hide a literal; Turtle
    likewise into its strings (both quotes, long and short), IRIs and comments; JSON-LD into its
    JSON strings (keys too); PROV-XML into tags and the text between them. A value of more characters than the limit has more
    bytes too, so nothing valid is refused (an escaped value is counted as written)."""
    if fmt == "json":
        return
    tokens = {"provn": _PROVN_TOKEN, "ttl": _TURTLE_TOKEN, "jsonld": _JSON_STRING}.get(fmt)
    if tokens is not None:
        for m in tokens.finditer(text):
            if m.lastgroup == "value":
                quotes = 6 if text.startswith(('"""', "'''"), m.start()) else 2
                length = m.end() - m.start() - quotes
                if length > limit:
                    _long_value(length, m.start(), limit)
        return
    pos = 0
    for part in text.split("<"):
        tag = part.find(">") + 1
        for start, length in ((pos, tag), (pos + tag, len(part) - tag)):
            if length > limit:
                _long_value(length, start, limit)
        pos += len(part) + 1


def _long_value(length: int, at: int, limit: int):
    raise InvalidDocument(
        f"a value of {length} characters is longer than PROVHUB_MAX_ATTRIBUTE_BYTES ({limit})",
        where=f"character {at + 1}",
    )


#: the PROV-N tokens that hold text (prov.serializers.provn_lexer's rules): long strings, short
#: strings, qualified-name literals and IRIs are ``value``; comments and other runs are skipped
_PROVN_TOKEN = re.compile(
    r'(?P<value>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'  # long string
    r'|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"'  # short string
    r"|'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'"  # qualified-name literal
    r'|<[^<>"\s]*>)'  # IRI
    r'|//[^\n\r]*|/\*.*?\*/|[^"\'</]+|.',
    re.S,
)


#: the Turtle tokens that hold text (the W3C Turtle grammar's STRING_LITERAL_* and IRIREF), as
#: ``value``; comments and other runs are skipped
_TURTLE_TOKEN = re.compile(
    r'(?P<value>"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"'
    r"|'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'"
    r'|<[^<>"\s]*>)'
    r"|#[^\n\r]*|[^\"'<#]+|.",
    re.S,
)
#: JSON strings, with their escapes (JSON-LD)
_JSON_STRING = re.compile(r'(?P<value>"[^"\\]*(?:\\.[^"\\]*)*")|[^"]+', re.S)


#: PROV-N, PROV-XML and PROV-O bodies parsed at once by one process (prov's parsers take up to 100x the
#: body in memory); more answer 503 busy with Retry-After
MAX_PARSES = 2
_PARSES = threading.BoundedSemaphore(MAX_PARSES)


def _flatten_with_prov(text: str, fmt: str, doc: ProvDocument | None, settings):
    """Parse with prov (unless ``doc`` is given) and flatten; every syntax and every document."""
    warnings: list[str] = []
    translated = False
    if doc is None:
        _check_parse_size(text, fmt, settings)
        _check_literals(text, fmt, settings.max_attribute_bytes)
        if not _PARSES.acquire(blocking=False):
            raise Busy(f"{MAX_PARSES} documents are being parsed already; try again in a few seconds", where="body")
        try:
            doc, warnings, translated = formats.parse_any(text, fmt)
        finally:
            _PARSES.release()
    records = count_records(doc)
    _check_size(records, settings)
    with _contradiction():
        nodes, relations, content_hash = records_and_hash(doc)
    provjson = to_provjson(doc) if translated or fmt != "json" else text
    prefixes = {ns.prefix: ns.uri for ns in doc.namespaces}
    for bundle in doc.bundles:
        for ns in bundle.namespaces:
            prefixes.setdefault(ns.prefix, ns.uri)
    return nodes, relations, content_hash, records, prefixes, provjson, warnings, translated, doc


def check_may_assign(viewer: Viewer, group) -> None:
    """A writer may name as owner only a group it belongs to, public or proprietary alike (the
    owner group's writers then manage the document)."""
    if group and not viewer.is_admin and group not in viewer.groups:
        raise Forbidden(f"you are not a member of group {_shown(group)}", where="group")


def ingest(
    store: Store, text: str, fmt: str, *, settings, viewer: Viewer = OPERATOR, supersedes: str | None = None, **options
) -> IngestResult:
    """Store a document; its records join those the store knows (:mod:`provhub.app.identity`).
    ``supersedes``: the id of a live document this one replaces."""
    from . import identity

    check_may_assign(viewer, options.get("group"))
    if supersedes:
        identity.may_change(store, supersedes, viewer)
    prepared, warnings = prepare(text, fmt, settings=settings, store=store, viewer=viewer, **options)
    try:
        if supersedes:
            outcome = identity.supersede(store, supersedes, prepared, viewer=viewer)
        else:
            outcome = identity.put(store, prepared, actor=viewer.name)
    except Conflict as exc:
        raise _as_seen(store, exc, viewer) from None
    result = outcome.result
    return IngestResult(result.id, result.records, result.created, warnings + outcome.warnings)


def _as_seen(store: Store, exc: Conflict, viewer: Viewer) -> Conflict:
    """A conflict as ``viewer`` may see it: about a record it cannot read, no stored value, no kind
    and no endpoint is told, only that the id is taken (nothing was written either way)."""
    if sees_everything(store, viewer):
        return exc
    ids = sorted({d["id"] for d in exc.details if isinstance(d, dict) and "id" in d})
    seen = visible_ids(store, ids, viewer) if ids else set()
    if all(i in seen for i in ids):
        return exc
    details = [
        d if d.get("id") in seen else {"id": d.get("id"), "attribute": None, "stored": None, "new": None}
        for d in exc.details
        if isinstance(d, dict)
    ]
    hidden = [i for i in ids if i not in seen]
    return Conflict(
        f"{len(hidden)} record id(s) of this document are taken by records you cannot read "
        f"({', '.join(hidden[:5])}); use other ids",
        where=hidden[0],
        details=list({json.dumps(d, sort_keys=True, default=str): d for d in details}.values()),
    )


def ingest_prov(store: Store, doc: ProvDocument, *, settings, **options) -> IngestResult:
    """Ingest a document built in Python (importers): stored as its PROV-JSON, not parsed again."""
    return ingest(store, to_provjson(doc), "json", settings=settings, doc=doc, **options)


def ingest_openlineage(store: Store, event, *, settings, **options) -> IngestResult:
    """Ingest one OpenLineage RunEvent (a decoded JSON object) as the PROV document
    :mod:`provhub.importers.openlineage` makes of it; the events of a run join in the store."""
    from provhub.importers.openlineage import run_event_document

    doc = run_event_document(event, max_attribute_bytes=settings.max_attribute_bytes)
    return ingest_prov(store, doc, settings=settings, **options)


RIGHTS_FIELDS = ("rights", "group", "release")


def set_rights(store: Store, doc_id: str, changes: dict, *, viewer: Viewer = OPERATOR):
    """Change who may read a document (:func:`provhub.app.access.may_manage`: an admin, a writer of the
    owner group, or the poster of a document without one). ``changes`` holds some of rights,
    group and release (and may repeat the id): fields left out keep their stored values, None
    clears a group or a release date."""
    if not isinstance(changes, dict):
        raise InvalidParameter("the body must be a JSON object with rights, group and release", where="body")
    unknown = sorted(set(changes) - {*RIGHTS_FIELDS, "id"}, key=str)
    if unknown:
        raise InvalidParameter(
            f"unknown field {_shown(unknown[0])}: a rights change has rights, group and release",
            where=str(unknown[0])[:60],
        )
    if changes.get("id", doc_id) != doc_id:
        raise InvalidParameter(f"the body names another document ({_shown(changes['id'])})", where="id")
    if "rights" in changes and changes["rights"] is None:
        raise InvalidParameter("rights must be public or proprietary, not None", where="rights")
    stored = readable_document(store, doc_id, viewer)
    if not may_manage(viewer, stored.group, stored.poster):
        raise Forbidden(
            "only an admin, a writer of the owner group or, of a document without one, its poster may change "
            "the rights",
            where="rights",
        )
    rights, group, release = check_rights(*(changes[f] if f in changes else getattr(stored, f) for f in RIGHTS_FIELDS))
    check_may_assign(viewer, group)
    store.set_rights(doc_id, rights, group, release)
    return store.get_document(doc_id)


def read_file(path: str, fmt: str = "auto") -> tuple[str, str]:
    """Read a PROV file and tell its syntax (``auto``: by suffix, then by content)."""
    from pathlib import Path

    p = Path(path)
    text = p.read_text(encoding="utf-8")
    if fmt == "auto":
        fmt = formats.SUFFIX_FORMATS.get(p.suffix.lower()) or formats.sniff_format(text)
    else:
        fmt = formats.format_from_name(fmt, where="--format")
    return text, fmt


# -- documents ---------------------------------------------------------------------------------


def readable_document(store: Store, doc_id: str, viewer: Viewer):
    """The stored document, or NotFound (the same answer as for an unknown id) when hidden."""
    stored = store.get_document(doc_id)
    if not document_readable(viewer, stored.rights, stored.group, stored.release):
        raise NotFound(f"no document with id {doc_id!r}", where="id")
    return stored


def list_documents(store: Store, *, viewer: Viewer, offset: int = 0, limit: int = 50):
    return store.list_documents(offset=offset, limit=limit, groups=viewer.visible_groups, today=today())


def recent_documents(store: Store, *, viewer: Viewer, limit: int = 10):
    """The newest ``limit`` documents ``viewer`` may read, newest first, and how many they may read."""
    _, total = list_documents(store, viewer=viewer, offset=0, limit=1)
    docs, _ = list_documents(store, viewer=viewer, offset=max(0, total - limit), limit=limit)
    return list(reversed(docs)), total


def document_nodes(
    store: Store, doc_id: str, *, viewer: Viewer, known=frozenset(), views: dict | None = None
) -> tuple[object, list, int]:
    """A readable document, the records (entities, activities, agents) it asserts as ``viewer``
    sees them (what a hidden document also says of a shared record left out) but those in
    ``known`` (ids the caller has already read), and how many of its records are relations;
    NotFound, as for an unknown id, when the document is hidden. ``views``: the documents' views
    read so far (:func:`readable_nodes`)."""
    stored = readable_document(store, doc_id, viewer)
    ids = store.document_records([stored.id]).get(stored.id, [])
    nodes = readable_nodes(store, [i for i in ids if i not in known], viewer=viewer, views=views)
    return stored, nodes, len(ids) - len(nodes) - sum(1 for i in ids if i in known)


def readable_nodes(store: Store, ids: list[str], *, viewer: Viewer, views: dict | None = None) -> list:
    """The records of ``ids`` (nodes only) as ``viewer`` may see them: ``ids`` must be records that
    readable documents assert; what only a hidden document says of them is left out. ``views``
    keeps the documents' views read for that (:func:`provhub.app.rights.as_readable`) for the
    caller's next call, within one request."""
    nodes = store.get_nodes(ids) if ids else []
    if nodes and not sees_everything(store, viewer):
        _, mixed = readable_ids(store.rights_of([n.id for n in nodes]), viewer)
        nodes = as_readable(store, nodes, mixed, viewer, views)
    return nodes


def document_text(store: Store, doc_id: str, fmt: str, *, viewer: Viewer = OPERATOR) -> str:
    """A stored document in a syntax: the original text when asked in its own syntax."""
    stored = readable_document(store, doc_id, viewer)
    if fmt == stored.format:
        return stored.original
    doc, _ = formats.parse(stored.provjson, "json")
    return formats.serialize(doc, fmt)


# -- lineage -----------------------------------------------------------------------------------


def resolve_id(store: Store, ident: str, namespaces: dict[str, str] | None = None) -> str:
    """Expand a prefixed name known to the store (``hess:obs_23523``) to its IRI."""
    if "://" in ident or ident.startswith("urn:"):
        return ident
    prefix, sep, local = ident.partition(":")
    if sep:
        ns = (namespaces if namespaces is not None else store.namespaces()).get(prefix)
        if ns:
            return ns + local
    return ident


@dataclass
class _Trace:
    """A ProvSAP query checked against the store: its start ids exist and ``viewer`` sees them."""

    query: TraceQuery
    namespaces: dict[str, str]
    restricted: bool  # the viewer may not read everything: answers go through provhub.app.rights


def canonical(store: Store, ident: str, namespaces: dict[str, str] | None = None) -> str:
    """The stored id a ProvSAP ``ID`` or a record page means: a prefixed name, a full id, the id of
    a stand-in that has joined its real record, or an alias (a file name, a digest...)."""
    from . import identity

    full = resolve_id(store, ident, namespaces)
    found, _ = identity.canonical_id(store, full)
    if found is None and full != ident:
        found, _ = identity.canonical_id(store, ident)
    return found or full


def _start(store: Store, query: ProvSapQuery, *, settings, viewer: Viewer, budget: Budget | None = None) -> _Trace:
    namespaces = store.namespaces()
    ids = [canonical(store, i, namespaces) for i in query.ids]
    found = {n.id for n in store.get_nodes(ids)}
    restricted = not sees_everything(store, viewer)
    if restricted:
        found &= visible_ids(store, found, viewer)
    missing = [orig for orig, full in zip(query.ids, ids, strict=True) if full not in found]
    if missing:
        raise NotFound(f"no record with id {missing[0]!r} in this store", where="ID")
    return _Trace(
        TraceQuery(
            ids=ids,
            depth=query.depth,
            direction=query.direction,
            members=query.members,
            steps=query.steps,
            agents=query.agents,
            model=query.model,
            # a caller who may not read everything gets the cap on what it sees (below); the walk
            # itself stops at a bound the same for every caller, so hidden records make no
            # difference before it
            node_cap=settings.node_cap * WALK_CAP_FACTOR if restricted else settings.node_cap,
            timeout=settings.query_timeout,
            max_depth=settings.max_depth,
            budget=budget,
            # MAXREC cuts the answer: at the cap the walk stops and the nearest records are kept
            truncate=query.maxrec is not None,
        ),
        namespaces,
        restricted,
    )


#: how many times PROVHUB_NODE_CAP a walk may reach before rights are applied (docs/security.md)
WALK_CAP_FACTOR = 10


def trace_graph(
    store: Store, query: ProvSapQuery, *, settings, viewer: Viewer = OPERATOR, budget: Budget | None = None
) -> tuple[Graph, dict[str, str]]:
    start = _start(store, query, settings=settings, viewer=viewer, budget=budget)
    return _graph(store, start, settings=settings, viewer=viewer)


def _graph(store: Store, start: _Trace, *, settings, viewer: Viewer) -> tuple[Graph, dict[str, str]]:
    """The answer's records as ``viewer`` may see them, and the prefixes to write them with."""
    graph, namespaces = store.trace(start.query), start.namespaces
    if start.restricted:
        scope = f"{viewer.name}|{viewer.role}|{sorted(viewer.groups)}|{start.query!r}"
        graph = restrict(store, graph, viewer, start=start.query.ids, mode=settings.hidden_records, scope=scope)
        if len(graph.nodes) > settings.node_cap and not start.query.truncate:
            raise AnswerTooLarge(
                f"the answer would hold more than {settings.node_cap} records; ask for a smaller DEPTH",
                where="DEPTH",
            )
        if any(n.id.startswith(HIDDEN_NS) for n in graph.nodes):
            namespaces = {**namespaces, "hidden": HIDDEN_NS}
    return graph, used_namespaces(graph, namespaces)


def used_namespaces(graph: Graph, namespaces: dict[str, str]) -> dict[str, str]:
    """The prefixes an answer uses: those of its records' ids, attribute names and qualified-name
    values. The store's other prefixes stay out (some belong to documents the caller may not
    read, and a VO client reads a shorter answer)."""
    uris: set[str] = set()

    def collect(attrs) -> None:
        for name, value in attrs:
            uris.add(name["qn"][0])
            if isinstance(value, dict) and "qn" in value:
                uris.add(value["qn"][0])

    for node in graph.nodes:
        uris.add(node.qn[0])
        collect(node.attrs)
    for rel in graph.relations:
        if rel.qn:
            uris.add(rel.qn[0])
        collect(rel.attrs)
    return {prefix: uri for prefix, uri in namespaces.items() if uri in uris}


def trace(
    store: Store, query: ProvSapQuery, *, settings, viewer: Viewer = OPERATOR, budget: Budget | None = None
) -> ProvDocument:
    """The ProvSAP answer as a PROV document."""
    return to_document(*trace_graph(store, query, settings=settings, viewer=viewer, budget=budget))


class Deadline:
    """The time a request may still take (PROVHUB_QUERY_TIMEOUT for the whole of it: the walk,
    the rights, writing the answer and drawing it). :meth:`check` between stages; a stage that
    runs outside Python (Graphviz) gets :meth:`remaining` as its own time limit. A stage inside
    Python (prov's serialisers) runs to its end once started: the node cap bounds it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self, stage: str = "the answer", where: str = "DEPTH") -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise QueryTimeout(
                f"the request ran longer than {self.seconds:g} s (PROVHUB_QUERY_TIMEOUT) before {stage} was "
                "written; ask for a smaller DEPTH",
                where=where,
            )
        return left

    check = remaining


class Pool:
    """At most ``places`` heavy requests of one kind at once in one process; one more is 503 busy
    with Retry-After (never a wait: a queue of heavy requests would hold their memory too)."""

    def __init__(self, places: int, what: str, hint: str = "", where: str = "RESPONSEFORMAT"):
        self.places, self.what, self.hint, self.where = places, what, hint, where
        self._free = threading.BoundedSemaphore(places)

    def take(self) -> None:
        if not self._free.acquire(blocking=False):
            raise Busy(
                f"{self.what}: {self.places} at once per process are being answered already; try again in a few "
                f"seconds{self.hint}",
                where=self.where,
            )

    def give(self) -> None:
        self._free.release()


class Budget(Deadline):
    """What one request may spend: its :class:`Deadline`, and a place in ``pool`` from the moment
    it reaches more than HEAVY_RECORDS records to its end. The lineage walk reports what it has
    reached after each level (``TraceQuery.budget``), so a heavy request takes its place, or is
    refused, before it fetches, restricts and writes a large answer, and a walk past the
    deadline stops there. Use it as a context manager: the place is given back at the end."""

    def __init__(self, seconds: float, pool: Pool | None = None):
        super().__init__(seconds)
        self.pool = pool
        self.held = False

    def reached(self, records: int) -> None:
        self.check("the lineage")
        if records > HEAVY_RECORDS and self.pool is not None and not self.held:
            self.pool.take()
            self.held = True

    def __enter__(self) -> Budget:
        return self

    def __exit__(self, *exc) -> None:
        if self.held and self.pool is not None:
            self.held = False
            self.pool.give()


def provsap_response(store: Store, query: ProvSapQuery, *, settings, viewer: Viewer = OPERATOR) -> tuple[bytes, str]:
    """Body and media type of a ProvSAP answer in the RESPONSEFORMAT asked for (:func:`provsap_answer`)."""
    answer = provsap_answer(store, query, settings=settings, viewer=viewer)
    return answer.body, answer.media_type


@dataclass
class ProvSapAnswer:
    body: bytes
    media_type: str
    #: the answer was cut at MAXREC (DALI's QUERY_STATUS=OVERFLOW)
    overflow: bool = False


def provsap_answer(store: Store, query: ProvSapQuery, *, settings, viewer: Viewer = OPERATOR) -> ProvSapAnswer:
    """A ProvSAP answer in the RESPONSEFORMAT asked for, cut at MAXREC.

    PROV-JSON, the default, is joined from the PROV-JSON fragments the store keeps with each
    record when the viewer may read everything and no MAXREC cuts it, else written straight from
    the records (provhub.provdm.provjson): the same JSON prov would write, without building a prov model
    of a possibly large answer. The whole request keeps to PROVHUB_QUERY_TIMEOUT
    (:class:`Deadline`). ``MAXREC=0`` checks the IDs and walks nothing: the answer holds no
    records (DALI: "metadata, no results, and an overflow indicator")."""
    kind = query.kind
    with Budget(settings.query_timeout, LARGE if kind == "json" else HEAVY) as budget:
        start = _start(store, query, settings=settings, viewer=viewer, budget=budget)
        if kind == "json" and not start.restricted and query.maxrec is None:
            text = store.trace_provjson(start.query, native=query.model == "IVOA")  # in the model asked
            if text is not None:
                budget.check()
                return ProvSapAnswer(text.encode("utf-8"), query.media_type)
        if query.maxrec == 0:
            graph, namespaces, overflow = Graph(), {}, True
        else:
            graph, namespaces = _graph(store, start, settings=settings, viewer=viewer)
            overflow = False
            if query.maxrec is not None:
                # the service's own limit is PROVHUB_NODE_CAP (DALI: OVERFLOW when either cuts)
                graph, overflow = limit_records(graph, start.query.ids, min(query.maxrec, settings.node_cap))
                namespaces = used_namespaces(graph, namespaces)
        budget.check()
        body = _write_answer(graph, namespaces, query, overflow, settings, budget)
        return ProvSapAnswer(body, query.media_type, overflow)


def _write_answer(graph: Graph, namespaces: dict[str, str], query: ProvSapQuery, overflow: bool, settings, budget):
    """The answer's body. Answers through prov's model check the deadline while the model is built
    and before the MODEL=IVOA rewrite; prov's serialiser itself runs to its end once started."""
    kind = query.kind
    budget.reached(len(graph.nodes) + len(graph.relations))
    if kind == "json":
        return in_model(graph_to_provjson(graph, namespaces), query).encode("utf-8")
    if kind in formats.RDF_FORMATS and len(graph.nodes) + len(graph.relations) > RDF_ANSWER_RECORDS:
        raise AnswerTooLarge(
            f"a PROV-O answer is written of at most {RDF_ANSWER_RECORDS} records (this one has "
            f"{len(graph.nodes) + len(graph.relations)}; prov's RDF serializer takes about 1 ms a record): ask for "
            "a smaller DEPTH, or for PROV-JSON",
            where="RESPONSEFORMAT",
        )
    doc = to_document(graph, namespaces, tick=budget.check)
    if kind in formats.FORMATS:
        text = formats.serialize(doc, kind)
        budget.check()
        return in_model(text, query).encode("utf-8")
    table = registry.get(registry.TABLE, kind)
    if table is not None:  # PROV-VOTABLE
        return table.write(doc, overflow=overflow, runid=query.runid).encode("utf-8")
    return draw(
        doc,
        kind,
        settings=settings,
        deadline=budget,
        records=len(graph.nodes),
        direction=query.extra.get("LAYOUT", "BT"),
        highlight=set(query.ids),
    )


def in_model(text: str, query: ProvSapQuery) -> str:
    """A PROV-JSON, PROV-N or PROV-XML answer (in provhub's W3C mapping, what MODEL=W3C answers)
    in the MODEL asked for: MODEL=IVOA, the default, is the IVOA serialisation as voprov writes
    it (:func:`provhub.provdm.voprov.to_native`), as OPUS answers it; pictures and PROV-VOTABLE have one
    form for both."""
    return voprov.to_native(text, query.kind) if query.model == "IVOA" else text


def draw(doc: ProvDocument, fmt: str, *, settings, deadline: Deadline, records: int, **options) -> bytes:
    """A picture of ``doc`` (``records`` nodes), as ProvSAP and the lineage page draw them: at
    most PICTURE_FACTOR x PROVHUB_RENDER_NODE_CAP records (422 above), MAX_RENDERS at once (503
    busy above), Graphviz within the request's deadline (422 query-timeout past it). ``options``
    go to :func:`provhub.provdm.render.render`."""
    if records > settings.render_node_cap * PICTURE_FACTOR:
        raise AnswerTooLarge(
            f"a picture is drawn of at most {settings.render_node_cap * PICTURE_FACTOR} records (this answer has "
            f"{records}): ask for a smaller DEPTH, or for PROV-JSON",
            where="RESPONSEFORMAT",
        )
    if not _RENDERS.acquire(blocking=False):
        raise Busy(
            f"{MAX_RENDERS} pictures are being drawn already; try again in a few seconds", where="RESPONSEFORMAT"
        )
    try:
        timeout = deadline.remaining("the picture", where="RESPONSEFORMAT")
        return render(doc, fmt, node_cap=settings.render_node_cap, timeout=timeout, **options)
    except InvalidParameter as exc:
        raise InvalidParameter(exc.message, where="LAYOUT" if exc.where == "direction" else exc.where) from None
    finally:
        _RENDERS.release()


#: a picture is drawn of at most PROVHUB_RENDER_NODE_CAP x this many records (Graphviz ran 60 s
#: on a 40k-node chain); larger answers collapse above the render cap, and past this are a 422
PICTURE_FACTOR = 20
#: most records (nodes and relations) of a PROV-O answer (Turtle, JSON-LD): prov's RDF serializer
#: wrote 12,000 records in 6.2 s as Turtle and 10.4 s as JSON-LD (PROV-N: 0.2 s), and runs to its
#: end once started, so this keeps one answer within PROVHUB_QUERY_TIMEOUT's default (30 s)
RDF_ANSWER_RECORDS = 20_000
#: pictures drawn at once by one process (Graphviz is CPU and memory heavy); more answer 503
MAX_RENDERS = 2
_RENDERS = threading.BoundedSemaphore(MAX_RENDERS)
#: a request is heavy once its lineage reaches more than this many records (nodes, and relations
#: when the answer is written): it then needs a place in its kind's pool (:class:`Budget`)
HEAVY_RECORDS = 10_000
#: heavy answers written through prov's model (PROV-N, PROV-XML, PROV-VOTABLE, pictures: about
#: 10 kB of memory per record) at once per process. Eight PROV-XML answers of 99k records at once
#: peaked at 5.6 GB and ran 56-75 s; two at once, 2.7 GB and 50 s, because the threads of one
#: process share the interpreter lock, so a second answer through prov's model only slows the
#: first. More processes (docs/deployment.md) answer more at once
MAX_HEAVY = 1
HEAVY = Pool(MAX_HEAVY, "Answers of more than 10,000 records through prov's model", ", or ask for PROV-JSON")
#: heavy PROV-JSON answers at once per process (joined from stored fragments: a few hundred bytes
#: of memory per record)
MAX_LARGE = 4
LARGE = Pool(MAX_LARGE, "PROV-JSON answers of more than 10,000 records")


# -- search and records ------------------------------------------------------------------------


def search_records(
    store: Store,
    text: str = "",
    kind: str | None = None,
    *,
    viewer: Viewer = ANONYMOUS,
    limit: int = 50,
    offset: int = 0,
    level: str | None = None,
):
    """Records whose id or attributes contain ``text`` (and of data ``level``: ``DL0``..``DL6``
    or ``IRF``), that ``viewer`` may see.

    Matches, counts and order use only what the viewer may read: a record that a hidden document
    also describes matches only through what readable documents say of it (the store's search
    matches the merged record, so its candidates are checked here, all of them, before the page
    is cut; counting only the page shown let a guess be confirmed one character at a time), and
    has the level of what they say (the store keeps the merged record's)."""
    groups, day = viewer.visible_groups, today()
    if sees_everything(store, viewer):
        return store.search(text, kind, limit=limit, offset=offset, groups=groups, today=day, level=level)
    if not text and not level:  # no value to match: the store's count of readable records is exact
        nodes, total = store.search(text, kind, limit=limit, offset=offset, groups=groups, today=day)
        _, mixed = readable_ids(store.rights_of([n.id for n in nodes]), viewer)
        return as_readable(store, nodes, mixed, viewer, {}), total
    listed = _corrected(store, text, kind, viewer, limit, offset, level)  # not every match read
    if listed is not None:
        return listed
    candidates, _ = store.search(text, kind, limit=SEARCH_CANDIDATES, offset=0, groups=groups, today=day, level=level)
    if level:  # with a hidden document, a record can be of another level to this viewer
        seen = {n.id for n in candidates}
        partial, _ = store.search(text, kind, limit=SEARCH_CANDIDATES, groups=groups, today=day, partial=True)
        candidates = sorted(candidates + [n for n in partial if n.id not in seen], key=lambda n: n.id)
    _, mixed = readable_ids(store.rights_of([n.id for n in candidates]), viewer)
    kept = _still_matching(store, [n for n in candidates if n.id in mixed], viewer, text, level)
    listed = [kept.get(n.id) if n.id in mixed else n for n in candidates]
    found = [n for n in listed if n is not None]
    return found[offset : offset + limit], len(found)


#: most candidates a restricted search reads to count its matches exactly
SEARCH_CANDIDATES = 100_000


def _corrected(store: Store, text: str, kind, viewer: Viewer, limit: int, offset: int, level: str | None):
    """One page of the records matching ``text`` (and ``kind`` and data ``level``) that ``viewer``
    may read, and how many there are, without reading every match: the store lists and counts
    those a readable document asserts, by the merged record (its text, the level it keeps),
    which is what the viewer may read of every record no hidden document also asserts. Those
    that hidden documents also assert (at most :data:`LEVEL_RECHECK` of them that match; None
    past that: the caller reads every candidate) are read as the viewer may read them: those it
    does not match are taken out, and those that it makes of ``level`` from another put in
    (what readable documents say of a record is part of the merged record, so a record the
    merged one does not match never matches), in id order."""
    groups, day = viewer.visible_groups, today()
    partial, mixed_total = store.search(text, kind, limit=LEVEL_RECHECK, groups=groups, today=day, partial=True)
    if mixed_total > len(partial):
        return None
    listed_by_store = {n.id for n, lv in zip(partial, _levels(partial, level), strict=True) if lv == level}
    kept = _still_matching(store, partial, viewer, text, level)
    removed = listed_by_store - set(kept)
    added = [n for rid, n in kept.items() if rid not in listed_by_store]
    head, total = store.search(
        text, kind, limit=offset + limit + len(removed), offset=0, groups=groups, today=day, level=level
    )
    listed = sorted([kept.get(n.id, n) for n in head if n.id not in removed] + added, key=lambda n: n.id)
    return listed[offset : offset + limit], total - len(removed) + len(added)


def _as_read(store: Store, mixed: list, viewer: Viewer, views: dict | None = None) -> list:
    """Records that hidden documents also assert (``mixed``, as the store keeps them: merged from
    every document) as ``viewer`` may read them, in the same order (``views``: as for
    :func:`readable_nodes`)."""
    return as_readable(store, mixed, {n.id for n in mixed}, viewer, views)


def _levels(nodes: list, level: str | None) -> list[str | None]:
    """The data level of each record when a ``level`` is asked for (None for each, else)."""
    return node_levels(nodes) if level else [None] * len(nodes)


def _still_matching(store: Store, mixed: list, viewer: Viewer, text: str, level: str | None) -> dict:
    """Of the records that hidden documents also assert (``mixed``, as the store keeps them), those
    that still match ``text`` and are of data ``level`` as ``viewer`` may read them, by id, as read:
    the one rule by which a restricted search or listing corrects the store's."""
    shown = _as_read(store, mixed, viewer)
    return {
        n.id: n
        for n, lv in zip(shown, _levels(shown, level), strict=True)
        if lv == level and (not text or text_matches(text, n.id, n.attrs))
    }


def level_counts(store: Store, *, viewer: Viewer = ANONYMOUS, views: dict | None = None) -> tuple[dict[str, int], bool]:
    """How many records ``viewer`` may read there are of each data level (:data:`DATA_LEVELS`),
    counted by the store off the level it keeps of each record; and whether the counts are exact.
    A record that a hidden document also asserts counts under the level of what readable
    documents say of it, the first :data:`LEVEL_RECHECK` of them (past that, the counts are
    not exact and say so)."""
    groups, day = viewer.visible_groups, today()
    counts = {lv: store.search("", None, limit=0, groups=groups, today=day, level=lv)[1] for lv in DATA_LEVELS}
    if sees_everything(store, viewer):
        return counts, True
    partial, total = store.search("", None, limit=LEVEL_RECHECK, groups=groups, today=day, partial=True)
    for stored, shown in zip(node_levels(partial), node_levels(_as_read(store, partial, viewer, views)), strict=True):
        if stored != shown:
            if stored:
                counts[stored] -= 1
            if shown:
                counts[shown] += 1
    return counts, len(partial) >= total


#: most records that hidden documents also assert whose readable level is read for the counts
LEVEL_RECHECK = 2_000


@dataclass
class RecordDetail:
    node: object
    documents: list[str]
    #: the id's further assertions the viewer may read (another kind, other times: issue 17)
    also: list = field(default_factory=list)


def record_detail(store: Store, record_id: str, *, viewer: Viewer = ANONYMOUS) -> RecordDetail:
    found = store.get_nodes([canonical(store, record_id)])
    if not found:
        raise NotFound(f"no record with id {record_id!r}", where="id")
    node = found[0]
    rights = store.rights_of([node.id]).get(node.id, [])
    readable = [d.doc_id for d in rights if document_readable(viewer, d.rights, d.group, d.release)]
    if not readable:
        raise NotFound(f"no record with id {record_id!r}", where="id")
    if len(readable) < len(rights):
        node = as_readable(store, [node], {node.id}, viewer, {})[0]
    keys = store.repeats([node.id]).get(node.id, [])
    also = store.get_nodes(keys) if keys else []
    if also and not sees_everything(store, viewer):
        visible, mixed = readable_ids(store.rights_of(keys), viewer)
        also = as_readable(store, [n for n in also if n.id in visible], mixed, viewer, {})
    return RecordDetail(node, readable, also)


def record_prov(store: Store, record_id: str, *, settings, viewer: Viewer = ANONYMOUS, page_of=None) -> ProvDocument:
    """A record as linked data: the record, what it was made from and what was made from it one
    step back and one step forth, with their agents, as ``viewer`` sees them (a hidden record is
    NotFound, like an unknown one; hidden neighbours are as ProvSAP answers them). ``page_of(iri)``
    gives each record's page, added as its ``rdfs:seeAlso`` so a crawler can follow the ids."""
    detail = record_detail(store, record_id, viewer=viewer)
    nodes: dict = {}
    relations: dict = {}
    namespaces: dict[str, str] = {}
    for direction in ("BACK", "FORTH"):
        query = ProvSapQuery.from_args(
            {"ID": [detail.node.id], "DEPTH": "1", "DIRECTION": direction, "AGENT": "true"},
            max_depth=settings.max_depth,
        )
        graph, used = trace_graph(store, query, settings=settings, viewer=viewer)
        nodes.update((n.id, n) for n in graph.nodes)
        relations.update((r.id, r) for r in graph.relations)
        namespaces.update(used)
    doc = to_document(Graph(list(nodes.values()), list(relations.values())), namespaces)
    if page_of is not None:
        see_also = doc.add_namespace("rdfs", RDFS_URI)["seeAlso"]
        for record in doc.get_records():
            ident = record.identifier
            if record.is_element() and ident is not None and not ident.uri.startswith(HIDDEN_NS):
                # a qualified name, which prov's RDF writer makes an IRI (an xsd:anyURI would be a literal)
                page = page_of(ident.uri)
                base, _, local = page.rpartition("/")
                record.add_attributes([(see_also, doc.add_namespace("page", base + "/")[local])])
    return doc


RDFS_URI = "http://www.w3.org/2000/01/rdf-schema#"


# -- audit --------------------------------------------------------------------------------------


def audit_product(store, ids: list[str], *, settings, viewer=OPERATOR, raw_types=RAW_TYPES) -> AuditReport:
    """Trace ``ids`` back with DEPTH=ALL as ``viewer`` sees it, find which referenced records
    the store lacks, audit. Placeholders of records hidden from the viewer are not judged."""
    query = ProvSapQuery.from_args({"ID": list(ids), "DEPTH": "ALL", "DIRECTION": "BACK"}, max_depth=settings.max_depth)
    doc = trace(store, query, settings=settings, viewer=viewer)
    refs = {i for i in referenced_ids(doc) if not i.startswith(HIDDEN_NS)}
    found = {node.id for node in store.get_nodes(sorted(refs))}
    hidden = {i for i in read_facts(doc).elements if i.startswith(HIDDEN_NS)}
    namespaces = store.namespaces()
    roots = [canonical(store, i, namespaces) for i in ids]
    superseded, ambiguous = _lifecycle_findings(store, doc, roots, refs - found, viewer)
    return audit(
        doc,
        roots=roots,
        missing=refs - found,
        raw_types=raw_types,
        hidden=hidden,
        superseded=superseded,
        ambiguous=ambiguous,
    )


def _lifecycle_findings(store, doc, roots: list[str], missing: set[str], viewer: Viewer):
    """Inputs whose document was superseded after the product was made, and inputs known only
    by an ambiguous name (for :func:`provhub.provdm.audit.audit`)."""
    from provhub.provdm.identity import STANDIN_NS

    from . import identity

    records = sorted({r.identifier.uri for r in doc.get_records() if r.identifier is not None})
    rights = store.rights_of(records)
    readable = {
        d.doc_id for ds in rights.values() for d in ds if document_readable(viewer, d.rights, d.group, d.release)
    }
    made = [store.get_document(d.doc_id).created_at for r in roots for d in rights.get(r, [])]
    made_at = min(made) if made else None
    superseded = []
    for doc_id in sorted(readable):
        for h in store.history(doc_id):
            if (
                h.action == "supersedes"
                and h.doc_id == doc_id
                and made_at
                and h.at >= made_at
                and h.other in readable | {h.other}
            ):
                inputs = sorted(r for r, ds in rights.items() if r not in roots and any(d.doc_id == doc_id for d in ds))
                if inputs:
                    superseded.append((doc_id, h.other, h.at, inputs))
    ambiguous = {}
    for rid in sorted(i for i in set(records) | missing if i.startswith(STANDIN_NS)):
        candidates = identity.ambiguity(store, rid)
        if candidates:
            ambiguous[rid] = candidates
    return superseded, ambiguous
