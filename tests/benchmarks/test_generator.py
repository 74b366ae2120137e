"""The benchmark generator: deterministic, valid PROV-JSON, exact record counts, stable fan-in."""

from __future__ import annotations

import itertools

import pytest
from prov.model import ProvDocument

from benchmarks import generator as gen


def parse(doc: gen.Doc) -> ProvDocument:
    return ProvDocument.deserialize(content=doc.text(), format="json")


def test_same_seed_same_bytes():
    first = [d.text() for d in gen.documents(3000, seed=7)]
    again = [d.text() for d in gen.documents(3000, seed=7)]
    other = [d.text() for d in gen.documents(3000, seed=8)]
    assert first == again
    assert first != other
    assert gen.large_document(2000, seed=7).text() == gen.large_document(2000, seed=7).text()


@pytest.mark.parametrize("records", [1000, 10_000])
def test_documents_parse_and_count_exactly(records):
    docs = list(gen.documents(records))
    assert sum(d.records for d in docs) == records
    for doc in docs:  # filterwarnings=error: prov must not warn either
        assert len(parse(doc).get_records()) == doc.records, doc.name


def test_large_document_has_exactly_the_records_asked():
    doc = gen.large_document(5000)
    assert doc.records == 5000
    assert len(parse(doc).get_records()) == 5000


def test_ivoa_conventions():
    setup = parse(next(gen.documents(1000)))
    types = {str(t) for rec in setup.get_records() for t in rec.get_asserted_types()}
    assert {"prov:SoftwareAgent", "prov:Person", "voprov:ConfigFile", "voprov:Parameter"} <= types
    configured = [r for r in setup.get_records() if r.get_type().localpart == "Influence"]
    assert configured and all("voprov:wasConfiguredBy" in {str(t) for t in r.get_asserted_types()} for r in configured)


def _fanin(records: int) -> list[gen.Doc]:
    return [d for d in itertools.islice(gen.documents(records), 30) if d.name == "setup" or d.name.startswith("fanin-")]


def test_fanin_product_has_1000_dl3_runs_each_with_4_irfs():
    used: dict[str, set[str]] = {}
    generated_by: dict[str, str] = {}
    for doc in _fanin(100_000):
        for rec in parse(doc).get_records():
            kind = rec.get_type().localpart
            args = dict(rec.formal_attributes)
            if kind == "Usage":
                used.setdefault(str(args[rec.FORMAL_ATTRIBUTES[0]]), set()).add(str(args[rec.FORMAL_ATTRIBUTES[1]]))
            elif kind == "Generation":
                generated_by[str(args[rec.FORMAL_ATTRIBUTES[0]])] = str(args[rec.FORMAL_ATTRIBUTES[1]])
    dl3s = used[generated_by[gen.FANIN_PRODUCT]]
    assert len(dl3s) == gen.FANIN_RUNS == 1000
    for dl3 in dl3s:
        irfs = used[generated_by[dl3]]
        assert len(irfs) == 4 and all(i.startswith("cta:irf/") for i in irfs)
        assert {i.split("/")[1].split("-")[0] for i in irfs} == set(gen.IRF_KINDS)


def test_fanin_is_the_same_at_1e5_and_1e6_records():
    assert [d.text() for d in _fanin(100_000)] == [d.text() for d in _fanin(1_000_000)]


def test_streams_of_different_sizes_share_their_prefix():
    small = [d.text() for d in gen.documents(20_000, fanin_runs=200)]
    large = [d.text() for d in itertools.islice(gen.documents(60_000, fanin_runs=200), len(small))]
    assert small[:-1] == large[:-1]  # all but the small stream's filler
