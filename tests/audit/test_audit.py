"""provhub.provdm.audit: a clean chain gives no findings; each known defect gives exactly its finding."""

from __future__ import annotations

import json

import pytest

from provhub.provdm.audit import CODES, ERROR, INFO, WARNING, audit, format_report
from provhub.provdm.errors import InvalidParameter
from tests.audit.chains import clean_chain, iri, t

DL5 = iri("dl5")


def found(doc, **kw) -> set[tuple[str, tuple[str, ...]]]:
    report = audit(doc, roots=[DL5], **kw)
    return {(f.code, f.records) for f in report.findings}


def ids(*locals_: str) -> tuple[str, ...]:
    return tuple(iri(x) for x in locals_)


def test_a_clean_chain_has_no_findings():
    report = audit(clean_chain(), roots=[DL5])
    assert report.findings == [] and not report.has_errors


def test_summary_of_a_clean_chain():
    s = audit(clean_chain(), roots=[DL5]).summary
    assert s["products"] == [{"id": DL5, "name": "Crab flux points", "kind": "DL5 dataset"}]
    assert [(o["obs_id"], o["date"]) for o in s["observations"]] == [("23523", "2004-03-01"), ("23524", "2004-03-01")]
    assert [(i["name"], i["version"]) for i in s["irfs"]] == [("IRF effective area", "3.1")]
    assert {(c["kind"], c["name"], c["value"]) for c in s["configuration"]} == {
        ("parameter", "e_min", "1 TeV"),
        ("configuration file", "config.yaml", "config.yaml"),
    }
    assert {(w["name"], w["version"]) for w in s["software"]} == {
        ("gammapy", "1.2"),
        ("hess-dl3-writer", "0.9"),
        ("gammapy.estimators.FluxPoints", "1.2"),
    }
    agents = {a["name"]: (a["type"], a["roles"], a["activities"]) for a in s["agents"]}
    assert agents == {
        "Alice": ("person", ["Author", "Operator"], 1),
        "gammapy": ("software agent", ["Creator"], 1),
        "hess-dl3-writer": ("software agent", ["Creator"], 3),
    }
    assert s["time_span"] == {"start": "2024-03-01T00:00:00+00:00", "end": "2024-03-01T11:00:00+00:00"}
    assert [o["name"] for o in s["other_inputs"]] == ["raw run 23523", "raw run 23524"]


def test_dl3_records_are_grouped_by_obs_id_and_dated_by_their_observation():
    doc = clean_chain(1)
    doc.activity("ex:obs7", t(1), t(2), other_attributes={"prov:type": "ex:Observation", "ex:obsId": "7"})
    doc.wasAssociatedWith("ex:obs7", "ex:dataops")
    doc.entity("ex:run7.fits", other_attributes={"prov:type": "prov:Collection", "ex:checksum": "md5:77"})
    doc.entity("ex:run7-events", other_attributes={"ex:HDUCLAS1": "EVENTS", "ex:OBS_ID": 7})
    doc.entity("ex:run7-gti", other_attributes={"prov:label": "dl3 gti"})
    doc.entity("ex:run7-aeff", other_attributes={"ex:HDUCLAS1": "RESPONSE"})
    for hdu in ("events", "gti", "aeff"):
        doc.hadMember("ex:run7.fits", f"ex:run7-{hdu}")
        doc.wasGeneratedBy(f"ex:run7-{hdu}", "ex:dl3prod0", time=t(3, 40))
    doc.used("ex:analysis", "ex:run7.fits", time=t(10, 20))
    report = audit(doc, roots=[DL5])
    assert report.findings == []  # an observation activity needs no software version
    assert report.summary["observations"] == [
        {"obs_id": "23523", "date": "2004-03-01", "name": "events 23523", "records": [iri("dl3_23523")]},
        {
            "obs_id": "7",
            "date": "2024-03-01T01:00:00+00:00",
            "name": "dl3 gti",
            "records": list(ids("run7-events", "run7-gti")),
        },
    ]  # the file has no data level
    assert "OBS_ID 7 (2024-03-01T01:00:00+00:00): dl3 gti and 1 other record" in report.to_text()


# -- completeness ----------------------------------------------------------------------------


def test_entity_without_generation_unless_declared_raw():
    doc = clean_chain()
    doc.entity("ex:orphan", other_attributes={"prov:label": "background model"})
    doc.used("ex:analysis", "ex:orphan", time=t(10, 20))
    doc.entity("ex:raw-extra", other_attributes={"prov:type": "ex:RawData"})
    doc.used("ex:analysis", "ex:raw-extra", time=t(10, 20))
    assert found(doc) == {("entity-without-generation", ids("orphan"))}
    assert found(doc, raw_types={"DL0"}) == {
        ("entity-without-generation", ids("orphan")),
        ("entity-without-generation", ids("raw-extra")),
    }
    assert found(doc, raw_types={"ex:RawData"}) == {("entity-without-generation", ids(f"raw{i}")) for i in (0, 1)} | {
        ("entity-without-generation", ids("orphan"))
    }


def test_collections_of_generated_members_and_context_entities_need_no_generation():
    doc = clean_chain()
    doc.entity("ex:file", other_attributes={"prov:type": "prov:Collection"})
    doc.hadMember("ex:file", "ex:dl3_23523")
    doc.hadMember("ex:file", "ex:irf")
    doc.used("ex:analysis", "ex:file", time=t(10, 20))
    doc.entity("ex:telescope", other_attributes={"prov:label": "HESS"})
    doc.used("ex:dl3prod0", "ex:telescope", other_attributes={"ex:usageType": "Context"})
    doc.entity("ex:site", other_attributes={"prov:label": "Namibia"})
    doc.used("ex:dl3prod0", "ex:site", other_attributes={"prov:type": "voprov:Context"})
    doc.used("ex:analysis", "ex:site", time=t(10, 20))  # also used as data: flagged
    doc.entity("ex:half", other_attributes={"prov:type": "prov:Collection"})
    doc.hadMember("ex:half", "ex:irf")
    doc.hadMember("ex:half", "ex:orphan")
    doc.used("ex:analysis", "ex:half", time=t(10, 20))
    assert found(doc) == {("entity-without-generation", ids("site")), ("entity-without-generation", ids("half"))}


def test_content_addressed_files_need_no_checksum_attribute():
    doc = clean_chain()
    doc.entity("ex:sha256-0123456789abcdef0123", other_attributes={"prov:location": "m.yaml"})
    doc.wasGeneratedBy("ex:sha256-0123456789abcdef0123", "ex:analysis", time=t(10, 55))
    assert found(doc) == set()


def test_activity_without_time():
    doc = clean_chain()
    doc.activity("ex:plot", None, t(12))
    doc.wasAssociatedWith("ex:plot", "ex:gammapy")
    doc.activity("ex:plot2")
    doc.wasAssociatedWith("ex:plot2", "ex:gammapy")
    report = audit(doc, roots=[DL5])
    assert {(f.code, f.records) for f in report.findings} == {
        ("activity-without-time", ids("plot")),
        ("activity-without-time", ids("plot2")),
    }
    assert sorted(f.message for f in report.findings) == [
        "Activity ex:plot has no start time.",
        "Activity ex:plot2 has neither start nor end time.",
    ]


def test_activity_without_agent():
    doc = clean_chain()
    doc.activity("ex:lonely", t(12), t(13), other_attributes={"voprov:version": "2.0"})
    assert found(doc) == {("activity-without-agent", ids("lonely"))}


def test_activity_without_software_version():
    doc = clean_chain()
    doc.activity("ex:manual", t(12), t(13))
    doc.wasAssociatedWith("ex:manual", "ex:alice")
    doc.activity("ex:named", t(12), t(13))
    doc.agent("ex:ctapipe", other_attributes={"prov:type": "prov:SoftwareAgent", "prov:label": "ctapipe 0.19.2"})
    doc.wasAssociatedWith("ex:named", "ex:ctapipe")  # a version in the agent's name counts
    assert found(doc) == {("activity-without-software-version", ids("manual"))}


def test_dl3_without_irf():
    doc = clean_chain()
    doc.entity("ex:dl3_x", other_attributes={"ex:HDUCLAS1": "EVENTS", "ex:OBS_ID": 1})
    doc.wasGeneratedBy("ex:dl3_x", "ex:dl3prod0", time=t(3, 40))
    assert found(doc) == {("dl3-without-irf", ids("dl3_x"))}


def test_dl3_linked_to_irf_through_its_file_collection():
    doc = clean_chain()
    doc.entity("ex:file", other_attributes={"prov:type": "prov:Collection"})
    doc.wasGeneratedBy("ex:file", "ex:dl3prod0", time=t(3, 40))
    doc.entity("ex:events", other_attributes={"ex:HDUCLAS1": "EVENTS"})
    doc.entity("ex:aeff", other_attributes={"ex:HDUCLAS1": "RESPONSE"})
    for member in ("events", "aeff"):
        doc.hadMember("ex:file", f"ex:{member}")
        doc.wasGeneratedBy(f"ex:{member}", "ex:dl3prod0", time=t(3, 40))
    assert found(doc) == set()


def test_file_without_checksum():
    doc = clean_chain()
    doc.entity("ex:skymap", other_attributes={"prov:location": "skymap.fits"})
    doc.wasGeneratedBy("ex:skymap", "ex:analysis", time=t(10, 55))
    doc.entity("ex:log.txt")
    doc.wasGeneratedBy("ex:log.txt", "ex:analysis", time=t(10, 55))
    assert found(doc) == {("file-without-checksum", ids("skymap")), ("file-without-checksum", ids("log.txt"))}


def test_references_to_records_not_in_the_store():
    doc = clean_chain()
    doc.used("ex:analysis", "ex:ghost", time=t(10, 30))
    report = audit(doc, roots=[DL5], missing={iri("ghost")})
    assert [(f.code, f.severity, f.records) for f in report.findings] == [
        ("missing-record", ERROR, ids("ghost", "analysis"))
    ]
    assert report.has_errors
    assert report.findings[0].message == (
        "ex:ghost is referred to by ex:analysis (flux points) but the store has no record of it."
    )


def test_hidden_placeholders_are_not_judged():
    doc = clean_chain()
    doc.used("ex:analysis", "ex:hidden1", time=t(10, 30))
    doc.entity("ex:hidden1")
    report = audit(doc, roots=[DL5], hidden={iri("hidden1")}, missing={iri("hidden1")})
    assert [(f.code, f.severity, f.records) for f in report.findings] == [("hidden-records", INFO, ids("hidden1"))]
    assert report.findings[0].message == (
        "1 record of this lineage is hidden from you by access rights and could not be audited."
    )
    assert not report.has_errors


# -- consistency -----------------------------------------------------------------------------


def test_start_after_end():
    doc = clean_chain()
    doc.activity("ex:backwards", t(13), t(12))
    doc.wasAssociatedWith("ex:backwards", "ex:gammapy")
    assert found(doc) == {("start-after-end", ids("backwards"))}


def test_usage_outside_activity():
    doc = clean_chain()
    doc.used("ex:analysis", "ex:irf", time=t(12), other_attributes={"prov:role": "late"})
    assert found(doc) == {("usage-outside-activity", ids("analysis", "irf"))}


def test_generation_outside_activity():
    doc = clean_chain()
    doc.entity("ex:extra")
    doc.wasGeneratedBy("ex:extra", "ex:analysis", time=t(9))
    assert found(doc) == {("generation-outside-activity", ids("analysis", "extra"))}


def test_usage_before_generation_from_activity_bounds():
    doc = clean_chain()
    doc.activity("ex:later", t(12), t(13))
    doc.wasAssociatedWith("ex:later", "ex:gammapy")
    doc.entity("ex:late")
    doc.wasGeneratedBy("ex:late", "ex:later")  # no time: generated at 12:00 at the earliest
    doc.used("ex:analysis", "ex:late", time=t(10, 30))
    assert found(doc) == {("usage-before-generation", ids("late", "analysis"))}


def test_derivation_before_source_and_the_cycle_it_closes():
    doc = clean_chain()
    doc.wasDerivedFrom("ex:dl3_23523", "ex:dl5")
    assert found(doc) == {
        ("derivation-before-source", ids("dl3_23523", "dl5")),
        ("cycle", ids("analysis", "dl3_23523", "dl5")),
    }


def test_informant_after_informed():
    doc = clean_chain()
    for name, start in (("early", 1), ("late", 5)):
        doc.activity(f"ex:{name}", t(start), t(start + 1))
        doc.wasAssociatedWith(f"ex:{name}", "ex:gammapy")
    doc.wasInformedBy("ex:early", "ex:late")  # early ended at 02:00, late started at 05:00
    doc.wasInformedBy("ex:late", "ex:irf-sim")  # irf-sim started before late ended: fine
    assert found(doc) == {("informant-after-informed", ids("early", "late"))}


def test_multiple_generations():
    doc = clean_chain()
    doc.wasGeneratedBy("ex:dl5", "ex:irf-sim", time=t(1, 30))
    assert found(doc) == {("multiple-generations", ids("dl5", "analysis", "irf-sim"))}


def test_cycle_through_informed_by():
    doc = clean_chain()
    doc.wasInformedBy("ex:irf-sim", "ex:analysis")
    # analysis -used-> irf -wasGeneratedBy-> irf-sim -wasInformedBy-> analysis, and the DL3
    # branch (analysis -> DL3 -> dl3prod -> irf) is in the same loop
    assert found(doc) == {
        ("cycle", ids("analysis", "dl3_23523", "dl3_23524", "dl3prod0", "dl3prod1", "irf", "irf-sim")),
        ("informant-after-informed", ids("irf-sim", "analysis")),
    }


def test_entity_activity_overlap():
    doc = clean_chain()
    doc.wasAssociatedWith("ex:irf", "ex:gammapy")  # ex:irf is an entity, used as an activity
    assert found(doc) == {("entity-activity-overlap", ids("irf"))}


def test_every_code_is_documented_with_a_severity():
    assert all(sev in (ERROR, WARNING, INFO) and text for sev, text in CODES.values())
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "audit.md").read_text()
    for code in CODES:
        assert f"`{code}`" in doc, code


# -- formats ---------------------------------------------------------------------------------


def broken() -> object:
    doc = clean_chain()
    doc.entity("ex:x", other_attributes={"prov:label": "<script>alert(1)</script> | *x*"})
    doc.used("ex:analysis", "ex:x", time=t(10, 20))
    doc.activity("ex:backwards", t(13), t(12))
    return audit(doc, roots=[DL5])


def test_formats():
    report = broken()
    data = json.loads(format_report(report, "json"))
    assert data["has_errors"] is True and data["counts"] == {"error": 1, "warning": 3, "info": 0}
    assert [f["code"] for f in data["findings"]] == [
        "start-after-end",
        "activity-without-agent",
        "activity-without-software-version",
        "entity-without-generation",
    ]
    text = format_report(report, "text")
    assert text.startswith(f"Audit of {DL5}: 1 error, 3 warnings, 0 notes")
    assert "ERROR    start-after-end: Activity ex:backwards ends" in text
    page = format_report(report, "html")
    assert "<script>" not in page and "&lt;script&gt;" in page and page.startswith("<!doctype html>")
    md = format_report(report, "md")
    assert "| error | `start-after-end` |" in md and "\\<script\\>" in md and "\\| \\*x\\*" in md
    with pytest.raises(InvalidParameter):
        format_report(report, "yaml")


def test_prov_json_fixture_with_known_defects():
    """Parsed PROV-JSON (QName-typed prov:type, times without zone = UTC): the analysis ends
    before it starts and uses DL3 events that are generated a day later; the DL3 events have no
    IRF; the raw run is declared raw data by its prov:type; the parameter is not data."""
    from prov.model import ProvDocument

    from tests.conftest import ROOT

    path = ROOT / "tests" / "audit" / "fixtures" / "defects.json"
    doc = ProvDocument.deserialize(content=path.read_text(), format="json")
    base = "https://example.org/defects/"
    report = audit(doc, roots=[base + "dl5"])
    assert {(f.code, tuple(r[len(base) :] for r in f.records)) for f in report.findings} == {
        ("start-after-end", ("analysis",)),
        ("usage-before-generation", ("dl3", "analysis")),
        ("dl3-without-irf", ("dl3",)),
    }
    assert report.has_errors
    assert report.summary["configuration"] == [
        {"id": base + "param", "name": "emin", "kind": "parameter", "value": "1 TeV"}
    ]
