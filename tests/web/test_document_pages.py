"""Document pages (issue 18): ``GET /documents/<id>`` gives a browser an HTML page and every API
client what it got before; a hidden document is the same 404 as an unknown one; the page shows
nothing a hidden document says (each store backend)."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from provhub.app import services
from provhub.app.access import Viewer
from provhub.provdm import formats
from tests.web.worlds import rights_world

EX = "http://example.org/cta#"
#: what Chromium and Firefox send for a page
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
PUBLIC = """document
  prefix ex <http://example.org/cta#>
  entity(ex:dl5, [prov:label="Crab spectrum", ex:dataLevel="DL5"])
  activity(ex:analysis, [prov:label="spectral analysis"])
  wasGeneratedBy(ex:dl5, ex:analysis, -)
  used(ex:analysis, ex:a10, -)
  used(ex:analysis, ex:a2, -)
  entity(ex:a10, [ex:obs_id=23559])
  entity(ex:a2, [ex:obs_id=23523])
  agent(ex:alice, [prov:type='prov:Person', prov:label="Alice Analyst"])
  wasAssociatedWith(ex:analysis, ex:alice, -)
endDocument"""
PRIVATE = """document
  prefix ex <http://example.org/cta#>
  activity(ex:analysis, [prov:label="SECRET-LABEL", ex:note="SECRET-NOTE"])
  entity(ex:secretrun, [prov:label="SECRET-RUN", ex:obs_id=99999])
  entity(ex:a2, [prov:label="SECRET-A2"])
  used(ex:analysis, ex:secretrun, -)
endDocument"""
SECRETS = ("SECRET", "99999", "secretrun")


@pytest.fixture
def world(backend, request, tmp_path):
    app, store, _, (public,), (private,) = rights_world(
        backend, request, tmp_path, (PUBLIC,), (PRIVATE,), release="2031-01-01"
    )
    yield app.test_client(), store, public, private
    store.close()


def page_of(client, doc_id: str, query: str = "", status: int = 200) -> str:
    r = client.get(f"/documents/{doc_id}{query}", headers={"Accept": BROWSER})
    assert r.status_code == status, r.get_data(as_text=True)[:2000]
    assert r.mimetype == "text/html" and "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert "sandbox" not in r.headers["Content-Security-Policy"] and "Accept" in r.headers["Vary"]
    return r.get_data(as_text=True)


def record_links(text: str) -> list[str]:
    return [html.unescape(m).replace("%3A", ":").replace("%2F", "/").replace("%23", "#")
            for m in re.findall(r'href="/records/([^"?]+)"', text)]  # fmt: skip


def test_a_browser_gets_the_documents_page(world):
    client, _, public, _ = world
    text = page_of(client, public)
    assert "<title>Document: Crab spectrum · provhub</title>" in text and 'class="banner"' in text
    facts = text[text.index('<dl class="facts">') : text.index("</dl>")]
    assert public in facts and "5 records and 4 relations" in facts and "<dt>Rights</dt><dd>public</dd>" in facts
    assert "<dt>Owner group</dt><dd>none</dd>" in facts and "by token:op1, as PROV-N" in facts
    # every record it asserts, products first, ids read naturally (a2 before a10)
    assert record_links(text) == [EX + "dl5", EX + "a2", EX + "a10", EX + "analysis", EX + "alice"]
    for f in ("json", "provn", "xml"):
        assert f'href="/documents/{public}?format={f}"' in text
    assert 'id="history-heading"' not in text  # nothing happened to it since


def test_a_retracted_documents_page_says_so_with_its_history(world):
    client, store, public, _ = world
    from provhub.app import identity

    identity.retract(store, public, viewer=Viewer(name="curator", role="admin"))
    text = page_of(client, public)
    assert "<dt>Status</dt><dd>retracted</dd>" in text
    history = text[text.index('id="history-heading"') : text.index('id="records-heading"')]
    assert "<td>retracted</td><td>curator</td>" in history


def test_the_private_documents_page_shows_rights_group_and_release_to_its_group(world):
    client, _, _, private = world
    assert client.get(f"/documents/{private}", headers={"Accept": BROWSER}).status_code == 404
    hess = Viewer(name="h", role="reader", groups=frozenset({"hess"}))
    app = client.application
    with app.test_request_context(f"/documents/{private}", headers={"Accept": BROWSER}):
        from flask import g

        g.provhub_viewer = hess
        resp = app.view_functions["documents.get_document"](doc_id=private)
        text = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<dt>Rights</dt><dd>proprietary</dd>" in text and "<dt>Owner group</dt><dd>hess</dd>" in text
    assert "<dt>Release date</dt><dd>2031-01-01</dd>" in text
    assert set(record_links(text)) == {EX + "analysis", EX + "secretrun", EX + "a2"}


def test_api_clients_get_what_they_got_before(world):
    client, store, public, _ = world
    as_json = services.document_text(store, public, "json")
    for accept in (None, "*/*", "application/json", "application/*", "text/html;q=0.5,application/json"):
        r = client.get(f"/documents/{public}", headers={"Accept": accept} if accept else {})
        assert r.status_code == 200 and r.mimetype == "application/x-prov+json", accept
        assert r.get_data(as_text=True) == as_json
        assert r.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    for fmt, media in formats.MEDIA_TYPES.items():
        r = client.get(f"/documents/{public}", headers={"Accept": media})
        assert r.status_code == 200 and r.mimetype == media
        # ?format= wins over a browser's Accept: the download links
        q = client.get(f"/documents/{public}?format={fmt}", headers={"Accept": BROWSER})
        assert q.mimetype == media and q.get_data() == r.get_data()
    assert client.get(f"/documents/{public}", headers={"Accept": "image/png"}).status_code == 406


def test_a_hidden_document_is_404_exactly_like_an_unknown_one(world):
    client, _, _, private = world
    unknown = "0" * 32
    hidden_page = page_of(client, private, status=404)
    unknown_page = page_of(client, unknown, status=404)
    assert hidden_page.replace(private, unknown) == unknown_page
    for accept in ("application/json", None):
        hidden = client.get(f"/documents/{private}", headers={"Accept": accept} if accept else {})
        none = client.get(f"/documents/{unknown}", headers={"Accept": accept} if accept else {})
        assert hidden.status_code == none.status_code == 404
        assert hidden.get_data(as_text=True).replace(private, unknown) == none.get_data(as_text=True)


def test_the_public_documents_page_shows_nothing_a_hidden_document_says(world):
    client, _, public, private = world
    text = page_of(client, public)
    for secret in (*SECRETS, private):
        assert secret not in text, secret
    assert "spectral analysis" in text  # the shared record as the public document states it


def test_many_records_are_paged(world, monkeypatch):
    client, _, public, _ = world
    from provhub.app.web import documents

    monkeypatch.setattr(documents, "RECORDS_PER_PAGE", 2)
    seen, url = [], f"/documents/{public}"
    while url:
        r = client.get(url, headers={"Accept": BROWSER})
        text = r.get_data(as_text=True)
        assert r.status_code == 200 and len(record_links(text)) <= 2
        seen += record_links(text)
        nxt = re.search(r'<a rel="next" href="([^"]+)"', text)
        url = html.unescape(nxt.group(1)) if nxt else None
    assert seen == [EX + "dl5", EX + "a2", EX + "a10", EX + "analysis", EX + "alice"]
    assert "Page 3 of 3" in text and "Records it asserts: 5–5 of 5" in text
    assert "past the last page" in page_of(client, public, "?page=4", status=404)
    assert "page must be a whole number" in page_of(client, public, "?page=x", status=400)


def test_record_pages_link_the_documents_page(world):
    client, _, public, _ = world
    text = client.get("/records/" + quote(EX + "dl5", safe="")).get_data(as_text=True)
    assert f'href="/documents/{public}"' in text  # its page, and each syntax to download
    for f in ("json", "provn", "xml"):
        assert f'href="/documents/{public}?format={f}"' in text


def test_a_document_of_many_runs_is_named_by_its_observations(world):
    client, store, _, _ = world
    from provhub.app.config import Settings
    from tests.web.worlds import OPERATOR

    runs = "\n".join(
        f'  entity(ex:ev{n}, [prov:label="events {n}", ex:obs_id={n}, ex:dataLevel="DL3"])' for n in (10, 2, 23523, 7)
    )
    text = f"document\n  prefix ex <http://example.org/cta#>\n{runs}\nendDocument"
    doc = services.ingest(store, text, "provn", settings=Settings(), viewer=OPERATOR).id
    page = page_of(client, doc)
    assert "<title>Document: DL3 data of 4 observations: 2, 7, 10 and 1 more · provhub</title>" in page


def test_a_large_document_lists_its_records_by_id_and_is_named_by_its_product(world, monkeypatch):
    client, _, public, _ = world
    from provhub.app.web import documents

    monkeypatch.setattr(documents, "LABEL_SCAN", 2)
    monkeypatch.setattr(documents, "RECORDS_PER_PAGE", 2)
    text = page_of(client, public)
    assert "<title>Document: Crab spectrum · provhub</title>" in text  # dl5 is not on this page
    assert record_links(text) == [EX + "a2", EX + "a10"]
    assert record_links(page_of(client, public, "?page=3")) == [EX + "dl5"]
