"""DataLink 1.1 on the sample, as VO clients read it: pyvo's DataLink client over real HTTP
(``pyvo.dal.adhoc.DatalinkResults``, ``bysemantics``, the ProvSAP service descriptor called
through ``process``), STILTS ``datalinklint`` and ``votlint``, on both stores; rights: a link to
a record the caller may not read is never listed, and a hidden ID answers as an unknown one.

``bysemantics`` is called with ``include_narrower=False``: with narrower terms pyvo downloads the
datalink/core vocabulary, and nothing downloads in tests.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from functools import lru_cache
from urllib.parse import quote

import pytest
import requests
from pyvo.dal.adhoc import DatalinkResults
from werkzeug.serving import make_server

from provhub.app import create_app, services
from provhub.app.access import Viewer
from provhub.app.sample import SAMPLE_PRODUCT_ID, sample_documents
from tests.api.test_dali import valid_votable
from tests.conftest import make_settings
from tests.security.test_rights import PRIVATE_MIDDLE, PUBLIC_BOTTOM, PUBLIC_TOP, SECRETS

CRAB_RUNS = ("023523", "023526", "023559", "023592")
IRFS = {"AEFF", "EDISP", "PSF", "BKG"}
DL3_023523 = "hess_dl3_dr1_obs_id_023523.fits.gz"
LINKS_TYPE = "application/x-votable+xml;content=datalink"


@lru_cache(maxsize=1)
def _sample():
    return sample_documents()


def serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def sample_service(app, store, settings):
    """The base URL of a service on a free port holding the sample lineage."""
    for doc in _sample():
        services.ingest_prov(store, doc, settings=settings)
    server, thread, url = serve(app)
    yield url
    server.shutdown()
    thread.join(5)


def datalinklint(url: str) -> str:
    """STILTS datalinklint reports no error and no warning for the links document at ``url``."""
    stilts = shutil.which("stilts")
    if stilts is None:
        pytest.skip("STILTS is not installed (Debian package stilts)")
    run = subprocess.run(
        [stilts, "datalinklint", "report=EWF", f"votable={url}"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Errors: 0; Warnings: 0" in run.stdout and "Failures: 0" in run.stdout, run.stdout
    return run.stdout


def links_url(base: str, *ids: str) -> str:
    return f"{base}/datalink?" + "&".join(f"ID={quote(i, safe='')}" for i in ids)


def semantics(results, term: str) -> list:
    return list(results.bysemantics(term, include_narrower=False))


def test_the_crab_flux_points_link_their_four_runs_and_the_16_irfs_applied(sample_service, tmp_path):
    url = links_url(sample_service, SAMPLE_PRODUCT_ID)
    results = DatalinkResults.from_result_url(url)
    (this,) = semantics(results, "#this")
    assert this.description == "crab_hess_fp.fits" and this.id == SAMPLE_PRODUCT_ID
    runs = semantics(results, "#progenitor")
    assert sorted(r.description for r in runs) == [f"hess_dl3_dr1_obs_id_{n}.fits.gz" for n in CRAB_RUNS]
    applied = [r for r in semantics(results, "#auxiliary") if r["local_semantics"] in IRFS]
    assert len(applied) == 16
    for run in CRAB_RUNS:  # each run's four IRFs, once each
        assert sorted(r["local_semantics"] for r in applied if run in r.description) == sorted(IRFS)
    assert not semantics(results, "#calibration")  # applied already: not #calibration (docs/api.md)
    aux = {r["local_semantics"] for r in semantics(results, "#auxiliary")}
    assert {"configuration", "index", "provenance"} <= aux
    for row in results:
        assert not row.error_message
        assert row.access_url or row.service_def
    # the record pages the links point to answer
    assert all(r.content_type == "text/html" and r.access_url.startswith(sample_service) for r in runs)
    datalinklint(url)
    valid_votable(requests.get(url, timeout=30).content, tmp_path)


def test_a_dl3_file_by_its_name_gives_its_four_irfs_as_calibration_and_its_gti(sample_service):
    url = links_url(sample_service, DL3_023523)
    results = DatalinkResults.from_result_url(url)
    (this,) = semantics(results, "#this")
    assert this.description == DL3_023523 and this.id == DL3_023523  # the ID as asked
    calibration = semantics(results, "#calibration")
    assert sorted(r["local_semantics"] for r in calibration) == sorted(IRFS)
    assert all(f"{DL3_023523}[" in r.description for r in calibration)
    gti = [r for r in semantics(results, "#auxiliary") if r["local_semantics"] == "GTI"]
    assert len(gti) == 1 and "[GTI]" in gti[0].description
    config = [r for r in semantics(results, "#auxiliary") if r["local_semantics"] == "configuration"]
    assert [r.description for r in config] == ["configuration: configuration of observation 23523 (telescopes 1,2,3,4)"]
    assert [r.description for r in semantics(results, "#derivation")] == ["crab_hess_fp.fits"]
    assert not semantics(results, "#progenitor")
    datalinklint(url)


def test_the_provsap_service_descriptor_answers_the_provenance(sample_service):
    results = DatalinkResults.from_result_url(links_url(sample_service, DL3_023523))
    (row,) = [r for r in results if r.service_def]
    assert row.semantics == "#auxiliary" and row["local_semantics"] == "provenance"
    descriptor = results.get_adhocservice_by_id(row.service_def)
    params = {p.name: p.value for p in descriptor.params}
    assert params["accessURL"] == sample_service + "/provsap"
    assert params["standardID"] == "ivo://ivoa.net/std/ProvenanceDM#ProvDAL-1.0"
    answer = row.process(RESPONSEFORMAT="application/json", MODEL="W3C", DEPTH="1").read().decode()
    assert "hess_dl3_dr1_obs_id_023523.fits.gz" in answer and "dl3-production" in answer


def test_several_ids_unknown_ones_as_error_rows(sample_service):
    url = links_url(sample_service, "no-such-dataset", DL3_023523)
    results = DatalinkResults.from_result_url(url)
    errors = [r for r in results if r.error_message]
    assert [(r.id, r.error_message) for r in errors] == [
        ("no-such-dataset", "NotFoundFault: no record known by 'no-such-dataset'")
    ]
    assert {r.id for r in results} == {"no-such-dataset", DL3_023523}
    assert len(semantics(results, "#calibration")) == 4
    datalinklint(url)


@pytest.mark.parametrize("query", ["", "?ID=", "?RESPONSEFORMAT=votable"])
def test_without_an_id_the_answer_is_a_dali_error(client, query, tmp_path):
    r = client.get("/datalink" + query)
    assert r.status_code == 400 and r.mimetype == "application/x-votable+xml"
    vot = valid_votable(r.data, tmp_path)
    (status,) = [i for i in vot.resources[0].infos if i.name == "QUERY_STATUS"]
    assert status.value == "ERROR" and "ID is required" in status.content


def test_a_format_other_than_votable_is_refused(client):
    r = client.get("/datalink?ID=x&RESPONSEFORMAT=application/json", headers={"Accept": "application/json"})
    assert r.status_code == 406 and r.get_json()["error"]["where"] == "RESPONSEFORMAT"


def test_the_links_document_is_valid_votable(client, store, settings, tmp_path):
    services.ingest(store, PUBLIC_TOP, "provn", settings=settings)
    r = client.get("/datalink?ID=ex:dl5&ID=nothing")
    assert r.status_code == 200 and r.headers["Content-Type"] == LINKS_TYPE
    vot = valid_votable(r.data, tmp_path)
    table = vot.get_first_table().to_table(use_names_over_ids=True)
    assert list(table.colnames)[:4] == ["ID", "access_url", "service_def", "error_message"]
    # ex:dl5 was made from ex:dl3, which has no file: the nearest input is its progenitor
    progenitors = [str(row["access_url"]) for row in table if row["semantics"] == "#progenitor"]
    assert len(progenitors) == 1 and progenitors[0].endswith(quote("http://example.org/cta#dl3", safe=""))


@pytest.fixture
def rights_world(backend, request, tmp_path):
    """public dl5 <- public dl3 <- proprietary calibration step <- public irf, auth on."""
    settings = make_settings(backend, request, tmp_path, auth="on")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    op = Viewer(name="op", role="admin")
    services.ingest(store, PUBLIC_TOP, "provn", settings=settings, viewer=op)
    services.ingest(store, PRIVATE_MIDDLE, "provn", settings=settings, viewer=op, rights="proprietary", group="hess")
    services.ingest(store, PUBLIC_BOTTOM, "provn", settings=settings, viewer=op)
    yield app, store, settings
    store.close()


def test_hidden_records_are_never_linked_and_answer_like_unknown_ones(rights_world):
    app, store, settings = rights_world
    client = app.test_client()
    for ident in ("ex:dl5", "ex:dl3", "ex:irf", "ex:sim"):
        text = client.get(f"/datalink?ID={quote(ident)}").get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (ident, secret)
        assert "urn:provhub:hidden" not in text and "hidden%3A" not in text
    hidden = client.get("/datalink?ID=ex:secretcalib").get_data(as_text=True)
    unknown = client.get("/datalink?ID=ex:nosuchcalib").get_data(as_text=True)
    assert "NotFoundFault" in hidden and hidden.replace("secretcalib", "nosuchcalib") == unknown
    # the irf's derivation is made through the hidden step: nothing is listed forth of it
    irf = client.get("/datalink?ID=ex:irf").get_data(as_text=True)
    assert "#derivation" not in irf and quote("http://example.org/cta#dl3", safe="") not in irf
    # an admin, who reads the hidden step, gets the link to the hidden model as the dl3's input
    everything = services_links(store, settings, "ex:dl3", Viewer(name="op", role="admin"))
    assert any("secretmodel" in (link.access_url or "") for link in everything)


def services_links(store, settings, ident, viewer):
    from provhub.app import datalink

    return datalink.links(store, [ident], settings=settings, viewer=viewer, record_url=lambda rid: "/records/" + rid)


def test_post_takes_the_parameters_of_get(client, store, settings):
    services.ingest(store, PUBLIC_TOP, "provn", settings=settings)
    got = client.get("/datalink?ID=ex:dl5&ID=ex:dl3").data
    posted = client.post("/datalink", data={"ID": ["ex:dl5", "ex:dl3"]}).data
    assert posted == got and b"#progenitor" in got


def test_too_many_ids_are_refused(client):
    r = client.get("/datalink?" + "&".join(f"ID=x{i}" for i in range(101)), headers={"Accept": "application/json"})
    assert r.status_code == 400 and "at most 100" in r.get_json()["error"]["message"]
