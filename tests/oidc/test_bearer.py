"""OIDC access tokens in the API, against a real provider on loopback (tests/oidc/provider.py):
the good ones make a caller with the token's groups and the configured role, every bad one is
401 with a ``WWW-Authenticate: Bearer error="invalid_token"`` that says why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from joserfc import jwt

from provhub.app import create_app
from provhub.app.config import Settings
from provhub.app.oidc import OidcVerifier
from provhub.provdm.errors import InvalidParameter
from tests.conftest import make_settings
from tests.oidc.provider import AUDIENCE, Provider

DOC = """document
  prefix ex <http://example.org/cta#>
  entity(ex:e1)
endDocument"""
PN = {"Content-Type": "text/provenance-notation", "Accept": "application/json"}


def oidc_settings(backend, request, tmp_path, provider, **more):
    return make_settings(
        backend,
        request,
        tmp_path,
        auth="on",
        oidc_issuers=provider.issuer,
        oidc_audience=AUDIENCE,
        oidc_writer_groups="/hess",
        oidc_admin_groups="ops",
        **more,
    )


@pytest.fixture
def provider():
    """A provider of this test's own, whose keys the test may rotate."""
    p = Provider()
    p.add_client("hess-pipeline", {"wlcg.groups": ["/hess", "/cta"], "preferred_username": "pipe"})
    p.add_client("reader", {"wlcg.groups": ["/magic"]})
    p.add_client("narrow", {"wlcg.groups": ["/hess"]}, scope="openid provhub.read provhub.write")
    yield p
    p.stop()


@pytest.fixture
def service(backend, request, tmp_path, provider):
    app = create_app(oidc_settings(backend, request, tmp_path, provider))
    yield app.test_client()
    app.extensions["provhub.store"].close()


def bearer(token):
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def refused(r, why: str):
    assert r.status_code == 401, r.get_data(as_text=True)
    assert r.get_json()["error"]["code"] == "invalid-token"
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    assert why in challenge, challenge
    return challenge


def test_a_token_from_the_token_endpoint_writes_and_is_the_poster(service, provider):
    token = provider.token("hess-pipeline")
    r = service.post("/documents?rights=proprietary&group=hess", data=DOC, headers={**bearer(token), **PN})
    assert r.status_code == 201, r.get_data(as_text=True)
    doc = r.get_json()["id"]
    # a reader of another group does not see it; the writer does
    assert service.get(f"/documents/{doc}", headers=bearer(provider.token("reader"))).status_code == 404
    assert service.get(f"/documents/{doc}", headers=bearer(token)).status_code == 200
    # a reader cannot write
    r = service.post("/documents", data=DOC, headers={**bearer(provider.token("reader")), **PN})
    assert r.status_code == 403


def test_scopes_narrow_the_role(service, provider):
    # provhub.write granted: a writer of /hess stays a writer
    r = service.post("/documents", data=DOC, headers={**bearer(provider.token("narrow")), **PN})
    assert r.status_code == 201
    # asked for provhub.read only: at most a reader, though the groups make a writer
    r = service.post("/documents", data=DOC, headers={**bearer(provider.token("narrow", "provhub.read")), **PN})
    assert r.status_code == 403


@pytest.mark.parametrize(
    "changes, why",
    [
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"aud": "https://other.example.org"}, "not meant for this service"),
        ({"aud": None}, "lacks a required claim"),
        ({"exp": None}, "lacks a required claim"),
        ({"iss": "https://evil.example.org"}, "issuer is not one this service accepts"),
        ({"wlcg__groups": None}, "no group claim"),
        ({"wlcg__groups": "/hess"}, ""),  # a single name is read as one group: accepted
    ],
)
def test_claims_that_are_refused(service, provider, changes, why):
    r = service.get("/documents", headers=bearer(provider.mint(**changes)))
    if why:
        refused(r, why)
    else:
        assert r.status_code == 200


def test_a_little_clock_skew_is_allowed(service, provider):
    now = int(time.time())
    assert service.get("/documents", headers=bearer(provider.mint(exp=now - 20, nbf=now + 20))).status_code == 200


def test_alg_none_and_hs256_with_the_public_key_are_refused(service, provider):
    refused(service.get("/documents", headers=bearer(provider.unsigned())), "algorithm 'none'")
    # the classic confusion: HMAC keyed with the provider's public key (PEM and JWK forms)
    public_pem = provider.key.as_pem(private=False)
    for secret in (public_pem, provider.key.as_dict(private=False)["n"].encode()):
        forged = hs256({"alg": "HS256", "kid": provider.key.kid}, jwt_claims(provider), secret)
        refused(service.get("/documents", headers=bearer(forged)), "algorithm 'HS256'")
    # an RSA key of someone else, with the provider's kid
    stranger = Provider.__new__(Provider)
    stranger.keys = []
    other = Provider.rotate(stranger)
    forged = jwt.encode({"alg": "RS256", "kid": provider.key.kid}, jwt_claims(provider), other)
    refused(service.get("/documents", headers=bearer(forged)), "signature does not verify")
    refused(service.get("/documents", headers=bearer("aaa.bbb.ccc")), "not a well-formed JWT")


def hs256(header: dict, claims: dict, secret: bytes) -> str:
    """What an attacker does by hand (joserfc itself refuses an asymmetric key as HMAC secret)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = part(json.dumps(header).encode()) + "." + part(json.dumps(claims).encode())
    return signing + "." + part(hmac.new(secret, signing.encode(), hashlib.sha256).digest())


def jwt_claims(provider):
    now = int(time.time())
    return {"iss": provider.issuer, "sub": "x", "aud": AUDIENCE, "exp": now + 300, "wlcg.groups": ["/hess"]}


def test_key_rotation_unknown_kid_and_rotated_out_keys(service, provider):
    old_token = provider.token("hess-pipeline")
    assert service.get("/documents", headers=bearer(old_token)).status_code == 200
    hits = provider.jwks_hits
    old_key = provider.key
    provider.rotate()  # the old key leaves the JWKS
    new_token = provider.token("hess-pipeline")
    # a new kid: provhub fetches the keys once more and accepts it
    assert service.get("/documents", headers=bearer(new_token)).status_code == 200
    assert provider.jwks_hits == hits + 1
    # the old key is gone from the fetched keys: its tokens are refused now
    refused(service.get("/documents", headers=bearer(old_token)), "rotated out")
    refused(service.get("/documents", headers=bearer(provider.mint(key=old_key))), "rotated out")
    # made-up kids do not make provhub fetch again and again (rate limit)
    for n in range(5):
        forged = provider.mint(header={"kid": f"made-up-{n}"})
        refused(service.get("/documents", headers=bearer(forged)), "unknown or rotated out")
    assert provider.jwks_hits == hits + 1


def test_provhub_tokens_still_work_next_to_oidc(service, provider, backend, request, tmp_path):
    r = service.get("/documents", headers=bearer("ph_not-a-real-token"))
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    # writing without credentials: a challenge without error (RFC 6750 section 3.1)
    r = service.post("/documents", data=DOC, headers=PN)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="provhub"'


def test_groups_claim_setting(backend, request, tmp_path, provider):
    provider.add_client("custom", {"memberOf": ["hess"]})
    app = create_app(oidc_settings(backend, request, tmp_path, provider, oidc_groups_claim="memberOf"))
    client = app.test_client()
    try:
        r = client.post("/documents", data=DOC, headers={**bearer(provider.token("custom")), **PN})
        assert r.status_code == 201
        # wlcg.groups is no longer read when another claim is named
        refused(client.get("/documents", headers=bearer(provider.mint())), "no group claim (memberOf)")
    finally:
        app.extensions["provhub.store"].close()


@pytest.mark.parametrize(
    "issuers, audience, error",
    [
        ("http://idp.example.org", "a", "https://"),
        ("http://10.0.0.1:8080", "a", "https://"),
        ("https://iam-escape.cloud.cnaf.infn.it/", "", "PROVHUB_OIDC_AUDIENCE"),
    ],
)
def test_settings_that_are_refused(issuers, audience, error):
    with pytest.raises(InvalidParameter, match=error):
        OidcVerifier(Settings(oidc_issuers=issuers, oidc_audience=audience))


def test_loopback_http_and_https_issuers_are_accepted():
    v = OidcVerifier(Settings(oidc_issuers="https://iam.example.org/, http://[::1]:8080", oidc_audience="a"))
    assert v.issuers == ("https://iam.example.org", "http://[::1]:8080")
    assert v.groups_claims == ("wlcg.groups", "groups")


def test_a_provider_that_cannot_be_reached_is_503_not_a_bad_token(backend, request, tmp_path):
    closed = Provider()
    closed.stop()  # its port no longer answers
    closed._server.server_close()
    app = create_app(oidc_settings(backend, request, tmp_path, closed))
    try:
        r = app.test_client().get("/documents", headers=bearer(closed.mint()))
        assert r.status_code == 503 and r.get_json()["error"]["code"] == "identity-provider-unavailable"
        assert r.headers["Retry-After"]
    finally:
        app.extensions["provhub.store"].close()


def test_known_keys_outlive_a_provider_outage():
    provider = Provider()
    now = [1000.0]
    verifier = OidcVerifier(
        Settings(oidc_issuers=provider.issuer, oidc_audience=AUDIENCE, oidc_writer_groups="hess"),
        clock=lambda: now[0],
    )
    token = provider.mint()
    assert verifier.viewer(token).role == "writer"
    provider.stop()
    provider._server.server_close()
    now[0] += 2 * 3600  # the cached keys are old: a fetch is tried, fails, the known keys stay
    assert verifier.viewer(token).groups == frozenset({"hess"})
