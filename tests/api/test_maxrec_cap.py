"""DALI MAXREC against the service's own limit (issue 16): a VO client that sets MAXREC (TOPCAT
and pyvo do) gets the nearest records with QUERY_STATUS=OVERFLOW, not 422 answer-too-large,
when the whole lineage is larger than PROVHUB_NODE_CAP. Both stores."""

from __future__ import annotations

from dataclasses import replace

import pytest

from provhub.app import create_app
from tests.security.test_search_and_prefixes import chain

PROVN = {"Content-Type": "text/provenance-notation"}
ASK_JSON = {"Accept": "application/json"}


@pytest.fixture
def capped(settings, store):
    client = create_app(replace(settings, node_cap=20), store=store).test_client()
    assert client.post("/documents", data=chain("c", 60), headers=PROVN).status_code == 201
    return client


def entities(r) -> list[str]:
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return sorted(r.get_json().get("entity", {}))


def test_without_maxrec_a_lineage_over_the_cap_is_refused(capped):
    r = capped.get("/provsap?ID=ex:c0&DEPTH=ALL&MODEL=W3C", headers=ASK_JSON)
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "answer-too-large"


@pytest.mark.parametrize("maxrec, kept", [(5, 5), (20, 20), (500, 20)])
def test_maxrec_answers_the_nearest_records_within_the_cap(capped, maxrec, kept):
    r = capped.get(f"/provsap?ID=ex:c0&DEPTH=ALL&MODEL=W3C&MAXREC={maxrec}", headers=ASK_JSON)
    assert r.headers["X-Query-Status"] == "OVERFLOW"
    # the chain ex:c0 <- ex:c1 <- ...: the nearest are ex:c0 .. ex:c<kept - 1>
    assert entities(r) == sorted(f"ex:c{i}" for i in range(kept))


def test_maxrec_in_every_format_and_for_an_anonymous_caller(settings, store):
    from provhub.app import services

    client = create_app(replace(settings, node_cap=20, auth="on"), store=store).test_client()
    services.ingest(store, chain("c", 60), "provn", settings=settings)
    for fmt in ("PROV-JSON", "PROV-N", "PROV-XML", "PROV-VOTABLE", "PROV-SVG"):
        r = client.get(f"/provsap?ID=ex:c0&DEPTH=ALL&MAXREC=8&RESPONSEFORMAT={fmt}", headers=ASK_JSON)
        assert r.status_code == 200 and r.headers["X-Query-Status"] == "OVERFLOW", (fmt, r.get_data()[:200])
