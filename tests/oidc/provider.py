"""A real OpenID Connect provider on loopback for the tests, built with Authlib.

It serves discovery (``/.well-known/openid-configuration``), its keys (``/jwks``), an
authorization endpoint (``/authorize``, the code grant with PKCE) and a token endpoint (``/token``,
the client-credentials and code grants, RFC 9068 JWT access tokens signed RS256 by Authlib's
:class:`~authlib.oauth2.rfc9068.JWTBearerTokenGenerator`; for the ``openid`` scope also an ID
token with the authorization request's ``nonce``, Authlib's :class:`~authlib.oidc.core.grants.OpenIDCode`).
``id_token_changes`` and ``id_token_key`` make it send ID tokens a real provider would not (a
tampered nonce, another audience, a forged signature, ...). Each client stands for one
user: its groups go into the token's groups claim. :meth:`Provider.rotate` makes a new signing
key and, unless told to keep them, drops the old ones from the JWKS. :meth:`Provider.mint`
signs claims of the test's choosing with the provider's key, for the tokens a real provider
would never issue (expired, other audience, ...).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

AUDIENCE = "https://provhub.example.org"


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@dataclass
class Client(ClientMixin):
    client_id: str
    secret: str
    claims: dict = field(default_factory=dict)
    scope: str = "openid"
    redirect_uris: tuple = ()

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or self.scope).split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return client_secret == self.secret

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code" and bool(self.redirect_uris)

    def check_grant_type(self, grant_type):
        return grant_type == ("authorization_code" if self.redirect_uris else "client_credentials")


@dataclass
class User:
    """The person who signs in at the provider (the provider asks no password: a test signs in)."""

    sub: str
    claims: dict

    def get_user_id(self):
        return self.sub


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: User
    code_challenge: str | None
    code_challenge_method: str | None
    nonce: str | None = None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return None

    def get_acr(self):
        return None

    def get_amr(self):
        return None


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class Provider:
    def __init__(self):
        self.keys: list[RSAKey] = []  # published keys; the last signs
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, Code] = {}
        #: who signs in at the authorization endpoint (a test sets it)
        self.user: User | None = None
        self.jwks_hits = 0
        self.authorize_requests: list[dict] = []
        #: claims the next ID tokens get changed (a value None drops the claim), as a broken or
        #: hostile provider, or an attacker replaying another sign-in's answer, would send them
        self.id_token_changes: dict = {}
        #: a key that signs the ID tokens instead of the published one, under the published key's
        #: kid (a forged ID token)
        self.id_token_key: RSAKey | None = None
        #: the kid the changed ID tokens name (default: the published signing key's)
        self.id_token_kid: str | None = None
        self.id_tokens: list[str] = []  # every ID token the token endpoint gave
        self.rotate()
        self.app = self._make_app()
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True, request_handler=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._generator.issuer = self.issuer
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    # -- keys and clients ------------------------------------------------------------------

    @property
    def key(self) -> RSAKey:
        return self.keys[-1]

    def rotate(self, keep_old: bool = False) -> RSAKey:
        new = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
        self.keys = [*self.keys, new] if keep_old else [new]
        return new

    def add_client(self, client_id: str, claims: dict, scope: str = "openid", redirect_uris=()) -> Client:
        client = Client(client_id, client_id + "-secret", claims, scope, tuple(redirect_uris))
        self.clients[client_id] = client
        return client

    # -- tokens ----------------------------------------------------------------------------

    def token(self, client_id: str, scope: str | None = None) -> str:
        """An access token from the token endpoint, over HTTP, as a client gets it."""
        client = self.clients[client_id]
        data = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        r = requests.post(self.issuer + "/token", data=data, auth=(client.client_id, client.secret), timeout=10)
        r.raise_for_status()
        return r.json()["access_token"]

    def mint(self, claims: dict | None = None, *, key=None, header: dict | None = None, **changes) -> str:
        """A token signed by the current key (or ``key``) with the usual claims, ``changes``
        applied (a value None drops the claim)."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "sub": "user-1",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "wlcg.groups": ["/hess"],
            **(claims or {}),
        }
        for name, value in changes.items():
            name = name.replace("__", ".")
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        key = key or self.key
        return jwt.encode({"alg": "RS256", "kid": key.kid, **(header or {})}, body, key)

    def unsigned(self, **changes) -> str:
        """The same claims with ``alg: none`` and no signature."""
        _, payload, _ = self.mint(**changes).split(".")
        head = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
        return f"{head}.{payload}."

    # -- the HTTP side ---------------------------------------------------------------------

    def _make_app(self) -> Flask:
        app = Flask("oidc-provider")
        provider = self

        class Generator(JWTBearerTokenGenerator):
            def get_jwks(self):
                return KeySet([provider.key])

            def get_audiences(self, client, user, scope):
                return AUDIENCE

            def get_extra_claims(self, client, grant_type, user, scope):
                return dict(user.claims if user else client.claims)

        class CodeGrant(grants.AuthorizationCodeGrant):
            TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

            def save_authorization_code(self, code, req):
                provider.codes[code] = Code(
                    code,
                    req.client.client_id,
                    req.payload.redirect_uri,
                    req.scope,
                    req.user,
                    req.payload.data.get("code_challenge"),
                    req.payload.data.get("code_challenge_method"),
                    req.payload.data.get("nonce"),
                )

            def query_authorization_code(self, code, client):
                found = provider.codes.get(code)
                return found if found and found.client_id == client.client_id else None

            def delete_authorization_code(self, authorization_code):
                provider.codes.pop(authorization_code.code, None)

            def authenticate_user(self, authorization_code):
                return authorization_code.user

        self._generator = Generator(issuer="")
        server = AuthorizationServer(app, query_client=self.clients.get, save_token=lambda token, request: None)
        server.register_grant(grants.ClientCredentialsGrant)
        server.register_grant(CodeGrant, [CodeChallenge(required=True), _OpenID(self)])
        server.register_token_generator("default", self._generator)

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(
                issuer=self.issuer,
                jwks_uri=self.issuer + "/jwks",
                token_endpoint=self.issuer + "/token",
                authorization_endpoint=self.issuer + "/authorize",
                grant_types_supported=["client_credentials", "authorization_code"],
                code_challenge_methods_supported=["S256"],
                id_token_signing_alg_values_supported=["RS256"],
            )

        @app.get("/jwks")
        def jwks():
            self.jwks_hits += 1
            return jsonify(KeySet(list(self.keys)).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            # the user has signed in and consents (a real provider asks); none signed in: denied
            self.authorize_requests.append(dict(request.args))
            return server.create_authorization_response(grant_user=self.user)

        @app.post("/token")
        def token():
            return server.create_token_response()

        return app

    def stop(self):
        self._server.shutdown()
        self._thread.join(5)


class _OpenID(OpenIDCode):
    """ID tokens (OpenID Connect Core 1.0, 3.1.3.3) for the openid scope, signed RS256 with the
    published key, with the nonce the authorization request carried; changed as the provider's
    ``id_token_changes`` and ``id_token_key`` say."""

    def __init__(self, provider: Provider):
        super().__init__(require_nonce=False)
        self.provider = provider

    def resolve_client_private_key(self, client):
        return self.provider.key

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer, "aud": [client.client_id]}

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.key.kid}

    def exists_nonce(self, nonce, req):
        return any(c.nonce == nonce for c in self.provider.codes.values())

    def generate_user_info(self, user, scope):
        return UserInfo(sub=user.sub, **{k: v for k, v in user.claims.items() if k == "preferred_username"})

    def process_token(self, grant, response):
        token = super().process_token(grant, response)
        if "id_token" in token:
            if self.provider.id_token_changes or self.provider.id_token_key or self.provider.id_token_kid:
                claims = json.loads(_b64decode(token["id_token"].split(".")[1]))
                token["id_token"] = self.provider.mint(
                    {k: v for k, v in claims.items() if k not in self.provider.id_token_changes},
                    key=self.provider.id_token_key,
                    header={"kid": self.provider.id_token_kid or self.provider.key.kid},
                    **{k.replace(".", "__"): v for k, v in self.provider.id_token_changes.items()},
                )
            self.provider.id_tokens.append(token["id_token"])
        return token
