"""Record one activity while it runs, as IVOA ProvDM, and post it (docs/client.md).

>>> from provhub import capture
>>> with capture.activity("dl3-production", description="DL2 to DL3", client=c) as act:  # doctest: +SKIP
...     act.used("run_023523.dl2.h5", role="events")
...     act.parameter("energy_min", 0.1, unit="TeV")
...     act.generated("run_023523.dl3.fits")

Files get the ids provhub's importers mint (:mod:`provhub.importers.ids`): a FITS file its header
digest (or its CTA product id, or DATAMD5), as ``import-fits`` does, so the captured file and the
imported one are one record; any other file its content digest. The activity records its start
and end, host, user, Python, the versions of the software named (from
:mod:`importlib.metadata`), config files with their digests, an ActivityDescription and one
Parameter per parameter. On exit it is posted through the client (retries and spool); when the
block raises, it is posted too, with ``provhub:status`` failed and the error, and the exception
goes on.
"""

from __future__ import annotations

import datetime as _dt
import functools
import getpass
import hashlib
import importlib.metadata
import os
import platform
import socket
import uuid
from pathlib import Path

from prov.identifier import Namespace
from prov.model import PROV

from provhub.importers import ids
from provhub.importers.base import DocBuilder, Warnings, literal
from provhub.provdm.vocabulary import PROVHUB, VOPROV

#: one id per captured run
RUN = Namespace("phrun", ids.BASE + "run/")
FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fz", ".fits.fz")


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _is_fits(path: Path) -> bool:
    if path.name.lower().endswith(FITS_SUFFIXES):
        return True
    with open(path, "rb") as fh:
        return fh.read(9) == b"SIMPLE  ="


def file_entity(b: DocBuilder, path, kind: str | None = None):
    """The entity of a file, with the id an importer gives it."""
    p = Path(path)
    label, location = p.name, ids.local_path(path)
    if _is_fits(p):
        from provhub.importers.fitsfile import read_fits

        ff = read_fits(str(path), Warnings())
        if ff is not None:
            return b.entity(
                ff.identity(),
                [
                    (PROV["type"], VOPROV["DatasetEntity"]),
                    (PROV["type"], PROVHUB["FitsFile"]),
                    (PROV["label"], label),
                    (PROV["location"], location),
                    (VOPROV["contentType"], "application/fits"),
                    (PROVHUB["headerSha256"], ff.digest),
                ],
            )
    attrs = [(PROV["label"], label), (PROV["location"], location)]
    if kind:
        attrs.insert(0, (PROV["type"], VOPROV[kind]))
    return b.entity(ids.file_by_bytes(ids.file_digest(path)), attrs)


def version_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


class Activity:
    """One running activity; made by :func:`activity`."""

    def __init__(self, name, *, description=None, client=None, software=(), rights=None, group=None, post=True):
        self.name, self.description = name, description
        self.client, self.rights, self.group, self.post_on_exit = client, rights, group, post
        self.id = RUN[ids.part(name) + "/" + uuid.uuid4().hex]
        self.software = ["provhub", *software]
        self.start: _dt.datetime | None = None
        self.end: _dt.datetime | None = None
        self.status = "running"
        self.error: str | None = None
        self.result = None  # the client's PostResult, after exit
        self._used: list[tuple] = []
        self._generated: list[tuple] = []
        self._params: list[tuple] = []
        self._configs: list = []
        self.attributes: dict[str, object] = {}
        self._failure: str | None = None

    def used(self, path, role: str | None = None):
        self._used.append((path, role))
        return self

    def generated(self, path, role: str | None = None):
        self._generated.append((path, role))
        return self

    def parameter(self, name: str, value, unit: str | None = None, ucd: str | None = None):
        self._params.append((name, value, unit, ucd))
        return self

    def config(self, path):
        """A config file of the run, recorded with its digest (voprov:ConfigFile)."""
        self._configs.append(path)
        return self

    def fail(self, reason: str):
        """Mark the activity failed without an exception (a command's exit code)."""
        self._failure = reason
        return self

    def __enter__(self):
        self.start = _now()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.end = _now()
        if exc is None and self._failure:
            self.status, self.error = "failed", self._failure
        elif exc is None:
            self.status = "succeeded"
        else:
            self.status, self.error = "failed", f"{exc_type.__name__}: {exc}"[:2000]
        if self.post_on_exit and self.client is not None:
            self.result = self.client.post(self.document(), rights=self.rights, group=self.group)
        return False  # an exception goes on

    def document(self):
        """The activity as a ProvDocument (IVOA ProvDM in W3C PROV)."""
        b = DocBuilder()
        act = b.activity(
            self.id,
            [
                (PROV["label"], self.name),
                (VOPROV["name"], self.name),
                (PROVHUB["status"], self.status),
                (PROVHUB["error"], self.error),
                (PROVHUB["host"], socket.gethostname()),
                (PROVHUB["python"], platform.python_version()),
                (PROVHUB["platform"], platform.platform()),
                *((PROVHUB[k], literal(v)) for k, v in self.attributes.items()),
            ],
            start=self.start,
            end=self.end,
        )
        # a description changed in the code is another ActivityDescription, never a conflict
        tail = "/" + hashlib.sha256(self.description.encode()).hexdigest()[:12] if self.description else ""
        desc = b.entity(
            ids.DESCRIPTION["capture/" + ids.part(self.name) + tail],
            [
                (PROV["type"], VOPROV["ActivityDescription"]),
                (PROV["label"], self.name),
                (VOPROV["name"], self.name),
                (VOPROV["description"], self.description),
            ],
        )
        b.described_by(act, desc)
        user = b.agent(ids.person(_user()), [(PROV["type"], PROV["Person"]), (PROV["label"], _user())])
        b.relation("wasAssociatedWith", act, user, None, attrs=[(PROV["role"], "user")])
        for name in dict.fromkeys(self.software):
            version = version_of(name)
            agent = b.software(ids.software(name, version), name, version)
            b.relation("wasAssociatedWith", act, agent, None, attrs=[(PROV["role"], "software")])
        for path in self._configs:
            cfg = file_entity(b, path, "ConfigFile")
            b.configured_by(act, cfg, "ConfigFile")
        for name, value, unit, ucd in self._params:
            qn = ids.sub(act, "param", name)
            b.parameter(qn, act, name, value)
            b.add_attributes(qn, [(VOPROV["unit"], unit), (VOPROV["ucd"], ucd)])
        for path, role in self._used:
            b.relation("used", act, file_entity(b, path), None, attrs=[(PROV["role"], role)])
        for path, role in self._generated:
            out = file_entity(b, path)
            b.relation("wasGeneratedBy", out, act, None, attrs=[(PROV["role"], role)])
        return b.build()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER") or "unknown"


def activity(name: str, **options) -> Activity:
    """A context manager recording one activity (see :class:`Activity` for the options)."""
    return Activity(name, **options)


def recorded(name: str | None = None, **options):
    """A decorator: each call of the function is one activity; the function may take an
    ``act`` keyword argument to record what it uses and generates."""

    def wrap(fn):
        import inspect

        takes_act = "act" in inspect.signature(fn).parameters

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with activity(name or fn.__qualname__, **options) as act:
                if takes_act:
                    kwargs["act"] = act
                return fn(*args, **kwargs)

        return run

    return wrap
