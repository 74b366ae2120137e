"""PROV fidelity (issue 17): what prov can hold, every store holds and gives back, on each backend.

Each class of document that provhub used to refuse or change (docs/model.md, "Fidelity") is
posted through the service to the store, read back in the three syntaxes (prov equality both
ways) and traced.
"""

from __future__ import annotations

import json

import pytest

from provhub.app import services
from provhub.app.config import Settings
from provhub.app.stores.base import TraceQuery
from provhub.provdm import formats
from provhub.provdm.codec import to_document
from provhub.provdm.errors import Conflict, InvalidDocument

EX = "http://example.org/"
HEAD = "document\nprefix ex <http://example.org/>\n"


def ingest(store, text, fmt="provn", validation="warn"):
    return services.ingest(store, text, fmt, settings=Settings(), validation=validation)


def comes_back_equal(store, doc_id: str, text: str, fmt: str = "provn") -> None:
    original, _ = formats.parse(text, fmt)
    for out in formats.FORMATS:
        if out in formats.RDF_FORMATS:  # PROV-O keeps less: tests/api/test_prov_o.py
            continue
        back, _ = formats.parse(services.document_text(store, doc_id, out), out)
        assert back == original and original == back, out


def traced(store, start: str, **options) -> tuple[set[str], set[str]]:
    g = store.trace(TraceQuery(ids=[EX + start], depth=None, **options))
    return {n.name.removeprefix(EX) for n in g.nodes}, {r.id.removeprefix(EX) for r in g.relations}


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
    text = json.dumps(body)
    res = ingest(store, text, "json")
    assert any(w.startswith("absent-formal") for w in res.warnings)
    comes_back_equal(store, res.id, text, "json")


# -- class 2: one relation id asserted twice with assertions that do not unify ----------------

TWICE = (
    HEAD + "entity(ex:e1)\nactivity(ex:a1)\n"
    'wasGeneratedBy(ex:gen1; ex:e1, ex:a1, 2023-04-25T21:51:13.249+01:00, [ex:tag2="hello"])\n'
    'wasGeneratedBy(ex:gen1; ex:e1, ex:a1, 2012-12-03T21:08:16.686Z, [ex:tag2="hi"])\n'
    "endDocument\n"
)


def _records(doc) -> list:
    return sorted(str(r) for r in doc.get_records())


def test_a_relation_asserted_twice_keeps_both_assertions(store):
    res = ingest(store, TWICE)
    (warning,) = [w for w in res.warnings if w.startswith("key-properties")]
    assert EX + "gen1" in warning and "prov:time" in warning and "constraint 23" in warning
    comes_back_equal(store, res.id, TWICE)
    (gen,) = store.get_relations([EX + "gen1"])
    assert (gen.src, gen.dst) == (EX + "e1", EX + "a1")
    # lineage steps over the edge once (a1 at depth 1) and the answer holds both assertions
    g = store.trace(TraceQuery(ids=[EX + "e1"], depth=1))
    assert {n.id for n in g.nodes} == {EX + "e1", EX + "a1"}
    assert sorted(r.name for r in g.relations) == [EX + "gen1", EX + "gen1"]
    posted, _ = formats.parse(TWICE, "provn")
    assert _records(to_document(g)) == _records(posted)
    joined = store.trace_provjson(TraceQuery(ids=[EX + "e1"], depth=1))
    if joined is not None:
        assert _records(formats.parse(joined, "json")[0]) == _records(posted)


def test_a_relation_asserted_twice_under_strict_and_again_in_other_documents(store):
    with pytest.raises(InvalidDocument) as info:
        ingest(store, TWICE, validation="strict")
    assert "key-properties" in info.value.message and "constraint 23" in info.value.message
    first = ingest(store, TWICE)
    before = store.stats()
    # the same assertions in the other order: the same document
    head, one, two, tail = TWICE.rsplit("\n", 4)[0], *TWICE.rsplit("\n", 4)[1:3], "endDocument\n"
    assert ingest(store, f"{head}\n{two}\n{one}\n{tail}").id == first.id and store.stats() == before
    # other documents merge with the assertion kept under the id (the first in canonical order,
    # here the one with "hello"), as they merged before; a third time for gen1 is a conflict
    again = HEAD + "wasGeneratedBy(ex:gen1; ex:e1, ex:a1, 2023-04-25T21:51:13.249+01:00, [ex:tag3=1])\nendDocument\n"
    bare = HEAD + "wasGeneratedBy(ex:gen1; ex:e1, ex:a1, -)\nendDocument\n"
    other = HEAD + "wasGeneratedBy(ex:gen1; ex:e1, ex:a1, 2020-01-01T00:00:00Z)\nendDocument\n"
    ingest(store, again)
    ingest(store, bare)
    with pytest.raises(Conflict):
        ingest(store, other)


def test_one_id_for_two_relation_types(store):
    text = json.dumps(
        {
            "prefix": {"ex": EX},
            "entity": {"ex:e1": {}, "ex:e2": {}},
            "activity": {"ex:a1": {}},
            "used": {"ex:r1": {"prov:activity": "ex:a1", "prov:entity": "ex:e1"}},
            "wasGeneratedBy": {"ex:r1": {"prov:entity": "ex:e2", "prov:activity": "ex:a1"}},
        }
    )
    res = ingest(store, text, "json")
    assert any(w.startswith("property-overlap") and "constraint 53" in w for w in res.warnings), res.warnings
    comes_back_equal(store, res.id, text, "json")
    nodes, relations = traced(store, "e2")
    assert nodes == {"e2", "a1", "e1"} and len(relations) == 2


# -- class 5: a bundle whose prefixes are its own, under a document with a default namespace ---

DEFAULT_NS = (
    "document\n  default <http://example.org/>\n  bundle ex:author-view\n    prefix ex <http://example.org/>\n"
    "    agent(ex:Paolo, [prov:type='prov:Person'])\n    agent(ex:Simon, [prov:type='prov:Person'])\n"
    "  endBundle\nendDocument\n"
)


def test_a_bundle_with_its_own_prefix_under_a_default_namespace_comes_back_equal(store):
    res = ingest(store, DEFAULT_NS)
    comes_back_equal(store, res.id, DEFAULT_NS)
    # prov writes the bundle's id with the bundle's prefix: that PROV-JSON is read too
    doc, _ = formats.parse(DEFAULT_NS, "provn")
    text = doc.serialize(format="json")
    assert '"ex:author-view"' in text
    assert ingest(store, text, "json").id == res.id
    assert store.get_nodes([EX + "Paolo"])


# -- what is still refused is said in words: the record, the attribute, the rule --------------


# -- class 1, and an element asserted twice: one id, several assertions ------------------------

TWO_KINDS = (
    HEAD + "entity(ex:e1, [prov:type='ex:test1'])\nagent(ex:e1, [prov:type='prov:SoftwareAgent'])\nendDocument\n"
)
#: ex:tool is the software package (an entity, generated by its build) and the agent of a run
TOOL = (
    HEAD + 'entity(ex:tool, [ex:version="0.20"])\nactivity(ex:build)\nwasGeneratedBy(ex:tool, ex:build, -)\n'
    "agent(ex:tool, [prov:type='prov:SoftwareAgent'])\nactivity(ex:run)\nwasAssociatedWith(ex:assoc; ex:run, ex:tool, -)\n"
    "entity(ex:out)\nwasGeneratedBy(ex:out, ex:run, -)\nendDocument\n"
)


@pytest.mark.parametrize("validation", ["warn", "strict", "off"])
def test_an_entity_that_is_also_an_agent_is_one_node_with_both_kinds(store, validation):
    res = ingest(store, TWO_KINDS, validation=validation)  # valid PROV: strict accepts it too
    assert not [w for w in res.warnings if EX + "e1" in w], res.warnings
    comes_back_equal(store, res.id, TWO_KINDS)
    nodes = store.trace(TraceQuery(ids=[EX + "e1"], depth=0)).nodes
    assert sorted((n.name, n.kind) for n in nodes) == [(EX + "e1", "agent"), (EX + "e1", "entity")]


def test_lineage_crosses_an_id_of_two_kinds_in_both_directions(store):
    ingest(store, TOOL)
    nodes, relations = traced(store, "out", agents=True)
    assert {"out", "run", "tool"} <= nodes and "assoc" in relations
    answer = store.trace(TraceQuery(ids=[EX + "out"], depth=None, agents=True))
    assert sorted(n.kind for n in answer.nodes if n.name == EX + "tool") == ["agent", "entity"]
    nodes, _ = traced(store, "build", direction="FORTH")
    assert "tool" in nodes  # the build made the package: the entity side of ex:tool
    # PROV-JSON from the stored fragments: one id under "entity" and under "agent"
    text = store.trace_provjson(TraceQuery(ids=[EX + "out"], depth=None, agents=True))
    data = json.loads(text)
    assert "ex:tool" in data["entity"] and "ex:tool" in data["agent"], data


def test_the_second_kind_may_come_in_another_document_in_either_order(store):
    first = ingest(store, HEAD + 'entity(ex:e1, [ex:a="1"])\nendDocument\n')
    second = ingest(store, HEAD + 'agent(ex:e1, [ex:b="2"])\nendDocument\n')  # was a 409
    third = ingest(store, HEAD + 'agent(ex:e1, [ex:c="3"])\nentity(ex:e1, [ex:d="4"])\nendDocument\n')
    nodes = store.trace(TraceQuery(ids=[EX + "e1"], depth=0)).nodes
    assert sorted(n.kind for n in nodes) == ["agent", "entity"]  # the agent assertions merged in one record
    values = {n.kind: {v for _, v in n.attrs} for n in nodes}
    assert values == {"entity": {"1", "4"}, "agent": {"2", "3"}}, values
    for res, text in [
        (first, HEAD + 'entity(ex:e1, [ex:a="1"])\nendDocument\n'),
        (second, HEAD + 'agent(ex:e1, [ex:b="2"])\nendDocument\n'),
        (third, HEAD + 'agent(ex:e1, [ex:c="3"])\nentity(ex:e1, [ex:d="4"])\nendDocument\n'),
    ]:
        comes_back_equal(store, res.id, text)  # each document gives back what it said
    found, _ = store.search("e1")
    assert [n.id for n in found] == [EX + "e1"]  # the id once, not its other assertions apart


def test_entity_and_activity_are_kept_under_warn_and_refused_by_strict(store):
    text = HEAD + "entity(ex:x)\nactivity(ex:x)\nendDocument\n"
    with pytest.raises(InvalidDocument) as info:
        ingest(store, text, validation="strict")
    assert f"typing: {EX}x is asserted as an entity and as an activity" in info.value.message
    assert "constraint 55" in info.value.message
    res = ingest(store, text)
    assert [w for w in res.warnings if w.startswith("typing") and "constraint 55" in w], res.warnings
    comes_back_equal(store, res.id, text)
    # across documents: strict refuses an activity the store holds as an entity (as the poster sees it)
    with pytest.raises(InvalidDocument) as later:
        ingest(store, HEAD + "entity(ex:y)\nendDocument\n", validation="strict")
        ingest(store, HEAD + 'activity(ex:y, [ex:n="2"])\nendDocument\n', validation="strict")
    assert f"{EX}y is an activity here and an entity in the store" in later.value.message, later.value.message


ACTIVITY_TWICE = (
    HEAD + 'activity(ex:a1, 2011-11-16T16:05:00, -, [ex:x="1"])\n'
    'activity(ex:a1, 2012-11-16T16:05:00, -, [ex:x="2"])\nentity(ex:e1)\nwasGeneratedBy(ex:e1, ex:a1, -)\nendDocument\n'
)


def test_an_activity_asserted_with_two_start_times_keeps_both(store):
    with pytest.raises(InvalidDocument) as info:
        ingest(store, ACTIVITY_TWICE, validation="strict")
    assert "key-properties: activity" in info.value.message and "startTime" in info.value.message
    assert "constraint 22" in info.value.message
    res = ingest(store, ACTIVITY_TWICE)
    assert [w for w in res.warnings if w.startswith("key-properties") and EX + "a1" in w], res.warnings
    comes_back_equal(store, res.id, ACTIVITY_TWICE)
    answer = store.trace(TraceQuery(ids=[EX + "e1"], depth=None))
    times = sorted(v["time"] for n in answer.nodes if n.name == EX + "a1" for name, v in n.attrs if "time" in str(v))
    assert times == ["2011-11-16T16:05:00", "2012-11-16T16:05:00"], times
    text = store.trace_provjson(TraceQuery(ids=[EX + "e1"], depth=None))
    assert isinstance(json.loads(text)["activity"]["ex:a1"], list)  # PROV-JSON's array form


def test_a_different_time_in_another_document_is_still_a_conflict(store):
    """Decision (docs/model.md): across documents the formal attributes of an id keep today's
    rule, 409 with the conflict list; only one document may assert an activity twice."""
    ingest(store, HEAD + "activity(ex:y, 2020-01-01T00:00:00Z, -)\nendDocument\n")
    with pytest.raises(Conflict) as clash:
        ingest(store, HEAD + "activity(ex:y, 2021-01-01T00:00:00Z, -)\nendDocument\n")
    message = clash.value.message
    assert f"{EX}y has prov:startTime 2020-01-01T00:00:00+00:00" in message and "2021-01-01" in message, message
    assert "PROV-CONSTRAINTS 22" in message


# -- class 4: bundles are scopes ---------------------------------------------------------------

BUNDLES = (
    HEAD + "bundle ex:b1\nactivity(ex:a1)\nentity(ex:e1)\nused(ex:u1; ex:a1, ex:e1, -)\nendBundle\n"
    "bundle ex:b2\nactivity(ex:e1)\nentity(ex:a1)\nused(ex:u2; ex:e1, ex:a1, -)\nendBundle\nendDocument\n"
)


@pytest.mark.parametrize("validation", ["warn", "strict"])
def test_two_bundles_may_describe_one_id_differently(store, validation):
    res = ingest(store, BUNDLES, validation=validation)  # each bundle is valid on its own
    assert not [w for w in res.warnings if w.startswith("typing")], res.warnings
    comes_back_equal(store, res.id, BUNDLES)
    nodes, relations = traced(store, "a1", direction="BACK")
    # lineage crosses bundles by id: a1 used e1 in b1, and e1 (an activity in b2) used a1
    assert relations == {"u1", "u2"} and nodes == {"a1", "e1"}
    kinds = sorted(n.kind for n in store.trace(TraceQuery(ids=[EX + "a1"], depth=0)).nodes)
    assert kinds == ["activity", "entity"]


# -- strict: the uniqueness constraints and the required second arguments -------------------------

UNIQUE = {
    # PROV-CONSTRAINTS 24: one generation of ex:e1 by ex:a1, under two ids
    "generation-ids": "wasGeneratedBy(ex:g1; ex:e1, ex:a1, -)\nwasGeneratedBy(ex:g2; ex:e1, ex:a1, -)\n",
    # 24: an anonymous and a named generation unify, so their times must agree
    "generation-times": "wasGeneratedBy(ex:e1, ex:a1, 2012-11-16T16:05:00)\n"
    "wasGeneratedBy(ex:g1; ex:e1, ex:a1, 2011-11-16T16:05:00)\n",
    # 25
    "invalidation-ids": "wasInvalidatedBy(ex:i1; ex:e1, ex:a1, -)\nwasInvalidatedBy(ex:i2; ex:e1, ex:a1, -)\n",
    # 26: one start of ex:a1 by the starter ex:a2
    "start-ids": "activity(ex:a2)\nwasStartedBy(ex:s1; ex:a1, ex:e1, ex:a2, -)\nwasStartedBy(ex:s2; ex:a1, ex:e1, ex:a2, -)\n",
    # 29: the activity's end time is that of its end event
    "end-time": "activity(ex:a9, -, 2012-11-16T17:05:00)\nwasEndedBy(ex:end1; ex:a9, -, -, 2111-11-11T11:11:11)\n",
    # the second argument of wasAttributedTo is an eIdentifier in the PROV-N grammar
    "attribution-agent": "wasAttributedTo(ex:at1; ex:e1, -)\n",
    # 50 and 55: ex:e1 is an entity, so it cannot be the activity of a generation
    "typing": "entity(ex:e2)\nwasGeneratedBy(ex:g1; ex:e2, ex:e1, -)\n",
    # 54: one id for an element and a relation
    "id-overlap": "wasGeneratedBy(ex:e1; ex:e1, ex:a1, -)\n",
    # 40
    "specialization-reflexive": "specializationOf(ex:e1, ex:e1)\n",
    # 39 and 40: a cycle makes a specialization of itself
    "specialization-cycle": "entity(ex:e2)\nspecializationOf(ex:e1, ex:e2)\nspecializationOf(ex:e2, ex:e1)\n",
    # 56
    "empty-collection": "entity(ex:c, [prov:type='prov:EmptyCollection'])\nhadMember(ex:c, ex:e1)\n",
    # definition 4: a derivation's '-' activity means none, and does not unify with ex:a1
    "derivation-placeholder": "entity(ex:e0)\nwasDerivedFrom(ex:d1; ex:e1, ex:e0, ex:a1, -, -)\n"
    "wasDerivedFrom(ex:d1; ex:e1, ex:e0, -, -, -)\n",
    # and an association's '-' plan
    "association-placeholder": "agent(ex:ag)\nentity(ex:plan)\nwasAssociatedWith(ex:as1; ex:a1, ex:ag, ex:plan)\n"
    "wasAssociatedWith(ex:as1; ex:a1, ex:ag, -)\n",
    # PROV-LINKS mention-unique
    "mention-unique": "entity(ex:e2)\nentity(ex:e3)\nmentionOf(ex:e1, ex:e2, ex:b)\nmentionOf(ex:e1, ex:e3, ex:b)\n",
}
CODES = {
    "end-time": "end-time",
    "attribution-agent": "absent-formal",
    "typing": "typing",
    "id-overlap": "id-overlap",
    "specialization-reflexive": "specialization-reflexive",
    "specialization-cycle": "specialization-reflexive",
    "empty-collection": "empty-collection",
    "derivation-placeholder": "key-properties",
    "association-placeholder": "key-properties",
}


@pytest.mark.parametrize("case", sorted(UNIQUE))
def test_what_prov_constraints_forbids_is_refused_by_strict_and_reported_by_warn(store, case):
    text = HEAD + "entity(ex:e1)\nactivity(ex:a1)\n" + UNIQUE[case] + "endDocument\n"
    code = CODES.get(case, "uniqueness")
    with pytest.raises(InvalidDocument) as info:
        ingest(store, text, validation="strict")
    assert info.value.message.split(": ", 1)[1].startswith(code), info.value.message
    assert "constraint" in info.value.message or "grammar" in info.value.message
    assert store.stats().documents == 0
    res = ingest(store, text)  # warn: stored as written, with the finding
    assert [w for w in res.warnings if w.startswith(code)], res.warnings
    comes_back_equal(store, res.id, text)


@pytest.mark.parametrize(
    "body",
    [
        # the same generation asserted twice, once anonymous: it unifies
        "wasGeneratedBy(ex:e1, ex:a1, 2012-11-16T16:05:00)\nwasGeneratedBy(ex:g1; ex:e1, ex:a1, 2012-11-16T16:05:00)\n",
        # two generations of ex:e1 by different activities: not one event
        "activity(ex:a2)\nwasGeneratedBy(ex:g1; ex:e1, ex:a1, -)\nwasGeneratedBy(ex:g2; ex:e1, ex:a2, -)\n",
        # an activity whose start event says the same time
        "activity(ex:a9, 2012-11-16T16:05:00, -)\nwasStartedBy(ex:s1; ex:a9, -, -, 2012-11-16T16:05:00)\n",
        # a chain and a diamond of specializations: no cycle
        "entity(ex:e2)\nentity(ex:e3)\nspecializationOf(ex:e1, ex:e2)\nspecializationOf(ex:e2, ex:e3)\n"
        "specializationOf(ex:e1, ex:e3)\n",
        # a derivation that names its activity: a '-' generation unifies with ex:g (definition 4)
        "entity(ex:e0)\nwasDerivedFrom(ex:d1; ex:e1, ex:e0, ex:a1, ex:g, -)\nwasDerivedFrom(ex:d1; ex:e1, ex:e0, ex:a1, -, -)\n",
    ],
    ids=["unifies", "two-activities", "same-time", "specialization-chain", "derivation-generation-unifies"],
)
def test_what_prov_constraints_allows_is_accepted_by_strict(store, body):
    ingest(store, HEAD + "entity(ex:e1)\nactivity(ex:a1)\n" + body + "endDocument\n", validation="strict")
    assert store.stats().documents == 1


def test_a_dangling_reference_is_valid_prov_so_strict_stores_it_with_the_warning(store):
    """PROV infers an element a relation names; strict refused 7 valid PROV-CONSTRAINTS cases."""
    text = HEAD + "activity(ex:a1)\nused(ex:u1; ex:a1, ex:elsewhere, -)\nendDocument\n"
    res = ingest(store, text, validation="strict")
    assert [w for w in res.warnings if w.startswith("dangling") and EX + "elsewhere" in w], res.warnings
    comes_back_equal(store, res.id, text)


def test_a_relation_named_where_an_element_must_be_is_refused_by_strict(store):
    """voprov's used(...).isDescribedBy(...) writes the relation's id as an influencee."""
    text = (
        HEAD + "entity(ex:e1)\nactivity(ex:a1)\nentity(ex:ud)\nused(ex:u1; ex:a1, ex:e1, -)\n"
        "wasInfluencedBy(ex:d1; ex:u1, ex:ud)\nendDocument\n"
    )
    with pytest.raises(InvalidDocument) as info:
        ingest(store, text, validation="strict")
    assert "typing" in info.value.message and EX + "u1" in info.value.message
    assert store.stats().documents == 0


def test_an_assertion_of_another_kind_in_a_hidden_document_stays_hidden(backend, request, tmp_path):
    """A proprietary document says the public entity ex:e1 is also an agent, with a secret: an
    anonymous reader's answers, in every format, show the entity only."""
    from provhub.app import create_app
    from provhub.app.access import Viewer
    from tests.conftest import make_settings

    settings = make_settings(backend, request, tmp_path, auth="on")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    op = Viewer(name="op", role="admin")
    services.ingest(
        store, HEAD + 'entity(ex:e1, [ex:n="public"])\nendDocument\n', "provn", settings=settings, viewer=op
    )
    services.ingest(
        store,
        HEAD + 'agent(ex:e1, [ex:n="TOPSECRET"])\nendDocument\n',
        "provn",
        settings=settings,
        viewer=op,
        rights="proprietary",
        group="hess",
    )
    client = app.test_client()
    for fmt in ("PROV-JSON", "PROV-N", "PROV-XML"):
        r = client.get(f"/provsap?ID=ex:e1&DEPTH=ALL&RESPONSEFORMAT={fmt}&MODEL=W3C".replace("ex:e1", EX + "e1"))
        assert r.status_code == 200, r.text
        assert "TOPSECRET" not in r.text and "agent" not in r.text.lower().replace("softwareagent", ""), (fmt, r.text)
        assert "public" in r.text
    admin = store.trace(TraceQuery(ids=[EX + "e1"], depth=0)).nodes
    assert sorted(n.kind for n in admin) == ["agent", "entity"]  # the store holds both
    page = client.get("/?q=TOPSECRET")
    assert "e1" not in page.text
    store.close()
