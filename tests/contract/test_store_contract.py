"""The store contract (provhub/app/stores/base.py), run against every backend."""

from __future__ import annotations

import json

import pytest
from prov.model import ProvDocument

from provhub.app import services
from provhub.app.config import Settings
from provhub.app.stores.base import TraceQuery
from provhub.provdm import formats
from provhub.provdm.codec import ANON_PREFIX, to_document
from provhub.provdm.errors import AnswerTooLarge, Conflict, InvalidDocument, NotFound
from tests.conftest import ROOT, prov_files

EX = "http://example.org/cta#"
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()


def ingest(store, text, fmt="provn", **kw):
    return services.ingest(store, text, fmt, settings=Settings(), **kw)


def short(iri: str) -> str:
    return iri[len(EX) :] if iri.startswith(EX) else iri


def answer(store, ids, **kw):
    """Node names and relation names of a trace; anonymous relations as type(src,dst)."""
    g = store.trace(TraceQuery(ids=[EX + i for i in ids], **kw))
    nodes = {short(n.id) for n in g.nodes}
    rels = {
        f"{r.type}({short(r.src)},{short(r.dst)})" if r.id.startswith(ANON_PREFIX) else short(r.id) for r in g.relations
    }
    return nodes, rels


@pytest.fixture
def known(store):
    ingest(store, KNOWN)
    return store


D0 = ({"dl5", "alice"}, {"attr1"})
D1 = (D0[0] | {"analysis", "gammapy", "emin"}, D0[1] | {"gen5", "assoc1", "conf"})
D2 = (D1[0] | {"dl3a", "dl3b", "dataset"}, D1[1] | {"u1", "u2", "hadMember(dataset,dl3a)", "hadMember(dataset,dl3b)"})
D3 = (D2[0] | {"dl3prod"}, D2[1] | {"g3a", "g3b"})
DALL = (D3[0] | {"irf", "sim"}, D3[1] | {"u3", "d1"})

MATRIX = [
    # (ids, options, expected nodes, expected relations)
    (["dl5"], {"depth": 0}, *D0),
    (["dl5"], {"depth": 1}, *D1),
    (["dl5"], {"depth": 2}, *D2),
    (["dl5"], {"depth": 3}, *D3),
    (["dl5"], {"depth": None}, *DALL),
    (["dl5"], {"depth": 50}, *DALL),
    (["dl5"], {"depth": 1, "model": "W3C"}, *D1),  # W3C loses nothing (the serialisers tell the models apart)
    (["dl5"], {"depth": 1, "agents": True}, D1[0] | {"hess"}, D1[1] | {"dele"}),
    (["dl5"], {"depth": 2, "agents": True}, D2[0] | {"hess", "other"}, D2[1] | {"dele", "attr2"}),
    (["alice"], {"depth": 1}, {"alice"}, set()),
    (["alice"], {"depth": 1, "agents": True}, {"alice", "dl5", "other", "hess"}, {"attr1", "attr2", "dele"}),
    (["dl5"], {"depth": 2, "direction": "FORTH"}, {"dl5", "alice", "later", "dl6"}, {"attr1", "u9", "g9"}),
    (
        ["dl3a"],
        {"depth": 1, "direction": "FORTH"},
        {"dl3a", "dataset", "analysis", "gammapy", "emin"},
        {"hadMember(dataset,dl3a)", "u1", "assoc1", "conf"},
    ),
    (["dataset"], {"depth": 1}, {"dataset"}, set()),
    (
        ["dataset"],
        {"depth": 1, "members": True},
        {"dataset", "dl3a", "dl3b"},
        {"hadMember(dataset,dl3a)", "hadMember(dataset,dl3b)"},
    ),
    (
        ["dataset"],
        {"depth": 2, "members": True},
        {"dataset", "dl3a", "dl3b", "dl3prod"},
        {"hadMember(dataset,dl3a)", "hadMember(dataset,dl3b)", "g3a", "g3b"},
    ),
    (
        ["dl3a", "irf"],
        {"depth": 1},
        {"dl3a", "dataset", "dl3prod", "irf", "sim"},
        {"hadMember(dataset,dl3a)", "g3a", "d1"},
    ),
    (["c1"], {"depth": None}, {"c1", "c2"}, {"dc1", "dc2"}),
    (["c1"], {"depth": 7}, {"c1", "c2"}, {"dc1", "dc2"}),
    (["c1"], {"depth": None, "direction": "FORTH"}, {"c1", "c2"}, {"dc1", "dc2"}),
]


@pytest.mark.parametrize("ids,options,nodes,rels", MATRIX, ids=[f"{'+'.join(m[0])}-{m[1]}" for m in MATRIX])
def test_provsap_matrix(known, ids, options, nodes, rels):
    assert answer(known, ids, **options) == (nodes, rels)
    check_joined_answer(known, TraceQuery(ids=[EX + i for i in ids], **options))


def check_joined_answer(store, query):
    """trace_provjson, joined from the stored fragments, is the PROV of trace()."""
    joined = store.trace_provjson(query)
    assert joined is not None
    got, _ = formats.parse(joined, "json")
    expected = to_document(store.trace(query))
    assert got == expected and expected == got
    return json.loads(joined)


def test_trace_keeps_every_attribute_with_its_datatype(known):
    g = known.trace(TraceQuery(ids=[EX + "dl3a"], depth=0))
    (dl3a,) = [n for n in g.nodes if n.id == EX + "dl3a"]
    assert [a[1] for a in dl3a.attrs] == [23523]
    g = known.trace(TraceQuery(ids=[EX + "dl5"], depth=2))
    used = {r.id: r for r in g.relations}[EX + "u1"]
    assert {"time": "2020-01-02T00:10:00+00:00"} in [v for _, v in used.attrs]


def test_node_cap(known):
    with pytest.raises(AnswerTooLarge):
        known.trace(TraceQuery(ids=[EX + "dl5"], depth=None, node_cap=5))


@pytest.mark.parametrize("path,fmt", prov_files(), ids=[p.name for p, _ in prov_files()])
def test_round_trip_of_the_corpus(store, path, fmt):
    text = path.read_text()
    res = ingest(store, text, fmt)
    stored = store.get_document(res.id)
    assert stored.original == text and stored.format in (fmt, "json", "provn", "xml")
    original, _ = formats.parse(text, fmt)
    for out in formats.FORMATS:
        if out in formats.RDF_FORMATS:  # PROV-O keeps less: tests/api/test_prov_o.py
            continue
        back, _ = formats.parse(services.document_text(store, res.id, out), out)
        assert back == original and original == back, out


def test_idempotent(store):
    first = ingest(store, KNOWN)
    before = store.stats()
    second = ingest(store, KNOWN)
    assert first.created and not second.created and first.id == second.id
    assert store.stats() == before
    # the same content in another syntax is the same document
    doc, _ = formats.parse(KNOWN, "provn")
    third = ingest(store, formats.serialize(doc, "json"), "json")
    assert third.id == first.id and not third.created
    assert store.stats() == before


def test_atomic_when_last_record_conflicts(store):
    ingest(store, KNOWN)
    before = store.stats()
    bad = """document
  prefix ex <http://example.org/cta#>
  entity(ex:brand_new)
  used(ex:u_new; ex:analysis, ex:brand_new, -)
  activity(ex:analysis, 2021-01-01T00:00:00Z, -)
endDocument"""
    with pytest.raises(Conflict) as info:
        ingest(store, bad)
    assert info.value.details[0]["id"] == EX + "analysis"
    assert info.value.details[0]["attribute"].endswith("startTime")
    assert store.stats() == before
    assert store.get_nodes([EX + "brand_new"]) == []


def test_merge_across_documents(store):
    a = ingest(store, "document\nprefix ex <http://example.org/cta#>\nentity(ex:e, [ex:v=1])\nendDocument")
    b = ingest(store, 'document\nprefix ex <http://example.org/cta#>\nentity(ex:e, [ex:w="x"])\nendDocument')
    (node,) = store.get_nodes([EX + "e"])
    assert [v for _, v in node.attrs] == [1, "x"]
    assert store.documents_asserting(EX + "e") == [a.id, b.id]
    # the stored PROV-JSON fragment of the merged record holds what both documents said
    joined = check_joined_answer(store, TraceQuery(ids=[EX + "e"], depth=0))
    assert joined["entity"]["ex:e"] == {"ex:v": {"$": "1", "type": "xsd:int"}, "ex:w": "x"}


def test_kind_conflict_and_self_contradiction(store):
    """Issue 17: another kind of an id is another assertion of it, kept (PROV-CONSTRAINTS 55 is
    checked by validation, not by merging); a document that asserts an activity with two start
    times is stored under warn and refused by strict; another start time in another document
    is a conflict (docs/model.md)."""
    ingest(store, "document\nprefix ex <http://example.org/cta#>\nentity(ex:x)\nendDocument")
    ingest(store, "document\nprefix ex <http://example.org/cta#>\nactivity(ex:x)\nendDocument")
    assert sorted(n.kind for n in store.trace(TraceQuery(ids=[EX + "x"], depth=0)).nodes) == ["activity", "entity"]
    twice = (
        "document\nprefix ex <http://example.org/cta#>\nactivity(ex:y, 2020-01-01T00:00:00Z, -)\n"
        "activity(ex:y, 2021-01-01T00:00:00Z, -)\nendDocument"
    )
    with pytest.raises(InvalidDocument):
        services.ingest(store, twice, "provn", settings=Settings(), validation="strict")
    ingest(store, twice)
    with pytest.raises(Conflict):
        ingest(
            store, "document\nprefix ex <http://example.org/cta#>\nactivity(ex:y, 2022-01-01T00:00:00Z, -)\nendDocument"
        )


def test_documents_listing_and_not_found(store):
    ids = [ingest(store, p.read_text(), f).id for p, f in prov_files()[:4]]
    docs, total = store.list_documents(offset=1, limit=2)
    assert total == len(set(ids)) and [d.id for d in docs] == list(dict.fromkeys(ids))[1:3]
    with pytest.raises(NotFound):
        store.get_document("0" * 32)


def test_search_and_namespaces(known):
    nodes, total = known.search("crab")
    assert [n.id for n in nodes] == [EX + "dl5"] and total == 1
    nodes, total = known.search("", kind="agent")
    assert {n.id for n in nodes} == {EX + "alice", EX + "gammapy", EX + "hess"} and total == 3
    assert known.namespaces()["ex"] == EX


def test_search_finds_words_with_non_ascii_letters_and_keeps_rights(store):
    """Attributes are kept as JSON text with non-ASCII characters escaped: a search for Müller,
    müller or MÜLLER finds the record that says "Jürgen Müller", and a value that only a hidden
    document gives is neither found nor counted for a reader outside its group."""
    from provhub.app.access import ANONYMOUS

    ingest(store, 'document\n prefix ex <%s>\n entity(ex:ju, [prov:label="Jürgen Müller"])\n'
           ' entity(ex:mu, [prov:label="MÜNCHEN run 😀"])\nendDocument' % EX)  # fmt: skip
    ingest(store, 'document\n prefix ex <%s>\n entity(ex:ju, [ex:note="Geheimprojekt Zürich"])\nendDocument' % EX,
           rights="proprietary", group="A")  # fmt: skip
    for word, found in [("Müller", "ju"), ("müller", "ju"), ("MÜLLER", "ju"), ("jürgen m", "ju"),
                        ("MÜNCHEN", "mu"), ("münchen", "mu"), ("😀", "mu"), ("Zürich", "ju")]:  # fmt: skip
        nodes, total = store.search(word)
        assert [short(n.id) for n in nodes] == [found] and total == 1, word
    assert store.search("Muller") == ([], 0)
    assert services.search_records(store, "Zürich", viewer=ANONYMOUS) == ([], 0)  # only the hidden one says it
    nodes, total = services.search_records(store, "Müller", viewer=ANONYMOUS)
    assert [short(n.id) for n in nodes] == ["ju"] and total == 1


def test_bundles_stay_bundles(store):
    text = json.dumps(
        {
            "prefix": {"ex": EX},
            "entity": {"ex:top": {}},
            "bundle": {"ex:b1": {"prefix": {"ex": EX}, "entity": {"ex:inner": {"ex:n": 1}}}},
        }
    )
    res = ingest(store, text, "json")
    back = ProvDocument.deserialize(content=services.document_text(store, res.id, "json"), format="json")
    assert [b.identifier.uri for b in back.bundles] == [EX + "b1"]
    assert store.get_nodes([EX + "inner"])


# -- rights, tokens, identity and lifecycle: what every backend must also do ------------------

RIGHTS_CASES = {  # document -> (rights, group, release)
    "pub": ("public", None, None),
    "a": ("proprietary", "A", None),
    "a_released": ("proprietary", "A", "2020-01-01"),
    "a_later": ("proprietary", "A", "2999-01-01"),
    "b": ("proprietary", "B", None),
}
READERS = [None, frozenset(), frozenset({"A"}), frozenset({"B"}), frozenset({"A", "B"})]


def test_the_readable_rule_is_the_same_in_python_and_in_the_backend(store):
    """list_documents and search filter with provhub.app.access.Readable in the backend's own query
    language; both must agree with Readable.allows on every case."""
    from provhub.app.access import Readable

    ids = {}
    for name, (rights, group, release) in RIGHTS_CASES.items():
        res = ingest(
            store,
            f'document\nprefix ex <{EX}>\nentity(ex:{name}, [ex:word="needle"])\nendDocument',
            rights=rights,
            group=group,
            release=release,
        )
        ids[res.id] = name
    today = "2026-06-01"
    for groups in READERS:
        rule = Readable.of(groups, today)
        expected = {n for n, (r, g, rel) in RIGHTS_CASES.items() if rule.allows(r, g, rel)}
        docs, total = store.list_documents(groups=groups, today=today)
        assert {ids[d.id] for d in docs} == expected and total == len(expected), groups
        nodes, count = store.search("needle", groups=groups, today=today)
        assert {short(n.id) for n in nodes} == expected and count == len(expected), groups


def test_rights_of_and_set_rights(store):
    res = ingest(store, f"document\nprefix ex <{EX}>\nentity(ex:r)\nendDocument", rights="proprietary", group="A")
    assert [(d.doc_id, d.rights, d.group) for d in store.rights_of([EX + "r"])[EX + "r"]] == [
        (res.id, "proprietary", "A")
    ]
    store.set_rights(res.id, "public", None, "2030-01-01")
    stored = store.get_document(res.id)
    assert (stored.rights, stored.group, stored.release) == ("public", None, "2030-01-01")
    with pytest.raises(NotFound):
        store.set_rights("nope", "public", None, None)


def test_tokens_and_the_secret(store):
    from provhub.app.stores.base import TokenRecord

    token = TokenRecord("t1", "pipeline", "writer", ["A"], "h" * 64, "2026-01-01T00:00:00+00:00")
    store.save_token(token)
    assert store.find_token("h" * 64) == token
    assert store.find_token("x" * 64) is None
    assert [t.id for t in store.list_tokens()] == ["t1"]
    assert store.revoke_token("t1") and not store.revoke_token("t2")
    assert store.find_token("h" * 64).revoked
    assert store.secret() == store.secret() and len(store.secret()) >= 32


def test_aliases_versions_rewrite_and_history(store):
    from provhub.app.stores.base import HistoryEntry, Rewrite
    from provhub.provdm.errors import StoreBusy
    from provhub.provdm.identity import STRONG, Claim

    res = ingest(
        store,
        f'document\nprefix ex <{EX}>\nentity(ex:f, [prov:location="/d/f.fits", '
        f'provhub:alias="ivo://x/f"])\nendDocument'.replace(
            "document\n", "document\nprefix provhub <https://provhub.org/ns#>\n", 1
        ),
    )
    claims = store.find_aliases(keys=["ivo://x/f"])
    assert claims == [Claim("ivo://x/f", EX + "f", STRONG, res.id)]
    assert Claim("path:/d/f.fits", EX + "f", STRONG, res.id) in store.find_aliases(record_ids=[EX + "f"])
    assert store.find_aliases(doc_ids=[res.id]) == store.find_aliases(record_ids=[EX + "f"])
    assert store.document_records([res.id]) == {res.id: [EX + "f"]}
    before = store.version()
    with pytest.raises(StoreBusy):  # planned against an older version: nothing is written
        store.rewrite(Rewrite(version=(-1, -1), delete=[EX + "f"]))
    assert store.get_nodes([EX + "f"])
    entry = HistoryEntry(res.id, "retracted", "tester", "2026-01-01T00:00:00+00:00")
    assert store.rewrite(
        Rewrite(version=before, docs=[res.id], delete=[EX + "f"], status={res.id: ("retracted", None)}, history=[entry])
    )
    assert not store.get_nodes([EX + "f"]) and not store.find_aliases(keys=["ivo://x/f"])
    assert store.get_document(res.id).status == "retracted"
    assert store.list_documents()[1] == 0 and store.list_documents(retired=True)[1] == 1
    assert store.history(res.id) == [entry] and store.version() != before
