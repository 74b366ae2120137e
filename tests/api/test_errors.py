"""Every error class of provhub.app.errors.STATUS, provoked through a real route: its status and body as
JSON, as plain text (``Accept: text/plain``) and as a DALI VOTable, and the default form (JSON on
the REST endpoints, VOTable on ProvSAP: tests/api/test_dali.py reads those with pyvo and votlint).

The cases are keyed by class and the test runs over STATUS, so a class added to the table without
a case here fails. The mapping is the service's, not the store's: one SQLite store serves the
cases (tests/api/test_api.py and tests/faults see the errors each backend raises).
"""

from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Callable

import pytest
from click.testing import CliRunner

from provhub.app import create_app, services
from provhub.app.access import Viewer
from provhub.app.cli import load_commands
from provhub.app.errors import STATUS
from provhub.app.stores import open_store
from provhub.provdm import errors as e
from tests.bolt_server import free_port
from tests.conftest import ROOT, make_settings

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
NEW = "document\n prefix ex <http://example.org/cta#>\n entity(ex:new1)\n entity(ex:new2)\nendDocument"
CONFLICT = (
    "document\n prefix ex <http://example.org/cta#>\n activity(ex:analysis, 2021-01-01T00:00:00Z, -)\nendDocument"
)
BAD_ORDER = (
    "document\n prefix ex <http://example.org/cta#>\n"
    " activity(ex:a, 2020-01-02T00:00:00Z, 2020-01-01T00:00:00Z)\nendDocument"
)
PROVN = {"Content-Type": "text/provenance-notation"}
VOTABLE = "application/x-votable+xml"


@dataclass
class Case:
    """A request that answers with the error, and what the service needs for it."""

    method: str
    path: str  # {doc_id}: the stored KNOWN document
    where: str | None  # a part of the error's ``where``; None: it has none
    body: str | bytes | None = None
    headers: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    setup: Callable | None = None  # (Service) -> headers to add


@dataclass
class Service:
    """The service a case runs on, for its setup."""

    settings: object
    store: object
    monkeypatch: pytest.MonkeyPatch
    tmp_path: object
    cleanup: list = field(default_factory=list)


def reader_token(service: Service) -> dict:
    r = CliRunner().invoke(
        load_commands(),
        ["tokens", "create", "--role", "reader", "--store", service.settings.store_url],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return {"Authorization": "Bearer " + r.output.strip().splitlines()[-1]}


def lock_the_store(service: Service) -> dict:
    """Another process holds the write lock for longer than PROVHUB_STORE_TIMEOUT."""
    other = sqlite3.connect(service.store.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    service.cleanup.append(other.close)
    return {}


def unreachable_issuer(service: Service) -> dict:
    """A JWT of an issuer whose port answers nobody (only its header and claims are read)."""
    part = [
        base64.urlsafe_b64encode(json.dumps(x).encode()).rstrip(b"=").decode()
        for x in ({"alg": "RS256", "kid": "k"}, {"iss": service.settings.oidc_issuers})
    ]
    return {"Authorization": f"Bearer {part[0]}.{part[1]}.c2ln"}


def hide_graphviz(service: Service) -> dict:
    service.monkeypatch.setenv("PATH", str(service.tmp_path))
    return {}


CASES = {
    e.InvalidParameter: Case("GET", "/provsap?ID=ex:dl5&DEPTH=two", "DEPTH"),
    e.MalformedDocument: Case(
        "POST", "/documents", "line 1", '{"entity": {"ex:e": {}', {"Content-Type": "application/json"}
    ),
    e.Unauthorized: Case("POST", "/documents", "Authorization", NEW, PROVN, {"auth": "on"}),
    e.Forbidden: Case("POST", "/documents", "Authorization", NEW, PROVN, {"auth": "on"}, reader_token),
    e.NotFound: Case("GET", "/provsap?ID=ex:nothing", "ID"),
    e.NotAcceptable: Case("GET", "/documents/{doc_id}?format=csv", "format"),
    e.Conflict: Case("POST", "/documents", "analysis", CONFLICT, PROVN),
    e.PayloadTooLarge: Case("POST", "/documents", "records", NEW, PROVN, {"max_records": 1}),
    e.UnsupportedMediaType: Case("POST", "/documents", "Content-Type", "a,b", {"Content-Type": "text/csv"}),
    e.InvalidDocument: Case("POST", "/documents?validation=strict", "start-after-end", BAD_ORDER, PROVN),
    e.AnswerTooLarge: Case("GET", "/provsap?ID=ex:dl5&DEPTH=ALL", "DEPTH", settings={"node_cap": 2}),
    e.QueryTimeout: Case("GET", "/provsap?ID=ex:dl5&DEPTH=ALL", "DEPTH", settings={"query_timeout": 1e-9}),
    e.IngestError: Case(
        "POST",
        "/fits?filename=notes.fits",
        "notes.fits",
        b"not a FITS file",
        {"Content-Type": "application/octet-stream"},
    ),
    e.StoreUnavailable: Case("POST", "/documents", None, NEW, PROVN, {"store_timeout": 0.05}, lock_the_store),
    e.RenderError: Case("GET", "/provsap?ID=ex:dl5&RESPONSEFORMAT=PROV-SVG", "render", setup=hide_graphviz),
    e.ProviderUnavailable: Case(
        "GET",
        "/documents",
        "Authorization",
        settings={"auth": "on", "oidc_issuers": f"http://127.0.0.1:{free_port()}", "oidc_audience": "provhub"},
        setup=unreachable_issuer,
    ),
}


#: a NotFound on a REST endpoint (JSON by default, unlike ProvSAP's)
REST_NOT_FOUND = Case("GET", "/resolve?ID=ex:nothing", "ID")


@pytest.fixture
def provoke(request, tmp_path, monkeypatch):
    """provoke(cls, accepts) -> (case, one response per Accept value; None sends no Accept)."""
    services_made: list[Service] = []

    def run(cls, accepts, case=None):
        case = case or CASES.get(cls)
        if case is None:
            pytest.fail(f"{cls.__name__} is in provhub.app.errors.STATUS, but no case in CASES provokes it")
        settings = make_settings("sqlite", request, tmp_path, **case.settings)
        store = open_store(settings.store_url, settings)
        seeded = services.ingest(
            store,
            KNOWN,
            "provn",
            settings=make_settings("sqlite", request, tmp_path),
            viewer=Viewer(name="op", role="admin"),
        )
        service = Service(settings, store, monkeypatch, tmp_path, [store.close])
        services_made.append(service)
        headers = {**case.headers, **(case.setup(service) if case.setup else {})}
        client = create_app(settings, store=store).test_client()
        return case, [
            client.open(
                case.path.format(doc_id=seeded.id),
                method=case.method,
                data=case.body,
                headers={**headers, **({"Accept": a} if a else {})},
            )
            for a in accepts
        ]

    yield run
    for service in services_made:
        for close in reversed(service.cleanup):
            close()


def error_of(resp, status: int) -> dict:
    """The JSON error body, checked for its shape: {"error": {code, message, where}, "status"}."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert set(body) == {"error", "status"} and body["status"] == status
    assert set(body["error"]) - {"details"} == {"code", "message", "where"}, body
    assert body["error"]["message"]
    return body["error"]


def text_line(err: dict, status: int) -> str:
    at = f" (at {err['where']})" if err["where"] else ""
    return f"{status} {err['code']}: {err['message']}{at}"


@pytest.mark.parametrize("cls", list(STATUS), ids=lambda cls: cls.__name__)
def test_each_error_class_has_its_status_and_body(provoke, cls):
    status = STATUS[cls]
    case, (as_json, as_text, as_votable, as_default) = provoke(cls, ["application/json", "text/plain", VOTABLE, None])

    err = error_of(as_json, status)
    assert err["code"] == cls.code
    if case.where is None:
        assert err["where"] is None
    else:
        assert case.where in err["where"], err

    assert as_text.status_code == status and as_text.mimetype == "text/plain", as_text.get_data(as_text=True)
    assert as_text.get_data(as_text=True).splitlines()[0] == text_line(err, status)

    assert as_votable.status_code == status and as_votable.mimetype == VOTABLE
    xml = as_votable.get_data(as_text=True)
    assert '<INFO name="QUERY_STATUS" value="ERROR">' in xml and f'<INFO name="ERROR_CODE" value="{cls.code}"/>' in xml

    dali = case.path.startswith("/provsap")
    assert as_default.mimetype == (VOTABLE if dali else "application/json")
    assert as_default.get_data() == (as_votable if dali else as_json).get_data()

    for resp in (as_json, as_text, as_votable, as_default):
        assert (resp.headers.get("Retry-After") == "5") == (status == 503)


def test_plain_text_has_one_line_per_detail(provoke):
    _, (as_json, as_text) = provoke(e.Conflict, [None, "text/plain"])
    err = error_of(as_json, 409)
    lines = as_text.get_data(as_text=True).splitlines()
    assert lines[0] == text_line(err, 409)
    assert [json.loads(line) for line in lines[1:]] == err["details"] and err["details"]


def test_json_stays_the_default_unless_plain_text_is_preferred(provoke):
    json_accepts = [
        "*/*",
        "application/json, text/plain",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "text/plain;q=0.5, application/json",
        "image/png",
    ]
    text_accepts = ["text/plain", "text/*", "text/plain, */*;q=0.1", "application/json;q=0.5, text/plain"]
    _, answers = provoke(e.NotFound, json_accepts + text_accepts, REST_NOT_FOUND)
    assert all(r.status_code == 404 for r in answers)
    assert [r.mimetype for r in answers] == (
        ["application/json"] * len(json_accepts) + ["text/plain"] * len(text_accepts)
    )


@pytest.mark.parametrize(
    "method,path,status,code,where",
    [
        ("GET", "/no/such/page", 404, "not-found", "path"),
        ("DELETE", "/documents", 405, "method-not-allowed", "path"),
    ],
)
def test_errors_of_the_http_layer_have_the_same_shapes(client, method, path, status, code, where):
    err = error_of(client.open(path, method=method), status)
    assert err["code"] == code and err["where"] == where
    as_text = client.open(path, method=method, headers={"Accept": "text/plain"})
    assert as_text.status_code == status and as_text.mimetype == "text/plain"
    assert as_text.get_data(as_text=True) == text_line(err, status) + "\n"
    if status == 405:
        assert "GET" in as_text.headers["Allow"]
