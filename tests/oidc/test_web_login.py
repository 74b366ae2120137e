"""Web sign-in through the loopback provider: the authorization-code flow with PKCE, the session
cookie, CSRF on writes made with the session, sign-out; and what a signed-in browser reads."""

from __future__ import annotations

import dataclasses
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from provhub.app import create_app, services
from provhub.app.access import Viewer
from tests.api.test_openapi import served_and_documented
from tests.oidc.provider import AUDIENCE, Provider, User
from tests.oidc.test_bearer import DOC, PN, oidc_settings

SECRET_DOC = """document
  prefix ex <http://example.org/cta#>
  entity(ex:secret, [ex:note="CONFIDENTIAL-77"])
endDocument"""
CALLBACK = "http://localhost/login/callback"


@pytest.fixture
def provider():
    p = Provider()
    p.add_client("provhub-web", {}, scope="openid profile wlcg.groups", redirect_uris=[CALLBACK])
    yield p
    p.stop()


@pytest.fixture
def site(backend, request, tmp_path, provider):
    settings = oidc_settings(
        backend, request, tmp_path, provider, oidc_client_id="provhub-web", oidc_client_secret="provhub-web-secret"
    )
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    secret = services.ingest(
        store,
        SECRET_DOC,
        "provn",
        settings=settings,
        viewer=Viewer(name="op", role="admin"),
        rights="proprietary",
        group="hess",
    )
    yield app.test_client(), secret.id
    store.close()


def sign_in(client, provider, groups=("/hess",), next_path="/documents"):
    provider.user = User("alice", {"wlcg.groups": list(groups), "preferred_username": "alice"})
    r = client.get(f"/login?next={next_path}")
    assert r.status_code == 302
    to_provider = r.headers["Location"]
    asked = parse_qs(urlsplit(to_provider).query)
    assert asked["code_challenge_method"] == ["S256"] and len(asked["code_challenge"][0]) == 43
    assert asked["redirect_uri"] == [CALLBACK] and asked["state"][0]
    back = requests.get(to_provider, allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    where = urlsplit(back.headers["Location"])
    assert where.path == "/login/callback"
    return client.get(f"{where.path}?{where.query}"), asked


def cookie_header(r) -> str:
    return next(v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("provhub_session="))


def test_sign_in_read_write_with_csrf_and_sign_out(site, provider):
    client, secret = site
    anonymous = client.get(f"/documents/{secret}", headers={"Accept": "application/json"})
    assert anonymous.status_code == 404
    r, _ = sign_in(client, provider)
    assert r.status_code == 302 and r.headers["Location"] == "/documents"
    cookie = cookie_header(r)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # plain http here
    # the session reads what the token's groups may read
    assert client.get(f"/documents/{secret}", headers={"Accept": "application/json"}).status_code == 200
    me = client.get("/login/session").get_json()
    assert me["signed_in"] and me["name"] == "alice" and me["groups"] == ["hess"] and me["role"] == "writer"
    # a write with the session cookie but without the CSRF token (a cross-site form) is refused
    r = client.post("/documents", data=DOC, headers=PN)
    assert r.status_code == 403 and r.get_json()["error"]["where"] == "X-CSRF-Token"
    r = client.post("/documents", data=DOC, headers={**PN, "X-CSRF-Token": "guess"})
    assert r.status_code == 403
    r = client.post("/documents", data=DOC, headers={**PN, "X-CSRF-Token": me["csrf"]})
    assert r.status_code == 201, r.get_data(as_text=True)
    # the site header offers sign-out, with the session's CSRF token in its form
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page and f'value="{me["csrf"]}"' in page and "Sign in" not in page
    # sign-out needs the token too, then the session reads as anonymous
    assert client.post("/logout").status_code == 403
    assert client.post("/logout", data={"csrf_token": me["csrf"]}).status_code == 303
    assert client.get(f"/documents/{secret}", headers={"Accept": "application/json"}).status_code == 404
    assert client.get("/login/session").get_json() == {"signed_in": False}


def test_the_site_header_offers_sign_in_only_where_it_is_configured(site, backend, request, tmp_path, provider):
    client, _ = site
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/login?next=/">Sign in</a>' in page and "/logout" not in page
    app = create_app(oidc_settings(backend, request, tmp_path, provider))
    try:
        assert "Sign in" not in app.test_client().get("/").get_data(as_text=True)
    finally:
        app.extensions["provhub.store"].close()


def test_secure_cookie_behind_tls(site, provider):
    client, _ = site
    provider.user = User("alice", {"wlcg.groups": ["/hess"]})
    r = client.get("/login", base_url="https://localhost")
    assert "Secure" in cookie_header(r)


def test_a_reader_group_signs_in_as_reader_and_sees_no_secret(site, provider):
    client, secret = site
    r, _ = sign_in(client, provider, groups=("/magic",))
    assert r.status_code == 302
    me = client.get("/login/session").get_json()
    assert me["role"] == "reader"
    assert client.get(f"/documents/{secret}", headers={"Accept": "application/json"}).status_code == 404
    r = client.post("/documents", data=DOC, headers={**PN, "X-CSRF-Token": me["csrf"]})
    assert r.status_code == 403
    for path in ("/", "/documents", "/provsap?ID=ex:secret&RESPONSEFORMAT=PROV-JSON"):
        assert "CONFIDENTIAL" not in client.get(path, headers={"Accept": "application/json"}).get_data(as_text=True)


def test_callback_refuses_a_foreign_state_and_a_replayed_code(site, provider):
    client, _ = site
    provider.user = User("alice", {"wlcg.groups": ["/hess"]})
    r = client.get("/login")
    back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    where = urlsplit(back.headers["Location"])
    query = parse_qs(where.query)
    forged = client.get(f"/login/callback?code={query['code'][0]}&state=not-mine")
    assert forged.status_code == 401 and forged.get_json()["error"]["where"] == "state"
    # the pending sign-in was used up by that answer: the right state no longer signs in
    assert client.get(f"{where.path}?{where.query}").status_code == 401
    assert client.get("/login/session").get_json() == {"signed_in": False}


def test_no_open_redirect_after_sign_in(site, provider):
    client, _ = site
    r, _ = sign_in(client, provider, next_path="//evil.example.org/x")
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_without_a_client_id_there_is_no_web_sign_in(backend, request, tmp_path, provider):
    app = create_app(oidc_settings(backend, request, tmp_path, provider))
    try:
        assert app.test_client().get("/login").status_code == 404
    finally:
        app.extensions["provhub.store"].close()


def test_code_without_its_verifier_is_refused_by_the_provider(provider):
    """PKCE as the provider holds it: the code alone does not buy a token."""
    provider.user = User("alice", {"wlcg.groups": ["/hess"]})
    q = {
        "response_type": "code",
        "client_id": "provhub-web",
        "redirect_uri": CALLBACK,
        "scope": "openid",
        "state": "s",
        "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        "code_challenge_method": "S256",
    }
    back = requests.get(provider.issuer + "/authorize", params=q, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}
    r = requests.post(provider.issuer + "/token", data=data, auth=("provhub-web", "provhub-web-secret"), timeout=10)
    assert r.status_code == 400 and AUDIENCE not in r.text


# -- the ID token: who signed in, for this sign-in only (OpenID Connect Core 1.0, 3.1.3.7) ------


def to_callback(client, provider):
    """Start a sign-in and let the provider answer; the callback path and query, not yet followed."""
    provider.user = User("alice", {"wlcg.groups": ["/hess"], "preferred_username": "alice"})
    r = client.get("/login")
    back = requests.get(r.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    where = urlsplit(back.headers["Location"])
    return f"{where.path}?{where.query}"


def test_a_good_sign_in_checks_the_id_token_of_its_own_nonce(site, provider):
    client, _ = site
    r, asked = sign_in(client, provider)
    assert r.status_code == 302
    assert asked["scope"][0].split()[0] == "openid" and len(asked["nonce"][0]) >= 32
    claims = jwt.decode(provider.id_tokens[-1], provider.key).claims
    assert claims["nonce"] == asked["nonce"][0] and claims["aud"] == ["provhub-web"]
    assert claims["iss"] == provider.issuer and claims["sub"] == "alice"
    # a second sign-in sends another nonce
    client.post("/logout", data={"csrf_token": client.get("/login/session").get_json()["csrf"]})
    _, again = sign_in(client, provider)
    assert again["nonce"] != asked["nonce"] and again["state"] != asked["state"]
    # an ID token is not an access token for provhub (its audience is the client id)
    r = client.get("/documents", headers={"Authorization": f"Bearer {provider.id_tokens[-1]}"})
    assert r.status_code == 401 and "aud" in r.headers["WWW-Authenticate"]


def _now():
    return int(time.time())


BAD_ID_TOKENS = {
    "wrong nonce": ({"nonce": "the-nonce-of-another-sign-in"}, None, "nonce", "another nonce"),
    "no nonce": ({"nonce": None}, None, "nonce", "has no nonce"),
    "other audience": ({"aud": "another-client"}, None, "id_token", "client id 'provhub-web'"),
    "expired": ({"exp": _now() - 3600, "iat": _now() - 7200}, None, "id_token", "expired"),
    "no iat": ({"iat": None}, None, "id_token", "iat"),
    "other issuer": ({"iss": "https://elsewhere.example.org"}, None, "id_token", "issuer"),
    "other user": ({"sub": "mallory"}, None, "id_token", "different users"),
    "wrong at_hash": ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, None, "id_token", "at_hash"),
    "forged signature": ({}, "forge", "id_token", "signature does not verify"),
    "several audiences, no azp": ({"aud": ["provhub-web", "other"]}, None, "id_token", "azp"),
}


@pytest.mark.parametrize("case", list(BAD_ID_TOKENS))
def test_a_bad_id_token_refuses_the_sign_in(site, provider, case):
    client, secret = site
    changes, key, where, words = BAD_ID_TOKENS[case]
    provider.id_token_changes = changes
    provider.id_token_key = RSAKey.generate_key(2048) if key == "forge" else None
    callback = to_callback(client, provider)
    r = client.get(callback, headers={"Accept": "application/json"})
    assert r.status_code == 401, r.get_data(as_text=True)
    err = r.get_json()["error"]
    assert err["where"] == where and words in err["message"], err
    assert client.get("/login/session").get_json() == {"signed_in": False}
    assert client.get(f"/documents/{secret}", headers={"Accept": "application/json"}).status_code == 404


def test_a_refused_sign_in_is_a_page_for_a_browser(site, provider):
    client, _ = site
    provider.id_token_changes = {"nonce": "tampered"}
    callback = to_callback(client, provider)
    r = client.get(callback, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 401 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "<h1>Sign-in refused</h1>" in page and "another nonce than this sign-in sent" in page
    assert '<a href="/login">Sign in again</a>' in page and "default-src" in r.headers["Content-Security-Policy"]


def test_without_the_openid_scope_there_is_no_sign_in(backend, request, tmp_path, provider):
    """A client the provider gives no ID token (openid not granted) cannot sign in."""
    provider.add_client("no-openid", {}, scope="profile wlcg.groups", redirect_uris=[CALLBACK])
    app = create_app(
        oidc_settings(
            backend, request, tmp_path, provider, oidc_client_id="no-openid", oidc_client_secret="no-openid-secret"
        )
    )
    try:
        client = app.test_client()
        callback = to_callback(client, provider)
        r = client.get(callback)
        assert r.status_code == 401 and r.get_json()["error"]["where"] == "id_token"
        assert "openid" in r.get_json()["error"]["message"]
    finally:
        app.extensions["provhub.store"].close()


def test_a_replayed_callback_is_refused(site, provider):
    """The same answer again, by the same browser (its state was used up) and by a copy of the
    browser's cookie from before the answer (the provider's code is single-use)."""
    client, _ = site
    callback = to_callback(client, provider)
    before = client.get_cookie("provhub_session").value
    assert client.get(callback).status_code == 302  # signed in
    again = client.get(callback)
    assert again.status_code == 401 and again.get_json()["error"]["where"] == "state"
    copy = client.application.test_client()
    copy.set_cookie("provhub_session", before)
    r = copy.get(callback)
    assert r.status_code == 401 and r.get_json()["error"]["where"] == "code", r.get_data(as_text=True)
    assert copy.get("/login/session").get_json() == {"signed_in": False}


def test_the_openapi_document_has_the_sign_in_routes_where_they_exist(site):
    client, _ = site
    served, documented = served_and_documented(client.application)
    assert served - documented == set() and documented - served == set()
    spec = client.get("/openapi.json").get_json()
    sign_in = {"GET /login", "GET /login/callback", "GET /login/session", "POST /logout"}
    assert sign_in <= documented
    for line in sign_in:
        method, path = line.split()
        op = spec["paths"][path][method.lower()]
        assert op["x-provhub-only-with"] == "PROVHUB_OIDC_CLIENT_ID" and "Present only where" in op["description"]
    assert spec["components"]["securitySchemes"]["session"]["name"] == "provhub_session"


def test_an_id_token_of_another_accepted_issuer_is_refused(backend, request, tmp_path, provider):
    """Two issuers are accepted for bearer tokens; the sign-in went to the first, so an ID token
    signed by the second (valid there, with the right nonce, audience and user) is refused."""
    other = Provider()
    try:
        settings = oidc_settings(
            backend, request, tmp_path, provider, oidc_client_id="provhub-web", oidc_client_secret="provhub-web-secret"
        )
        settings = dataclasses.replace(settings, oidc_issuers=f"{provider.issuer},{other.issuer}")
        app = create_app(settings)
        try:
            client = app.test_client()
            provider.id_token_changes = {"iss": other.issuer}
            provider.id_token_key, provider.id_token_kid = other.key, other.key.kid
            callback = to_callback(client, provider)
            r = client.get(callback)
            assert r.status_code == 401, r.get_data(as_text=True)
            assert r.get_json()["error"]["where"] == "id_token" and "another issuer" in r.get_json()["error"]["message"]
            assert client.get("/login/session").get_json() == {"signed_in": False}
        finally:
            app.extensions["provhub.store"].close()
    finally:
        other.stop()
