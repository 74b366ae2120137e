"""The pages issue 18 adds to a record: what a product was made from (with the audit beside),
an activity's parameters, the audit page in the site's layout; and that none of them shows a
record the viewer may not read (each store backend)."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from provhub.app.access import Viewer
from provhub.app.summary import natural_key
from tests.web.worlds import rights_world

EX = "http://example.org/cta#"
PUBLIC = """document
  prefix ex <http://example.org/cta#>
  prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>
  entity(ex:dl5, [prov:label="Crab spectrum", ex:dataLevel="DL5"])
  activity(ex:analysis, 2004-12-10T10:00:00, 2004-12-10T11:30:00, [prov:label="spectral analysis"])
  wasGeneratedBy(ex:dl5, ex:analysis, -)
  used(ex:analysis, ex:dl3, -)
  used(ex:analysis, ex:aeff, -)
  entity(ex:dl3, [prov:label="run 23523 events", ex:obs_id=23523, ex:object="Crab Nebula", ex:LIVETIME="1582.0" %% xsd:double,
         ex:ZEN_PNT="48.6", ex:TELLIST="1,2,3,4", ex:HDUCLAS1="EVENTS"])
  entity(ex:aeff, [prov:label="run 23523 effective area", ex:obs_id=23523, ex:HDUCLAS1="RESPONSE",
         ex:HDUCLAS2="EFF_AREA", voprov:version="prod5"])
  entity(ex:emin, [prov:type='voprov:Parameter', prov:label="energy.min", voprov:name="energy.min",
         voprov:value="0.4 TeV", voprov:description="lowest energy of the spectrum"])
  wasInfluencedBy(ex:analysis, ex:emin, [prov:type='voprov:wasConfiguredBy', voprov:artefactType="Parameter"])
  agent(ex:gammapy, [prov:type='prov:SoftwareAgent', prov:label="gammapy", voprov:version="1.2"])
  wasAssociatedWith(ex:analysis, ex:gammapy, -)
  agent(ex:alice, [prov:type='prov:Person', prov:label="Alice Analyst"])
  wasAssociatedWith(ex:analysis, ex:alice, -)
endDocument"""
PRIVATE = """document
  prefix ex <http://example.org/cta#>
  prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>
  used(ex:analysis, ex:secretrun, -)
  entity(ex:secretrun, [prov:label="SECRET-RUN", ex:obs_id=99999, ex:object="SECRET-TARGET"])
  entity(ex:secretirf, [prov:label="SECRET-IRF", ex:obs_id=99999, ex:HDUCLAS1="RESPONSE", ex:HDUCLAS2="PSF"])
  used(ex:analysis, ex:secretirf, -)
  entity(ex:secretpar, [prov:type='voprov:Parameter', prov:label="SECRET-PARAM", voprov:value="7"])
  wasInfluencedBy(ex:analysis, ex:secretpar, [prov:type='voprov:wasConfiguredBy', voprov:artefactType="Parameter"])
  agent(ex:bob, [prov:type='prov:Person', prov:label="SECRET-PERSON"])
  wasAssociatedWith(ex:analysis, ex:bob, -)
endDocument"""
SECRETS = ("SECRET", "99999", "secretrun", "secretirf", "secretpar", "ex:bob")


@pytest.fixture
def world(backend, request, tmp_path):
    app, store, settings, _, _ = rights_world(backend, request, tmp_path, (PUBLIC,), (PRIVATE,))
    yield app.test_client(), store, settings
    store.close()


def page(iri: str) -> str:
    return "/records/" + quote(iri, safe="")


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_a_product_page_says_what_it_was_made_from(world):
    client, _, _ = world
    r = client.get(page(EX + "dl5"))
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    made = section(text, 'id="made-heading"', 'id="lineage-heading"')
    obs = section(made, "<caption>Observations (1)", "</table>")
    assert f'href="{page(EX + "dl3")}">23523</a>' in obs
    for value in ("Crab Nebula", "26.4 min", "48.6", "1,2,3,4"):
        assert value in obs
    irfs = section(made, "<caption>IRFs (1)", "</table>")
    assert "run 23523 effective area" in irfs and "prod5" in irfs and "23523" in irfs
    soft = section(made, "<caption>Software (1)", "</table>")
    assert f'href="{page(EX + "gammapy")}">gammapy</a>' in soft and "1.2" in soft
    assert "Alice Analyst" in section(made, "<caption>People and organisations (1)", "</table>")
    params = section(made, "<caption>Analysis parameters (1)", "</table>")
    assert re.search(r"energy\.min</a></th><td class=\"value\">0\.4</td>\s*<td>TeV</td><td>lowest energy", params)
    audit = section(made, 'id="audit-side-heading"', "</aside>")
    assert "error" in audit and "/audits/" in audit
    assert 'id="made-heading"' not in client.get(page(EX + "dl3")).get_data(as_text=True)  # not a product


def test_an_activity_page_lists_its_parameters_software_and_times(world):
    client, _, _ = world
    text = client.get(page(EX + "analysis")).get_data(as_text=True)
    run = section(text, 'id="run-heading"', "</section>")
    assert "2004-12-10 10:00:00 UTC" in run and "2004-12-10 11:30:00 UTC" in run
    assert "gammapy</a> 1.2" in run and "Alice Analyst" in run
    assert "<caption>Parameters (1)" in run and "lowest energy of the spectrum" in run


def test_the_audit_page_is_part_of_the_site_and_links_its_records(world):
    client, _, _ = world
    r = client.get("/audits/" + quote(EX + "dl5", safe=""))
    assert r.status_code == 200 and "script-src 'self'" in r.headers["Content-Security-Policy"]
    text = r.get_data(as_text=True)
    assert "<title>Audit of Crab spectrum · provhub</title>" in text
    assert 'class="banner"' in text and 'href="/"' in text
    for rec in ("dl3", "aeff", "emin", "gammapy"):
        assert f'href="{page(EX + rec)}"' in text
    assert client.get("/audits/" + quote(EX + "nothing", safe="")).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        page(EX + "dl5"),
        page(EX + "analysis"),
        "/audits/" + quote(EX + "dl5", safe=""),
        "/summaries/" + quote(EX + "dl5", safe=""),
    ],
)
def test_new_pages_show_nothing_the_viewer_may_not_read(world, path):
    client, store, settings = world
    text = client.get(path).get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} leaked on {path}"
    for hidden in ("secretrun", "secretirf", "secretpar", "bob"):
        assert client.get(page(EX + hidden)).status_code == 404
        assert client.get("/audits/" + quote(EX + hidden, safe="")).status_code == 404
        assert client.get("/summaries/" + quote(EX + hidden, safe="")).status_code == 404
    # the group that may read the private document sees it on the same pages
    from provhub.app import summary

    hess = Viewer(name="h", role="reader", groups=frozenset({"hess"}))
    seen = summary.product_summary(store, EX + "dl5", settings=settings, viewer=hess)
    assert [o.obs_id for o in seen.observations] == ["23523", "99999"]
    assert {p.name for p in seen.people} == {"Alice Analyst", "SECRET-PERSON"}
    anon = summary.product_summary(store, EX + "dl5", settings=settings, viewer=Viewer())
    assert [o.obs_id for o in anon.observations] == ["23523"] and len(anon.parameters) == 1


def test_ids_sort_naturally():
    assert sorted(["a10", "a2", "a1", "b"], key=natural_key) == ["a1", "a2", "a10", "b"]


def test_a_product_with_a_large_lineage_links_its_summary_page(world, monkeypatch):
    client, _, _ = world
    from provhub.app import summary

    monkeypatch.setattr(summary, "SUMMARY_INLINE", 3)
    text = client.get(page(EX + "dl5")).get_data(as_text=True)
    assert 'id="made-heading"' not in text
    assert 'href="/summaries/' + quote(EX + "dl5", safe="") + '"' in text
    own = client.get("/summaries/" + quote(EX + "dl5", safe="")).get_data(as_text=True)
    assert "<title>What Crab spectrum was made from · provhub</title>" in own and "<caption>Observations (1)" in own
