"""Authentication: who the caller of a request is (see docs/security.md).

- ``Authorization: Bearer <token>``: an API token made by ``provhub tokens create`` (stored
  hashed); its role and groups make the viewer. A wrong or revoked token is 401.
- ``Authorization: Bearer <JWT>`` with ``PROVHUB_OIDC_ISSUERS`` set: an OpenID Connect access
  token of one of those issuers (provhub/app/oidc.py); its groups claim makes the groups, the configured
  writer/admin groups the role. A token that is not accepted is 401 ``invalid-token``.
- a browser signed in through OIDC (provhub/app/oidc_web.py, with ``PROVHUB_OIDC_CLIENT_ID``): the access
  token its session cookie holds, checked as a bearer token; its writes need the CSRF token.
- ``PROVHUB_PROXY_USER_HEADER`` (off by default): trust that header, set by an authenticating
  reverse proxy, as the user name (role reader; groups from ``X-Provhub-Groups``, comma-separated).
- Otherwise the caller is anonymous: reads of public data only.
- Writes (POST/PUT/PATCH/DELETE) need the writer or admin role: 401 without credentials, 403
  with a reader token. ``POST /provsap`` and ``POST /datalink`` are reads (DALI sync queries by
  POST, :data:`READ_POSTS`).
- ``PROVHUB_AUTH=off``: every caller is the operator (single user on a laptop); logged as a
  warning at start.
"""

from __future__ import annotations

from flask import Flask, g, request

from provhub.provdm.errors import Forbidden, InvalidToken, Unauthorized

from .access import ANONYMOUS, OPERATOR, Viewer, hash_token
from . import bookmarks, oidc_web
from .oidc import OidcVerifier, looks_like_jwt

PROXY_GROUPS_HEADER = "X-Provhub-Groups"
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
#: routes whose POST only reads: DALI 1.1 sync queries take their parameters by GET or POST
#: (a form); they need no write role and no CSRF token, and rights apply as for GET
READ_POSTS = frozenset({"/provsap", "/datalink"})


def viewer_from_request(app: Flask) -> Viewer:
    settings = app.config["PROVHUB_SETTINGS"]
    if not settings.auth_enabled:
        return OPERATOR
    auth = request.headers.get("Authorization", "")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be 'Bearer <token>'", where="Authorization")
        token = token.strip()
        oidc = app.extensions.get("provhub.oidc")
        if oidc is not None and looks_like_jwt(token):
            return oidc.viewer(token)
        record = app.extensions["provhub.store"].find_token(hash_token(token))
        if record is None or record.revoked:
            raise InvalidToken("the API token is not valid (unknown or revoked)", where="Authorization")
        return Viewer(
            name=record.name, role=record.role, groups=frozenset(record.groups), principal="token:" + record.id
        )
    oidc = app.extensions.get("provhub.oidc")
    if oidc is not None and "provhub.login" in app.extensions:
        signed_in = oidc_web.session_viewer(oidc)
        if signed_in is not None:
            return signed_in
    header = settings.proxy_user_header
    if header and request.headers.get(header):
        groups = {x.strip() for x in request.headers.get(PROXY_GROUPS_HEADER, "").split(",") if x.strip()}
        return Viewer(name=request.headers[header], role="reader", groups=frozenset(groups))
    return ANONYMOUS


def init_app(app: Flask) -> None:
    settings = app.config["PROVHUB_SETTINGS"]
    bookmarks.init_app(app)  # Provhub-Bookmark (provhub/app/bookmarks.py)
    if not settings.auth_enabled:
        app.logger.warning(
            "PROVHUB_AUTH=off: every caller can read and write everything "
            "(single-user mode); do not expose this service"
        )
    elif settings.oidc_issuers.strip():
        app.extensions["provhub.oidc"] = OidcVerifier(settings)
        if settings.oidc_client_id.strip():  # web sign-in (provhub/app/oidc_web.py)
            app.extensions["provhub.login"] = True
            oidc_web.init_app(app, app.extensions["provhub.oidc"])

    @app.before_request
    def _authenticate():
        g.provhub_viewer = viewer_from_request(app)
        if request.routing_exception is not None:
            return  # no such route or method: its 404/405 comes next (no view runs)
        if request.method in _SAFE_METHODS or request.url_rule.rule in READ_POSTS:
            return  # a read
        oidc_web.check_csrf()
        if request.endpoint == "login.logout":
            return
        if not g.provhub_viewer.can_write:
            if g.provhub_viewer.role == "anonymous":
                raise Unauthorized(
                    "writing needs an API token with the writer role (Authorization: Bearer <token>)",
                    where="Authorization",
                )
            raise Forbidden(
                f"the token of {g.provhub_viewer.name!r} has the role "
                f"{g.provhub_viewer.role}; writing needs writer or admin",
                where="Authorization",
            )
