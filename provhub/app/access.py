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
import json
import secrets
from dataclasses import dataclass, field

ROLES = ("reader", "writer", "admin")


@dataclass(frozen=True)
class Viewer:
    name: str | None = None
    role: str = "anonymous"  # anonymous | reader | writer | admin
    groups: frozenset = field(default_factory=frozenset)
    #: who the caller is, unique (``token:<token id>``): the poster kept with each document.
    #: Names are not unique (a token's default name is its role and groups).
    principal: str | None = None

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
OPERATOR = Viewer(name="operator", role="admin", principal="operator")


def today() -> str:
    return _dt.datetime.now(_dt.timezone.utc).date().isoformat()


@dataclass(frozen=True)
class Readable:
    """The readable rule, stated once. A document is readable by members of ``groups`` on the
    date ``today`` when it is public, its release date has passed (``release <= today``, ISO
    dates compare as text), or it is owned by one of the groups. ``groups=None``: every
    document (admins, the operator).

    :meth:`allows` applies it to one document; the backends filter with the same rule in their
    query language through :meth:`sql` and :meth:`cypher`, so that no backend writes it again
    (``tests/security`` checks the three agree on every case)."""

    groups: frozenset | None
    today: str

    @classmethod
    def of(cls, groups, today_: str | None = None) -> "Readable":
        return cls(None if groups is None else frozenset(groups), today_ or today())

    @classmethod
    def for_viewer(cls, viewer: Viewer) -> "Readable":
        return cls.of(viewer.visible_groups)

    @property
    def everything(self) -> bool:
        return self.groups is None

    def allows(self, rights: str, group: str | None, release: str | None) -> bool:
        if self.groups is None or rights == "public":
            return True
        if release and release <= self.today:
            return True
        return group is not None and group in self.groups

    def sql(self, alias: str = "d", group_column: str = "grp") -> tuple[str, list]:
        """SQLite: ``(clause, parameters)`` for a documents row ``alias``."""
        if self.groups is None:
            return "1", []
        return (
            f"({alias}.rights = 'public' OR ({alias}.release IS NOT NULL AND {alias}.release <= ?) "
            f"OR {alias}.{group_column} IN (SELECT value FROM json_each(?)))",
            [self.today, json.dumps(sorted(self.groups))],
        )

    def cypher(self, var: str = "d") -> tuple[str, dict]:
        """Cypher: ``(predicate, parameters)`` for a ``:Document`` node ``var``."""
        if self.groups is None:
            return "true", {}
        return (
            f"({var}.rights = 'public' OR ({var}.release IS NOT NULL AND {var}.release <= $readable_today) "
            f"OR {var}.group IN $readable_groups)",
            {"readable_today": self.today, "readable_groups": sorted(self.groups)},
        )


def document_readable(viewer: Viewer, rights: str, group: str | None, release: str | None) -> bool:
    return Readable.for_viewer(viewer).allows(rights, group, release)


def may_manage(viewer: Viewer, group: str | None, poster: str | None) -> bool:
    """Whether ``viewer`` may change a document's rights, retract or supersede it: an admin, a
    writer of its owner group, or, of a document without an owner group, the writer who posted
    it (a document whose poster the store does not know: an admin only)."""
    if viewer.is_admin:
        return True
    if not viewer.can_write:
        return False
    if group is not None:
        return group in viewer.groups
    return poster is not None and viewer.principal == poster


def new_token() -> str:
    return "ph_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def placeholder_id(record_id: str, secret: str) -> str:
    """An opaque, stable id for a record the caller may not see (no way back to the id)."""
    digest = hmac.new(secret.encode("utf-8"), record_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"urn:provhub:hidden:{digest[:24]}"
