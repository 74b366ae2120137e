"""provhub audit and GET /audit against a real sqlite:/// store."""

from __future__ import annotations

import json

from click.testing import CliRunner

from provhub.app import create_app
from provhub.app.cli import load_commands
from provhub.app import services
from provhub.app.stores import open_store
from tests.audit.chains import clean_chain, iri, new_doc, sqlite_store_with, t


def run(*args):
    return CliRunner().invoke(load_commands(), list(args), catch_exceptions=False)


def defective_chain():
    """The clean chain with a usage of a record no document declares."""
    doc = clean_chain()
    doc.used("ex:analysis", "ex:ghost", time=t(10, 30))
    return doc


def test_cli_clean_chain_exits_0(tmp_path):
    url = sqlite_store_with(tmp_path, clean_chain()).store_url
    r = run("audit", "ex:dl5", "--store", url)
    assert r.exit_code == 0, r.output
    assert r.output.startswith(f"Audit of {iri('dl5')}: 0 errors, 0 warnings, 0 notes")
    assert "OBS_ID 23523 (2004-03-01): events 23523" in r.output
    j = run("audit", "ex:dl5", "--store", url, "--format", "json")
    assert json.loads(j.output)["findings"] == []


def test_cli_errors_exit_1(tmp_path):
    url = sqlite_store_with(tmp_path, defective_chain()).store_url
    r = run("audit", "ex:dl5", "--store", url, "--format", "json")
    assert r.exit_code == 1
    findings = json.loads(r.output)["findings"]
    assert [(f["code"], f["records"]) for f in findings] == [("missing-record", [iri("ghost"), iri("analysis")])]
    out = tmp_path / "audit.md"
    assert run("audit", "ex:dl5", "--store", url, "--format", "md", "-o", str(out)).exit_code == 1
    assert "`missing-record`" in out.read_text()


def test_cli_unknown_id(tmp_path):
    url = sqlite_store_with(tmp_path, clean_chain(1)).store_url
    r = run("audit", "ex:nothing", "--store", url)
    assert r.exit_code == 1 and "not-found" in r.output


def test_api_json_html_and_format_override(tmp_path):
    settings = sqlite_store_with(tmp_path, defective_chain())
    client = create_app(settings).test_client()
    r = client.get("/audit?ID=ex:dl5")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.get_json()["has_errors"] is True
    page = client.get(
        "/audit?ID=ex:dl5", headers={"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    )
    assert page.mimetype == "text/html" and b"missing-record" in page.data
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    md = client.get("/audit?ID=ex:dl5&format=md")
    assert md.mimetype == "text/markdown" and md.data.startswith(b"# Audit of")
    text = client.get("/audit?ID=ex:dl5&format=text")
    assert text.mimetype == "text/plain"


def test_api_errors(tmp_path):
    client = create_app(sqlite_store_with(tmp_path, clean_chain(1))).test_client()
    assert client.get("/audit").status_code == 400
    assert client.get("/audit?ID=ex:nothing").status_code == 404
    assert client.get("/audit?ID=ex:dl5&format=yaml").status_code == 406


def test_api_audits_what_the_caller_may_see(tmp_path):
    """A record only a proprietary document declares sits between public ones: anonymous
    callers get a placeholder, which is not judged (one hidden-records note), nor missing."""
    public = clean_chain()
    public.used("ex:analysis", "ex:mid", time=t(10, 30))
    public.wasGeneratedBy("ex:mid", "ex:irf-sim", time=t(1, 30))
    settings = sqlite_store_with(tmp_path, public)
    secret = new_doc()
    secret.entity("ex:mid", other_attributes={"prov:label": "secret calibration"})
    store = open_store(settings.store_url, settings)
    try:
        services.ingest_prov(store, secret, settings=settings, rights="proprietary", group="hess")
    finally:
        store.close()
    data = create_app(settings).test_client().get("/audit?ID=ex:dl5").get_json()
    assert [(f["code"], f["severity"]) for f in data["findings"]] == [("hidden-records", "info")]
    assert data["findings"][0]["records"][0].startswith("urn:provhub:hidden:")
    assert "secret" not in str(data)
    operator = run("audit", "ex:dl5", "--store", settings.store_url, "--format", "json")
    assert operator.exit_code == 0 and json.loads(operator.output)["findings"] == []
