"""Record pages as linked data: ``/records/<IRI>`` answers the record's PROV-O (Turtle or JSON-LD)
under content negotiation, the page otherwise, each naming the other with ``Link``; a crawler
follows the records' ``rdfs:seeAlso`` from page to page. Rights hold on each store backend: a
hidden record is a 404 like an unknown one, and no hidden record is named."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import rdflib
import requests

from tests.datalink.test_datalink import rights_world, serve  # noqa: F401, F811 (a fixture)
from tests.security.test_rights import SECRETS

EX = "http://example.org/cta#"
TTL, JSONLD = "text/turtle", "application/ld+json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def world(rights_world):  # noqa: F811 (the imported fixture)
    """public dl5 <- public dl3 <- proprietary calibration step <- public irf, auth on."""
    return rights_world[0]


def page(iri: str) -> str:
    return "/records/" + quote(iri, safe="")


def test_a_record_answers_prov_o_or_its_page_by_accept(world):
    client = world.test_client()
    ttl = client.get(page(EX + "dl5"), headers={"Accept": TTL})
    assert ttl.status_code == 200 and ttl.mimetype == TTL and "Accept" in ttl.headers["Vary"]
    assert ttl.headers["Link"] == f'<{page(EX + "dl5")}>; rel="alternate"; type="text/html"'
    graph = rdflib.Graph().parse(data=ttl.get_data(as_text=True), format="turtle")
    dl5, analysis = rdflib.URIRef(EX + "dl5"), rdflib.URIRef(EX + "analysis")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    assert (dl5, rdflib.RDF.type, prov.Entity) in graph
    # an identified relation is its qualified node only (prov writes no prov:wasGeneratedBy beside it)
    gen5 = rdflib.URIRef(EX + "gen5")
    assert (dl5, prov.qualifiedGeneration, gen5) in graph and (gen5, prov.activity, analysis) in graph
    assert (dl5, rdflib.RDFS.seeAlso, rdflib.URIRef("http://localhost" + page(EX + "dl5"))) in graph
    jsonld = client.get(page(EX + "dl5"), headers={"Accept": JSONLD})
    assert jsonld.mimetype == JSONLD
    assert set(rdflib.Graph().parse(data=jsonld.get_data(as_text=True), format="json-ld")) == set(graph)
    html = client.get(page(EX + "dl5"), headers={"Accept": BROWSER})
    assert html.mimetype == "text/html" and "Accept" in html.headers["Vary"]
    links = re.findall(r'<link rel="alternate" type="([^"]+)" href="([^"]+)">', html.get_data(as_text=True))
    assert [t for t, _ in links] == [TTL, JSONLD]
    for media_type, href in links:
        assert f'<{href.replace("&amp;", "&")}>; rel="alternate"; type="{media_type}"' in html.headers["Link"]
        assert client.get(href.replace("&amp;", "&")).mimetype == media_type
    # no Accept at all: the page
    assert client.get(page(EX + "dl5")).mimetype == "text/html"
    bad = client.get(page(EX + "dl5") + "?format=svg")
    assert bad.status_code == 406 and "ttl or jsonld" in bad.get_data(as_text=True)


@pytest.mark.parametrize("accept", [TTL, JSONLD])
def test_hidden_records_are_unknown_and_never_named(world, accept):
    client = world.test_client()
    hidden = client.get(page(EX + "secretcalib"), headers={"Accept": accept})
    unknown = client.get(page(EX + "nosuchcalib"), headers={"Accept": accept})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_data(as_text=True).replace("secretcalib", "nosuchcalib") == unknown.get_data(as_text=True)
    for ident in ("dl5", "analysis", "dl3", "irf", "sim"):
        text = client.get(page(EX + ident), headers={"Accept": accept}).get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (ident, secret)
    # a writer of the hess group reads the hidden step from the dl3
    token = _token(world.config["PROVHUB_SETTINGS"])
    seen = client.get(page(EX + "dl3"), headers={"Accept": accept, "Authorization": f"Bearer {token}"})
    assert "secretcalib" in seen.get_data(as_text=True)


def _token(settings) -> str:
    from click.testing import CliRunner

    from provhub.app.cli import load_commands

    env = {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }
    r = CliRunner().invoke(load_commands(), ["tokens", "create", "--role", "writer", "--group", "hess"], env=env)
    assert r.exit_code == 0, r.output
    return r.output.strip().splitlines()[-1]


def test_a_crawler_follows_see_also_from_record_to_record(world):
    server, thread, base = serve(world)
    try:
        seen: dict[str, rdflib.Graph] = {}
        todo = [base + page(EX + "dl5")]
        while todo and len(seen) < 50:
            url = todo.pop()
            r = requests.get(url, headers={"Accept": TTL}, timeout=30)
            assert r.status_code == 200 and r.headers["Content-Type"].startswith(TTL), url
            for secret in SECRETS:
                assert secret not in r.text
            graph = seen[url] = rdflib.Graph().parse(data=r.text, format="turtle")
            todo += [
                str(o) for o in graph.objects(None, rdflib.RDFS.seeAlso) if str(o) not in seen and str(o) not in todo
            ]
    finally:
        server.shutdown()
        thread.join(5)
    reached = {u.rsplit("/", 1)[1] for u in seen}
    assert {quote(EX + i, safe="") for i in ("dl5", "analysis", "dl3")} <= reached
    # the irf is made into the dl3 only through the hidden step: no public link leads there
    assert quote(EX + "irf", safe="") not in reached
