"""provhub.provdm.provjson writes the PROV-JSON that prov would: prov reads it back equal, both ways."""

from __future__ import annotations

import json

import pytest

from provhub.app.sample import sample_documents
from provhub.provdm import formats
from provhub.provdm.codec import Graph, records_of, to_document
from provhub.provdm.provjson import graph_to_provjson, join_fragments, record_fragment
from tests.conftest import ROOT, prov_files

FIXTURES = [(p, f) for p, f in prov_files()]
FIXTURES += [(ROOT / "tests" / "fixtures" / "known_graph.provn", "provn")]
FIXTURES += [(p, "json") for p in sorted((ROOT / "tests" / "fixtures" / "voprov").glob("*w3c*.json"))]


def check(doc, prefixes):
    nodes, relations = records_of(doc)
    graph = Graph(nodes, relations)
    expected = to_document(graph, prefixes)
    text = graph_to_provjson(graph, prefixes)
    got, _ = formats.parse(text, "json")
    assert got == expected and expected == got
    joined = join(graph)
    if joined is not None:  # None: the document binds one prefix to two namespaces (bundles)
        got, _ = formats.parse(joined, "json")
        assert got == expected and expected == got
    return text


def join(graph):
    """The answer joined from per-record fragments, as the stores do (rows in reverse order:
    the join sorts them)."""
    nodes = [(n.kind, n.id, *record_fragment(n.qn, n.attrs)) for n in graph.nodes]
    rels = [(r.type, r.id, *record_fragment(r.qn, r.attrs)) for r in graph.relations]
    return join_fragments(nodes[::-1], rels[::-1])


@pytest.mark.parametrize("path,fmt", FIXTURES, ids=[p.name for p, _ in FIXTURES])
def test_corpus(path, fmt):
    doc, _ = formats.parse(path.read_text(), fmt)
    check(doc, {ns.prefix: ns.uri for ns in doc.namespaces})


def test_sample_lineage_with_fits_keywords():
    for doc in sample_documents():
        check(doc, {ns.prefix: ns.uri for ns in doc.namespaces})


def test_prefix_clashes_and_unknown_namespaces():
    text = json.dumps(
        {
            "prefix": {"ex": "http://one.example/"},
            "entity": {
                "ex:a": {
                    "ex:n": 1,
                    "ex:when": {"$": "2020-01-01T00:00:00+01:00", "type": "xsd:dateTime"},
                    "ex:t": [{"$": "x", "lang": "en"}, "plain"],
                    "ex:d": {"$": "1.5", "type": "xsd:double"},
                    "ex:q": {"$": "ex:b", "type": "xsd:QName"},
                    "ex:u": {"$": "http://x/y", "type": "xsd:anyURI"},
                }
            },
            "bundle": {"ex:bun": {"prefix": {"ex": "http://two.example/"}, "entity": {"ex:a": {"ex:m": True}}}},
        }
    )
    doc, _ = formats.parse(text, "json")
    # the store knows "ex" for yet another URI: both document namespaces must get other prefixes
    out = check(doc, {"ex": "http://zero.example/"})
    assert set(json.loads(out)["prefix"].values()) >= {"http://one.example/", "http://two.example/"}


def test_fragments_join_or_refuse_on_a_prefix_clash():
    one = json.dumps(
        {
            "prefix": {"ex": "http://one.example/"},
            "entity": {"ex:a": {"ex:n": 1}},
            "activity": {"ex:p": {}},
            "wasGeneratedBy": {"_:g": {"prov:entity": "ex:a", "prov:activity": "ex:p"}},
        }
    )
    two = json.dumps({"prefix": {"ex": "http://two.example/"}, "entity": {"ex:b": {"ex:m": "x"}}})
    (d1, _), (d2, _) = formats.parse(one, "json"), formats.parse(two, "json")
    g1, g2 = Graph(*records_of(d1)), Graph(*records_of(d2))
    joined = json.loads(join(g1))
    assert joined["prefix"] == {"ex": "http://one.example/"}
    assert joined["entity"] == {"ex:a": {"ex:n": {"$": "1", "type": "xsd:int"}}} and list(joined["wasGeneratedBy"]) == [
        "_:id1"
    ]
    both = Graph(g1.nodes + g2.nodes, g1.relations + g2.relations)
    assert join(both) is None  # "ex" names two namespaces: the caller writes it from the records
    assert formats.parse(graph_to_provjson(both), "json")[0] == to_document(both)
