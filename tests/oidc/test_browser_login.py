"""Sign-in in a real browser (headless Chromium, Playwright) through the loopback provider:
the page of a proprietary record is not there before, is there once signed in, and is gone again
after signing out; an ID token with another nonce ends on the "Sign-in refused" page."""

from __future__ import annotations

import threading
from urllib.parse import quote

import pytest
from werkzeug.serving import make_server

from provhub.app import create_app, services
from provhub.app.access import Viewer
from provhub.app.config import Settings
from provhub.app.stores import open_store
from tests.oidc.provider import AUDIENCE, Provider, User
from tests.web.test_browser import browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser
SECRET = """document
  prefix ex <http://example.org/cta#>
  entity(ex:dl4, [prov:label="proprietary DL4 cube", ex:note="CONFIDENTIAL-88"])
endDocument"""
RECORD = "/records/" + quote("http://example.org/cta#dl4", safe="")


def test_sign_in_and_out_in_the_browser(browser, tmp_path):  # noqa: F811
    provider = Provider()
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'web.db'}",
        sample="off",
        auth="on",
        oidc_issuers=provider.issuer,
        oidc_audience=AUDIENCE,
        oidc_writer_groups="hess",
        oidc_client_id="provhub-web",
        oidc_client_secret="provhub-web-secret",
    )
    store = open_store(settings.store_url, settings)
    op = Viewer(name="op", role="admin")
    services.ingest(store, SECRET, "provn", settings=settings, viewer=op, rights="proprietary", group="hess")
    server = make_server("127.0.0.1", 0, create_app(settings, store=store), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    provider.add_client("provhub-web", {}, scope="openid profile wlcg.groups", redirect_uris=[base + "/login/callback"])
    provider.user = User("alice", {"wlcg.groups": ["/hess"], "preferred_username": "alice"})
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []  # script errors; the two 404 pages are meant
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        r = page.goto(base + RECORD)
        assert r.status == 404 and "CONFIDENTIAL" not in page.content()
        page.goto(base + "/login?next=" + quote(RECORD, safe=""))
        page.wait_for_url(base + RECORD)
        assert "CONFIDENTIAL-88" in page.locator("table.attributes").inner_text()
        assert provider.authorize_requests[-1]["code_challenge_method"] == "S256"
        cookie = next(c for c in page.context.cookies() if c["name"] == "provhub_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        me = page.request.get(base + "/login/session").json()
        assert me["signed_in"] and me["name"] == "alice"
        assert page.request.post(base + "/logout").status == 403  # no CSRF token
        assert page.request.post(base + "/logout", form={"csrf_token": me["csrf"]}).ok
        r = page.goto(base + RECORD)
        assert r.status == 404 and "CONFIDENTIAL" not in page.content()
        # an answer whose ID token carries another nonce: the browser lands on the refusal page
        provider.id_token_changes = {"nonce": "the-nonce-of-another-sign-in"}
        r = page.goto(base + "/login?next=" + quote(RECORD, safe=""))
        assert r.status == 401 and page.locator("h1").inner_text() == "Sign-in refused"
        assert "another nonce than this sign-in sent" in page.locator("p.error").inner_text()
        assert page.locator("a", has_text="Sign in again").get_attribute("href") == "/login"
        r = page.goto(base + RECORD)
        assert r.status == 404 and "CONFIDENTIAL" not in page.content()
        assert errors == []
    finally:
        context.close()
        server.shutdown()
        thread.join(10)
        server.server_close()
        store.close()
        provider.stop()
