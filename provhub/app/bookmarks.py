"""Read your own writes on a Neo4j cluster: the ``Provhub-Bookmark`` header (docs/deployment.md).

After a request that wrote, the answer carries the Neo4j driver's bookmark of that write in
``Provhub-Bookmark``. A client that sends it back on its next request (through any worker) makes
that request's store sessions wait until the cluster member serving them has that write. The
header is only meaningful on the Neo4j store; the embedded store ignores it.

The store reads :func:`given` when it opens a session and tells :func:`note` the session's
bookmarks when it ends (provhub/app/stores/neo4j.py); the app sets and reads the two per request.
"""

from __future__ import annotations

import re
from contextvars import ContextVar

from provhub.provdm.errors import InvalidParameter

HEADER = "Provhub-Bookmark"
_MAX_VALUES = 16
_VALUE = re.compile(r"^[\x21-\x2b\x2d-\x7e]{1,1024}$")  # printable ASCII but comma
#: what :func:`parse` takes, for the OpenAPI document: up to 16 values, comma-separated, with
#: spaces or tabs around the commas and empty elements (an HTTP list header, RFC 9110 5.6.1)
PATTERN = rf"^[ \t,]*([!-+\--~]{{1,1024}}[ \t]*(,[ \t,]*|$)){{0,{_MAX_VALUES}}}$"
_given: ContextVar[tuple[str, ...]] = ContextVar("provhub_bookmarks_given", default=())
_noted: ContextVar[list | None] = ContextVar("provhub_bookmarks_noted", default=None)


def given() -> tuple[str, ...]:
    return _given.get()


def note(values) -> None:
    box = _noted.get()
    if box is not None:
        box[:] = sorted(set(values))


def parse(header: str) -> tuple[str, ...]:
    values = tuple(v.strip(" \t") for v in header.split(",") if v.strip(" \t"))
    if len(values) > _MAX_VALUES or not all(_VALUE.fullmatch(v) for v in values):
        raise InvalidParameter(
            f"{HEADER} must be the value(s) of an earlier {HEADER} answer header (comma-separated, "
            f"at most {_MAX_VALUES})",
            where=HEADER,
        )
    return values


def init_app(app) -> None:
    from flask import request

    @app.before_request
    def _take_bookmark():
        _noted.set([])
        if request.routing_exception is not None:  # no such route or method: that 404/405 first
            _given.set(())
            return
        _given.set(parse(request.headers.get(HEADER, "")))

    @app.after_request
    def _give_bookmark(resp):
        noted = _noted.get()
        if noted and request.method not in ("GET", "HEAD", "OPTIONS") and resp.status_code < 400:
            resp.headers[HEADER] = ",".join(noted)
        return resp
