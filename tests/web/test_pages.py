"""The lineage web page over real stores (Flask test client), each backend."""

from __future__ import annotations

import dataclasses
import html
import re
from urllib.parse import quote

import pytest
from prov.model import ProvDocument

from provhub.app import create_app, services
from tests.conftest import ROOT

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
EX = "http://example.org/cta#"

FITS_DOC = """document
  prefix ex <http://example.org/cta#>
  prefix fits <https://provhub.org/ns/fits#>
  entity(ex:events_23523, [prov:label="DL3 events of run 23523", fits:OBS_ID=23523,
         fits:EXPOSURE="1687.5" %% xsd:double, fits:DATE-OBS="2004-12-04",
         fits:TIME-OBS="22:08:10.184", fits:DATE-END="2004-12-04", fits:TIME-END="22:36:17.184",
         fits:DATE="2018-05-06T09:14:31",
         fits:HISTORY="line one\\nline two", fits:TELESCOP="HESS"])
endDocument
"""
SCRIPT_LABEL = "<script>alert('x')</script>"
SCRIPT_DOC = f"""document
  prefix ex <http://example.org/cta#>
  entity(ex:evil, [prov:label="{SCRIPT_LABEL}"])
  activity(ex:make)
  wasGeneratedBy(ex:evil, ex:make, -)
endDocument
"""


def page(iri: str, query: str = "") -> str:
    return "/records/" + quote(iri, safe="") + (f"?{query}" if query else "")


def links(text: str) -> list[str]:
    """Record page links of a page, in order, as IRIs."""
    return [
        html.unescape(m).replace("%3A", ":").replace("%2F", "/").replace("%23", "#")
        for m in re.findall(r'href="/records/([^"?]+)"', text)
    ]


def get_html(client, url: str, status: int = 200) -> str:
    r = client.get(url)
    assert r.status_code == status, r.get_data(as_text=True)[:2000]
    assert r.mimetype == "text/html"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    return r.get_data(as_text=True)


@pytest.fixture
def known(store, settings):
    return services.ingest(store, KNOWN, "provn", settings=settings).id


def test_search_finds_a_record_by_attribute_text(client, known):
    text = get_html(client, "/?q=23523")
    assert links(text) == [EX + "dl3a"]
    assert "Records 1–1 of 1" in text
    assert 'value="23523"' in text


@pytest.mark.parametrize("text", ["ex:dl5", EX + "dl5"])
def test_search_by_exact_id_shows_the_record_first(client, known, text):
    page_text = get_html(client, "/?q=" + quote(text, safe=""))
    exact = page_text[page_text.index('class="exact"') : page_text.index("results-heading")]
    assert links(exact) == [EX + "dl5"] and "Crab spectrum" in exact
    assert 'class="exact"' not in get_html(client, "/?q=dl5")


def test_an_empty_store_says_how_to_fill_it(client):
    text = get_html(client, "/")
    assert "No record found" in text and "provhub ingest" in text
    assert "provhub ingest" not in get_html(client, "/?q=nothing")


def test_empty_search_lists_every_record_paginated(client, store, known):
    _, total = services.search_records(store, "", None, viewer=services.OPERATOR)
    seen, url = [], "/?limit=4"
    while url:
        text = get_html(client, url)
        found = links(text[text.index('id="results-heading"') :])  # the home page's products come first
        assert 1 <= len(found) <= 4
        seen += found
        nxt = re.search(r'<a rel="next" href="([^"]+)"', text)
        url = html.unescape(nxt.group(1)) if nxt else None
        if url:
            assert "limit=4" in url
    assert len(seen) == len(set(seen)) == total
    assert f"of {total}" in text and 'rel="prev"' in text


@pytest.mark.parametrize(
    "query,expected",
    [
        ("kind=agent", {"alice", "gammapy", "hess"}),
        ("q=ex&kind=activity", {"analysis", "dl3prod", "later"}),
        ("level=DL3", {"dl3a", "dl3b", "dl3prod"}),  # the data level the pictures show
        ("level=dl5", {"dl5"}),
        ("from=2020-01-02&to=2020-01-02", {"analysis"}),
        ("from=2020-01-02T00:30&to=2020-01-03", {"analysis"}),
        ("from=2020-01-03", set()),
    ],
)
def test_search_filters(client, known, query, expected):
    assert set(links(get_html(client, "/?" + query))) == {EX + e for e in expected}


@pytest.mark.parametrize(
    "query,where",
    [
        ("kind=plant", "kind"),
        ("level=DL9", "level"),
        ("from=yesterday", "from"),
        ("from=2020-02-01&to=2020-01-01", "to"),
        ("limit=0", "limit"),
        ("page=x", "page"),
    ],
)
def test_bad_search_parameters_are_an_html_error(client, query, where):
    text = get_html(client, "/?" + query, status=400)
    assert f"<code>{where}</code>" in text


def test_record_page_lists_attributes_documents_and_lineage(client, known):
    text = get_html(client, page(EX + "dl3a", "depth=ALL"))
    assert "<h1>" in text and "ex:dl3a" in text
    # attributes with prefix and datatype
    assert re.search(
        r'<th scope="row" title="http://example.org/cta#obs_id">ex:obs_id</th>\s*'
        r'<td class="value">23523</td>\s*<td class="type">xsd:int</td>',
        text,
    )
    # the document that asserted it, linked to the API
    assert f'href="/documents/{known}"' in text
    # the lineage graph: inline SVG whose nodes link to record pages
    svg = text[text.index("<svg") : text.index("</svg>")]
    assert 'aria-labelledby="lineage-caption"' in svg
    assert f"<title>{EX}dl3prod</title>" in svg and not re.search(r"<title>n\d+", svg)
    assert f'xlink:href="/records/{quote(EX + "dl3prod", safe="")}"' in svg
    assert f'xlink:href="/records/{quote(EX + "sim", safe="")}"' in svg
    assert "ex:dl5" not in svg  # BACK: the products made from it are not shown
    assert "<dt>OBS_ID</dt><dd>23523</dd>" in get_html(client, "/records/ex:dl3a")  # prefixed name
    forth = get_html(client, page(EX + "dl3a", "direction=FORTH&depth=2"))
    assert "Crab spectrum" in forth[forth.index("<svg") : forth.index("</svg>")]


def test_record_page_downloads_every_format(client, known):
    text = get_html(client, page(EX + "dl5", "depth=ALL&layout=LR"))
    downloads = dict(
        (t, html.unescape(u)) for u, t in re.findall(r'<li><a href="([^"]+)" download="[^"]+">([^<]+)</a></li>', text)
    )
    media = {
        "PROV-JSON": "application/x-prov+json",
        "PROV-N": "text/provenance-notation",
        "PROV-XML": "application/provenance+xml",
        "PROV-O (Turtle)": "text/turtle",
        "PROV-O (JSON-LD)": "application/ld+json",
        "SVG picture": "image/svg+xml",
        "PNG picture": "image/png",
        "PDF": "application/pdf",
        "Graphviz DOT": "text/vnd.graphviz",
        "VOTable": "application/x-votable+xml",
    }
    assert set(downloads) == set(media)
    for name, url in downloads.items():
        assert url.startswith("/provsap?") and "DEPTH=ALL" in url
        r = client.get(url)
        assert r.status_code == 200 and r.mimetype == media[name], (name, r.get_data()[:300])
    doc = ProvDocument.deserialize(content=client.get(downloads["PROV-JSON"]).get_data(as_text=True), format="json")
    assert {str(r.identifier) for r in doc.get_records() if r.is_element()} >= {"ex:dl5", "ex:sim"}
    assert "LAYOUT=LR" in downloads["SVG picture"] and "LAYOUT" not in downloads["PROV-JSON"]
    assert "LAYOUT=LR" in downloads["Graphviz DOT"]


def test_fits_keywords_show_namespace_and_datatype(client, store, settings):
    services.ingest(store, FITS_DOC, "provn", settings=settings)
    text = get_html(client, page(EX + "events_23523"))
    rows = re.findall(
        r'<th scope="row" title="([^"]+)">([^<]+)</th>\s*<td class="value">([^<]*)</td>\s*'
        r'<td class="type">([^<]+)</td>',
        text,
    )
    by_name = {name: (iri, value, dt) for iri, name, value, dt in rows}
    assert by_name["fits:EXPOSURE"] == ("https://provhub.org/ns/fits#EXPOSURE", "1687.5", "xsd:double")
    assert by_name["fits:TELESCOP"][1:] == ("HESS", "xsd:string")
    assert by_name["fits:HISTORY"][1] == "line one\nline two"
    assert by_name["fits:OBS_ID"][1:] == ("23523", "xsd:int")
    assert "<dt>OBS_ID</dt><dd>23523</dd>" in text and "<dt>Data level</dt><dd>DL3</dd>" in text
    assert "<dt>Time</dt><dd>2004-12-04 22:08 – 22:36 UTC</dd>" in text
    assert links(get_html(client, "/?level=DL3&from=2004-12-04&to=2004-12-04")) == [EX + "events_23523"]
    assert links(get_html(client, "/?from=2004-12-04T22:30&to=2004-12-04T23:00")) == [EX + "events_23523"]
    assert links(get_html(client, "/?from=2004-12-04T22:40")) == []  # DATE (file written) is no observation time


def test_labels_are_escaped_everywhere(client, store, settings):
    services.ingest(store, SCRIPT_DOC, "provn", settings=settings)
    for text in (
        get_html(client, "/?q=alert"),
        get_html(client, page(EX + "evil")),
        get_html(client, page(EX + "make", "direction=FORTH")),
    ):
        assert SCRIPT_LABEL not in text and "<script>alert" not in text
        assert "&lt;script&gt;alert(" in text
    assert EX + "evil" in links(get_html(client, "/?q=alert"))


def test_unknown_record_is_an_html_404(client, known):
    text = get_html(client, page("http://example.org/cta#nothing"), status=404)
    assert "Not found" in text and "nothing" in text
    assert 'href="/"' in text


@pytest.mark.parametrize("query,where", [("depth=-1", "DEPTH"), ("direction=up", "direction"), ("layout=XY", "layout")])
def test_bad_lineage_parameters_are_an_html_error(client, known, query, where):
    assert f"<code>{where}</code>" in get_html(client, page(EX + "dl5", query), status=400)


def test_a_lineage_above_the_node_cap_is_explained_on_the_page(settings, store, known):
    client = create_app(dataclasses.replace(settings, node_cap=3), store=store).test_client()
    text = get_html(client, page(EX + "dl5", "depth=ALL"))
    assert 'role="alert"' in text and "Choose a smaller depth" in text and "<svg" not in text
    assert "prov:label" in text and f'href="/documents/{known}"' in text  # the rest of the page is there


def test_collapsed_groups_expand(settings, store):
    lines = [
        "document",
        "  prefix ex <http://example.org/cta#>",
        "  activity(ex:analysis)",
        '  entity(ex:dl5, [prov:label="product"])',
        "  wasGeneratedBy(ex:dl5, ex:analysis, -)",
    ]
    for i in range(8):
        lines += [
            f'  entity(ex:run{i}, [prov:label="DL3 event list {i}", ex:obs_id={1000 + i}])',
            f"  used(ex:analysis, ex:run{i}, -)",
        ]
    services.ingest(store, "\n".join(lines + ["endDocument"]), "provn", settings=settings)
    client = create_app(dataclasses.replace(settings, render_node_cap=4), store=store).test_client()
    text = get_html(client, page(EX + "dl5", "depth=2"))
    groups = re.findall(r'<li><a href="([^"]+)">Expand</a> ([^<]+)</li>', text)
    assert len(groups) == 1 and groups[0][1].startswith("8 DL3 ")
    gid = re.search(r"expand=(g[0-9a-f]{12})", groups[0][0]).group(1)
    assert f'xlink:href="#expand={gid}"' in text
    expanded = get_html(client, html.unescape(groups[0][0]))
    assert "Collapsed groups" not in expanded and f'name="expand" value="{gid}"' in expanded
    svg = expanded[expanded.index("<svg") : expanded.index("</svg>")]
    assert all(f'xlink:href="/records/{quote(EX + f"run{i}", safe="")}"' in svg for i in range(8))


def test_records_of_unreadable_documents_stay_hidden(settings, store):
    services.ingest(store, KNOWN, "provn", settings=settings)
    secret = (
        "document\n  prefix ex <http://example.org/cta#>\n"
        '  entity(ex:secret, [prov:label="secret DL3 run"])\n  used(ex:analysis, ex:secret, -)\n'
        "endDocument\n"
    )
    services.ingest(store, secret, "provn", settings=settings, rights="proprietary", group="hess")
    app = create_app(dataclasses.replace(settings, auth="on", proxy_user_header="X-User"), store=store)
    client = app.test_client()
    assert EX + "secret" not in links(get_html(client, "/?q=secret"))
    get_html(client, page(EX + "secret"), status=404)
    member = client.get(page(EX + "secret"), headers={"X-User": "ann", "X-Provhub-Groups": "hess"})
    assert member.status_code == 200
    found = client.get("/?q=secret", headers={"X-User": "ann", "X-Provhub-Groups": "hess"})
    assert EX + "secret" in links(found.get_data(as_text=True))


def test_static_files_are_served(client):
    css = client.get("/static/web/web.css")
    js = client.get("/static/web/web.js")
    assert css.status_code == js.status_code == 200
    assert css.mimetype == "text/css" and "javascript" in js.mimetype
    for r in (css, js):
        r.close()


def test_a_record_page_lists_the_other_assertions_of_its_id_and_takes_as_of(tmp_path):
    """Issue 17: an entity that is also an agent shows both on its page; issue 19: AS_OF on a
    record page shows it as the store knew it then (a later document's attribute is left out)."""
    import datetime as dt
    import time

    from provhub.app import create_app, services
    from provhub.app.config import Settings

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'p.db'}", sample="off", auth="off")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    head = "document\nprefix ex <http://example.org/>\n"
    services.ingest(store, head + 'entity(ex:tool, [ex:version="0.20"])\nendDocument\n', "provn", settings=settings)
    time.sleep(1.1)
    moment = dt.datetime.now(dt.timezone.utc)
    time.sleep(1.1)
    services.ingest(
        store,
        head + "agent(ex:tool, [prov:type='prov:SoftwareAgent', ex:site=\"La Palma\"])\nendDocument\n",
        "provn",
        settings=settings,
    )
    client = app.test_client()
    page = client.get("/records/" + quote("http://example.org/tool", safe=""))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Also asserted as an agent" in text and "La Palma" in text and "0.20" in text
    then = client.get(
        "/records/" + quote("http://example.org/tool", safe=""), query_string={"AS_OF": moment.isoformat()}
    )
    assert then.status_code == 200
    old = then.get_data(as_text=True)
    assert "As the store knew it on" in old and "0.20" in old
    assert "La Palma" not in old and "Also asserted as" not in old
    assert 'name="AS_OF"' in old  # the lineage controls keep the moment
    store.close()


def test_an_expanded_wide_group_is_drawn_once_causes_left(tmp_path, monkeypatch):
    """AUTO layout: expanding a group of many runs draws the picture once, causes-left (drawn
    top to bottom first, it was always too wide and drawn a second time: 2 of 2.4 s)."""
    from provhub.app import create_app, services
    from provhub.app.config import Settings
    from tests.web.test_browser import EX, runs_fan_in

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'w.db'}", sample="off", auth="off")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    services.ingest(store, runs_fan_in(200), "provn", settings=settings)
    client = app.test_client()
    url = "/records/" + quote(EX + "stacked", safe="") + "?depth=2"
    group = re.search(r"expand=(g[0-9a-f]{12})", client.get(url).get_data(as_text=True)).group(1)
    drawn = []
    real = services.draw
    monkeypatch.setattr(services, "draw", lambda *a, **k: drawn.append(k["direction"]) or real(*a, **k))
    page = client.get(url + "&expand=" + group)
    assert page.status_code == 200
    assert drawn == ["RL"], drawn
    store.close()
