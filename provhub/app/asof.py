"""Point in time: ``AS_OF=<ISO time>``, the store as it knew things at that moment (docs/impact.md).

:func:`store_as_of` gives a store holding the documents that were live at ``T``: ingested at or
before ``T``, and not yet retracted or superseded then (a document retracted or superseded
later is there, as it was). It is built one of two ways, both into a new embedded store:

- an embedded store is copied (SQLite's online backup) and, in one rewrite, the documents
  ingested since are taken out (their joins undone) and those retracted or superseded since are
  put back as they asserted their records: the cost grows with what changed after ``T``, so
  "what did we know last week" stays cheap on a large store;
- otherwise (a Bolt store, or more records changed after ``T`` than live then) the live
  documents are replayed in the order they were ingested (the joins are made again as they were
  made then), with their rights. A replay reads every such document once: its cost grows with
  the store.

A built store is kept for the next question about the same moment while the store does not
change (:data:`KEEP` of them per process).

Not replayed: pins (an admin's decision for an ambiguous name) are applied as they are now, and
the replayed documents carry the time of the replay as their ingest time.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import hashlib
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from provhub.provdm.errors import InvalidParameter

from .services import Pool
from .stores.base import Store

#: built stores kept per process, by (store, moment, store version)
KEEP = 2
_BUILT: OrderedDict = OrderedDict()
_LOCK = threading.Lock()
_RETIRING = ("retracted", "superseded")


@atexit.register
def _forget() -> None:
    """Close and remove the replayed stores when the process ends."""
    with _LOCK:
        while _BUILT:
            _key, (built, directory) = _BUILT.popitem()
            built.close()
            shutil.rmtree(directory, ignore_errors=True)


def parse_as_of(text: str | None, where: str = "AS_OF") -> _dt.datetime | None:
    """An ISO date or time (naive: UTC); None when not given; InvalidParameter otherwise."""
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    try:
        value = _dt.datetime.fromisoformat(raw + ("T00:00:00" if len(raw) == 10 else ""))
    except ValueError:
        raise InvalidParameter(
            f"AS_OF must be an ISO date or time (2026-12-07T10:00:00Z), not {raw!r}", where=where
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _time(text: str) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)


def _all_documents(store: Store) -> list:
    _docs, total = store.list_documents(offset=0, limit=1, retired=True)
    return store.list_documents(offset=0, limit=max(total, 1), retired=True)[0]


def live_at(store: Store, moment: _dt.datetime) -> list:
    """The documents (summaries, in ingest order) live at ``moment``."""
    docs = _all_documents(store)
    retired: dict[str, _dt.datetime] = {}
    for h in store.history():
        if h.action in _RETIRING and h.doc_id:
            at = _time(h.at)
            retired[h.doc_id] = min(at, retired.get(h.doc_id, at))
    return [d for d in docs if _time(d.created_at) <= moment and not (d.id in retired and retired[d.id] <= moment)]


def store_as_of(store: Store, moment: _dt.datetime | None, settings) -> Store:
    """``store`` itself when ``moment`` is None, else the store as it was at ``moment``.

    Moments with the same live documents share one replay. A replay is heavy (it reads every
    live document): one process runs at most one at a time (another is 503 busy with
    Retry-After, never a wait) and it keeps to PROVHUB_QUERY_TIMEOUT (422 query-timeout, and
    the half-built store is thrown away)."""
    if moment is None:
        return store
    live = live_at(store, moment)
    key = (id(store), store.version(), hashlib.sha256("\n".join(d.id for d in live).encode()).hexdigest())
    with _LOCK:
        if key in _BUILT:
            _BUILT.move_to_end(key)
            return _BUILT[key][0]
    REPLAYS.take()
    try:
        changes = _changes(store, live)
        if changes is not None:
            built, directory = _copy_without(store, *changes, settings)
        else:
            built, directory = _build(store, live, settings)
    finally:
        REPLAYS.give()
    with _LOCK:
        _BUILT[key] = (built, directory)
        while len(_BUILT) > KEEP:
            _key, (old, old_dir) = _BUILT.popitem(last=False)
            old.close()
            shutil.rmtree(old_dir, ignore_errors=True)
    return built


def _changes(store: Store, live: list) -> tuple[list, list] | None:
    """What to change in a copy of an embedded ``store`` to have it as it was when ``live`` were
    its live documents: the documents live now that were not then (to take out), and those live
    then that were retracted or superseded since (to put back). None when the store is not an
    embedded file, or when the change would touch more records than replaying ``live``."""
    if not str(getattr(store, "url", "")).startswith("sqlite:") or not hasattr(store, "path"):
        return None
    then = {d.id for d in live}
    later = [d for d in _all_documents(store) if d.status == "live" and d.id not in then]
    revive = [d for d in live if d.status != "live"]
    if sum(d.records for d in later) + sum(d.records for d in revive) > sum(d.records for d in live):
        return None
    return later, revive


def _copy_without(store: Store, later: list, revive: list, settings):
    """An embedded store as of a moment: a copy of ``store`` (SQLite's online backup, a
    consistent snapshot while others write), with, in one rewrite, the documents ingested since
    retracted and the documents retracted or superseded since live again, so that the records
    they touch are rebuilt from the documents live then and the joins are those of then
    (:func:`provhub.app.identity._rewrite`; joins are resolved from every claim at once, so the
    order documents came in does not change them). Its cost grows with what changed later, not
    with the store; the moment's documents keep their ingest times."""
    import sqlite3
    from dataclasses import replace

    from . import identity, services
    from .stores import open_store

    deadline = services.Deadline(settings.query_timeout)
    directory = Path(tempfile.mkdtemp(prefix="provhub-asof-"))
    target = directory / "asof.db"
    try:
        source = sqlite3.connect(store.path)  # type: ignore[attr-defined]
        try:
            copy = sqlite3.connect(target)
            with copy:
                source.backup(copy)
            copy.close()
        finally:
            source.close()
        deadline.check("the store as of AS_OF", where="AS_OF")
        url = f"sqlite:///{target}"
        built = open_store(url, replace(settings, store_url=url))
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    try:
        if later or revive:
            identity._rewrite(built, retire={d.id: ("retracted", None) for d in later}, revive=[d.id for d in revive])
        deadline.check("the store as of AS_OF", where="AS_OF")
    except BaseException:
        built.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return built, directory


def _build(store: Store, live: list, settings):
    from dataclasses import replace

    from . import identity, services
    from .stores import open_store

    deadline = services.Deadline(settings.query_timeout)
    directory = Path(tempfile.mkdtemp(prefix="provhub-asof-"))
    url = f"sqlite:///{directory / 'asof.db'}"
    built = open_store(url, replace(settings, store_url=url))
    try:
        for summary in live:
            deadline.check("the store as of AS_OF", where="AS_OF")
            stored = store.get_document(summary.id)
            prepared, _warnings = services.prepare(
                stored.provjson,
                "json",
                settings=settings,
                validation="off",
                rights=stored.rights,
                group=stored.group,
                release=stored.release,
            )
            prepared.poster = stored.poster
            identity.put(built, prepared, actor="as-of replay")
    except BaseException:
        built.close()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return built, directory


#: replays at once per process (see :func:`store_as_of`)
REPLAYS = Pool(1, "Replays of the store as of a moment", ", or ask without AS_OF", where="AS_OF")
