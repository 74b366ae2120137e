"""DALI 1.1 as VO clients meet it on ProvSAP: errors, RESPONSEFORMAT, PROV-VOTABLE, RUNID, MAXREC
and POST, on both stores.

The service runs on a 127.0.0.1 port (werkzeug in a thread) and is read with real clients: pyvo's
generic DAL query (``pyvo.dal.DALQuery``), astropy's VOTable parser in pedantic mode
(``verify="exception"``) and STILTS ``votlint`` (Debian package ``stilts``; ``.ci/run`` installs
it). Every VOTable the service writes in these tests goes through both validators; without
``stilts`` the tests skip on a developer's machine and fail in CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import warnings
from io import BytesIO

import pytest
import pyvo
import requests
from astropy.io.votable import parse as parse_votable
from pyvo.dal import DALQueryError, DALServiceError
from werkzeug.serving import make_server

from provhub.app import services
from provhub.provdm import registry
from tests.conftest import ROOT

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
VOTABLE = "application/x-votable+xml"


@pytest.fixture
def service(app, store, settings):
    """The base URL of the service on a free port, with the known graph stored."""
    services.ingest(store, KNOWN, "provn", settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


def votlint(data: bytes, tmp_path) -> None:
    """STILTS votlint finds nothing to report (it exits 0 either way: its output is the verdict)."""
    stilts = shutil.which("stilts")
    if stilts is None:
        message = "STILTS is not installed (Debian package stilts; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    path = tmp_path / "answer.vot"
    path.write_bytes(data)
    run = subprocess.run(
        [stilts, "votlint", "validate=true", "version=1.4", f"votable={path}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0 and not run.stdout.strip() and not run.stderr.strip(), run.stdout + run.stderr


def valid_votable(data: bytes, tmp_path):
    """The VOTable, read by astropy in pedantic mode after votlint found nothing."""
    votlint(data, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return parse_votable(BytesIO(data), verify="exception")


def infos(vot) -> dict[str, list]:
    """name -> [(value, content)] of the INFOs of the results resource."""
    found: dict[str, list] = {}
    for info in vot.resources[0].infos:
        found.setdefault(info.name, []).append((info.value, info.content))
    return found


# -- item 4: errors ------------------------------------------------------------------------------


def test_pyvo_surfaces_the_message_of_a_votable_error(service):
    with pytest.raises(DALQueryError) as raised:
        pyvo.dal.DALQuery(f"{service}/provsap", ID="ex:nothing").execute()
    assert "no record with id 'ex:nothing' in this store" in str(raised.value)
    assert raised.value.label == "ERROR"


def test_pyvo_surfaces_the_message_of_a_plain_text_error(service):
    session = requests.Session()
    session.headers["Accept"] = "text/plain"
    query = pyvo.dal.DALQuery(f"{service}/provsap", session=session, ID="ex:dl5", DEPTH="two")
    with pytest.raises(DALServiceError) as raised:
        query.execute()
    assert raised.value.code == 400
    assert "400 invalid-parameter: DEPTH must be a whole number >= 0 or ALL, not 'two' (at DEPTH)" in str(raised.value)


@pytest.mark.parametrize(
    "method,query,status,code",
    [
        ("GET", "ID=ex:nothing", 404, "not-found"),
        ("GET", "ID=ex:dl5&DEPTH=two", 400, "invalid-parameter"),
        ("GET", "ID=ex:dl5&RESPONSEFORMAT=text/csv", 400, "invalid-parameter"),
        ("DELETE", "ID=ex:dl5", 405, "method-not-allowed"),
    ],
)
def test_provsap_errors_are_dali_votables_by_default(service, tmp_path, method, query, status, code):
    r = requests.request(method, f"{service}/provsap?{query}", timeout=30)
    assert r.status_code == status and r.headers["Content-Type"].split(";")[0] == VOTABLE, r.text
    vot = valid_votable(r.content, tmp_path)
    found = infos(vot)
    assert vot.resources[0].type == "results" and vot.resources[0].infos[0].name == "QUERY_STATUS"
    assert found["QUERY_STATUS"][0][0] == "ERROR" and found["QUERY_STATUS"][0][1]
    assert found["ERROR_CODE"] == [(code, None)]


def test_provsap_errors_in_json_and_plain_text_on_request(service):
    url = f"{service}/provsap?ID=ex:nothing"
    as_json = requests.get(url, headers={"Accept": "application/json"}, timeout=30)
    assert as_json.status_code == 404 and as_json.headers["Content-Type"] == "application/json"
    assert as_json.json()["error"] == {
        "code": "not-found",
        "message": "no record with id 'ex:nothing' in this store",
        "where": "ID",
    }
    as_text = requests.get(url, headers={"Accept": "text/plain"}, timeout=30)
    assert as_text.status_code == 404 and as_text.headers["Content-Type"].startswith("text/plain")
    assert as_text.text == "404 not-found: no record with id 'ex:nothing' in this store (at ID)\n"
    # the REST endpoints keep JSON by default
    rest = requests.get(f"{service}/resolve?ID=ex:nothing", timeout=30)
    assert rest.status_code == 404 and rest.headers["Content-Type"] == "application/json"


def test_an_error_votable_holds_only_xml_characters(service, tmp_path):
    r = requests.get(f"{service}/provsap", params={"ID": "ex:dl5", "DEPTH": "\x01\x7f\ud7ff"}, timeout=30)
    assert r.status_code == 400
    found = infos(valid_votable(r.content, tmp_path))
    assert "DEPTH must be" in found["QUERY_STATUS"][0][1]


# -- item 5: RESPONSEFORMAT and PROV-VOTABLE -----------------------------------------------------

MEDIA_TYPES = [(f.provsap, t) for f in registry.answers() for t in f.media_types]
PICTURE_NAMES = {f.provsap for f in registry.of_kind(registry.PICTURE)}
ANSWER = {f.provsap: f for f in registry.answers()}


def served_media_type(r) -> str:
    """Content-Type without the charset werkzeug adds to text types."""
    return re.sub(r";\s*charset=utf-8$", "", r.headers["Content-Type"])


@pytest.mark.parametrize("fmt,media_type", MEDIA_TYPES, ids=[t for _, t in MEDIA_TYPES])
def test_the_media_type_asked_for_is_the_one_served(service, fmt, media_type):
    """DALI 1.1 section 3.3.3: asked for by media type, "the response ... must set that media
    type in the Content-Type header"; asked for by name, the format's first media type."""
    url = f"{service}/provsap"
    by_type = requests.get(url, params={"ID": "ex:dl5", "RESPONSEFORMAT": media_type}, timeout=60)
    assert by_type.status_code == 200 and served_media_type(by_type) == media_type, by_type.text[:300]
    by_name = requests.get(url, params={"ID": "ex:dl5", "RESPONSEFORMAT": fmt}, timeout=60)
    assert by_name.status_code == 200 and served_media_type(by_name) == ANSWER[fmt].media_type
    assert by_type.content == by_name.content or fmt in PICTURE_NAMES


def test_a_media_type_is_served_without_parameters_it_was_not_written_with(service):
    r = requests.get(
        f"{service}/provsap", params={"ID": "ex:dl5", "RESPONSEFORMAT": "Application/JSON; charset=latin-1"}, timeout=30
    )
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"


def test_prov_votable_is_read_by_pyvo_astropy_and_votlint(service, tmp_path):
    params = {"ID": "ex:dl5", "DEPTH": "ALL", "AGENT": "true"}
    r = requests.get(f"{service}/provsap", params={**params, "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=60)
    assert r.status_code == 200 and served_media_type(r) == VOTABLE
    vot = valid_votable(r.content, tmp_path)
    assert infos(vot)["QUERY_STATUS"] == [("OK", None)]
    tables = {t.name: t for t in vot.iter_tables()}
    assert list(tables)[:8] == [
        "entity",
        "activity",
        "agent",
        "entityDescription",
        "activityDescription",
        "parameter",
        "parameterDescription",
        "wasGeneratedBy",
    ]
    assert list(tables)[-1] == "prefix"
    rows = {name: [dict(zip(t.array.dtype.names, row, strict=True)) for row in t.array] for name, t in tables.items()}

    answer = requests.get(f"{service}/provsap", params={**params, "MODEL": "W3C"}, timeout=60).json()
    ids = {"entity": "ent_id", "activity": "act_id", "agent": "agt_id"}
    described = ("entityDescription", "activityDescription", "parameter", "parameterDescription")
    prefixes = {"entityDescription": "entDesc", "activityDescription": "actDesc", "parameterDescription": "parDesc"}
    entities = [row["ent_id"] for row in rows["entity"]]
    entities += [row[prefixes.get(t, "par") + "_id"] for t in described for row in rows[t]]
    assert sorted(entities) == sorted(answer["entity"])  # each entity once, in its own table
    for section in ("activity", "agent", "used", "wasGeneratedBy", "wasDerivedFrom", "wasAttributedTo"):
        got = sorted(row[ids.get(section, "id")] for row in rows[section])
        assert got == sorted(answer.get(section, {})), section
    assert sum(len(v) for v in rows.values()) - len(rows["prefix"]) == sum(
        len(answer.get(name, {})) for name in tables if name != "prefix"
    )
    used = next(row for row in rows["used"] if row["id"] == "ex:u1")
    assert (used["used_act_id"], used["used_ent_id"], used["time"]) == ("ex:analysis", "ex:dl3a", "2020-01-02T00:10:00")
    analysis = next(row for row in rows["activity"] if row["act_id"] == "ex:analysis")
    assert (analysis["act_startTime"], analysis["act_stopTime"]) == ("2020-01-02T00:00:00", "2020-01-02T01:00:00")
    assert next(row for row in rows["entity"] if row["ent_id"] == "ex:dl5")["ent_name"] == "Crab spectrum"
    emin = next(row for row in rows["parameter"] if row["par_id"] == "ex:emin")  # a voprov:Parameter
    assert emin["type"] == "voprov:Parameter" and emin["par_value"] == "1 TeV"
    # the utypes and UCDs the ProvenanceDM draft's PROV-VOTable section makes normative
    assert (tables["entity"].utype, tables["used"].utype, tables["wasAttributedTo"].utype) == (
        "voprov:entity",
        "voprov:used",
        "voprov:wasAttributedTo",
    )
    fields = {(t.name, f.name): (f.utype, f.ucd) for t in tables.values() for f in t.fields}
    assert fields["entity", "ent_name"] == ("voprov:entity.name", "meta.title")
    assert fields["activity", "act_startTime"] == ("voprov:activity.startTime", "time.start")
    assert fields["used", "used_ent_role"] == ("voprov:used.entityRole", "meta.code.class")
    assert fields["wasAssociatedWith", "waw_agt_id"] == ("voprov:wasAssociatedWith.Agent", "meta.id")
    assert tables["parameter"].utype == "voprov:Parameter"
    assert fields["parameter", "par_value"] == ("voprov:parameter.value", "stat.value")
    assert fields["parameterDescription", "parDesc_unit"] == ("voprov:parameterDescription.unit", "meta.unit")
    assert {row["prefix"]: row["namespace"] for row in rows["prefix"]}["ex"] == "http://example.org/cta#"

    # pyvo's generic DAL query reads it: the results are the first table, the entities
    results = pyvo.dal.DALQuery(f"{service}/provsap", **params, RESPONSEFORMAT="PROV-VOTABLE").execute()
    assert sorted(results["ent_id"]) == sorted(row["ent_id"] for row in rows["entity"]) != []


def test_prov_votable_puts_ivoa_descriptions_in_the_drafts_tables(service, store, settings, tmp_path):
    """voprov's own records (tests/fixtures/voprov): ActivityDescription, EntityDescription,
    Parameter and ParameterDescription rows go to the draft's tables, with its columns."""
    text = (ROOT / "tests" / "fixtures" / "voprov" / "voprov-all-w3c.json").read_text()
    services.ingest(store, text, "json", settings=settings)
    ids = ["cta:ad_calib", "cta:ed_events", "cta:p_thr", "cta:pd_thr"]
    r = requests.get(
        f"{service}/provsap", params={"ID": ids, "DEPTH": "0", "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=60
    )
    tables = {t.name: t for t in valid_votable(r.content, tmp_path).iter_tables()}

    def row(table: str, key: str, value: str) -> dict:
        t = tables[table]
        return next(d for d in (dict(zip(t.array.dtype.names, x, strict=True)) for x in t.array) if d[key] == value)

    assert row("activityDescription", "actDesc_id", "cta:ad_calib")["actDesc_doculink"] == "https://example.org/calib"
    assert row("activityDescription", "actDesc_id", "cta:ad_calib")["actDesc_type"] == "Calibration"
    assert row("entityDescription", "entDesc_id", "cta:ed_events")["entDesc_annotation"] == "DL3 events"
    assert row("parameter", "par_id", "cta:p_thr")["par_value"] == "0.3"
    pd = row("parameterDescription", "parDesc_id", "cta:pd_thr")
    assert (pd["parDesc_unit"], pd["parDesc_datatype"], pd["parDesc_min"], pd["parDesc_max"]) == (
        "TeV",
        "float",
        "0",
        "10",
    )
    assert json.loads(pd["attributes"])["voprov:default"] == "0.5"  # no column of its own: kept
    assert "cta:p_thr" not in [x[0] for x in tables["entity"].array]


def test_prov_votable_of_ivoa_descriptions_and_odd_values_is_valid(service, store, settings, tmp_path):
    odd = (
        "document\n prefix ex <http://example.org/cta#>\n prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>\n"
        ' entity(ex:odd, [prov:label="a <b> & \\"c\\"", prov:label="second", voprov:comment="n\\u00e9e",'
        ' ex:n="1.5" %% xsd:double, ex:when="2021-03-04T05:06:07.250+02:00" %% xsd:dateTime])\n'
        " activity(ex:act, 2021-03-04T05:06:07+02:00, -, [prov:type='voprov:ActivityFlow'])\n"
        " wasGeneratedBy(ex:odd, ex:act, -, [prov:role='ex:product'])\nendDocument"
    )
    services.ingest(store, odd, "provn", settings=settings)
    r = requests.get(f"{service}/provsap", params={"ID": "ex:odd", "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=60)
    tables = {t.name: t for t in valid_votable(r.content, tmp_path).iter_tables()}
    entity = dict(zip(tables["entity"].array.dtype.names, tables["entity"].array[0], strict=True))
    assert entity["ent_name"] == 'a <b> & "c"; second' or entity["ent_name"] == 'second; a <b> & "c"'
    assert entity["ent_annotation"] == "née"
    assert json.loads(entity["attributes"])["ex:n"] == 1.5
    activity = dict(zip(tables["activity"].array.dtype.names, tables["activity"].array[0], strict=True))
    assert activity["act_startTime"] == "2021-03-04T03:06:07" and activity["type"] == "voprov:ActivityFlow"
    generation = dict(zip(tables["wasGeneratedBy"].array.dtype.names, tables["wasGeneratedBy"].array[0], strict=True))
    assert (generation["wgb_ent_id"], generation["wgb_act_id"], generation["wgb_ent_role"]) == (
        "ex:odd",
        "ex:act",
        "ex:product",
    )


# -- item 6: RUNID, MAXREC, POST ------------------------------------------------------------------


def test_runid_is_echoed(service, tmp_path):
    url = f"{service}/provsap"
    as_json = requests.get(url, params={"ID": "ex:dl5", "RUNID": "xmatch-7 <a&b>"}, timeout=30)
    assert as_json.status_code == 200 and as_json.headers["X-RUNID"] == "xmatch-7 <a&b>"
    assert as_json.headers["X-Query-Status"] == "OK"
    vot = requests.get(url, params={"ID": "ex:dl5", "RUNID": "xmatch-7", "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=30)
    assert infos(valid_votable(vot.content, tmp_path))["RUNID"] == [("xmatch-7", None)]
    error = requests.get(url, params={"ID": "ex:nothing", "runid": "xmatch-7"}, timeout=30)
    assert error.status_code == 404 and infos(valid_votable(error.content, tmp_path))["RUNID"] == [("xmatch-7", None)]
    plain = requests.get(url, params={"ID": "ex:dl5", "RUNID": "x"}, timeout=30)
    assert (
        "X-RUNID" in plain.headers and "X-RUNID" not in requests.get(url, params={"ID": "ex:dl5"}, timeout=30).headers
    )


@pytest.mark.parametrize(
    "runid,message", [("r" * 65, "RUNID has 65 characters; at most 64"), ("a\x01b", "RUNID holds a control character")]
)
def test_a_runid_dali_does_not_allow_is_refused(service, tmp_path, runid, message):
    r = requests.get(f"{service}/provsap", params={"ID": "ex:dl5", "RUNID": runid}, timeout=30)
    found = infos(valid_votable(r.content, tmp_path))
    assert r.status_code == 400 and message in found["QUERY_STATUS"][0][1] and found["WHERE"] == [("RUNID", None)]
    assert "RUNID" not in found  # not echoed


def _records(answer: dict) -> set[str]:
    return {i for kind in ("entity", "activity", "agent") for i in answer.get(kind, {})}


def test_maxrec_cuts_the_answer_with_an_overflow_indicator(service, tmp_path):
    url = f"{service}/provsap"
    full = requests.get(url, params={"ID": "ex:dl5", "DEPTH": "ALL", "MODEL": "W3C"}, timeout=30)
    everything = _records(full.json())
    assert full.headers["X-Query-Status"] == "OK" and len(everything) > 3
    cut = requests.get(url, params={"ID": "ex:dl5", "DEPTH": "ALL", "MAXREC": "3", "MODEL": "W3C"}, timeout=30)
    assert cut.status_code == 200 and cut.headers["X-Query-Status"] == "OVERFLOW"
    kept = _records(cut.json())
    # the queried record and the nearest ones; relations only between kept records
    assert len(kept) == 3 and "ex:dl5" in kept and "ex:analysis" in kept and kept < everything
    for section in ("used", "wasGeneratedBy", "wasDerivedFrom", "wasAttributedTo", "wasAssociatedWith"):
        for rel in cut.json().get(section, {}).values():
            assert {v for k, v in rel.items() if k in ("prov:activity", "prov:entity", "prov:agent")} <= kept
    enough = requests.get(
        url, params={"ID": "ex:dl5", "DEPTH": "ALL", "MAXREC": str(len(everything)), "MODEL": "W3C"}, timeout=30
    )
    assert enough.headers["X-Query-Status"] == "OK" and _records(enough.json()) == everything
    for fmt in ("PROV-N", "PROV-XML", "PROV-SVG"):
        r = requests.get(url, params={"ID": "ex:dl5", "DEPTH": "ALL", "MAXREC": "3", "RESPONSEFORMAT": fmt}, timeout=60)
        assert r.status_code == 200 and r.headers["X-Query-Status"] == "OVERFLOW", fmt

    vot = requests.get(
        url, params={"ID": "ex:dl5", "DEPTH": "ALL", "MAXREC": "3", "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=30
    )
    table = valid_votable(vot.content, tmp_path)
    assert table.resources[0].infos[0].name == "QUERY_STATUS" and table.resources[0].infos[0].value == "OVERFLOW"
    tables = {t.name: t for t in table.iter_tables()}
    assert sum(len(tables[k].array) for k in ("entity", "activity", "agent")) == 3
    with pytest.warns(pyvo.dal.DALOverflowWarning):
        pyvo.dal.DALQuery(url, ID="ex:dl5", DEPTH="ALL", MAXREC=3, RESPONSEFORMAT="PROV-VOTABLE").execute()


def test_maxrec_0_gives_the_metadata_only(service, tmp_path):
    url = f"{service}/provsap"
    vot = requests.get(url, params={"ID": "ex:dl5", "MAXREC": "0", "RESPONSEFORMAT": "PROV-VOTABLE"}, timeout=30)
    parsed = valid_votable(vot.content, tmp_path)
    assert infos(parsed)["QUERY_STATUS"] == [("OVERFLOW", None)]
    tables = {t.name: t for t in parsed.iter_tables()}
    assert "entity" in tables and all(len(t.array) == 0 for n, t in tables.items() if n != "prefix")
    assert tables["entity"].array.dtype.names[:3] == ("ent_id", "ent_name", "ent_type")
    answer = requests.get(url, params={"ID": "ex:dl5", "MAXREC": "0"}, timeout=30)
    assert answer.status_code == 200 and answer.headers["X-Query-Status"] == "OVERFLOW"
    assert _records(answer.json()) == set()
    # the IDs are still checked
    assert requests.get(url, params={"ID": "ex:nothing", "MAXREC": "0"}, timeout=30).status_code == 404


@pytest.mark.parametrize("maxrec", ["-1", "ten", "1.5"])
def test_a_bad_maxrec_is_refused(service, maxrec):
    r = requests.get(
        f"{service}/provsap", params={"ID": "ex:dl5", "MAXREC": maxrec}, headers={"Accept": "text/plain"}, timeout=30
    )
    assert (
        r.status_code == 400 and r.text.startswith("400 invalid-parameter: MAXREC must be") and "(at MAXREC)" in r.text
    )


def test_post_takes_the_parameters_of_get(service):
    url = f"{service}/provsap"
    params = [("ID", "ex:dl3a"), ("ID", "ex:irf"), ("DEPTH", "ALL"), ("RESPONSEFORMAT", "PROV-N"), ("RUNID", "p1")]
    got, posted = requests.get(url, params=params, timeout=30), requests.post(url, data=params, timeout=30)
    assert posted.status_code == got.status_code == 200
    assert posted.content == got.content and posted.headers["Content-Type"] == got.headers["Content-Type"]
    assert posted.headers["X-RUNID"] == "p1"
    multipart = requests.post(url, files={"ID": (None, "ex:dl3a")}, data={"DEPTH": "ALL"}, timeout=30)
    assert multipart.status_code == 200 and "ex:dl3a" in multipart.text
    bad = requests.post(url, data={"ID": "ex:dl5", "DEPTH": "two", "RUNID": "p2"}, timeout=30)
    assert bad.status_code == 400 and bad.headers["Content-Type"].startswith(VOTABLE)
    assert '<INFO name="RUNID" value="p2"/>' in bad.text
    # pyvo's generic DAL query posts too
    results = pyvo.dal.DALQuery(url, ID="ex:dl5", RESPONSEFORMAT="PROV-VOTABLE").execute_votable(post=True)
    assert "ex:dl5" in list(results.get_first_table().array["ent_id"])
