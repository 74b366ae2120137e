"""Documents written by the voprov package (tests/fixtures/voprov, made by make_fixtures.py with
voprov 0.0.4 and prov 2) are read as W3C PROV in provhub's IVOA mapping (provhub/provdm/voprov.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provhub.app import services
from provhub.app.config import Settings
from provhub.app.stores import open_store
from provhub.app.stores.base import TraceQuery
from provhub.provdm import formats, voprov
from provhub.provdm import vocabulary as voc
from provhub.provdm.codec import canonical_hash, records_of
from provhub.provdm.errors import MalformedDocument

FIXTURES = Path(__file__).parent / "fixtures" / "voprov"
CTA = "http://cta-observatory.org/prov#"
VOPROV = voc.VOPROV_URI
PROV = voc.PROV_URI

#: file suffix -> (syntax, the kind named in the warning)
KINDS = {
    "-native.json": ("json", voprov.KIND_NATIVE_JSON),
    "-native.xml": ("xml", voprov.KIND_XML),
    ".provn": ("provn", voprov.KIND_PROVN),
    "-w3c.json": ("json", voprov.KIND_W3C_JSON),
}
STEMS = ("voprov", "voprov-all", "voprov-described-relation")
#: The prov:type get_w3c() adds to every W3C record (voprov's own record classes): provhub keeps
#: them, so get_w3c() output has these attribute values on top of what the native writers give.
GET_W3C_RECORD_TYPES = {
    "Entity",
    "Activity",
    "Agent",
    "Usage",
    "Generation",
    "Association",
    "Attribution",
    "Delegation",
    "Derivation",
    "Communication",
    "Start",
    "End",
    "Invalidation",
    "Influence",
    "Membership",
}


def read(stem: str, suffix: str) -> tuple[str, str]:
    return (FIXTURES / f"{stem}{suffix}").read_text(encoding="utf-8"), KINDS[suffix][0]


def parsed(stem: str, suffix: str):
    doc, _warnings, _translated = formats.parse_any(*read(stem, suffix))
    return doc


def records(doc) -> dict:
    """id -> (kind or relation type, src, dst, category, {attribute IRI: [encoded values]})."""
    nodes, relations = records_of(doc)
    out = {}
    for rec in nodes + relations:
        attrs: dict = {}
        for name, value in rec.attrs:
            attrs.setdefault(name["qn"][0] + name["qn"][1], []).append(value)
        if hasattr(rec, "kind"):
            out[rec.id] = (rec.kind, None, None, None, attrs)
        else:
            out[rec.id] = (rec.type, rec.src, rec.dst, rec.category, attrs)
    return out


def qn(uri: str, local: str) -> str:
    return uri + local


def types_of(attrs: dict) -> set[str]:
    return {v["qn"][0] + v["qn"][1] for v in attrs.get(PROV + "type", []) if "qn" in v}


# -- every fixture is readable -----------------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("suffix", list(KINDS))
def test_every_voprov_output_is_read_and_said_to_be_translated(stem, suffix):
    text, fmt = read(stem, suffix)
    assert voprov.looks_like_voprov(text, fmt)
    try:
        _, prov_warnings = formats.parse_w3c(text, fmt)  # prov alone cannot read it...
    except MalformedDocument:
        pass
    else:  # ...or, for get_w3c() output with voprov: names only in values, reads them as literals
        assert suffix == "-w3c.json" and any("voprov" in w for w in prov_warnings)
    doc, warnings, translated = formats.parse_any(text, fmt)
    assert translated is True
    assert f"translated from voprov {KINDS[suffix][1]} output to W3C PROV" in warnings
    same_doc, same_warnings = formats.parse(text, fmt)
    assert same_doc == doc and same_warnings == warnings
    w3c = json.loads(voprov.to_w3c(text, fmt))
    assert w3c["prefix"]["voprov"] == VOPROV


def test_w3c_documents_are_not_translated():
    text = (Path(__file__).parent / "fixtures" / "known_graph.provn").read_text(encoding="utf-8")
    assert not voprov.looks_like_voprov(text, "provn")
    doc, warnings, translated = formats.parse_any(text, "provn")
    assert translated is False and not any("voprov" in w for w in warnings)
    out = formats.serialize(doc, "json")
    assert not voprov.looks_like_voprov(out, "json")
    assert formats.parse_any(out, "json")[2] is False


# -- the IVOA records come out as provhub expects -----------------------------------------------


@pytest.mark.parametrize("suffix", list(KINDS))
def test_ivoa_records_in_provhub_mapping(suffix):
    recs = records(parsed("voprov", suffix))
    run, param, ad, pd, agent = (CTA + x for x in ("spectrum_run_1", "p_emin", "ad_spectrum", "pd_emin", "gammapy"))

    kind, _, _, _, attrs = recs[param]
    assert kind == "entity"
    assert VOPROV + "Parameter" in types_of(attrs)
    assert attrs[VOPROV + "name"] == ["emin"]
    assert attrs[VOPROV + "value"] == ["0.5"] and attrs[PROV + "value"] == ["0.5"]
    assert attrs[PROV + "label"] == ["emin = 0.5"]
    assert PROV + "name" not in attrs

    assert VOPROV + "ActivityDescription" in types_of(recs[ad][4])
    assert recs[ad][4][VOPROV + "name"] == ["spectrum-extraction"]
    assert recs[ad][4][PROV + "label"] == ["spectrum-extraction"]  # name also goes to prov:label
    assert recs[ad][4][VOPROV + "version"] == ["1.2"]
    assert VOPROV + "ParameterDescription" in types_of(recs[pd][4])
    assert recs[pd][4][VOPROV + "valueType"] == ["float"] and recs[pd][4][VOPROV + "unit"] == ["TeV"]

    influences = {
        (src, dst): (category, attrs)
        for rtype, src, dst, category, attrs in recs.values()
        if rtype == "wasInfluencedBy"
    }
    category, attrs = influences[(run, param)]
    assert category == voc.DESCRIPTION and VOPROV + "wasConfiguredBy" in types_of(attrs)
    assert attrs[VOPROV + "artefactType"] == ["Parameter"]  # get_w3c() drops it: restored
    category, attrs = influences[(run, ad)]
    assert category == voc.DESCRIPTION and VOPROV + "isDescribedBy" in types_of(attrs)
    assert VOPROV + "isDescribedBy" in types_of(influences[(param, pd)][1])
    assert VOPROV + "isRelatedTo" in types_of(influences[(pd, ad)][1])

    kind, _, _, _, attrs = recs[agent]
    assert kind == "agent" and PROV + "SoftwareAgent" in types_of(attrs)
    assert attrs[VOPROV + "type"] == ["SoftwareAgent"] and attrs[VOPROV + "email"] == ["gammapy@example.org"]
    assert recs[run][4][VOPROV + "name"] == ["spectrum run 1"]


@pytest.mark.parametrize("suffix", list(KINDS))
def test_every_record_kind_voprov_writes(suffix):
    recs = records(parsed("voprov-all", suffix))
    classes = {
        "ad_calib": "ActivityDescription",
        "ed_events": "EntityDescription",
        "dd_fits": "DatasetDescription",
        "vd_thr": "ValueDescription",
        "ud_events": "UsageDescription",
        "gd_calib": "GenerationDescription",
        "dl3_1": "DatasetEntity",
        "thr_1": "ValueEntity",
        "cfd_yaml": "ConfigFileDescription",
        "cf_1": "ConfigFile",
        "pd_thr": "ParameterDescription",
        "p_thr": "Parameter",
    }
    for local, cls in classes.items():
        assert recs[CTA + local][0] == "entity" and VOPROV + cls in types_of(recs[CTA + local][4]), local
    assert recs[CTA + "ud_events"][4][PROV + "role"] == ["events"]
    assert recs[CTA + "cf_1"][4][PROV + "location"] == ["/etc/calib.yaml"]
    assert recs[CTA + "thr_1"][4][VOPROV + "value"] == ["0.3"]
    assert recs[CTA + "dd_fits"][4][VOPROV + "contentType"] == ["application/fits"]

    by_type = {}
    for rid, (_rtype, src, dst, _category, attrs) in recs.items():
        for t in types_of(attrs):
            by_type.setdefault(t, set()).add((src, dst, rid if not rid.startswith("urn:") else None))
    assert (CTA + "p_thr", CTA + "thr_1", None) in by_type[VOPROV + "hadReference"]
    assert (CTA + "calib_1", CTA + "ad_calib", CTA + "desc_calib_1") in by_type[VOPROV + "isDescribedBy"]
    configured = {
        (s, d): recs[r][4] for r, (t, s, d, c, a) in recs.items() if VOPROV + "wasConfiguredBy" in types_of(a)
    }
    assert configured[(CTA + "calib_1", CTA + "cf_1")][VOPROV + "artefactType"] == ["ConfigFile"]
    assert configured[(CTA + "calib_1", CTA + "p_thr")][VOPROV + "artefactType"] == ["Parameter"]
    assert CTA + "conf_thr" in recs  # relation ids are kept

    assert PROV + "Person" in types_of(recs[CTA + "bob"][4])  # voprov:type Individual
    assert recs[CTA + "bob"][4][VOPROV + "type"] == ["Individual"]
    assert PROV + "Organization" in types_of(recs[CTA + "ctao"][4])
    # the usage description voprov keeps on the used relation, as a qualified name
    assert recs[CTA + "use_1"][4][VOPROV + "descriptor"] == [{"qn": [CTA, "ud_events", "cta"]}]
    calibrated = recs[CTA + "calibrated_1"][4]
    assert calibrated[CTA + "nevents"] == [12345] and calibrated[CTA + "ok"] == [True]
    assert calibrated[CTA + "note"] == ['line one\nline "two"']
    assert recs[CTA + "doc_en"][4][PROV + "label"] == [{"lit": "calibrated events", "lang": "en"}]
    # the bundle: its parameter and configuration
    bundle_param = recs[CTA + "p_in_bundle"][4]
    assert VOPROV + "Parameter" in types_of(bundle_param) and bundle_param[VOPROV + "name"] == ["nbins"]


# -- the four outputs give the same records ------------------------------------------------------


@pytest.mark.parametrize("stem", STEMS)
def test_native_json_and_xml_give_the_same_document(stem):
    assert canonical_hash(parsed(stem, "-native.json")) == canonical_hash(parsed(stem, "-native.xml"))


def test_provn_gives_the_same_document():
    assert canonical_hash(parsed("voprov", ".provn")) == canonical_hash(parsed("voprov", "-native.json"))


def test_provn_differs_only_where_voprov_provn_writer_types_a_float_as_xsd_float():
    """prov 2's PROV-N writer writes a Python float as ``"0.25" %% xsd:float``; its JSON and XML
    writers keep it a double. That attribute is the only difference."""
    native, provn = records(parsed("voprov-all", "-native.json")), records(parsed("voprov-all", ".provn"))
    assert native.keys() == provn.keys()
    different = {rid for rid in native if native[rid] != provn[rid]}
    assert different == {CTA + "calibrated_1"}
    ratio = CTA + "ratio"
    assert native[CTA + "calibrated_1"][4][ratio] == [0.25]
    assert provn[CTA + "calibrated_1"][4][ratio] == [{"lit": "0.25", "dt": voc.XSD_URI + "float"}]
    native[CTA + "calibrated_1"][4].pop(ratio)
    provn[CTA + "calibrated_1"][4].pop(ratio)
    assert native == provn


def without_get_w3c_record_types(w3c_json: str) -> str:
    data = json.loads(w3c_json)

    def strip(container: dict) -> None:
        for section, recs in container.items():
            if section == "bundle":
                for bundle in recs.values():
                    strip(bundle)
                continue
            if section == "prefix":
                continue
            for body in recs.values():
                types = body.get("prov:type")
                if types is None:
                    continue
                kept = [
                    t
                    for t in (types if isinstance(types, list) else [types])
                    if not (
                        isinstance(t, dict)
                        and t["$"].startswith("voprov:")
                        and t["$"][len("voprov:") :] in GET_W3C_RECORD_TYPES
                    )
                ]
                if kept:
                    body["prov:type"] = kept if len(kept) > 1 else kept[0]
                else:
                    del body["prov:type"]

    strip(data)
    return json.dumps(data)


@pytest.mark.parametrize("stem", STEMS)
def test_get_w3c_output_gives_the_same_document_but_for_voprov_record_types(stem):
    """get_w3c() adds prov:type voprov:Entity, voprov:Usage... to every W3C record; provhub keeps
    them (nothing is dropped), so only without them is the document the native one."""
    text, fmt = read(stem, "-w3c.json")
    w3c = voprov.to_w3c(text, fmt)
    assert canonical_hash(formats.parse_w3c(w3c, "json")[0]) != canonical_hash(parsed(stem, "-native.json"))
    stripped, _ = formats.parse_w3c(without_get_w3c_record_types(w3c), "json")
    assert canonical_hash(stripped) == canonical_hash(parsed(stem, "-native.json"))


def test_the_working_draft_voprov_uri_is_accepted():
    text, fmt = read("voprov", "-native.json")
    text = text.replace(voc.VOPROV_URI, voc.VOPROV_URI_WD)
    recs = records(formats.parse_any(text, fmt)[0])
    assert voc.VOPROV_URI_WD + "Parameter" in types_of(recs[CTA + "p_emin"][4])
    configured = [
        r
        for r in recs.values()
        if r[0] == "wasInfluencedBy" and r[2] == CTA + "p_emin" and r[1] == CTA + "spectrum_run_1"
    ]
    assert configured and configured[0][3] == voc.DESCRIPTION


def test_another_prefix_for_voprov_and_provn_without_the_voprov_prefix():
    text, fmt = read("voprov", "-native.json")
    text = text.replace('"voprov":', '"ivoa":').replace('"voprov:', '"ivoa:')
    assert canonical_hash(formats.parse_any(text, fmt)[0]) == canonical_hash(parsed("voprov", "-native.json"))
    text, fmt = read("voprov", ".provn")
    text = "\n".join(line for line in text.splitlines() if "prefix voprov" not in line)
    recs = records(formats.parse_any(text, fmt)[0])
    assert VOPROV + "Parameter" in types_of(recs[CTA + "p_emin"][4])


# -- ingest and lineage --------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", list(KINDS))
def test_ingested_parameter_is_attached_to_the_activity_in_lineage(tmp_path, suffix):
    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db")
    store = open_store(settings.store_url, settings=settings)
    try:
        text, fmt = read("voprov", suffix)
        result = services.ingest(store, text, fmt, settings=settings, validation="warn")
        assert result.created and result.records > 0
        assert f"translated from voprov {KINDS[suffix][1]} output to W3C PROV" in result.warnings
        graph = store.trace(TraceQuery(ids=[CTA + "spectrum_run_1"], depth=0))
        assert {CTA + "spectrum_run_1", CTA + "p_emin", CTA + "ad_spectrum"} <= graph.node_ids()
        configured = [r for r in graph.relations if r.src == CTA + "spectrum_run_1" and r.dst == CTA + "p_emin"]
        assert configured and configured[0].category == voc.DESCRIPTION
    finally:
        store.close()


def test_the_three_native_writers_are_one_document_in_the_store(tmp_path):
    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db")
    store = open_store(settings.store_url, settings=settings)
    try:
        first = services.ingest(store, *read("voprov", "-native.json"), settings=settings, validation="warn")
        for suffix in ("-native.xml", ".provn"):
            again = services.ingest(store, *read("voprov", suffix), settings=settings, validation="warn")
            assert (again.id, again.created) == (first.id, False)
    finally:
        store.close()


def test_http_api_reads_voprov_documents_and_answers_provsap_with_the_parameter(tmp_path):
    from provhub.app import create_app

    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db", sample="off", auth="off")
    client = create_app(settings).test_client()
    media = {"json": "application/json", "xml": "application/xml", "provn": "text/provenance-notation"}
    ids = set()
    for suffix in KINDS:
        text, fmt = read("voprov", suffix)
        response = client.post("/documents", data=text.encode("utf-8"), content_type=media[fmt])
        assert response.status_code in (200, 201), response.get_json()
        assert any(w.startswith("translated from voprov") for w in response.get_json()["warnings"])
        ids.add(response.get_json()["id"])
    assert len(ids) == 2  # the native writers are one document; get_w3c() adds its record types
    answer = client.get("/provsap", query_string={"ID": "cta:spectrum_run_1", "DEPTH": "0"})
    assert answer.status_code == 200
    body = answer.get_json()  # MODEL=IVOA, the default: voprov's own sections
    assert "cta:p_emin" in body["parameter"] and "cta:ad_spectrum" in body["activityDescription"]
    assert "cta:spectrum_run_1" in body["activity"] and "wasInfluencedBy" not in body
    w3c = client.get("/provsap", query_string={"ID": "cta:spectrum_run_1", "DEPTH": "0", "MODEL": "W3C"}).get_json()
    assert "cta:p_emin" in w3c["entity"] and "cta:ad_spectrum" in w3c["entity"]
    assert "prov:SoftwareAgent" in json.dumps(w3c["agent"]["cta:gammapy"])


@pytest.mark.parametrize("suffix", list(KINDS))
def test_voprov_output_passes_strict_validation(tmp_path, suffix):
    """Ingest validates the translation (the PROV-JSON schema would refuse voprov's native JSON)."""
    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db")
    store = open_store(settings.store_url, settings=settings)
    try:
        result = services.ingest(store, *read("voprov", suffix), settings=settings, validation="strict")
        assert result.created
    finally:
        store.close()


# -- what cannot be mapped or translated ---------------------------------------------------------


@pytest.mark.parametrize("suffix", list(KINDS))
def test_a_described_relation_is_kept_with_the_relation_as_influencee(tmp_path, suffix):
    """voprov's ``used(...).isDescribedBy(usageDescription)`` writes isDescribedBy(<used id>, <desc>):
    kept as wasInfluencedBy from the relation's id, which W3C PROV does not allow (an influencee is an
    element), so validation reports it (typing, and a dangling reference; strict refuses the document)."""
    text, fmt = read("voprov-described-relation", suffix)
    recs = records(formats.parse_any(text, fmt)[0])
    ex = "http://example.org/"
    described = [r for r in recs.values() if r[0] == "wasInfluencedBy" and r[1] == ex + "u1"]
    assert described and described[0][2] == ex + "ud" and VOPROV + "isDescribedBy" in types_of(described[0][4])
    assert recs[ex + "u1"][0] == "used"
    settings = Settings(store_url=f"sqlite:///{tmp_path}/x.db")
    store = open_store(settings.store_url, settings=settings)
    try:
        result = services.ingest(store, text, fmt, settings=settings, validation="warn")
        assert any(w.startswith("dangling") and ex + "u1" in w for w in result.warnings)
    finally:
        store.close()


def test_provn_argument_with_a_comma_cannot_be_split():
    text, _ = read("voprov", ".provn")
    text = text.replace("parameter(cta:p_emin, emin, 0.5,", "parameter(cta:p_emin, emin, 0.5, 0.7,")
    with pytest.raises(MalformedDocument) as info:
        formats.parse_any(text, "provn")
    assert info.value.where == "line 18"
    assert "comma" in info.value.message


def test_a_name_with_a_comma_is_kept_when_it_is_the_only_formal_argument():
    text, _ = read("voprov", ".provn")
    text = text.replace("spectrum-extraction,", "spectrum, extraction,")
    recs = records(formats.parse_any(text, "provn")[0])
    assert recs[CTA + "ad_spectrum"][4][VOPROV + "name"] == ["spectrum, extraction"]


@pytest.mark.parametrize(
    "suffix, broken, where",
    [
        ("-native.json", lambda t: t[:-20], "line"),
        ("-native.xml", lambda t: t.replace("</voprov:document>", ""), "line"),
        ("-native.json", lambda t: t.replace('"parameter": {', '"parameter": ["x"], "unused": {'), "parameter"),
    ],
)
def test_broken_voprov_documents_raise_malformed_with_where(suffix, broken, where):
    text, fmt = read("voprov", suffix)
    with pytest.raises(MalformedDocument) as info:
        formats.parse_any(broken(text), fmt)
    assert info.value.where and info.value.where.startswith(where)
