"""ProvSAP traversal as the ProvDAL draft states it, on its own example graph (issue 16, item 7),
on each backend: tests/fixtures/provdal-draft (the draft's figure as PROV-N, CC BY-SA 4.0, see
its README)."""

from __future__ import annotations

import json

import pytest

from provhub.provdm import vocabulary as voc
from tests.conftest import ROOT

DRAFT = ROOT / "tests" / "fixtures" / "provdal-draft" / "provenance-graph-example.provn"
EX = "http://example.org/provdal-draft#"
ELEMENTS = ("entity", "activity", "agent")
ENDS = voc.RELATION_ENDPOINTS


@pytest.fixture
def draft(client):
    r = client.post("/documents", data=DRAFT.read_bytes(), headers={"Content-Type": "text/provenance-notation"})
    assert r.status_code == 201, r.get_json()
    return client


def answer(client, **params) -> tuple[set[str], set[str]]:
    """(record names, relations as type(src,dst)) of a ProvSAP answer."""
    r = client.get("/provsap", query_string={"RESPONSEFORMAT": "PROV-JSON", **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    doc = json.loads(r.get_data(as_text=True))

    def name(qn: str) -> str:
        return qn.partition(":")[2]

    nodes = {name(i) for section in ELEMENTS for i in doc.get(section, {})}
    rels = set()
    for section, (src, dst) in ENDS.items():
        for body in doc.get(section, {}).values():
            for b in body if isinstance(body, list) else [body]:
                rels.add(f"{section}({name(b[src])},{name(b[dst])})")
    return nodes, rels


#: the draft's figure for ID=E6, DEPTH=2: its highlighted records (tests/fixtures/provdal-draft)
FIGURE_NODES = {"E6", "A4", "E2", "E3", "C1", "E1", "C2", "Ag2", "Ag3"}
FIGURE_RELATIONS = {
    "wasGeneratedBy(E6,A4)",
    "used(A4,E2)",
    "used(A4,E3)",
    "used(A4,C1)",
    "wasDerivedFrom(E6,E2)",
    "wasDerivedFrom(E2,E1)",
    "hadMember(C2,E6)",
    "wasGeneratedBy(C2,A4)",
    "wasAssociatedWith(A4,Ag2)",
    "wasAttributedTo(E6,Ag3)",
}


def test_e6_depth2_is_the_drafts_figure(draft):
    assert answer(draft, ID="ex:E6", DEPTH="2") == (FIGURE_NODES, FIGURE_RELATIONS)


def test_a_chain_of_shortcuts_does_not_continue_along_the_long_path_before_its_level(draft):
    # E2 is one wasDerivedFrom from E6 but two long relations (E6 <- A4 <- E2): its generation
    # by A1 is reached at DEPTH=3, as along the long path
    nodes, rels = answer(draft, ID="ex:E6", DEPTH="3")
    assert {"A1", "A2", "A3"} <= nodes and "wasGeneratedBy(E2,A1)" in rels
    assert answer(draft, ID="ex:E6", DEPTH="ALL")[0] >= FIGURE_NODES | {"A1", "A2", "A3", "Ag1"}


def test_e6_depth2_forth(draft):
    nodes, rels = answer(draft, ID="ex:E6", DEPTH="2", DIRECTION="FORTH")
    assert nodes == {"E6", "A5", "AF1", "E10", "C3", "A6", "C2", "Ag3"}
    assert rels == {
        "used(A5,E6)",
        "used(AF1,E6)",
        "wasGeneratedBy(E10,A5)",
        "wasGeneratedBy(C3,A5)",
        "wasInformedBy(A6,A5)",
        "hadMember(C2,E6)",
        "wasAttributedTo(E6,Ag3)",
        "wasInfluencedBy(AF1,A5)",  # hadStep
        "wasInfluencedBy(AF1,A6)",
    }


def test_agents(draft):
    # "the request for any agent will always return just the agent node itself and nothing
    # else, unless AGENT=true is used"
    assert answer(draft, ID="ex:Ag4") == ({"Ag4"}, set())
    assert answer(draft, ID="ex:Ag4", AGENT="true", DEPTH="1") == ({"Ag4", "A7"}, {"wasAssociatedWith(A7,Ag4)"})
    # an agent relation is one unit of DEPTH with AGENT=true, like any other: Ag2 (two from E6)
    # is reached at DEPTH=2 and what it is responsible for at DEPTH=3
    nodes, _ = answer(draft, ID="ex:E6", DEPTH="2", AGENT="true")
    assert nodes == FIGURE_NODES
    nodes, _ = answer(draft, ID="ex:Ag2", DEPTH="2", AGENT="true")
    assert nodes == {"Ag2", "A4", "E2", "E3", "C1"}


INVALIDATED = """document
  prefix ex <http://example.org/provdal-draft#>
  entity(ex:X)
  activity(ex:make)
  activity(ex:purge)
  wasGeneratedBy(ex:X, ex:make, -)
  wasInvalidatedBy(ex:X, ex:purge, -)
endDocument
"""


def test_invalidation_is_not_a_cause(draft):
    r = draft.post("/documents", data=INVALIDATED.encode(), headers={"Content-Type": "text/provenance-notation"})
    assert r.status_code == 201, r.get_json()
    # BACK: the activity that invalidated X is not in its history
    assert answer(draft, ID="ex:X", DEPTH="ALL") == ({"X", "make"}, {"wasGeneratedBy(X,make)"})
    # FORTH: X's invalidation lies in its future; the invalidating activity has no effect on X
    assert answer(draft, ID="ex:X", DEPTH="1", DIRECTION="FORTH") == ({"X", "purge"}, {"wasInvalidatedBy(X,purge)"})
    assert answer(draft, ID="ex:purge", DEPTH="ALL", DIRECTION="FORTH") == ({"purge"}, set())
    assert answer(draft, ID="ex:purge", DEPTH="ALL") == ({"purge"}, set())


def test_an_old_sqlite_store_gets_the_new_categories(tmp_path):
    """Stores made when wasDerivedFrom, wasInformedBy and wasInvalidatedBy were causal are
    recategorised once when opened (provhub/app/stores/sqlite.py _recategorize)."""
    import sqlite3

    from provhub.app import create_app
    from provhub.app.config import Settings
    from provhub.app.stores import open_store

    settings = Settings(store_url=f"sqlite:///{tmp_path / 'old.db'}", sample="off", auth="off")
    store = open_store(settings.store_url, settings)
    client = create_app(settings, store=store).test_client()
    assert client.post("/documents", data=DRAFT.read_bytes(), headers={"Content-Type": "text/provenance-notation"})
    store.close()
    with sqlite3.connect(tmp_path / "old.db") as conn:  # as an old store has them
        conn.execute("UPDATE relations SET category = 'causal' WHERE type IN ('wasDerivedFrom', 'wasInformedBy')")
        conn.execute("DELETE FROM meta WHERE key = 'categories'")
    store = open_store(settings.store_url, settings)
    try:
        client = create_app(settings, store=store).test_client()
        assert answer(client, ID="ex:E6", DEPTH="2") == (FIGURE_NODES, FIGURE_RELATIONS)
    finally:
        store.close()
