"""The home page (products first, recent documents, counts by kind and data level, all over what
the viewer may read) and search ranking (exact ids, OBS_IDs and labels above substring hits, ids
read naturally), issue 18, each store backend."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

import pytest

from provhub.app import services
from provhub.app.access import Viewer
from provhub.app.web import home, search
from provhub.app.web.records import Filters
from tests.web.worlds import OPERATOR, rights_world

EX = "http://example.org/cta#"
OLDER = """document
  prefix ex <http://example.org/cta#>
  entity(ex:old5, [prov:label="older Crab spectrum", ex:dataLevel="DL5"])
  entity(ex:old5/SPECTRUM, [prov:label="older Crab spectrum[SPECTRUM]", ex:dataLevel="DL5"])
  entity(ex:x_ev, [prov:label="Crab events", ex:dataLevel="DL3", ex:obs_id=23523])
  activity(ex:fit)
  wasGeneratedBy(ex:old5, ex:fit, -)
  used(ex:fit, ex:x_ev, -)
endDocument"""
NEWER = """document
  prefix ex <http://example.org/cta#>
  entity(ex:new4, [prov:label="stacked cube", ex:dataLevel="DL4"])
  entity(ex:zz_crab, [prov:label="crab", ex:note="the label is the search word"])
  entity(ex:obs23523, [prov:label="run table", ex:obs_id="023523"])
  entity(ex:ref, [ex:comment="made for the crab paper"])
endDocument"""
PRIVATE = """document
  prefix ex <http://example.org/cta#>
  entity(ex:secret6, [prov:label="SECRET-PRODUCT", ex:dataLevel="DL6"])
  entity(ex:secret2, [prov:label="SECRET-DL2", ex:dataLevel="DL2"])
  agent(ex:spy, [prov:label="SECRET-AGENT"])
endDocument"""


def naturals(n: int) -> str:
    """Records pc1:a1 .. pc1:a<n>, whose store order (by IRI) puts a10 before a2."""
    lines = ["document", "  prefix pc1 <http://example.org/pc1/>"]
    lines += [f"  entity(pc1:a{i})" for i in range(1, n + 1)]
    return "\n".join(lines + ["endDocument"])


@pytest.fixture
def world(backend, request, tmp_path):
    app, store, settings, _, _ = rights_world(backend, request, tmp_path, (OLDER, NEWER), (PRIVATE,))
    yield app.test_client(), store, settings
    store.close()


def links(text: str) -> list[str]:
    return [html.unescape(m).replace("%3A", ":").replace("%2F", "/").replace("%23", "#")
            for m in re.findall(r'href="/records/([^"?]+)"', text)]  # fmt: skip


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_home_page_shows_products_newest_first_then_documents_and_counts(world):
    client, store, _ = world
    r = client.get("/")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    products = section(text, 'id="products-heading"', "</section>")
    # the newest document's product first; a product's HDU goes with its file
    assert links(products) == [EX + "new4", EX + "old5"]
    docs = section(text, 'id="documents-heading"', "</section>")
    assert "Recent documents (2 in all)" in docs
    assert re.findall(r'href="/documents/([0-9a-f]+)"', docs) == [d.id for d in reversed(store.list_documents()[0][:2])]
    assert "older Crab spectrum" in docs  # a document is named by its product
    counts = section(text, 'id="counts-heading"', "</section>")
    assert "By kind (8 records)" in counts
    assert re.search(r'kind=entity">entity</a></th><td>7</td>', counts)
    assert re.search(r'kind=activity">activity</a></th><td>1</td>', counts)
    assert re.search(r'kind=agent">agent</a></th><td>0</td>', counts)
    for level, n in (("DL5", 2), ("DL4", 1), ("DL3", 1)):
        assert re.search(rf'level={level}">{level}</a></th><td>{n}</td>', counts), level
    assert "DL6" not in counts and "DL2" not in counts
    assert text.index('id="products-heading"') < text.index('id="results-heading"')  # products first
    assert "All records 1–8 of 8" in text


def test_the_home_page_counts_and_lists_only_what_the_viewer_may_read(world):
    client, store, _ = world
    text = client.get("/").get_data(as_text=True)
    for secret in ("SECRET", "secret6", "secret2", "spy", "3 in all", "9 records", "10 records"):
        assert secret not in text, secret
    anonymous = home.overview(store, viewer=Viewer())
    hess = home.overview(store, viewer=Viewer(name="h", role="reader", groups=frozenset({"hess"})))
    assert anonymous.records == 8 and hess.records == 11
    assert anonymous.kinds == {"entity": 7, "activity": 1, "agent": 0}
    assert hess.kinds == {"entity": 9, "activity": 1, "agent": 1}
    assert dict(hess.levels)["DL6"] == 1 and "DL6" not in dict(anonymous.levels)
    assert [p.id for p in hess.products] == [EX + "secret6", EX + "new4", EX + "old5"]
    assert hess.documents_total == 3 and anonymous.documents_total == 2


def test_a_search_ranks_exact_ids_obs_ids_and_labels_above_substring_hits(world):
    client, _, _ = world
    found = links(section(client.get("/?q=crab").get_data(as_text=True), 'id="results-heading"', "</section>"))
    # the label "crab" itself, then labels starting with it, labels with the word, then any text
    assert found == [EX + "zz_crab", EX + "x_ev", EX + "old5", EX + "old5/SPECTRUM", EX + "ref"]
    found = links(section(client.get("/?q=23523").get_data(as_text=True), 'id="results-heading"', "</section>"))
    assert found[:2] == [EX + "x_ev", EX + "obs23523"]  # both OBS_ID 23523 (023523 too), the DL3 first
    found = links(section(client.get("/?q=ex:fit").get_data(as_text=True), 'id="results-heading"', "</section>"))
    assert found == [EX + "fit"]


def test_ids_are_listed_and_ranked_naturally(world):
    client, store, settings = world
    services.ingest(store, naturals(12), "provn", settings=settings, viewer=OPERATOR)
    for url in ("/?kind=entity&limit=200", "/?q=pc1:a", "/?q=example.org/pc1"):
        found = [i for i in links(client.get(url).get_data(as_text=True)) if "/pc1/" in i]
        assert found[-12:] == [f"http://example.org/pc1/a{i}" for i in range(1, 13)], url
    text = client.get("/?q=" + quote("pc1:a2", safe="")).get_data(as_text=True)
    assert links(section(text, 'id="results-heading"', "</section>"))[0] == "http://example.org/pc1/a2"


sample = pytest.importorskip("provhub.app.sample")


def test_after_the_sample_a_search_for_crab_lists_the_dl5_product_first(client, store, settings):
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    for doc in docs:
        services.ingest_prov(store, doc, settings=settings)
    text = client.get("/?q=crab").get_data(as_text=True)
    first = re.search(r'<tbody>\s*<tr class="kind-(\w+)">\s*<td><a href="([^"]+)">([^<]+)</a>', text)
    assert first and first.group(3) == "crab_hess_fp.fits"
    assert first.group(2) == "/records/" + quote(sample.SAMPLE_PRODUCT_ID, safe="")
    front = client.get("/").get_data(as_text=True)
    products = section(front, 'id="products-heading"', "</section>")
    assert [m for m in re.findall(r'">([^<]+)</a></td><td>DL5', products)] == [
        "pks2155_hess_lc_3bins.fits",
        "crab_hess_fp.fits",
    ]


def test_large_documents_are_read_for_products_only_or_listed_unread(world, monkeypatch):
    client, store, _ = world
    monkeypatch.setattr(home, "FACTS_SCAN", 2)  # read the facts of the records that may be products
    assert [p.id for p in home.overview(store, viewer=Viewer()).products] == [EX + "new4", EX + "old5"]
    monkeypatch.setattr(home, "PRODUCT_SCAN", 3)  # no document fits: listed, not read
    front = home.overview(store, viewer=Viewer())
    assert [d.label for d in front.documents] == [None, None]
    assert [p.id for p in front.products] == [EX + "old5", EX + "new4"]  # from the store's levels
    docs = section(client.get("/").get_data(as_text=True), 'id="documents-heading"', "</section>")
    assert docs.count('href="/documents/') == 2 and ">document " in docs


PLAIN = """document
  prefix ex <http://example.org/cta#>
  entity(ex:plain, [prov:label="a public table"])
  entity(ex:cube, [prov:label="a public cube", ex:dataLevel="DL4"])
endDocument"""
RELEVELS = """document
  prefix ex <http://example.org/cta#>
  entity(ex:plain, [ex:dataLevel="DL5"])
endDocument"""
PUBLIC5 = """document
  prefix ex <http://example.org/cta#>
  entity(ex:pub5, [prov:label="a public spectrum", ex:dataLevel="DL5"])
endDocument"""


SECRET5 = """document
  prefix ex <http://example.org/cta#>
  entity(ex:secret5, [prov:label="SECRET-DL5", ex:dataLevel="DL5"])
endDocument"""


def test_products_the_newest_documents_do_not_give_are_listed_from_the_store_levels(world, monkeypatch):
    """The scan of the newest documents stops short of a product: the store's DL4-DL6 entities
    top the list up, after what the scan found, as the viewer may read them."""
    client, store, settings = world
    hess = Viewer(name="h", role="reader", groups=frozenset({"hess"}))
    monkeypatch.setattr(home, "PRODUCT_SCAN", 5)  # the newer document (4 records) is read, the older not
    front = home.overview(store, viewer=Viewer())
    assert [p.id for p in front.products] == [EX + "new4", EX + "old5"]  # old5's HDU goes with it
    assert [d.label for d in front.documents] == ["stacked cube", None]
    services.ingest(store, SECRET5, "provn", settings=settings, viewer=OPERATOR, rights="proprietary", group="hess")
    monkeypatch.setattr(home, "PRODUCT_SCAN", 3)  # no readable document is read
    products = section(client.get("/").get_data(as_text=True), 'id="products-heading"', "</section>")
    assert links(products) == [EX + "old5", EX + "new4"] and "SECRET" not in products  # DL5 first
    # the hidden DL5 product's document is the newest: read, so first; then the store's levels
    found = [EX + "secret5", EX + "secret6", EX + "old5", EX + "new4"]
    assert [p.id for p in home.overview(store, viewer=hess).products] == found
    monkeypatch.setattr(home, "PRODUCT_SCAN", 0)
    assert [p.id for p in home.overview(store, viewer=hess).products] == [
        EX + "secret6",
        *found[2:3],
        found[0],
        found[3],
    ]
    monkeypatch.setattr(home, "PRODUCTS_SHOWN", 1)
    assert [p.id for p in home.overview(store, viewer=hess).products] == [EX + "secret6"]


def test_a_level_that_only_a_hidden_document_gives_is_neither_counted_nor_found(
    backend, request, tmp_path, monkeypatch
):
    """The store keeps the merged record's level; a viewer gets the level of what it may read."""
    app, store, settings, _, _ = rights_world(backend, request, tmp_path, (PLAIN,), (RELEVELS,))
    try:
        hess = Viewer(name="h", role="reader", groups=frozenset({"hess"}))
        assert services.level_counts(store, viewer=Viewer()) == ({**dict.fromkeys(home.LEVELS, 0), "DL4": 1}, True)
        assert services.level_counts(store, viewer=hess)[0] == {**dict.fromkeys(home.LEVELS, 0), "DL4": 1, "DL5": 1}
        assert services.search_records(store, "", None, viewer=Viewer(), level="DL5") == ([], 0)
        assert services.search_records(store, "public", None, viewer=Viewer(), level="DL5") == ([], 0)
        assert [n.id for n in services.search_records(store, "", None, viewer=hess, level="DL5")[0]] == [EX + "plain"]
        front = app.test_client().get("/").get_data(as_text=True)
        assert "DL5" not in section(front, 'id="counts-heading"', "</section>")
        listed = app.test_client().get("/?level=DL5").get_data(as_text=True)
        assert EX + "plain" not in links(listed) and "a public table" not in listed
        services.ingest(store, PUBLIC5, "provn", settings=settings, viewer=OPERATOR)  # DL5 counted: read
        monkeypatch.setattr(home, "PRODUCT_SCAN", 0)  # the products come from the store's levels
        assert [p.id for p in home.overview(store, viewer=Viewer()).products] == [EX + "pub5", EX + "cube"]
        assert [p.id for p in home.overview(store, viewer=hess).products] == [EX + "pub5", EX + "plain", EX + "cube"]
        products = section(app.test_client().get("/").get_data(as_text=True), 'id="products-heading"', "</section>")
        assert "a public table" not in products and EX + "plain" not in links(products)
    finally:
        store.close()


LEVELLED = "\n".join(
    ["document", "  prefix ex <http://example.org/cta#>"]
    + [f'  entity(ex:d{i}, [ex:dataLevel="DL5"])' for i in range(7)]
    + [
        "  entity(ex:raised)",  # a hidden document makes it DL5: not DL5 to others
        '  entity(ex:lowered, [ex:dataLevel="DL5"])',  # a hidden document makes it an IRF: DL5 to others
        '  entity(ex:kept, [ex:dataLevel="DL5"])',  # a hidden document labels it
        "endDocument",
    ]
)
RELEVELLED = """document
  prefix ex <http://example.org/cta#>
  entity(ex:raised, [ex:dataLevel="DL5"])
  entity(ex:lowered, [ex:HDUCLAS1="RESPONSE"])
  entity(ex:kept, [prov:label="SECRET-KEPT"])
endDocument"""


def test_a_restricted_listing_pages_through_what_the_viewer_may_read_without_reading_it_all(
    backend, request, tmp_path, monkeypatch
):
    """A listing by level, by text or both is the store's, corrected for the records hidden
    documents also assert: page after page it is what reading every candidate gives, and it
    reads no candidate."""
    _app, store, _settings, _, _ = rights_world(backend, request, tmp_path, (LEVELLED,), (RELEVELLED,))
    try:
        anonymous = Viewer()
        expected = sorted(EX + s for s in ("kept", "lowered", *(f"d{i}" for i in range(7))))

        def pages(text="", level="DL5", limit=4):
            out, totals = [], set()
            for offset in range(0, 12, limit):
                nodes, total = services.search_records(store, text, "entity", viewer=anonymous, level=level,
                                                       limit=limit, offset=offset)  # fmt: skip
                out += nodes
                totals.add(total)
            return [(n.id, n.attrs) for n in out], totals

        asked = [(text, level) for text in ("", "d", "kept", "SECRET", "dl5", "response") for level in ("DL5", None)]
        monkeypatch.setattr(services, "SEARCH_CANDIDATES", 1)  # reading candidates would miss most
        fast = {q: pages(*q) for q in asked}
        assert [rid for rid, _a in fast["", "DL5"][0]] == expected and fast["", "DL5"][1] == {9}
        assert "SECRET" not in repr(list(fast.values()))  # the hidden label is in no listing
        assert fast["SECRET", None] == ([], {0}) and fast["response", None] == ([], {0})
        assert [rid for rid, _a in fast["kept", "DL5"][0]] == [EX + "kept"]
        monkeypatch.setattr(services, "SEARCH_CANDIDATES", 100_000)
        monkeypatch.setattr(services, "LEVEL_RECHECK", 0)  # more mixed records than rechecked: read them all
        assert {q: pages(*q) for q in asked} == fast
    finally:
        store.close()


def test_level_counts_are_exact_on_a_store_larger_than_a_page(backend, request, tmp_path):
    """Counted by the store off each record's kept level, not read off the first records."""
    lines = ["document", "  prefix ex <http://example.org/cta#>"]
    lines += [f'  entity(ex:run{i}, [ex:dataLevel="DL3"])' for i in range(2_500)]
    lines += [f'  entity(ex:irf{i}, [ex:HDUCLAS1="RESPONSE"])' for i in range(30)]
    lines += ["  entity(ex:dl5-spectrum)", "endDocument"]
    app, store, _, _, _ = rights_world(backend, request, tmp_path, ("\n".join(lines),), ())
    try:
        front = home.overview(store, viewer=Viewer())
        assert dict(front.levels) == {"DL3": 2_500, "IRF": 30, "DL5": 1} and front.levels_complete
        found, total = services.search_records(store, "", None, viewer=Viewer(), level="IRF", limit=5)
        assert total == 30 and [n.id for n in found] == sorted(EX + f"irf{i}" for i in range(30))[:5]
    finally:
        store.close()


#: records that match every search word below and sort before the exact hits by IRI (cta#a0 ..)
FILLERS = "\n".join(
    ["document", "  prefix ex <http://example.org/cta#>"]
    + [
        f'  entity(ex:a{i}, [prov:label="crab 023523 ex:zz_all secret-product Müller {i}", ex:dataLevel="DL3", '
        f'ex:see="http://example.org/cta#zz_all", ex:also="http://example.org/cta#secret6"])'
        for i in range(8)
    ]
    + [f'  activity(ex:b{i}, [prov:label="ex:zz_all step {i}"])' for i in range(6)]
    + [
        '  entity(ex:zz_all, [prov:label="the id is the search word"])',
        '  entity(ex:zz_obs, [prov:label="a run", ex:obs_id="ex:zz_all", ex:dataLevel="DL3"])',
        '  entity(ex:zz_lab, [prov:label="EX:ZZ_ALL"])',
        '  entity(ex:zz_shared, [ex:note="public"])',
        '  entity(ex:zz_mu, [prov:label="Müller"])',
        "endDocument",
    ]
)
HIDDEN_LABELS = """document
  prefix ex <http://example.org/cta#>
  entity(ex:zz_shared, [prov:label="secret-product"])
endDocument"""


@pytest.fixture
def crowded(backend, request, tmp_path, monkeypatch):
    """More text matches than the search ranks, all before the exact hits in the store's order."""
    app, store, settings, _, _ = rights_world(
        backend, request, tmp_path, (OLDER, NEWER, FILLERS), (PRIVATE, HIDDEN_LABELS)
    )
    monkeypatch.setattr(search, "SCAN_LIMIT", 5)
    yield app.test_client(), store
    store.close()


def results(client, q: str) -> list[str]:
    text = client.get("/?q=" + quote(q, safe="")).get_data(as_text=True)
    assert "looked at the first" in text  # the page says it saw only the first matches
    return links(section(text, 'id="results-heading"', "</section>"))


def test_exact_hits_are_on_the_first_page_past_the_scan_limit(crowded):
    client, store = crowded
    # the id, then the OBS_ID, then the label (any case) equal to the text, then what was read
    assert results(client, "ex:zz_all")[:4] == [EX + "zz_all", EX + "zz_obs", EX + "zz_lab", EX + "a0"]
    assert results(client, "crab")[:2] == [EX + "zz_crab", EX + "a0"]  # the label "crab"
    assert results(client, "23523")[:2] == [EX + "x_ev", EX + "obs23523"]  # 23523 and "023523"
    assert results(client, "023523")[:2] == [EX + "obs23523", EX + "a0"]  # 23523 does not hold it
    assert results(client, EX + "zz_all")[0] == EX + "zz_all"
    assert results(client, "MÜLLER")[:2] == [EX + "zz_mu", EX + "a0"]  # past ASCII, the JSON escapes it
    found = search.find(store, "ex:zz_all", "entity", Filters(), viewer=Viewer(), limit=20, offset=0)
    assert [f.id for f in found.hits] == [EX + s for s in ("zz_all", "zz_obs", "zz_lab", *(f"a{i}" for i in range(5)))]
    assert found.total == 8 and not found.complete  # a lower bound, no record twice
    # an exact hit of another kind or level is not added
    found = search.find(store, "ex:zz_all", "activity", Filters(), viewer=Viewer(), limit=20, offset=0)
    assert [f.id for f in found.hits] == [EX + f"b{i}" for i in range(5)] and found.total == 5
    found = search.find(store, "ex:zz_all", None, Filters(level="DL3"), viewer=Viewer(), limit=20, offset=0)
    assert [f.id for f in found.hits] == [EX + s for s in ("zz_obs", *(f"a{i}" for i in range(5)))]


def test_an_exact_hit_that_only_a_hidden_document_gives_is_neither_shown_nor_counted(crowded):
    client, store = crowded
    assert EX + "secret6" not in results(client, "secret-product")
    assert EX + "zz_shared" not in results(client, "secret-product")  # its label is hidden
    assert results(client, "ex:secret6") == [EX + f"a{i}" for i in range(5)]  # a hidden id
    assert "SECRET" not in client.get("/?q=ex:secret6").get_data(as_text=True)
    anonymous = search.find(store, "secret-product", None, Filters(), viewer=Viewer(), limit=20, offset=0)
    assert [f.id for f in anonymous.hits] == [EX + f"a{i}" for i in range(5)] and anonymous.total == 5
    hess = Viewer(name="h", role="reader", groups=frozenset({"hess"}))
    found = search.find(store, "secret-product", None, Filters(), viewer=hess, limit=20, offset=0)
    assert [f.id for f in found.hits][:2] == [EX + "secret6", EX + "zz_shared"] and found.total == 7
