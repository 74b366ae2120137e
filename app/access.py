"""Who is asking, and what they may see.

A :class:`Viewer` is the caller of a request (from an API token, a trusted proxy header, or
anonymous) or of a CLI command (the operator: unrestricted). A document is readable by a viewer
when it is public, its release date has passed, the viewer belongs to its owner group, or the
viewer is an admin. A record (node or relation) is visible when at least one readable document
asserted it. See docs/security.md.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

ROLES = ("reader", "writer", "admin")


@dataclass(frozen=True)
class Viewer:
    name: str | None = None
    role: str = "anonymous"  # anonymous | reader | writer | admin
    groups: frozenset = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_write(self) -> bool:
        return self.role in ("writer", "admin")

    @property
    def visible_groups(self) -> frozenset | None:
        """Groups whose proprietary documents this viewer reads; None = every document."""
        return None if self.is_admin else self.groups


ANONYMOUS = Viewer()
#: The operator at the command line, who holds the store itself.
OPERATOR = Viewer(name="operator", role="admin")


def today() -> str:
    return _dt.datetime.now(_dt.timezone.utc).date().isoformat()


def document_readable(viewer: Viewer, rights: str, group: str | None, release: str | None) -> bool:
    if viewer.is_admin or rights == "public":
        return True
    if release and release <= today():
        return True
    return group is not None and group in viewer.groups


def new_token() -> str:
    return "ph_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def placeholder_id(record_id: str, secret: str) -> str:
    """An opaque, stable id for a record the caller may not see (no way back to the id)."""
    digest = hmac.new(secret.encode("utf-8"), record_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"urn:provhub:hidden:{digest[:24]}"
