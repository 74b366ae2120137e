"""PROV fidelity (issue 17): what prov can hold, every store holds and gives back, on each backend.

Each class of document that provhub used to refuse or change (docs/model.md, "Fidelity") is
posted through the service to the store, read back in the three syntaxes (prov equality both
ways) and traced.
"""

from __future__ import annotations

import pytest

from app import services
from app.config import Settings
from app.stores.base import TraceQuery
from provdm import formats
from provdm.errors import InvalidDocument

EX = "http://example.org/"
HEAD = "document\nprefix ex <http://example.org/>\n"


def ingest(store, text, fmt="provn", validation="warn"):
    return services.ingest(store, text, fmt, settings=Settings(), validation=validation)


def comes_back_equal(store, doc_id: str, text: str, fmt: str = "provn") -> None:
    original, _ = formats.parse(text, fmt)
    for out in formats.FORMATS:
        back, _ = formats.parse(services.document_text(store, doc_id, out), out)
        assert back == original and original == back, out


def traced(store, start: str, **options) -> tuple[set[str], set[str]]:
    g = store.trace(TraceQuery(ids=[EX + start], depth=None, **options))
    return {n.id.removeprefix(EX) for n in g.nodes}, {r.id.removeprefix(EX) for r in g.relations}


# -- class 3: a relation whose first formal argument is absent --------------------------------

ABSENT = (
    HEAD + "entity(ex:e1)\nused(ex:use1; -, ex:e1, -)\nwasDerivedFrom(ex:der1; -, ex:e1)\n"
    "activity(ex:a1)\nwasGeneratedBy(ex:gen1; ex:e1, ex:a1, -)\nendDocument\n"
)


def test_an_absent_first_argument_is_stored_with_a_warning_that_names_it(store):
    res = ingest(store, ABSENT)
    absent = [w for w in res.warnings if w.startswith("absent-formal")]
    assert len(absent) == 2
    assert any(EX + "use1" in w and "no activity" in w for w in absent), absent
    assert any(EX + "der1" in w and "no generatedEntity" in w for w in absent), absent
    comes_back_equal(store, res.id, ABSENT)
    (use,) = store.get_relations([EX + "use1"])
    assert (use.src, use.dst) == (None, EX + "e1")


@pytest.mark.parametrize("direction", ["BACK", "FORTH"])
def test_a_relation_with_an_absent_endpoint_has_no_edge_to_follow(store, direction):
    ingest(store, ABSENT)
    nodes, relations = traced(store, "e1", direction=direction)
    if direction == "BACK":
        assert (nodes, relations) == ({"e1", "a1"}, {"gen1"})
    else:
        assert (nodes, relations) == ({"e1"}, set())


def test_an_absent_first_argument_under_off_and_strict(store):
    assert ingest(store, ABSENT, validation="off").warnings == []
    with pytest.raises(InvalidDocument) as info:
        ingest(store, ABSENT.replace("ex:e1)\n", "ex:e9)\n", 1), validation="strict")
    assert "absent-formal" in info.value.message and "PROV-DM requires it" in info.value.message


@pytest.mark.parametrize(
    "body",
    [
        {"prefix": {"ex": EX}, "used": {"ex:use1": {"prov:entity": "ex:e1"}}},
        {"prefix": {"ex": EX}, "wasAssociatedWith": {"_:a1": {"prov:agent": "ex:ag1"}}},
    ],
    ids=["used", "anonymous-association"],
)
def test_an_absent_first_argument_in_plain_prov_json(store, body):
    import json

    text = json.dumps(body)
    res = ingest(store, text, "json")
    assert any(w.startswith("absent-formal") for w in res.warnings)
    comes_back_equal(store, res.id, text, "json")
