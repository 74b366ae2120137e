"""A client for provhub that does not lose provenance (docs/client.md).

>>> from provhub.client import Client
>>> c = Client("http://localhost:8080", spool="~/.provhub/spool")  # doctest: +SKIP
>>> c.post("run.prov.json", rights="public")  # doctest: +SKIP

- Connection errors, timeouts, 503 and 429 are retried with exponential backoff and full jitter,
  for at most ``retry_for`` seconds; a ``Retry-After`` of the service is honoured (within that
  bound).
- Posting is idempotent: provhub names a document by its content, so a document posted again
  answers 200 with the same id and ``created: false``. A retry after a lost reply is safe.
- With a ``spool`` directory, a document the service does not take in time is written there
  (atomically) instead; :meth:`Client.flush` and ``provhub push --spool DIR`` send the spooled
  documents later, oldest first, each exactly once. While the spool holds documents, new ones
  go behind them, so the order posts were made is the order they are stored.
- Any other error is a :class:`ServiceError` with the service's ``code``, ``message`` and
  ``where``.

Only the standard library is used (urllib, gzip, json): no Flask, no store.
"""

from __future__ import annotations

import email.utils
import gzip
import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import batch
from .spool import Spool

#: statuses worth trying again: the service is busy, restarting or rate-limiting
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})
#: statuses of a request that will never succeed as it is: a spooled one moves to rejected/
REJECT_STATUSES = frozenset({400, 404, 409, 413, 415, 422})
MEDIA_TYPES = {
    "json": "application/x-prov+json",
    "provn": "text/provenance-notation",
    "xml": "application/provenance+xml",
    "ttl": "text/turtle",
    "jsonld": "application/ld+json",
}
SUFFIXES = {
    ".json": "json",
    ".provn": "provn",
    ".pn": "provn",
    ".xml": "xml",
    ".provx": "xml",
    ".ttl": "ttl",
    ".jsonld": "jsonld",
}


class ClientError(Exception):
    """Base of the client's errors."""


class ServiceError(ClientError):
    """The service answered an error: its HTTP ``status``, error ``code``, ``message``, ``where``."""

    def __init__(self, status: int, code: str, message: str, where: str | None = None, details=None):
        at = f" (at {where})" if where else ""
        super().__init__(f"{status} {code}: {message}{at}")
        self.status, self.code, self.message, self.where = status, code, message, where
        self.details = details or []


class Unavailable(ClientError):
    """The service could not be reached, or stayed busy, for the whole retry bound (no spool)."""


@dataclass
class PostResult:
    """What a post did: ``id`` and ``created`` as the service answered (``created`` False: it
    had the document already, perhaps from an attempt whose reply was lost); or ``spooled``, the
    spool file that holds it until :meth:`Client.flush`."""

    id: str | None = None
    records: int = 0
    created: bool = False
    warnings: list = field(default_factory=list)
    spooled: Path | None = None


def _token_from_env() -> str | None:
    if os.environ.get("PROVHUB_TOKEN"):
        return os.environ["PROVHUB_TOKEN"].strip()
    path = os.environ.get("PROVHUB_TOKEN_FILE")
    if path:
        return Path(path).expanduser().read_text(encoding="utf-8").strip()
    return None


def _service_error(status: int, body: bytes, reason: str = "") -> ServiceError:
    try:
        err = json.loads(body.decode("utf-8"))["error"]
        return ServiceError(
            status, err.get("code", "error"), err.get("message", ""), err.get("where"), err.get("details")
        )
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        text = body.decode("utf-8", "replace").strip()[:500]
        return ServiceError(status, f"http-{status}", text or reason or "error")


def _retry_after(value: str | None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Client:
    """``url`` (default ``PROVHUB_URL``), ``token`` (default ``PROVHUB_TOKEN``, or the file
    ``PROVHUB_TOKEN_FILE`` names), ``spool`` (a directory, or None: no spool)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        spool=None,
        *,
        retry_for: float = 60.0,
        timeout: float = 30.0,
        backoff: float = 0.25,
        max_backoff: float = 10.0,
        compress: bool = True,
    ):
        url = url or os.environ.get("PROVHUB_URL")
        if not url:
            raise ClientError("no service URL: pass url= or set PROVHUB_URL")
        self.url = url.rstrip("/")
        self.token = token if token is not None else _token_from_env()
        self.spool = Spool(Path(spool).expanduser()) if spool is not None else None
        self.retry_for, self.timeout = retry_for, timeout
        self.backoff, self.max_backoff = backoff, max_backoff
        self.compress = compress
        self.attempts = 0  # requests sent, retries included (tests and logs)

    # -- one request, with retries --------------------------------------------------------------

    def _once(self, method: str, path: str, params: dict, headers: dict, body: bytes | None):
        # a list value is a repeated parameter (ID=a&ID=b)
        query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
        url = self.url + path + ("?" + query if query else "")
        headers = dict(headers)
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=body, method=method, headers=headers)
        self.attempts += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read(), exc.headers

    def request(self, method: str, path: str, *, params=None, headers=None, body=None, retry_for=None):
        """Send one request, retried while it may yet succeed, for at most ``retry_for`` seconds.
        Returns (status, body, headers) of a 2xx answer; raises :class:`ServiceError` on another
        answer, :class:`Unavailable` when the bound is spent."""
        bound = self.retry_for if retry_for is None else retry_for
        deadline = time.monotonic() + bound
        attempt = 0
        while True:
            wait = None
            try:
                status, data, hdrs = self._once(method, path, params or {}, headers or {}, body)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, socket.timeout, OSError) as exc:
                last: Exception = exc
            else:
                if status < 300:
                    return status, data, hdrs
                last = _service_error(status, data)
                if status not in RETRY_STATUSES:
                    raise last
                wait = _retry_after(hdrs.get("Retry-After"))
            backoff = random.uniform(0, min(self.max_backoff, self.backoff * 2**attempt))  # full jitter
            wait = max(backoff, wait or 0.0)
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise Unavailable(f"{self.url} did not take the request in {bound:g} s: {last}") from last
            time.sleep(min(wait, left))

    # -- documents ----------------------------------------------------------------------------

    def _encode(self, document, fmt: str | None) -> tuple[bytes, str]:
        if isinstance(document, dict):
            return json.dumps(document).encode("utf-8"), "json"
        if isinstance(document, os.PathLike) or (
            isinstance(document, str) and "\n" not in document and os.path.isfile(document)
        ):
            p = Path(document)
            return p.read_bytes(), fmt or SUFFIXES.get(p.suffix.lower(), "json")
        if isinstance(document, str):
            return document.encode("utf-8"), fmt or "json"
        if isinstance(document, bytes):
            return document, fmt or "json"
        serialize = getattr(document, "serialize", None)  # a prov.model.ProvDocument
        if serialize is not None:
            return serialize(format="json").encode("utf-8"), "json"
        raise TypeError(f"cannot post a {type(document).__name__}: give a dict, a path, text or a ProvDocument")

    def post(self, document, *, rights=None, group=None, release=None, format=None, validation=None) -> PostResult:
        """Store a PROV document (a dict, a path, PROV text, bytes or a ProvDocument)."""
        body, fmt = self._encode(document, format)
        if fmt not in MEDIA_TYPES:
            raise ClientError(f"unknown format {fmt!r}; use one of {', '.join(MEDIA_TYPES)}")
        params = {"rights": rights, "group": group, "release": release, "validation": validation}
        params = {k: v for k, v in params.items() if v is not None}
        headers = {"Content-Type": MEDIA_TYPES[fmt], "Accept": "application/json"}
        if self.compress:
            body = gzip.compress(body, compresslevel=6, mtime=0)
            headers["Content-Encoding"] = "gzip"
        if self.spool is not None and len(self.spool):
            # keep the order: what waits in the spool goes first
            self.flush()
            if len(self.spool):
                return PostResult(spooled=self.spool.put("/documents", params, headers, body))
        try:
            _status, data, _h = self.request("POST", "/documents", params=params, headers=headers, body=body)
        except Unavailable:
            if self.spool is None:
                raise
            return PostResult(spooled=self.spool.put("/documents", params, headers, body))
        return _result(data)

    def post_many(
        self, documents, *, max_records: int = 10_000, rights=None, group=None, release=None, validation=None
    ) -> list[PostResult]:
        """Store many documents in few POSTs: PROV-JSON ones (dicts, .json files, JSON text,
        ProvDocuments) are merged (:mod:`provhub.batch`) into documents of at most ``max_records``
        records, each posted as :meth:`post` posts one (retries, gzip, the spool); a document
        that cannot be merged (PROV-N, PROV-XML, bundles) is posted alone, in its place. Each
        merged document is stored as one document: one id, one set of rights, one retraction.
        Returns one PostResult per POST, in order."""
        options = {"rights": rights, "group": group, "release": release, "validation": validation}
        results: list[PostResult] = []
        pending: list[dict] = []

        def send_pending():
            for part in batch.batches(pending, max_records):
                results.append(self.post(part[0] if len(part) == 1 else batch.merge(part), **options))
            pending.clear()

        for document in documents:
            body, fmt = self._encode(document, None)
            data = None
            if fmt == "json":
                try:
                    data = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError):
                    data = None  # posted alone: the service tells what is wrong with it
            if data is not None and batch.mergeable(data):
                pending.append(data)
                continue
            send_pending()
            results.append(self.post(body, format=fmt, **options))
        send_pending()
        return results

    def flush(self, *, retry_for: float | None = None) -> int:
        """Send the spooled documents, oldest first; return how many the service took. Stops at
        the first that cannot be sent (still unreachable), leaving it and those after it in the
        spool; a document the service refuses for good moves to ``rejected/`` (see
        :data:`REJECT_STATUSES`)."""
        if self.spool is None:
            return 0
        sent = 0
        with self.spool.locked():
            for file in self.spool.entries():
                if not file.exists():  # taken by another sender meanwhile
                    continue
                entry = self.spool.read(file)
                try:
                    self.request(
                        "POST",
                        entry.path,
                        params=entry.params,
                        headers=entry.headers,
                        body=entry.body,
                        retry_for=retry_for,
                    )
                except Unavailable:
                    break
                except ServiceError as exc:
                    if exc.status not in REJECT_STATUSES:
                        raise
                    self.spool.reject(entry, str(exc))
                    continue
                self.spool.done(entry)
                sent += 1
        return sent

    # -- reads ----------------------------------------------------------------------------------

    def _get_json(self, path: str, params: dict):
        _s, data, _h = self.request("GET", path, params=params, headers={"Accept": "application/json"})
        return json.loads(data.decode("utf-8"))

    def provsap(self, id, *, depth=None, direction=None, model=None, format="PROV-JSON", **more):
        """A ProvSAP query (``/provsap``): the PROV-JSON answer as a dict (``format="PROV-JSON"``),
        or the text of another RESPONSEFORMAT (PROV-N, PROV-XML...). More parameters go as they
        are (AGENT, STEPS...). ``model``: IVOA (the service's default) or W3C."""
        params = {"ID": id, "DEPTH": depth, "DIRECTION": direction, "MODEL": model, "RESPONSEFORMAT": format}
        params.update({k.upper(): v for k, v in more.items()})
        as_json = format.upper() == "PROV-JSON"
        # errors of ProvSAP are DALI VOTables unless JSON is asked for
        accept = "application/json, */*;q=0.5"
        _s, data, _h = self.request("GET", "/provsap", params=params, headers={"Accept": accept})
        return json.loads(data.decode("utf-8")) if as_json else data.decode("utf-8")

    def impact(self, *ids, select=(), level=(), as_of=None, format="json"):
        """What depends on inputs (``GET /impact``, docs/impact.md): the records named by ``ids``
        (any alias) and those the ``select`` selectors pick (``"software=ctapipe & version<0.20"``),
        walked FORTH. ``level``: only products of these data levels (``"DL3"``); ``as_of``: an ISO
        time, the store as it was then. The JSON report as a dict (``affected``, ``products`` by
        level, ``rerun``, ``names``), or the text of another ``format`` (text, csv, html)."""
        params = {
            "ID": list(ids),
            "SELECT": [select] if isinstance(select, str) else list(select),
            "LEVEL": [level] if isinstance(level, str) else list(level),
            "AS_OF": as_of,
            "FORMAT": format,
        }
        _s, data, _h = self.request("GET", "/impact", params=params, headers={"Accept": "application/json"})
        return json.loads(data.decode("utf-8")) if format == "json" else data.decode("utf-8")

    def resolve(self, name: str) -> dict:
        """What a name (id, alias, file name, digest, OBS_ID) means in the store (``/resolve``)."""
        return self._get_json("/resolve", {"ID": name})

    def document(self, doc_id: str) -> dict:
        """A stored document, as PROV-JSON."""
        return self._get_json(f"/documents/{urllib.parse.quote(doc_id, safe='')}", {})


def _result(data: bytes) -> PostResult:
    answer = json.loads(data.decode("utf-8"))
    return PostResult(
        answer.get("id"), answer.get("records", 0), bool(answer.get("created")), answer.get("warnings", [])
    )
