"""One error hierarchy for provhub.

Every error has a stable ``code`` (machine-readable), a human ``message`` and an optional
``where`` (the parameter, line/position, record id or file the problem is in). ``provhub/app/errors.py``
maps the classes to HTTP statuses in one table; the CLI maps them to exit code 1.
"""

from __future__ import annotations

from typing import Any


class ProvhubError(Exception):
    code = "error"

    def __init__(self, message: str, *, where: str | None = None, details: list | None = None):
        super().__init__(message)
        self.message = message
        self.where = where
        self.details = details or []

    def to_dict(self) -> dict:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "where": self.where}
        if self.details:
            body["details"] = self.details
        return body


class InvalidParameter(ProvhubError):
    """A query or command parameter has a value the service does not accept."""

    code = "invalid-parameter"


class MalformedDocument(ProvhubError):
    """The body could not be parsed in the declared syntax."""

    code = "malformed-document"


class UnsupportedMediaType(ProvhubError):
    code = "unsupported-media-type"


class PayloadTooLarge(ProvhubError):
    code = "payload-too-large"


class InvalidDocument(ProvhubError):
    """The document parses but is not valid PROV (structure or constraints)."""

    code = "invalid-document"


class DanglingReference(InvalidDocument):
    code = "dangling-reference"


class UnknownPrefix(MalformedDocument):
    code = "unknown-prefix"


class Conflict(ProvhubError):
    """The document contradicts records already in the store (``details`` lists each conflict)."""

    code = "conflict"


class NotFound(ProvhubError):
    code = "not-found"


class NotAcceptable(ProvhubError):
    code = "not-acceptable"


class AnswerTooLarge(ProvhubError):
    """A lineage answer would exceed the node cap of the service."""

    code = "answer-too-large"


class QueryTimeout(ProvhubError):
    """A lineage query ran longer than the service allows."""

    code = "query-timeout"


class Unauthorized(ProvhubError):
    code = "unauthorized"


class InvalidToken(Unauthorized):
    """A bearer token that is not accepted (OIDC: signature, issuer, audience, expiry, groups):
    401 with ``WWW-Authenticate: Bearer error="invalid_token"`` (RFC 6750)."""

    code = "invalid-token"

    def __init__(self, message: str, *, where: str | None = "Authorization", details: list | None = None):
        super().__init__(message, where=where, details=details)


class ProviderUnavailable(ProvhubError):
    """The OpenID Connect provider of a token cannot be reached for its keys: 503, try again
    (the token itself may be fine)."""

    code = "identity-provider-unavailable"


class Forbidden(ProvhubError):
    code = "forbidden"


class StoreUnavailable(ProvhubError):
    """The store cannot be reached (server down, timeout)."""

    code = "store-unavailable"


class RenderError(ProvhubError):
    """Graphviz is missing or failed to draw a picture."""

    code = "render-error"


class IngestError(ProvhubError):
    """An importer could not turn its input into PROV."""

    code = "ingest-error"


class StoreBusy(StoreUnavailable):
    """The store changed while a rewrite was planned (``provhub.app.identity`` plans it again)."""

    code = "store-busy"


class AmbiguousId(InvalidParameter):
    """An alias names several records; ``details`` lists the candidates."""

    code = "ambiguous-id"


class StoreNotWritable(StoreUnavailable):
    """The store answers reads but takes no writes: its disk is full, or it is read-only. 503 with
    Retry-After; nothing of the write was stored; /health reports ``writable: false``."""

    code = "store-not-writable"


class Busy(StoreUnavailable):
    """Too many expensive requests at once (pictures): 503 with Retry-After, try again shortly."""

    code = "busy"
