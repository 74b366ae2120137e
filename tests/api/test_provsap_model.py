"""MODEL (issue 16, item 1), on each backend: ``MODEL=W3C`` is plain W3C PROV that loses nothing
(voprov's get_w3c()), and ``MODEL=IVOA``, the default, is the IVOA serialisation as voprov writes
it (as OPUS answers it) in PROV-JSON, PROV-N and PROV-XML: checked against voprov's own documents
of the same graph (tests/fixtures/voprov, made by voprov 0.0.4), and read back by provhub as the
W3C answer's records."""

from __future__ import annotations

import json
import re

import pytest
from lxml import etree

from provhub.provdm import formats, voprov
from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import records_of
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "voprov"
NATIVE = json.loads((FIXTURES / "voprov-all-native.json").read_text())
RELATION_ENDS = {
    "isDescribedBy": ("voprov:described", "voprov:descriptor"),
    "isRelatedTo": ("voprov:related", "voprov:relator"),
    "wasConfiguredBy": ("voprov:configured", "voprov:configurator"),
    "hadReference": ("voprov:referenced", "voprov:referrer"),
}


@pytest.fixture
def calibration(client):
    r = client.post(
        "/documents",
        data=(FIXTURES / "voprov-all-native.json").read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 201, r.get_json()
    return client


def provsap(client, model: str | None, fmt: str = "PROV-JSON") -> str:
    params = {"ID": "cta:calibrated_1", "DEPTH": "ALL", "RESPONSEFORMAT": fmt, **({"MODEL": model} if model else {})}
    r = client.get("/provsap", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_data(as_text=True)


def sections(doc: dict) -> dict[str, set]:
    """section -> its elements' ids, or its relations' ends (relation ids differ: voprov's _:idN)."""
    out: dict[str, set] = {}
    for section, records in doc.items():
        if section in ("prefix", "bundle"):
            continue
        ends = RELATION_ENDS.get(section)
        for rid, body in records.items():
            out.setdefault(section, set()).add((body[ends[0]], body[ends[1]]) if ends else rid)
    return out


def native(client) -> str:
    return provsap(client, None)  # MODEL=IVOA is the default


def test_ivoa_is_voprovs_native_serialisation(calibration):
    assert native(calibration) == provsap(calibration, "IVOA")
    answer = sections(json.loads(native(calibration)))
    expected = sections(NATIVE)
    for section in (
        "activityDescription",
        "usageDescription",
        "generationDescription",
        "parameterDescription",
        "configFileDescription",
        "valueDescription",
        "entityDescription",
        "datasetDescription",
        "parameter",
        "configFile",
        "valueEntity",
        "datasetEntity",
        *RELATION_ENDS,
    ):
        assert answer.get(section) == expected[section], section
    assert "wasInfluencedBy" not in answer
    # the activity and entities voprov writes natively stay in their PROV sections
    assert {"cta:calib_1"} <= answer["activity"] and "cta:calibrated_1" in answer["entity"]


SYNTAXES = {"PROV-JSON": "json", "PROV-N": "provn", "PROV-XML": "xml"}


@pytest.mark.parametrize("responseformat", list(SYNTAXES))
def test_ivoa_reads_back_as_the_w3c_answer(calibration, responseformat):
    fmt = SYNTAXES[responseformat]
    ivoa, w3c = provsap(calibration, None, responseformat), provsap(calibration, "W3C", responseformat)
    assert voprov.voprov_kind(ivoa, fmt) in (voprov.KIND_NATIVE_JSON, voprov.KIND_XML, voprov.KIND_PROVN)
    assert voprov.voprov_kind(w3c, fmt) is None
    from_ivoa, _warnings, translated = formats.parse_any(ivoa, fmt)
    assert translated  # provhub (like voprov) reads it as voprov's native serialisation
    from_w3c, _ = formats.parse(w3c, fmt)
    assert from_ivoa == from_w3c  # prov equality: the same records, attributes and values
    nodes_i, rels_i = records_of(from_ivoa)
    nodes_w, rels_w = records_of(from_w3c)
    # the same attributes (XML answers may list them in another order)
    assert {n.id: sorted(map(repr, n.attrs)) for n in nodes_i} == {n.id: sorted(map(repr, n.attrs)) for n in nodes_w}
    assert {(r.type, r.src, r.dst) for r in rels_i} == {(r.type, r.src, r.dst) for r in rels_w}


def _provn_statements(text: str) -> set[str]:
    return set(re.findall(r"^\s*([A-Za-z]+)\(", text, re.M))


def _xml_elements(text: str) -> set[str]:
    root = etree.fromstring(text.encode("utf-8"))
    return {etree.QName(root).localname} | {etree.QName(e).localname for e in root}


def test_ivoa_provn_and_xml_are_written_as_voprov_writes_them(calibration):
    """The same statements and elements voprov 0.0.4 wrote for the same records."""
    provn = provsap(calibration, None, "PROV-N")
    ivoa = set(voprov.PROVN_ARGUMENTS)
    written, voprovs = _provn_statements(provn), _provn_statements((FIXTURES / "voprov-all.provn").read_text())
    assert written & ivoa == voprovs & ivoa and written <= voprovs
    # voprov's formal arguments: parameter(id, name, value), wasConfiguredBy(a, b, artefactType)
    assert 'parameter(cta:p_thr, "threshold", "0.3", [prov:label="threshold = 0.3"])' in provn
    assert 'wasConfiguredBy(cta:conf_thr; cta:calib_1, cta:p_thr, "Parameter")' in provn
    xml = provsap(calibration, None, "PROV-XML")
    written, voprovs = _xml_elements(xml), _xml_elements((FIXTURES / "voprov-all-native.xml").read_text())
    assert written & ivoa == voprovs & ivoa and written <= voprovs
    root = etree.fromstring(xml.encode("utf-8"))
    vp = "{" + voc.VOPROV_URI + "}"
    assert root.tag == vp + "document"
    described = root.find(vp + "isDescribedBy")
    assert described.find(vp + "described").get(vp + "ref") and described.find(vp + "descriptor") is not None


def test_web_downloads_are_w3c(calibration):
    """The record page's PROV downloads are what prov and W3C tools read (MODEL=W3C)."""
    page = calibration.get("/records/cta:calibrated_1").get_data(as_text=True)
    links = re.findall(r'href="([^"]*/provsap\?[^"]*)"', page)
    syntax = {
        SYNTAXES[name]: link for link in links if (name := link.split("RESPONSEFORMAT=")[1].split("&")[0]) in SYNTAXES
    }
    assert set(syntax) == {"json", "provn", "xml"} and all("MODEL=W3C" in link for link in syntax.values()), links
    for fmt, link in syntax.items():
        r = calibration.get(link.replace("&amp;", "&"))
        assert r.status_code == 200 and voprov.voprov_kind(r.get_data(as_text=True), fmt) is None, link


def test_w3c_is_plain_prov_that_loses_nothing(calibration):
    w3c = json.loads(provsap(calibration, "W3C"))
    assert set(w3c) <= {"prefix", "entity", "activity", "agent", *voc.RELATION_ENDPOINTS}  # PROV-JSON only
    types = {
        t["$"] if isinstance(t, dict) else t
        for body in w3c["entity"].values()
        for t in (body.get("prov:type", []) if isinstance(body.get("prov:type"), list) else [body.get("prov:type")])
        if t
    }
    for cls in (
        "ActivityDescription",
        "ParameterDescription",
        "ConfigFileDescription",
        "ValueEntity",
        "ValueDescription",
        "UsageDescription",
        "GenerationDescription",
        "Parameter",
        "ConfigFile",
    ):
        assert f"voprov:{cls}" in types, cls


def test_the_joined_ivoa_answer_is_the_w3c_answer_rewritten(calibration, monkeypatch):
    """A PROV-JSON answer in MODEL=IVOA is joined from the stored fragments, each rewritten alone
    (only those that change are decoded): byte for byte what rewriting the whole W3C answer gives."""
    w3c = provsap(calibration, "W3C")
    expected = voprov.to_native(w3c)
    assert set(json.loads(expected)) - set(json.loads(w3c))  # native sections: something was rewritten

    def whole(*args, **kwargs):
        raise AssertionError("the answer was rewritten whole")

    monkeypatch.setattr(voprov, "to_native", whole)
    assert native(calibration) == expected
