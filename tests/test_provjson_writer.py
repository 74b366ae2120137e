"""provdm.provjson writes the PROV-JSON that prov would: prov reads it back equal, both ways."""
from __future__ import annotations

import json

import pytest

from app.sample import sample_documents
from provdm import formats
from provdm.codec import Graph, records_of, to_document
from provdm.provjson import graph_to_provjson
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
    return text


@pytest.mark.parametrize("path,fmt", FIXTURES, ids=[p.name for p, _ in FIXTURES])
def test_corpus(path, fmt):
    doc, _ = formats.parse(path.read_text(), fmt)
    check(doc, {ns.prefix: ns.uri for ns in doc.namespaces})


def test_sample_lineage_with_fits_keywords():
    for doc in sample_documents():
        check(doc, {ns.prefix: ns.uri for ns in doc.namespaces})


def test_prefix_clashes_and_unknown_namespaces():
    text = json.dumps({"prefix": {"ex": "http://one.example/"}, "entity": {
        "ex:a": {"ex:n": 1, "ex:when": {"$": "2020-01-01T00:00:00+01:00", "type": "xsd:dateTime"},
                 "ex:t": [{"$": "x", "lang": "en"}, "plain"], "ex:d": {"$": "1.5", "type": "xsd:double"},
                 "ex:q": {"$": "ex:b", "type": "xsd:QName"}, "ex:u": {"$": "http://x/y", "type": "xsd:anyURI"}}},
        "bundle": {"ex:bun": {"prefix": {"ex": "http://two.example/"}, "entity": {"ex:a": {"ex:m": True}}}}})
    doc, _ = formats.parse(text, "json")
    # the store knows "ex" for yet another URI: both document namespaces must get other prefixes
    out = check(doc, {"ex": "http://zero.example/"})
    assert set(json.loads(out)["prefix"].values()) >= {"http://one.example/", "http://two.example/"}
