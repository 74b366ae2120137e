"""provhub.provdm.jsonreader flattens plain PROV-JSON exactly as provhub.provdm.codec.records_and_hash does prov's parse."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks import generator as gen
from provhub.provdm import formats, jsonreader
from provhub.provdm.codec import count_records, records_and_hash
from provhub.provdm.errors import Conflict, ProvhubError
from tests.conftest import prov_files


def prov_way(text):
    doc, caught, translated = formats.parse_any(text, "json")
    nodes, relations, content_hash = records_and_hash(doc)
    return nodes, relations, content_hash, count_records(doc), {ns.prefix: ns.uri for ns in doc.namespaces}, caught


def same(text) -> bool:
    """True when the reader took the document; then its records are prov's, exactly."""
    try:
        fast = jsonreader.read(json.loads(text), text)
    except Conflict:
        with pytest.raises(Conflict):
            prov_way(text)
        return True
    if fast is None:
        return False
    *expected, caught = prov_way(text)
    assert not caught  # prov had nothing to say about a document the reader takes
    for got, want, what in zip(fast, expected, ("nodes", "relations", "hash", "records", "prefixes"), strict=True):
        assert got == want, what
    return True


def test_benchmark_documents_are_read_without_prov():
    assert same(gen.large_document(3000, 5).text())
    for doc in list(gen.documents(4000, 7, gen.fanin_runs_for(4000), gen.nsb_bins_for(4000)))[:40]:
        assert same(doc.text()), doc.name


@pytest.mark.parametrize(
    "path", [p for p, f in prov_files() if f == "json"], ids=[p.name for p, f in prov_files() if f == "json"]
)
def test_corpus(path):
    same(path.read_text())


def test_what_is_left_to_prov():
    base = {"prefix": {"ex": "http://example.org/"}}
    for doc in (
        {**base, "entity": {"ex:a": [{}, {}]}},  # two records under one id
        {**base, "bundle": {"ex:b": {"entity": {"ex:a": {}}}}},
        {"prefix": {"default": "http://example.org/"}, "entity": {"a": {}}},
        {**base, "entity": {"ex:a": {"ex:v": {"$": "1", "type": "xsd:long"}}}},
        {**base, "entity": {"ex:a": {"ex:v": {"$": "1", "type": "xsd:int", "lang": "en"}}}},
        {**base, "entity": {"nope:a": {}}},  # prov reports the unknown prefix
        {**base, "hadMember": {"_:m": {"prov:collection": "ex:c", "prov:entity": ["ex:a", "ex:b"]}}},
        {**base, "entity": {"ex:a": {"prov:type": "voprov:x"}}},  # voprov get_w3c() output
        # a contradiction, then something prov refuses: prov's error, not the contradiction
        {**base, "entity": {"ex:a": {}}, "activity": {"ex:a": {}}, "agent": {"nope:x": {}}},
    ):
        text = json.dumps(doc)
        assert jsonreader.read(json.loads(text), text) is None, doc


# -- generated documents ------------------------------------------------------------------------


# Half the documents draw only from what the reader takes, half also from what it leaves to prov.
def pools(odd: bool):
    locals_ = ["a", "b", "c", "obs/1/dl3", "x.y", "r-1", "_u", "9"] + (["a b", "", "é", "a:b"] if odd else [])
    prefixes = ["ex", "cta"] + (["nope", "_"] if odd else [])
    names = st.builds(lambda p, local: f"{p}:{local}", st.sampled_from(prefixes), st.sampled_from(locals_))
    if odd:
        names |= st.sampled_from(["http://e/x", "plain", "prov:x"])
    times = st.sampled_from(
        ["2020-01-01T00:00:00Z", "2020-01-01T00:00:00", "2020-01-01T00:00:00.5+02:00"]
        + (["2020-01-01", "not a time", "2020-13-01T00:00:00Z"] if odd else [])
    )
    typed = [
        ("1", "xsd:int"),
        ("-3", "xsd:int"),
        ("1.5", "xsd:double"),
        ("1.50", "xsd:double"),
        ("true", "xsd:boolean"),
        ("false", "xsd:boolean"),
        ("x", "xsd:string"),
        ("ex:a", "xsd:QName"),
        ("cta:b", "prov:QUALIFIED_NAME"),
        ("http://e/x", "xsd:anyURI"),
        ("2020-01-01T00:00:00Z", "xsd:dateTime"),
    ]
    if odd:
        typed += [
            ("007", "xsd:int"),
            ("2147483648", "xsd:int"),
            ("1e3", "xsd:double"),
            ("1", "xsd:long"),
            ("x", "ex:t"),
            ("nope:a", "xsd:QName"),
            ("yes", "xsd:boolean"),
            ("x", "xsd:dateTime"),
        ]
    values = (
        st.text(max_size=6)
        | st.sampled_from(["x", "y"])
        | st.integers(-(2**40), 2**40)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.booleans()
        | st.sampled_from(typed).map(lambda p: {"$": p[0], "type": p[1]})
        | st.builds(
            lambda v, g: {"$": v, "lang": g}, st.text(max_size=4), st.sampled_from(["en", "fr"] + ([""] if odd else []))
        )
    )
    attrs = st.dictionaries(
        names | st.sampled_from(["prov:type", "prov:label", "prov:role", "prov:value"]),
        values | st.lists(values, min_size=1, max_size=3),
        max_size=3,
    )
    declared = [
        {"ex": "http://example.org/", "cta": "http://cta.example/#"},
        {"ex": "http://example.org/", "prov": "http://www.w3.org/ns/prov#"},
    ]
    if odd:  # one namespace, two prefixes
        declared.append({"ex": "http://example.org/", "cta": "http://example.org/"})
    return st.sampled_from(declared), names, times, attrs


ENDS = {
    "used": ("prov:activity", "prov:entity"),
    "wasGeneratedBy": ("prov:entity", "prov:activity"),
    "wasAssociatedWith": ("prov:activity", "prov:agent"),
    "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity"),
    "wasInfluencedBy": ("prov:influencee", "prov:influencer"),
    "hadMember": ("prov:collection", "prov:entity"),
    "actedOnBehalfOf": ("prov:delegate", "prov:responsible"),
    "wasInformedBy": ("prov:informed", "prov:informant"),
}


@st.composite
def documents(draw):
    declared, names, times, attrs = pools(odd=draw(st.booleans()))
    doc = {"prefix": draw(declared)}
    for kind in draw(st.lists(st.sampled_from(["entity", "activity", "agent"]), max_size=3)):
        group = doc.setdefault(kind, {})
        for ident in draw(st.lists(names, max_size=3)):
            body = dict(draw(attrs))
            if kind == "activity" and draw(st.booleans()):
                body["prov:startTime"] = draw(times)
            group[ident] = body
    for rtype in draw(st.lists(st.sampled_from(sorted(ENDS)), max_size=3)):
        group = doc.setdefault(rtype, {})
        for ident in draw(st.lists(st.sampled_from(["_:r1", "_:r2", "ex:r", "cta:r"]), max_size=2)):
            body = dict(draw(attrs))
            for end in ENDS[rtype]:
                if draw(st.integers(0, 4)):
                    body[end] = draw(names)
            if rtype in ("used", "wasGeneratedBy") and draw(st.booleans()):
                body["prov:time"] = draw(times)
            group[ident] = body
    return doc


@settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents())
def test_generated_documents(doc):
    text = json.dumps(doc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            same(text)
        except ProvhubError:  # prov refuses the document: the reader must not have taken it
            assert jsonreader.read(json.loads(text), text) is None
