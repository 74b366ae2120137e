"""Identity resolution and the document lifecycle, over any store.

The store keeps records in canonical form (:mod:`provhub.provdm.identity`): a stand-in that has joined
its real record is not stored, relations name the real record. The canonical form is a function
of the live documents alone, so it is the same whatever order they came in:

- :func:`put` stores a new document. Its weak records join what the store already knows; when
  it brings the real record for stand-ins other documents made (or makes a name ambiguous),
  the records of those documents are rebuilt from their stored text, in the same transaction.
- :func:`retract` and :func:`supersede` take a document out (and put its corrected version in):
  every record it asserted is rebuilt from the documents that still assert it, and the joins
  its aliases made go with it.
- :func:`resolve` answers "what is this name?": the canonical id, its aliases, or the
  candidates of an ambiguous name.

Rebuilding is planned from a snapshot and written by ``store.rewrite`` only if the store has not
changed since (``StoreBusy`` otherwise, and it is planned again).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from provhub.provdm import formats, jsonreader
from provhub.provdm.codec import records_and_hash
from provhub.provdm.errors import AmbiguousId, Forbidden, InvalidParameter, NotFound, StoreBusy
from provhub.provdm.identity import (
    PIN,
    STRONG,
    WEAK,
    Ambiguity,
    Canon,
    Claim,
    canonicalize,
    claims_of,
    merge_versions,
    normalize_key,
    resolve as resolve_claims,
)

from .access import OPERATOR, Viewer, document_readable, may_manage
from .stores.base import HistoryEntry, PreparedDocument, PutResult, Rewrite, Store, utcnow_iso

PLAN_ATTEMPTS = 20
#: numbered warnings of identity resolution (docs/model.md, "Identity and joins")
AMBIGUOUS = "I01"


@dataclass
class Outcome:
    result: PutResult
    warnings: list[str] = field(default_factory=list)


def ambiguity_warning(a: Ambiguity) -> str:
    return (
        f"{AMBIGUOUS} {a.record_id}: the name {a.key!r} belongs to {len(a.candidates)} records "
        f"({', '.join(a.candidates)}); not joined (resolve it with `provhub resolve --pin`)"
    )


def _with_doc(claims, doc_id: str) -> list[Claim]:
    return [Claim(c.key, c.record_id, c.strength, doc_id) for c in claims]


def _keys(claims) -> set[str]:
    return {c.key for c in claims} | {"id:" + c.record_id for c in claims if c.strength in WEAK}


# -- put ---------------------------------------------------------------------------------------


def put(
    store: Store, prepared: PreparedDocument, *, supersedes: str | None = None, actor: str | None = None
) -> Outcome:
    """Store ``prepared`` (as ``services.prepare`` made it) with its joins applied."""
    if supersedes is None and store.has_document(prepared.id):  # posted again: nothing to do
        return Outcome(PutResult(prepared.id, prepared.records, False))
    own = _with_doc(claims_of(prepared.nodes), prepared.id)
    prepared.aliases = own
    raw = (prepared.nodes, prepared.relations)
    own_weak = {c.record_id for c in own if c.strength in WEAK}
    for _attempt in range(PLAN_ATTEMPTS):
        stored = store.find_aliases(keys=sorted(_keys(own)), distinct=True) if own else []
        strong_keys = {c.key for c in own if c.strength == STRONG}
        # a stand-in of another document that this one brings the real record of
        others_weak = any(c.strength in WEAK and c.key in strong_keys and c.record_id not in own_weak for c in stored)
        if supersedes is None and not others_weak:
            mine = {c.record_id for c in own}
            others_strong = any(c.strength in (STRONG, PIN) and c.record_id not in mine for c in stored)
            weak_keys = {c.key for c in own if c.strength in WEAK}
            if not others_strong and not (weak_keys & strong_keys):
                result = store.put_document(prepared)  # nothing to join, nothing waiting
                if result.created and strong_keys and stored:
                    _reconcile(store, own)
                return Outcome(result)
            joins, ambiguous, strength = resolve_claims(stored + own)
            canon = Canon({w: t for w, t in joins.items() if w in mine}, strength)
            prepared.nodes, prepared.relations = _canonical(store, *raw, canon)
            result = store.put_document(prepared)
            if result.created and own:
                _reconcile(store, own)
            return Outcome(result, [ambiguity_warning(a) for a in ambiguous if a.record_id in mine])
        version = store.version()  # read before the plan reads the store again
        retire, history = {}, []
        if supersedes is not None:
            retire[supersedes] = ("superseded", prepared.id)
            now = utcnow_iso()
            history = [
                HistoryEntry(supersedes, "superseded", actor, now, prepared.id),
                HistoryEntry(prepared.id, "supersedes", actor, now, supersedes),
            ]
        plan, ambiguous = _plan(store, version, new=(prepared, raw), retire=retire, history=history)
        try:
            created = store.rewrite(plan)
        except StoreBusy:
            time.sleep(0.01)
            continue
        return Outcome(
            PutResult(prepared.id, prepared.records, created),
            [ambiguity_warning(a) for a in ambiguous if a.record_id in {c.record_id for c in own}],
        )
    raise StoreBusy("the store kept changing while this document was joined; try again")


def _reconcile(store: Store, own: list[Claim]) -> None:
    """After a write that needed no rebuild: a concurrent write may have brought the other half
    of a join (a stand-in while this one brought its real record, or the reverse). Whichever of
    the two finishes second sees both and rebuilds the stand-in's documents."""
    claims = store.find_aliases(keys=sorted(_keys(own)), distinct=True)
    strong = {c.key for c in claims if c.strength == STRONG}
    weak = [c for c in claims if c.strength in WEAK and c.key in strong]
    if not weak:
        return
    joins, _, _ = resolve_claims(claims)
    waiting = sorted({c.record_id for c in weak if c.record_id in joins})
    waiting = [n.id for n in store.get_nodes(waiting)] if waiting else []
    if waiting:
        docs = {c.doc_id for c in store.find_aliases(record_ids=waiting) if c.doc_id}
        _rewrite(store, extra_docs=sorted(docs))


def _canonical(store: Store, nodes, relations, canon: Canon):
    if not canon:
        return nodes, relations
    targets = sorted(
        {canon.map_id(n.id) for n in nodes if canon.map_id(n.id) != n.id}
        | {canon.map_id(e) for r in relations for e in (r.src, r.dst) if e and canon.map_id(e) != e}
    )
    found = store.get_nodes(targets)
    return canonicalize(nodes, relations, canon, declared={n.id for n in found}, qns={n.id: n.qn for n in found})


# -- rebuild -----------------------------------------------------------------------------------


def _raw(store: Store, doc_id: str, settings=None):
    """A stored document's records as it asserted them (before joins) and its claims."""
    stored = store.get_document(doc_id)
    text = stored.provjson
    data = json.loads(text)
    plain = jsonreader.read(data, text)
    if plain is not None:
        nodes, relations = plain[0], plain[1]
    else:
        doc, _ = formats.parse(text, "json")
        nodes, relations, _ = records_and_hash(doc)
    return nodes, relations, _with_doc(claims_of(nodes), doc_id)


def document_view(store: Store, doc_id: str) -> dict:
    """{record id: record} of what one document says, in the form the store keeps (its stand-ins
    joined as they are now): what a reader of that document alone may see of shared records."""
    nodes, relations, claims = _raw(store, doc_id)
    if claims:
        stored = store.find_aliases(keys=sorted(_keys(claims)), distinct=True)
        joins, _, strength = resolve_claims(stored + claims)
        canon = Canon(joins, strength)
        nodes, relations = canonicalize(nodes, relations, canon, declared=set(canon.joins.values()))
    return {r.id: r for r in [*nodes, *relations]}


def _plan(
    store: Store, version, *, new=None, retire=None, history=None, extra_docs=(), revive=()
) -> tuple[Rewrite, list]:
    """The rewrite that rebuilds every record touched by ``new`` (a prepared document and its raw
    records), the ``retire``d documents ({doc id: (status, superseded_by)}), ``extra_docs`` and
    the retired documents to ``revive`` (live again, with their records as they asserted them:
    :mod:`provhub.app.asof` on a copy of the store)."""
    retire = retire or {}
    extra_docs = sorted(set(extra_docs) | set(revive))
    raws: dict[str, tuple] = {}
    new_doc, new_raw = new if new else (None, None)
    gone = set(retire)
    own = list(new_doc.aliases) if new_doc else []
    old_claims = store.find_aliases(doc_ids=sorted(gone | set(extra_docs))) if gone or extra_docs else []
    keys = _keys(own) | _keys(old_claims)
    stored = store.find_aliases(keys=sorted(keys)) if keys else []
    involved = {c.doc_id for c in stored if c.doc_id and c.doc_id not in gone} | set(extra_docs)
    involved.discard(new_doc.id if new_doc else None)
    for doc_id in sorted(involved):
        raws[doc_id] = _raw(store, doc_id)
    mine = [c for raw in raws.values() for c in raw[2]] + own
    # every claim on a name the rebuilt documents use, not only on those of the change: a stand-in
    # of an involved document may have joined a record through a name the change does not touch
    more = sorted(_keys(mine) - keys)
    stored += store.find_aliases(keys=more) if more else []
    claims = [c for c in set(stored) if c.doc_id not in gone and c.doc_id not in involved] + mine
    joins, ambiguous, strength = resolve_claims(claims)
    canon = Canon(joins, strength)

    old = store.document_records(sorted(involved | gone))
    first = {d: canonicalize(r[0], r[1], canon) for d, r in raws.items()}
    if new_doc:
        first[new_doc.id] = canonicalize(new_raw[0], new_raw[1], canon)
    touched = {rid for ids in old.values() for rid in ids}
    touched |= {rec.id for nodes, rels in first.values() for rec in list(nodes) + list(rels)}
    asserting = {rid: [d.doc_id for d in ds] for rid, ds in store.rights_of(sorted(touched)).items()}
    outside = {d for ds in asserting.values() for d in ds} - involved - gone - {new_doc.id if new_doc else None}
    for doc_id in sorted(outside):
        raws[doc_id] = _raw(store, doc_id)

    rewritten_docs = set(involved) | ({new_doc.id} if new_doc else set())
    declared = {n.id for nodes, _ in first.values() for n in nodes}
    targets = sorted(set(canon.joins.values()) - declared)
    declared |= {n.id for n in store.get_nodes(targets)} if targets else set()
    for doc_id in sorted(outside):
        first[doc_id] = canonicalize(raws[doc_id][0], raws[doc_id][1], canon)
    asserted = {(r.type, r.src, r.dst) for _, rels in first.values() for r in rels if len(r.attrs) > 2}
    canonical: dict[str, tuple] = {}
    for doc_id, r in raws.items():
        canonical[doc_id] = canonicalize(r[0], r[1], canon, declared=declared, asserted=asserted)
    if new_doc:
        canonical[new_doc.id] = canonicalize(new_raw[0], new_raw[1], canon, declared=declared, asserted=asserted)
    touched |= {rec.id for d in rewritten_docs for rec in list(canonical[d][0]) + list(canonical[d][1])}

    versions: dict[str, list] = {}
    by_doc = {d: ({n.id: n for n in nodes}, {x.id: x for x in rels}) for d, (nodes, rels) in canonical.items()}
    for rid in touched:
        docs = [d for d in asserting.get(rid, []) if d not in gone]
        docs += [d for d in by_doc if d not in docs and (rid in by_doc[d][0] or rid in by_doc[d][1])]
        if new_doc and new_doc.id in docs:
            docs = [d for d in docs if d != new_doc.id] + [new_doc.id]
        for d in docs:
            if d in by_doc:
                rec = by_doc[d][0].get(rid) or by_doc[d][1].get(rid)
                if rec is not None:
                    versions.setdefault(rid, []).append(rec)
    nodes, relations, delete = [], [], []
    for rid in sorted(touched):
        vs = versions.get(rid)
        if not vs:
            delete.append(rid)
        elif hasattr(vs[0], "kind"):
            nodes.append(merge_versions(vs, "node"))
        else:
            relations.append(merge_versions(vs, "relation"))
    assertions = [(rec.id, d) for d in rewritten_docs for rec in [*canonical[d][0], *canonical[d][1]]]
    aliases = [c for d in involved for c in raws[d][2]] + own
    if new_doc:
        new_doc.nodes, new_doc.relations = canonical[new_doc.id]
    plan = Rewrite(
        version=version,
        docs=sorted(rewritten_docs | gone),
        assertions=assertions,
        aliases=aliases,
        delete=delete,
        nodes=nodes,
        relations=relations,
        document=new_doc,
        status={**retire, **{d: ("live", None) for d in revive}},
        history=list(history or []),
    )
    return plan, ambiguous


def _rewrite(store: Store, **kwargs) -> Rewrite:
    for _attempt in range(PLAN_ATTEMPTS):
        plan, _ = _plan(store, store.version(), **kwargs)
        try:
            store.rewrite(plan)
            return plan
        except StoreBusy:
            time.sleep(0.01)
    raise StoreBusy("the store kept changing while the records were rebuilt; try again")


# -- lifecycle ---------------------------------------------------------------------------------


def may_change(store: Store, doc_id: str, viewer: Viewer):
    """The live document ``doc_id`` if ``viewer`` may retract or supersede it
    (:func:`provhub.app.access.may_manage`: an admin, a writer of its owner group, or of a document
    without one its poster). A document the viewer cannot read is not found."""
    stored = store.get_document(doc_id)
    if not document_readable(viewer, stored.rights, stored.group, stored.release):
        raise NotFound(f"no document with id {doc_id!r}", where="id")
    if not may_manage(viewer, stored.group, stored.poster):
        raise Forbidden(
            "only an admin, a writer of the owner group or, of a document without one, its poster may retract "
            "or supersede this document",
            where="id",
        )
    if stored.status != "live":
        raise InvalidParameter(
            f"document {doc_id} is already {stored.status}"
            + (f" by {stored.superseded_by}" if stored.superseded_by else ""),
            where="id",
        )
    return stored


def retract(store: Store, doc_id: str, *, viewer: Viewer = OPERATOR) -> dict:
    """Take a document out: its records leave lineage and search unless other documents assert them."""
    may_change(store, doc_id, viewer)
    entry = HistoryEntry(doc_id, "retracted", viewer.name, utcnow_iso())
    plan = _rewrite(store, retire={doc_id: ("retracted", None)}, history=[entry])
    return {
        "id": doc_id,
        "status": "retracted",
        "at": entry.at,
        "by": entry.actor,
        "records_removed": len(plan.delete),
        "records_rebuilt": len(plan.nodes) + len(plan.relations),
    }


def supersede(store: Store, old_id: str, prepared: PreparedDocument, *, viewer: Viewer = OPERATOR) -> Outcome:
    may_change(store, old_id, viewer)
    if prepared.id == old_id:
        raise InvalidParameter("a document cannot supersede itself (the new text is the same)", where="supersedes")
    return put(store, prepared, supersedes=old_id, actor=viewer.name)


def restore(store: Store, doc_id: str, status: str, superseded_by: str | None, entries: list[dict]) -> None:
    """``import-export``: a document is again what the export says it was (retracted or
    superseded), with the history the export kept."""
    if store.get_document(doc_id).status == status:
        return
    history = [HistoryEntry(doc_id, e["action"], e.get("by"), e["at"], e.get("other")) for e in entries]
    _rewrite(store, retire={doc_id: (status, superseded_by)}, history=history)


def history(store: Store, doc_id: str, *, viewer: Viewer = OPERATOR) -> dict:
    stored = store.get_document(doc_id)
    if not document_readable(viewer, stored.rights, stored.group, stored.release):
        raise NotFound(f"no document with id {doc_id!r}", where="id")
    entries = [h for h in store.history(doc_id) if _entry_visible(store, h, viewer)]
    return {
        "id": doc_id,
        "status": stored.status,
        "superseded_by": stored.superseded_by,
        "created_at": stored.created_at,
        "history": [
            {"action": h.action, "doc": h.doc_id, "by": h.actor, "at": h.at, "other": h.other} for h in entries
        ],
    }


def _entry_visible(store: Store, entry: HistoryEntry, viewer: Viewer) -> bool:
    for doc_id in (entry.doc_id, entry.other):
        if doc_id:
            try:
                d = store.get_document(doc_id)
            except NotFound:
                return False
            if not document_readable(viewer, d.rights, d.group, d.release):
                return False
    return True


# -- resolution --------------------------------------------------------------------------------


def _prefixes(rid: str) -> list[str]:
    out, cut = [rid], len(rid)
    while (cut := rid.rfind("/", 0, cut)) > len("https://"):
        out.append(rid[:cut])
    return out


def canonical_id(store: Store, ident: str) -> tuple[str | None, list[Claim]]:
    """The stored record ``ident`` names (an id, a joined stand-in's id, or an alias) and the
    claims behind the answer; AmbiguousId when it names several records."""
    if store.get_nodes([ident]):
        return ident, store.find_aliases(record_ids=[ident])
    weak = [c for c in store.find_aliases(record_ids=_prefixes(ident)) if c.strength in WEAK]
    if weak:
        root = max({c.record_id for c in weak}, key=len)
        claims = store.find_aliases(keys=sorted(_keys([c for c in weak if c.record_id == root])))
        joins, ambiguous, strength = resolve_claims(claims + weak)
        mapped = Canon(joins, strength).map(ident)
        if mapped != ident and store.get_nodes([mapped]):
            return mapped, [c for c in claims if c.record_id == joins.get(root)]
        for a in ambiguous:
            if a.record_id == root:
                _ambiguous(ident, a.candidates)
    claims = store.find_aliases(keys=normalize_key(ident))
    pinned = sorted({c.record_id for c in claims if c.strength == PIN})
    found = pinned or sorted({c.record_id for c in claims if c.strength == STRONG})
    found = [f for f in found if store.get_nodes([f])]
    if len(found) > 1:
        _ambiguous(ident, found)
    return (found[0], claims) if found else (None, claims)


def ambiguity(store: Store, rid: str) -> list[str]:
    """The candidates of a weak record left unjoined because its name is ambiguous (else [])."""
    weak = [c for c in store.find_aliases(record_ids=[rid]) if c.strength in WEAK]
    if not weak:
        return []
    _, ambiguous, _ = resolve_claims(store.find_aliases(keys=sorted(_keys(weak))) + weak)
    return next((list(a.candidates) for a in ambiguous if a.record_id == rid), [])


def _ambiguous(ident: str, candidates) -> None:
    raise AmbiguousId(
        f"{ident!r} names {len(candidates)} records: {', '.join(candidates)}",
        where="ID",
        details=[{"candidate": c} for c in candidates],
    )


def describe(store: Store, ident: str) -> dict:
    """``/resolve``: the canonical id of ``ident`` and every name it is known by."""
    rid, _ = canonical_id(store, ident)
    if rid is None:
        raise NotFound(f"no record known by {ident!r}", where="ID")
    mine = store.find_aliases(record_ids=[rid])
    keys = sorted({c.key for c in mine})
    weak = [c for c in store.find_aliases(keys=keys) if c.strength in WEAK]
    joins, _, _ = resolve_claims(mine + weak + store.find_aliases(keys=sorted(_keys(weak))))
    joined = sorted(w for w, t in joins.items() if t == rid)
    return {"id": rid, "aliases": keys, "joined": joined}


def pin(store: Store, key: str, record_id: str, *, viewer: Viewer = OPERATOR, remove: bool = False) -> dict:
    """An operator's decision for an ambiguous name: ``key`` (or ``id:<stand-in id>``) means
    ``record_id``. Admins only (owners pin through a document's ``provhub:alias``)."""
    if not viewer.is_admin:
        raise Forbidden("only an admin may pin a name to a record", where="pin")
    if not remove and not store.get_nodes([record_id]):
        raise NotFound(f"no record with id {record_id!r}", where="to")
    claim = Claim(key, record_id, PIN, "")
    entry = HistoryEntry("", "unpin" if remove else "pin", viewer.name, utcnow_iso(), f"{key} -> {record_id}")
    weak_docs = {c.doc_id for c in store.find_aliases(keys=[key]) if c.strength in WEAK and c.doc_id}
    if key.startswith("id:"):
        weak_docs |= {c.doc_id for c in store.find_aliases(record_ids=[key[3:]]) if c.doc_id}
    for _attempt in range(PLAN_ATTEMPTS):
        pins = [c for c in store.find_aliases(doc_ids=[""]) if c.strength == PIN]
        pins = [c for c in pins if c != claim] + ([] if remove else [claim])
        plan, _ = _plan(_PinnedView(store, pins), store.version(), extra_docs=sorted(weak_docs), history=[entry])
        plan.docs = sorted(set(plan.docs) | {""})
        plan.aliases = [c for c in plan.aliases if c.strength != PIN] + pins
        try:
            store.rewrite(plan)
            return {"key": key, "to": record_id, "pinned": not remove}
        except StoreBusy:
            time.sleep(0.01)
    raise StoreBusy("the store kept changing; try again")


class _PinnedView:
    """The store as the planner reads it, with the pins as they will be after the rewrite."""

    def __init__(self, inner: Store, pins: list[Claim]):
        self._inner, self._pins = inner, pins

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def find_aliases(self, keys=(), record_ids=(), doc_ids=()):
        found = [c for c in self._inner.find_aliases(keys, record_ids, doc_ids) if c.strength != PIN]
        keys, record_ids = set(keys), set(record_ids)
        return found + [c for c in self._pins if c.key in keys or c.record_id in record_ids or "" in doc_ids]
