"""DALI 1.1 as VO clients meet it on ProvSAP: errors, RESPONSEFORMAT, PROV-VOTABLE, RUNID, MAXREC
and POST, on both stores.

The service runs on a 127.0.0.1 port (werkzeug in a thread) and is read with real clients: pyvo's
generic DAL query (``pyvo.dal.DALQuery``), astropy's VOTable parser in pedantic mode
(``verify="exception"``) and STILTS ``votlint`` (Debian package ``stilts``; ``.ci/run`` installs
it). Every VOTable the service writes in these tests goes through both validators; without
``stilts`` the tests skip on a developer's machine and fail in CI.
"""

from __future__ import annotations

import os
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

from app import services
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
