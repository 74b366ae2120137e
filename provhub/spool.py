"""An on-disk spool of requests the service could not take yet (see docs/client.md).

One file per request in a directory, named by a sequence that sorts in the order they were
spooled. A file is written to a temporary name, flushed and fsynced, then renamed into place with
:func:`os.replace` (and the directory fsynced), so a crash leaves either a whole entry or none.
Readers skip the temporary names. A lock file serialises senders (``flush`` and ``provhub push``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".req"
_TMP = ".tmp-"
_counter = itertools.count()


@dataclass
class Entry:
    """One spooled request: POST ``path`` with ``params``, ``headers`` and ``body``."""

    file: Path
    path: str
    params: dict
    headers: dict
    body: bytes


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def put(self, path: str, params: dict, headers: dict, body: bytes) -> Path:
        """Write one entry atomically; return its file."""
        name = f"{time.time_ns():020d}-{os.getpid():07d}-{next(_counter):06d}{SUFFIX}"
        head = json.dumps({"path": path, "params": params, "headers": headers}).encode("utf-8")
        tmp = self.directory / (_TMP + name)
        with open(tmp, "wb") as fh:
            fh.write(head + b"\n" + body)
            fh.flush()
            os.fsync(fh.fileno())
        final = self.directory / name
        os.replace(tmp, final)
        _fsync_dir(self.directory)
        return final

    def entries(self) -> list[Path]:
        """The spooled entries, oldest first."""
        return sorted(p for p in self.directory.iterdir() if p.name.endswith(SUFFIX) and not p.name.startswith(_TMP))

    def __len__(self) -> int:
        return len(self.entries())

    def read(self, file: Path) -> Entry:
        raw = file.read_bytes()
        head, _, body = raw.partition(b"\n")
        meta = json.loads(head)
        return Entry(file, meta["path"], meta.get("params") or {}, meta.get("headers") or {}, body)

    def done(self, entry: Entry) -> None:
        """The service has the entry: remove it (a crash before this line re-sends it, which an
        idempotent post makes harmless)."""
        entry.file.unlink(missing_ok=True)
        _fsync_dir(self.directory)

    def reject(self, entry: Entry, error: str) -> Path:
        """Move an entry the service refused for good (400, 409, 413, 415, 422) to ``rejected/``,
        with the error next to it, so that it does not block those after it."""
        rejected = self.directory / "rejected"
        rejected.mkdir(exist_ok=True)
        target = rejected / entry.file.name
        (rejected / (entry.file.name + ".error")).write_text(error + "\n", encoding="utf-8")
        os.replace(entry.file, target)
        _fsync_dir(self.directory)
        return target

    @contextlib.contextmanager
    def locked(self):
        """Hold the spool's lock (one sender at a time, across processes)."""
        with open(self.directory / ".lock", "a+b") as fh:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - not POSIX: no cross-process lock
                yield
                return
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
