"""Web sign-in through OpenID Connect: the authorization-code flow with PKCE (see docs/security.md).

``GET /login?next=/path`` sends the browser to the first issuer of ``PROVHUB_OIDC_ISSUERS``
(its ``authorization_endpoint`` from discovery) with a fresh ``state``, ``nonce`` and PKCE
``code_challenge`` (S256), kept in the session cookie. ``GET /login/callback`` checks the state
(and uses it up), trades the code and the ``code_verifier`` for an access token and an ID token
at the ``token_endpoint`` (``PROVHUB_OIDC_CLIENT_ID`` / ``PROVHUB_OIDC_CLIENT_SECRET``), checks
the ID token (:meth:`OidcVerifier.id_token`: signature by the issuer's keys, ``iss``,
``aud`` = the client id, ``exp``, ``iat``, the session's ``nonce``, the same ``sub``), checks the
access token exactly as a bearer token (provhub/app/oidc.py) and keeps it in the session. A
refused sign-in is a 401 (an HTML page for a browser) naming what failed. Each request of the
browser is then checked again (expiry, keys), so the app keeps no state of its own: any worker
can serve it.

The session cookie is Flask's signed cookie, keyed by the store's own secret (the same for every
process on one store): HttpOnly, SameSite=Lax, and Secure when the request came over TLS. A
request that writes with the session (no Authorization header) must carry the session's CSRF
token, in ``X-CSRF-Token`` or a ``csrf_token`` form field (``GET /login/session`` tells a page
the token); ``POST /logout`` (with it) signs out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface

from provhub.provdm.errors import Forbidden, InvalidToken, ProvhubError

from .access import Viewer
from .oidc import FETCH_TIMEOUT, OidcVerifier, _fetch_json

bp = Blueprint("login", __name__)
SESSION_TOKEN = "oidc_token"
CSRF_HEADER = "X-CSRF-Token"


class _Sessions(SecureCookieSessionInterface):
    """Secure cookie when the request came over TLS (behind a proxy: with ProxyFix)."""

    def get_cookie_secure(self, app):
        return request.is_secure

    def get_cookie_samesite(self, app):
        return "Lax"


def init_app(app: Flask, verifier: OidcVerifier) -> None:
    secret = app.extensions["provhub.store"].secret()
    app.secret_key = hmac.new(secret.encode(), b"provhub web session", hashlib.sha256).hexdigest()
    app.session_interface = _Sessions()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_NAME"] = "provhub_session"
    app.config["PROVHUB_LOGIN"] = True  # the site header offers sign-in and sign-out
    app.register_blueprint(bp)


def session_viewer(verifier: OidcVerifier) -> Viewer | None:
    """The signed-in browser's caller, or None; a token that is no longer accepted signs out."""
    token = session.get(SESSION_TOKEN)
    if not token:
        return None
    try:
        viewer = verifier.viewer(token)
    except InvalidToken:
        session.pop(SESSION_TOKEN, None)
        return None
    g.provhub_session_auth = True
    return viewer


def check_csrf() -> None:
    """A write authenticated by the session cookie must carry the session's CSRF token."""
    if not g.get("provhub_session_auth"):
        return
    expected = session.get("csrf", "")
    given = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token", "")
    if not expected or not hmac.compare_digest(str(given), expected):
        raise Forbidden(
            f"a write from a signed-in page needs its CSRF token ({CSRF_HEADER} or csrf_token)", where=CSRF_HEADER
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _meta() -> tuple[OidcVerifier, dict]:
    verifier = current_app.extensions["provhub.oidc"]
    issuer = verifier.issuers[0]
    return verifier, _fetch_json(issuer + "/.well-known/openid-configuration")


def _local(target: str | None) -> str:
    """Only a path on this service (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("web.index")
    return target


@bp.errorhandler(ProvhubError)
def refused(exc: ProvhubError):
    """A refused sign-in: an HTML page saying what failed for a browser, else the usual error."""
    from .errors import bearer_challenge, error_response, status_of
    from .web import PAGE_CSP

    status = status_of(exc)
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        page = render_template(
            "web/error.html", error=exc, status=status, heading="Sign-in refused", retry=url_for("login.login")
        )
        return page, status, {"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"}
    resp = error_response(exc.code, exc.message, exc.where, status, exc.details)
    if status == 401:
        resp.headers["WWW-Authenticate"] = bearer_challenge(exc)
    return resp


@bp.get("/login")
def login():
    settings = current_app.config["PROVHUB_SETTINGS"]
    _, meta = _meta()
    endpoint = meta.get("authorization_endpoint")
    if not isinstance(endpoint, str):
        abort(503)
    verifier_code = secrets.token_urlsafe(48)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    session["login"] = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier_code,
        "next": _local(request.args.get("next")),
    }
    query = {
        "response_type": "code",
        "client_id": settings.oidc_client_id,
        "redirect_uri": url_for("login.callback", _external=True),
        "scope": "openid profile wlcg.groups",
        "state": state,
        "nonce": nonce,
        "code_challenge": _b64(hashlib.sha256(verifier_code.encode()).digest()),
        "code_challenge_method": "S256",
    }
    return redirect(endpoint + ("&" if "?" in endpoint else "?") + urllib.parse.urlencode(query))


@bp.get("/login/callback")
def callback():
    settings = current_app.config["PROVHUB_SETTINGS"]
    pending = session.pop("login", None)
    if not pending or not hmac.compare_digest(request.args.get("state", ""), pending["state"]):
        raise InvalidToken("the sign-in answer does not belong to a sign-in of this browser (state)", where="state")
    if "code" not in request.args:
        raise InvalidToken(f"the provider refused the sign-in: {request.args.get('error', 'no code')}", where="code")
    verifier, meta = _meta()
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": request.args["code"],
            "redirect_uri": url_for("login.callback", _external=True),
            "code_verifier": pending["verifier"],
            "client_id": settings.oidc_client_id,
            "client_secret": settings.oidc_client_secret,
        }
    ).encode()
    try:
        req = urllib.request.Request(str(meta.get("token_endpoint")), data=form, method="POST")
        with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310 - the issuer's endpoint
            answer = json.loads(resp.read(1_000_000))
    except urllib.error.HTTPError as exc:  # e.g. invalid_grant: a code used before (a replay) or expired
        raise InvalidToken(
            f"the provider refused the code of this sign-in ({exc.code} {_oauth_error(exc)}); sign in again",
            where="code",
        ) from None
    except (OSError, ValueError, urllib.error.URLError) as exc:
        raise InvalidToken(
            f"the provider did not give a token for the sign-in ({type(exc).__name__})", where="token_endpoint"
        ) from None
    token = answer.get("access_token") if isinstance(answer, dict) else None
    if not isinstance(token, str):
        raise InvalidToken("the provider's token answer has no access_token", where="access_token")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise InvalidToken(
            "the provider's token answer has no id_token (was the openid scope granted?)", where="id_token"
        )
    # who signed in, for this sign-in only: signature, iss, aud = our client id, exp, nonce
    verifier.id_token(
        id_token,
        issuer=verifier.issuers[0],
        client_id=settings.oidc_client_id,
        nonce=pending["nonce"],
        access_token=token,
    )
    verifier.viewer(token)  # the same checks as a bearer token: iss, aud, keys, groups
    session.clear()
    session[SESSION_TOKEN] = token
    session["csrf"] = secrets.token_urlsafe(32)
    return redirect(pending["next"])


def _oauth_error(exc: urllib.error.HTTPError) -> str:
    """The ``error`` of an OAuth 2 error answer (RFC 6749 5.2), or the HTTP reason."""
    try:
        found = json.loads(exc.read(10_000)).get("error")
    except (OSError, ValueError, AttributeError):
        found = None
    return str(found)[:100] if isinstance(found, str) else str(exc.reason)


@bp.get("/login/session")
def whoami():
    """Who is signed in, and the CSRF token a page sends with its writes."""
    viewer = g.get("provhub_viewer")
    if not g.get("provhub_session_auth") or viewer is None:
        return jsonify(signed_in=False)
    return jsonify(
        signed_in=True, name=viewer.name, role=viewer.role, groups=sorted(viewer.groups), csrf=session.get("csrf")
    )


@bp.post("/logout")
def logout():
    # the CSRF check of every write ran in security.py; a browser without a session just leaves
    session.clear()
    return redirect(url_for("web.index"), code=303)


#: what the OpenAPI document says of every route of this module
ONLY_WITH_SIGN_IN = (
    "Present only where web sign-in is configured (PROVHUB_OIDC_ISSUERS and PROVHUB_OIDC_CLIENT_ID; "
    "docs/security.md, 'Web sign-in'); elsewhere the path is 404 and not in this document."
)


def openapi_paths(param) -> dict:
    """The OpenAPI entries of the sign-in routes, merged into provhub/app/api/openapi.py's
    document only when web sign-in is configured (the document describes the running service)."""
    to = {"Location": {"schema": {"type": "string"}, "description": "where the browser goes next"}}
    set_cookie = {"Set-Cookie": {"schema": {"type": "string"}, "description": "the provhub_session cookie"}}
    page_or_error = {  # a browser (Accept: text/html) gets a page, other callers the usual error
        "text/html": {"schema": {"type": "string"}},
        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
        "text/plain": {"schema": {"type": "string"}},
        "application/x-votable+xml": {"schema": {"type": "string"}},
    }
    refused = {
        "description": "the sign-in is refused: what failed, an HTML page for a browser",
        "content": page_or_error,
    }
    unavailable = {"description": "the provider cannot be reached", "content": page_or_error}
    common = {"tags": ["sign-in"], "x-provhub-only-with": "PROVHUB_OIDC_CLIENT_ID"}
    return {
        "/login": {
            "get": {
                **common,
                "summary": "Start a web sign-in: redirect to the provider (authorization code, PKCE S256, nonce)",
                "description": ONLY_WITH_SIGN_IN,
                "operationId": "login",
                "parameters": [param("next", description="a path on this service to go back to (else /)")],
                "responses": {
                    "302": {"description": "to the provider's authorization endpoint", "headers": {**to, **set_cookie}},
                    "503": unavailable,
                },
            }
        },
        "/login/callback": {
            "get": {
                **common,
                "summary": "The provider's answer: checks state, trades the code, checks the ID token (nonce, "
                "signature, iss, aud, exp) and the access token, and signs the browser in",
                "description": ONLY_WITH_SIGN_IN,
                "operationId": "loginCallback",
                "parameters": [
                    param("state", description="the state /login sent (one use)"),
                    param("code", description="the authorization code"),
                    param("error", description="the provider's refusal (RFC 6749 4.1.2.1)"),
                ],
                "responses": {
                    "302": {"description": "signed in: back to next", "headers": {**to, **set_cookie}},
                    "401": refused,
                    "503": unavailable,
                },
            }
        },
        "/login/session": {
            "get": {
                **common,
                "summary": "Who is signed in, and the CSRF token a page sends with its writes",
                "description": ONLY_WITH_SIGN_IN,
                "operationId": "loginSession",
                "responses": {
                    "200": {
                        "description": "signed in or not",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["signed_in"],
                                    "properties": {
                                        "signed_in": {"type": "boolean"},
                                        "name": {"type": "string"},
                                        "role": {"type": "string", "enum": ["reader", "writer", "admin"]},
                                        "groups": {"type": "array", "items": {"type": "string"}},
                                        "csrf": {"type": "string"},
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
        "/logout": {
            "post": {
                **common,
                "summary": "Sign out (with the session's CSRF token, in X-CSRF-Token or the csrf_token field)",
                "description": ONLY_WITH_SIGN_IN,
                "operationId": "logout",
                "parameters": [param(CSRF_HEADER, "header", description="the session's CSRF token")],
                "requestBody": {
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "properties": {"csrf_token": {"type": "string"}}}
                        }
                    }
                },
                "responses": {
                    "303": {"description": "signed out: to the start page", "headers": {**to, **set_cookie}},
                    "401": refused,
                    "403": {"description": "a session without its CSRF token", "content": page_or_error},
                },
            }
        },
    }
