"""OpenID Connect access tokens (JWT bearer) from configured issuers (see docs/security.md).

A bearer token that is a JWT (three dot-separated parts, not a provhub ``ph_`` token) is checked
here when ``PROVHUB_OIDC_ISSUERS`` is set:

- the issuer (``iss``, read before the signature is checked, only to pick the keys) must be one
  of ``PROVHUB_OIDC_ISSUERS``; its keys come from OIDC discovery
  (``<issuer>/.well-known/openid-configuration`` -> ``jwks_uri``), cached for :data:`KEYS_TTL`
  seconds (kept longer while the provider cannot be reached). A ``kid`` the cache does not know fetches the keys again, at most once every
  :data:`REFETCH_INTERVAL` seconds per issuer (a stream of made-up ``kid``\\ s cannot make provhub
  hammer the provider); a key the provider has dropped (rotated out) is no longer accepted
  after that fetch;
- only asymmetric algorithms (:data:`ALGORITHMS`) from the issuer's JWKS: ``none`` and every
  HMAC algorithm are refused, so a token signed with HS256 and the public key as secret is
  refused; the key's type (and its ``alg``, when the JWKS names one) must fit the token's;
- ``iss`` must equal the issuer, ``aud`` must hold ``PROVHUB_OIDC_AUDIENCE``, ``exp`` is
  required, ``exp``/``nbf``/``iat`` are checked with :data:`LEEWAY` seconds of clock skew;
- the groups claim (``PROVHUB_OIDC_GROUPS_CLAIM``, default ``wlcg.groups`` then ``groups``)
  must be there: its groups, without one leading ``/`` (IAM writes ``/cta``), are the caller's
  rights groups. Members of ``PROVHUB_OIDC_ADMIN_GROUPS`` are admins, of
  ``PROVHUB_OIDC_WRITER_GROUPS`` writers, everyone else a reader;
- scopes narrow the role, never widen it: a token whose ``scope`` names provhub scopes
  (``provhub.read``, ``provhub.write``, ``provhub.admin``) gets at most the highest of them.

:meth:`OidcVerifier.id_token` checks the ID token of a web sign-in (provhub/app/oidc_web.py) with
the same keys and algorithms: ``iss``, ``aud`` = the client id, ``exp``, ``iat``, the sign-in's
``nonce``, the access token's ``sub`` and ``at_hash``.

Every refusal is :class:`provhub.provdm.errors.InvalidToken` (401 with
``WWW-Authenticate: Bearer error="invalid_token", error_description="..."``). A provider that
cannot be reached for its keys is :class:`provhub.provdm.errors.ProviderUnavailable` (503, try again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from provhub.provdm.errors import InvalidParameter, InvalidToken, ProviderUnavailable

from .access import Viewer

#: asymmetric JWS algorithms accepted (RFC 7518, RFC 8037); never ``none`` nor HS*
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}
#: seconds of clock skew allowed on exp, nbf and iat
LEEWAY = 60
#: seconds the keys of an issuer are kept before they are fetched again
KEYS_TTL = 3600.0
#: least seconds between two fetches of an issuer's keys caused by an unknown kid
REFETCH_INTERVAL = 10.0
#: seconds to wait for the provider's discovery document or keys
FETCH_TIMEOUT = 5.0
DEFAULT_GROUPS_CLAIMS = ("wlcg.groups", "groups")
_SCOPE_ROLES = {"provhub.read": "reader", "provhub.write": "writer", "provhub.admin": "admin"}
_RANK = {"reader": 1, "writer": 2, "admin": 3}


def split_list(value: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in (value or "").split(",") if x.strip())


def normalise_group(name: str) -> str:
    """IAM's ``/cta`` and a plain ``cta`` are the same rights group."""
    return name[1:] if name.startswith("/") else name


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and not token.startswith("ph_")


def check_issuer_url(url: str, where: str = "PROVHUB_OIDC_ISSUERS") -> None:
    """https, or http on a loopback host only (tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _loopback(parts.hostname):
        return
    raise InvalidParameter(f"{url!r}: an OIDC issuer must be an https:// URL (http:// only on loopback)", where=where)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _fetch_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310 - https or loopback only
            data = json.loads(resp.read(1_000_001)[:1_000_000])
    except (OSError, urllib.error.URLError) as exc:
        raise ProviderUnavailable(
            f"the token's issuer cannot be reached for its keys ({type(exc).__name__}); try again",
            where="Authorization",
        ) from None
    except ValueError:
        raise InvalidToken("the token's issuer answered no JSON") from None
    if not isinstance(data, dict):
        raise InvalidToken("the token's issuer answered no JSON object")
    return data


@dataclass
class _IssuerKeys:
    keys: KeySet | None = None
    fetched: float = 0.0  # when keys were last fetched (monotonic)
    tried: float = -1e18  # when a fetch was last tried for an unknown kid
    lock: threading.Lock = field(default_factory=threading.Lock)


class OidcVerifier:
    """Turns an OIDC access token into a :class:`Viewer`; one per app, shared by its threads."""

    def __init__(self, settings, fetch=_fetch_json, clock=time.monotonic):
        self.issuers = tuple(i.rstrip("/") for i in split_list(settings.oidc_issuers))
        for url in self.issuers:
            check_issuer_url(url)
        self.audience = settings.oidc_audience.strip()
        if self.issuers and not self.audience:
            raise InvalidParameter(
                "PROVHUB_OIDC_AUDIENCE must be set with PROVHUB_OIDC_ISSUERS (tokens for other services "
                "would be accepted otherwise)",
                where="PROVHUB_OIDC_AUDIENCE",
            )
        claim = settings.oidc_groups_claim.strip()
        self.groups_claims = (claim,) if claim else DEFAULT_GROUPS_CLAIMS
        self.writer_groups = frozenset(normalise_group(g) for g in split_list(settings.oidc_writer_groups))
        self.admin_groups = frozenset(normalise_group(g) for g in split_list(settings.oidc_admin_groups))
        self._fetch = fetch
        self._clock = clock
        self._keys = {i: _IssuerKeys() for i in self.issuers}

    # -- keys --------------------------------------------------------------------------------

    def _load(self, issuer: str) -> KeySet:
        meta = self._fetch(issuer + "/.well-known/openid-configuration")
        if str(meta.get("issuer", "")).rstrip("/") != issuer:
            raise InvalidToken("the issuer's discovery document names another issuer")
        jwks_uri = meta.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise InvalidToken("the issuer's discovery document has no jwks_uri")
        check_issuer_url(jwks_uri, where="jwks_uri")
        raw = self._fetch(jwks_uri)
        usable = [
            k
            for k in raw.get("keys", [])
            if isinstance(k, dict) and k.get("kty") in ("RSA", "EC", "OKP") and k.get("use", "sig") == "sig"
        ]
        try:
            return KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError):
            raise InvalidToken("the issuer's JWKS holds no usable key") from None

    def key_for(self, issuer: str, kid: str | None):
        entry = self._keys[issuer]
        with entry.lock:
            now = self._clock()
            if entry.keys is None or now - entry.fetched > KEYS_TTL:
                try:
                    entry.keys, entry.fetched = self._load(issuer), now
                except ProviderUnavailable:
                    if entry.keys is None:
                        raise
                    # the provider is away: keep the keys known, and ask again a little later
                    entry.fetched = now - KEYS_TTL + REFETCH_INTERVAL
            key = self._pick(entry.keys, kid)
            if key is None and now - entry.tried >= REFETCH_INTERVAL and now != entry.fetched:
                entry.tried = now
                entry.keys, entry.fetched = self._load(issuer), now
                key = self._pick(entry.keys, kid)
        if key is None:
            raise InvalidToken(f"no key of the issuer has the token's kid {kid!r} (unknown or rotated out)")
        return key

    @staticmethod
    def _pick(keys: KeySet, kid: str | None):
        if kid is None:  # only a lone key may be used without kid
            found = list(keys)
            return found[0] if len(found) == 1 else None
        return next((k for k in keys if k.kid == kid), None)

    # -- tokens ------------------------------------------------------------------------------

    def _verified(self, token: str) -> tuple[dict, str, str]:
        """The claims of a JWT whose signature verifies with a key of its issuer, the issuer and
        the algorithm."""
        try:
            compact = jws.extract_compact(token.encode("ascii"))
            header = compact.headers()
            unverified = json.loads(compact.payload)
        except (JoseError, ValueError, UnicodeError, TypeError):
            raise InvalidToken("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidToken(f"the token's algorithm {alg!r} is not accepted (only: {', '.join(ALGORITHMS)})")
        issuer = str(unverified.get("iss", "")).rstrip("/") if isinstance(unverified, dict) else ""
        if issuer not in self._keys:
            raise InvalidToken("the token's issuer is not one this service accepts")
        key = self.key_for(issuer, header.get("kid"))
        if key.key_type != _KEY_TYPES[alg[:2]] or key.get("alg", alg) != alg:
            raise InvalidToken(f"the token's algorithm {alg} does not fit its key")
        try:
            return jwt.decode(token, key, algorithms=[alg]).claims, issuer, alg
        except JoseError:
            raise InvalidToken("the token's signature does not verify") from None

    def viewer(self, token: str) -> Viewer:
        claims, issuer, _ = self._verified(token)
        self._check_claims(claims, issuer)
        return self._viewer_of(claims, issuer)

    def id_token(self, token: str, *, issuer: str, client_id: str, nonce: str, access_token: str) -> dict:
        """The claims of the ID token of a web sign-in (OpenID Connect Core 1.0, 3.1.3.7): signed
        by a key of ``issuer`` (the same keys, algorithms and cache as access tokens), ``iss`` is
        ``issuer``, ``aud`` holds ``client_id`` (and ``azp`` is it when ``aud`` names others),
        ``exp`` and ``iat`` are there (60 s skew), ``nonce`` is the one the sign-in sent, ``sub``
        is the access token's, and ``at_hash``, when given, is the access token's hash. Every
        refusal is :class:`InvalidToken` where ``id_token`` (or ``nonce``)."""
        try:
            claims, signer, alg = self._verified(token)
        except InvalidToken as exc:
            raise InvalidToken("ID token: " + exc.message, where="id_token") from None
        if signer != issuer.rstrip("/"):
            raise InvalidToken("the ID token is from another issuer than the one signed in at", where="id_token")
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            aud={"essential": True, "value": client_id},
            exp={"essential": True},
            iat={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            text = _claim_message(exc).replace("{audience}", f"the client id {client_id!r}")
            raise InvalidToken("ID token: " + text, where="id_token") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != client_id:
            raise InvalidToken(f"the ID token names other audiences and its azp is not {client_id!r}", where="id_token")
        given = claims.get("nonce")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), nonce.encode()):
            what = "has no nonce" if given is None else "has another nonce than this sign-in sent"
            raise InvalidToken(f"the ID token {what} (a replayed or injected answer)", where="nonce")
        try:
            access_sub = json.loads(jws.extract_compact(access_token.encode("ascii")).payload).get("sub")
        except (JoseError, ValueError, UnicodeError, TypeError, AttributeError):
            access_sub = None
        if access_sub is not None and str(access_sub) != str(claims["sub"]):
            raise InvalidToken("the ID token and the access token are of different users (sub)", where="id_token")
        if "at_hash" in claims and claims["at_hash"] != _half_hash(access_token, alg):
            raise InvalidToken("the ID token's at_hash does not match the access token", where="id_token")
        return claims

    def _check_claims(self, claims: dict, issuer: str) -> None:
        registry = jwt.JWTClaimsRegistry(
            leeway=LEEWAY,
            iss={"essential": True},  # equal to ``issuer``: the keys were chosen by it
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
            sub={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidToken(_claim_message(exc).replace("{audience}", repr(self.audience))) from None

    def _viewer_of(self, claims: dict, issuer: str) -> Viewer:
        raw = next((claims[c] for c in self.groups_claims if c in claims), None)
        if raw is None:
            raise InvalidToken(f"the token carries no group claim ({' or '.join(self.groups_claims)})")
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            raise InvalidToken("the token's group claim is not a list of names")
        groups = frozenset(normalise_group(x) for x in raw if x.strip("/"))
        role = "admin" if groups & self.admin_groups else "writer" if groups & self.writer_groups else "reader"
        scopes = str(claims.get("scope", "")).split()
        granted = [_SCOPE_ROLES[s] for s in scopes if s in _SCOPE_ROLES]
        if granted:
            cap = max(granted, key=_RANK.__getitem__)
            role = min(role, cap, key=_RANK.__getitem__)
        sub = str(claims["sub"])
        name = claims.get("preferred_username") or sub
        return Viewer(name=str(name), role=role, groups=groups, principal=f"oidc:{issuer}#{sub}")


def _half_hash(access_token: str, alg: str) -> str:
    """``at_hash`` of an ID token signed with ``alg``: the left half of the access token's hash
    by the algorithm's hash (SHA-256 for RS256, ...; SHA-512 for EdDSA), base64url (OpenID
    Connect Core 1.0, 3.1.3.6)."""
    digest = getattr(hashlib, "sha512" if alg == "EdDSA" else "sha" + alg[2:])(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def _claim_message(exc: JoseError) -> str:
    text = str(exc.description or exc.error)
    if exc.error == "expired_token":
        return "the token has expired (exp)"
    if exc.error == "missing_claim":
        return f"the token lacks a required claim: {text}"
    if "nbf" in text or "not yet valid" in text:
        return "the token is not valid yet (nbf)"
    if "'aud'" in text:
        return "the token is not meant for this service (aud is not {audience})"
    return f"the token's claims are not accepted: {text}"
