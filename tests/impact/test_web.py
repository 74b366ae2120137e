"""The web pages: "compare with..." (/compare) and what depends on a record (/impacts), both
stores, with the leak checks of tests/impact/test_leaks.py's world."""

from __future__ import annotations

from provhub.app import services
from tests.impact import chains
from tests.impact.test_leaks import HIDDEN, get, world  # noqa: F401 (the fixture)


def test_compare_form_then_differences(store, settings, client):
    doc, a, b = chains.pair(software=("gammapy", "1.3"))
    services.ingest_prov(store, doc, settings=settings, validation="off")
    form = client.get("/compare", query_string={"A": a})
    text = form.get_data(as_text=True)
    assert form.status_code == 200 and 'name="B"' in text and "Compare" in text
    assert form.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = client.get("/compare", query_string={"A": a, "B": b}).get_data(as_text=True)
    assert "<strong>1</strong> difference(s)" in page and "gammapy: A 1.2, B 1.3" in page
    missing = client.get("/compare", query_string={"A": a, "B": "ex:nosuch"})
    assert missing.status_code == 200 and "no record with id" in missing.get_data(as_text=True)
    assert client.get("/compare", query_string={"A": "ex:nosuch"}).status_code == 404
    assert client.get("/compare").status_code == 400
    impacts = client.get("/impacts", query_string={"ID": chains.irf_id(1, "prod5-v0.1").uri}).get_data(as_text=True)
    assert "<strong>3</strong> affected product(s)" in impacts and "spectrum a" in impacts and "analysis b" in impacts


def test_a_record_page_links_compare_and_what_depends_on_it(store, settings, client):
    from urllib.parse import quote

    doc, a, _b = chains.pair(software=("gammapy", "1.3"))
    services.ingest_prov(store, doc, settings=settings, validation="off")
    page = client.get("/records/" + quote(a, safe="")).get_data(as_text=True)
    assert f'href="/compare?A={a}"' in page and f'href="/impacts?ID={a}"' in page


def test_pages_hide_what_the_caller_may_not_read(world):  # noqa: F811
    client, tokens = world
    for who in ("anonymous", "other"):
        page = get(client, tokens, who, "/impacts", ID="ex:irf")
        assert page.status_code == 200
        for s in HIDDEN:
            assert s not in page.get_data(as_text=True)
        hidden = get(client, tokens, who, "/compare", A="ex:dl5", B="ex:hiddenproduct").get_data(as_text=True)
        unknown = get(client, tokens, who, "/compare", A="ex:dl5", B="ex:nosuchthing").get_data(as_text=True)
        assert hidden.replace("hiddenproduct", "X") == unknown.replace("nosuchthing", "X")
        assert get(client, tokens, who, "/compare", A="ex:hiddenproduct").status_code == 404
        assert get(client, tokens, who, "/impacts", ID="ex:hiddenproduct").status_code == 404
    mine = get(client, tokens, "hess", "/impacts", ID="ex:irf").get_data(as_text=True)
    assert "TOPSECRET spectrum" in mine
