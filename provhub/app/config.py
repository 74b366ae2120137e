"""Settings: one table, read from ``PROVHUB_*`` environment variables (12-factor).

Every setting is listed in :data:`SETTINGS` with its default and help text; ``docs/settings.md``
documents each (``tests/test_docs.py`` checks that). A setting ``X`` may also be given as
``PROVHUB_X_FILE`` naming a file that holds the value (for secrets). Tests build
``Settings(...)`` directly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from provhub.provdm.errors import InvalidParameter

#: name, default, help
SETTINGS = [
    (
        "store_url",
        "sqlite:///provhub.db",
        "Store URL: sqlite:///FILE (embedded, default) or bolt://HOST:PORT / neo4j://HOST:PORT.",
    ),
    ("neo4j_user", "neo4j", "User name for the Neo4j (Bolt) store."),
    ("neo4j_password", "", "Password for the Neo4j (Bolt) store; prefer PROVHUB_NEO4J_PASSWORD_FILE."),
    ("neo4j_database", "", "Neo4j database name (empty: the server's default database)."),
    (
        "sqlite_mmap_mb",
        2048,
        "Embedded store: MiB of the SQLite file read through memory mapping (0: off; SQLite builds usually cap it at 2048). Lineage on a large store is up to 1.5x faster when the whole file is mapped; mapped pages are file cache the system can reclaim.",
    ),
    ("store_timeout", 10.0, "Seconds to wait for the store (connection and query) before answering 503."),
    ("validation", "warn", "Validation level of ingest: strict (reject), warn (report) or off."),
    ("max_body_mb", 64.0, "Largest request body accepted, in MiB (413 above)."),
    ("max_records", 2_000_000, "Most PROV records accepted in one document (413 above)."),
    ("max_attribute_bytes", 1_000_000, "Largest single attribute value accepted, in bytes (422 above)."),
    (
        "max_record_bytes",
        8_000_000,
        "Largest PROV record accepted: its attribute names and values together, in bytes (422 above).",
    ),
    ("max_id_bytes", 4096, "Longest record id or attribute name accepted, in bytes (422 above)."),
    (
        "max_parse_mb",
        8.0,
        "Largest body that prov's parsers read (PROV-N, PROV-XML, PROV-O Turtle and JSON-LD, and PROV-JSON that "
        "is not plain, such as voprov's W3C form), in MiB of UTF-8 (413 above): they take up to 100x the body "
        "in memory. "
        "Post larger documents as plain PROV-JSON, which provhub reads itself.",
    ),
    ("max_depth", 1000, "Largest DEPTH a ProvSAP query may ask for; DEPTH=ALL walks at most this far."),
    ("node_cap", 100_000, "Most nodes one lineage answer may hold (422 above)."),
    ("query_timeout", 30.0, "Seconds a lineage query may run."),
    ("page_size", 50, "Default page size of listings and search."),
    ("auth", "on", "Authentication for writes: on (API tokens) or off (single user on a laptop)."),
    (
        "proxy_user_header",
        "",
        "Trust this request header (set by an authenticating reverse proxy) as the user name; empty: off.",
    ),
    (
        "oidc_issuers",
        "",
        "OpenID Connect issuers whose access tokens (JWT bearer) are accepted, comma-separated https:// URLs (http:// only on loopback); empty: off.",
    ),
    ("oidc_audience", "", "The audience (aud) an OIDC access token must name; required with PROVHUB_OIDC_ISSUERS."),
    (
        "oidc_groups_claim",
        "",
        "The OIDC token claim that holds the caller's groups; empty: wlcg.groups, then groups.",
    ),
    ("oidc_writer_groups", "", "OIDC groups whose members get the writer role, comma-separated."),
    ("oidc_admin_groups", "", "OIDC groups whose members get the admin role, comma-separated."),
    (
        "oidc_client_id",
        "",
        "The OIDC client of provhub's web sign-in (authorization code with PKCE, at the first issuer); empty: no web sign-in.",
    ),
    ("oidc_client_secret", "", "The secret of that OIDC client; prefer PROVHUB_OIDC_CLIENT_SECRET_FILE."),
    (
        "hidden_records",
        "placeholder",
        "How records the caller may not see are shown inside lineage: placeholder or cut.",
    ),
    (
        "render_node_cap",
        150,
        "Above this many nodes, lineage pictures collapse siblings of one kind into a summary node.",
    ),
    ("sample", "on", "Load the sample lineage into an empty store when `provhub serve` starts: on or off."),
]

_DEFAULTS = {name: default for name, default, _ in SETTINGS}
_SWITCH = ("on", "off", "true", "false", "1", "0", "yes", "no")
#: settings that take one of a few words
_CHOICES = {
    "validation": ("strict", "warn", "off"),
    "auth": _SWITCH,
    "hidden_records": ("placeholder", "cut"),
    "sample": _SWITCH,
}


@dataclass
class Settings:
    store_url: str = _DEFAULTS["store_url"]
    neo4j_user: str = _DEFAULTS["neo4j_user"]
    neo4j_password: str = _DEFAULTS["neo4j_password"]
    neo4j_database: str = _DEFAULTS["neo4j_database"]
    sqlite_mmap_mb: int = _DEFAULTS["sqlite_mmap_mb"]
    store_timeout: float = _DEFAULTS["store_timeout"]
    validation: str = _DEFAULTS["validation"]
    max_body_mb: float = _DEFAULTS["max_body_mb"]
    max_records: int = _DEFAULTS["max_records"]
    max_attribute_bytes: int = _DEFAULTS["max_attribute_bytes"]
    max_record_bytes: int = _DEFAULTS["max_record_bytes"]
    max_id_bytes: int = _DEFAULTS["max_id_bytes"]
    max_parse_mb: float = _DEFAULTS["max_parse_mb"]
    max_depth: int = _DEFAULTS["max_depth"]
    node_cap: int = _DEFAULTS["node_cap"]
    query_timeout: float = _DEFAULTS["query_timeout"]
    page_size: int = _DEFAULTS["page_size"]
    auth: str = _DEFAULTS["auth"]
    proxy_user_header: str = _DEFAULTS["proxy_user_header"]
    oidc_issuers: str = _DEFAULTS["oidc_issuers"]
    oidc_audience: str = _DEFAULTS["oidc_audience"]
    oidc_groups_claim: str = _DEFAULTS["oidc_groups_claim"]
    oidc_writer_groups: str = _DEFAULTS["oidc_writer_groups"]
    oidc_admin_groups: str = _DEFAULTS["oidc_admin_groups"]
    oidc_client_id: str = _DEFAULTS["oidc_client_id"]
    oidc_client_secret: str = _DEFAULTS["oidc_client_secret"]
    hidden_records: str = _DEFAULTS["hidden_records"]
    render_node_cap: int = _DEFAULTS["render_node_cap"]
    sample: str = _DEFAULTS["sample"]

    def __post_init__(self):
        for name, allowed in _CHOICES.items():
            value = str(getattr(self, name)).lower()
            if value not in allowed:
                raise InvalidParameter(
                    f"PROVHUB_{name.upper()}={getattr(self, name)!r}: use one of " + ", ".join(allowed),
                    where=f"PROVHUB_{name.upper()}",
                )
            setattr(self, name, value)

    @classmethod
    def from_env(cls, environ=None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            key = "PROVHUB_" + f.name.upper()
            raw = env.get(key)
            if raw is None and env.get(key + "_FILE"):
                raw = Path(env[key + "_FILE"]).read_text().strip()
            if raw is None:
                continue
            default = _DEFAULTS[f.name]
            try:
                values[f.name] = type(default)(raw) if not isinstance(default, str) else raw
            except ValueError:
                raise InvalidParameter(f"{key}={raw!r} is not a valid {type(default).__name__}", where=key) from None
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def max_body_bytes(self) -> int:
        return int(self.max_body_mb * 1024 * 1024)

    @property
    def auth_enabled(self) -> bool:
        return self.auth.lower() not in ("off", "false", "0", "no")
