"""Every place that lists formats names every format of provhub.provdm.registry.

Each test reads one derived place from outside, as a client meets it (the live OpenAPI document,
/capabilities, the CLI's help, a record page's links, what ProvSAP, the serializers, the picture
writer and the audit accept), and is run once per registered format of the kinds that place lists,
so a format one place leaves out fails with the place and the format in the test id. Adding a
format: CONTRIBUTING.md, "Adding a format".
"""

from __future__ import annotations

import html
import importlib
import re
from urllib.parse import quote
from xml.etree import ElementTree

import pytest
from click.testing import CliRunner

from provhub.app import create_app, services
from provhub.app.cli import load_commands
from provhub.app.stores import open_store
from provhub.provdm import formats, registry, render
from provhub.provdm.audit import audit
from provhub.provdm.audit_report import REPORT_FORMATS, format_report
from provhub.provdm.provsap import RESPONSE_FORMATS, parse_responseformat
from tests.conftest import ROOT, make_settings

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
PRODUCT = "http://example.org/cta#dl5"
SYNTAXES = registry.of_kind(registry.SYNTAX)
PICTURES = registry.of_kind(registry.PICTURE)
REPORTS = registry.of_kind(registry.REPORT)
ANSWERS = registry.answers()


def ids(fmts) -> list[str]:
    return [f"{f.kind}-{f.name}" for f in fmts]


@pytest.fixture(scope="module")
def client(request, tmp_path_factory):
    settings = make_settings("sqlite", request, tmp_path_factory.mktemp("registry"))
    store = open_store(settings.store_url, settings)
    services.ingest(store, KNOWN, "provn", settings=settings)
    yield create_app(settings, store=store).test_client()
    store.close()


@pytest.fixture(scope="module")
def doc():
    return formats.parse(KNOWN, "provn")[0]


# -- the registry itself -----------------------------------------------------------------------


def test_entries_are_whole_and_unique():
    assert len({(f.kind, f.name) for f in registry.FORMATS}) == len(registry.FORMATS)
    answers = [f.provsap for f in ANSWERS]
    assert len(set(answers)) == len(answers)
    for kind in registry.KINDS:
        names = [n for f in registry.of_kind(kind) for n in (f.name, *f.names)]
        assert len(set(names)) == len(names), f"{kind}: a name stands for two formats"
    for f in registry.FORMATS:
        assert f.kind in registry.KINDS and f.label and f.media_types, f
        assert all(s.startswith(".") for s in f.suffixes) and f.suffixes, f
        # the first is written in Content-Type; an alias may carry parameters (without blanks)
        assert ";" not in f.media_type and all(t == t.lower() and " " not in t for t in f.media_types), f
        module, _, function = f.writer.partition(":")
        assert callable(getattr(importlib.import_module(module), function, None)), f.writer
        if f.reader is not None:  # syntaxes prov reads other than under their name (PROV-O)
            assert f.kind == registry.SYNTAX, f
            module, _, function = f.reader.partition(":")
            assert callable(getattr(importlib.import_module(module), function, None)), f.reader


# -- provdm: serializers, ProvSAP, pictures, audit reports --------------------------------------


@pytest.mark.parametrize("fmt", SYNTAXES, ids=ids(SYNTAXES))
def test_serializers_read_and_write_every_syntax(fmt, doc):
    assert formats.MEDIA_TYPES[fmt.name] == fmt.media_type
    assert [formats.format_from_media_type(t) for t in fmt.media_types] == [fmt.name] * len(fmt.media_types)
    assert [formats.SUFFIX_FORMATS.get(s) for s in fmt.suffixes] == [fmt.name] * len(fmt.suffixes)
    assert {formats.format_from_name(n) for n in (fmt.name, *fmt.names)} == {fmt.name}
    text = formats.serialize(doc, fmt.name)
    assert formats.parse(text, fmt.name)[0] == doc


@pytest.mark.parametrize("fmt", ANSWERS, ids=ids(ANSWERS))
def test_provsap_answers_in_every_answer_format(fmt, client):
    assert RESPONSE_FORMATS[fmt.provsap] == (fmt.name, fmt.media_type)
    for value in (fmt.provsap, fmt.provsap.lower(), *fmt.media_types):
        assert parse_responseformat(value) == fmt.provsap, value
    r = client.get(f"/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT={fmt.provsap}")
    assert r.status_code == 200 and r.mimetype == fmt.media_type and r.data, r.data[:300]


@pytest.mark.parametrize("fmt", PICTURES, ids=ids(PICTURES))
def test_pictures_draw_every_picture_format(fmt, doc):
    assert render.FORMATS[fmt.name] == fmt.media_type
    assert render.render(doc, fmt.name)
    assert registry.by_suffix(registry.PICTURE, fmt.suffix.upper()) == fmt


@pytest.mark.parametrize("fmt", REPORTS, ids=ids(REPORTS))
def test_audit_writes_every_report_format(fmt, client, doc):
    assert REPORT_FORMATS[fmt.name].split(";")[0] == fmt.media_type
    assert format_report(audit(doc, roots=[PRODUCT]), fmt.name)
    for r in (
        client.get(f"/audit?ID=ex:dl5&format={fmt.name}"),
        client.get("/audit?ID=ex:dl5", headers={"Accept": fmt.media_type}),
    ):
        assert r.status_code == 200 and r.mimetype == fmt.media_type and r.data


# -- the HTTP API: OpenAPI and VOSI capabilities ------------------------------------------------


@pytest.fixture(scope="module")
def openapi(client):
    return client.get("/openapi.json").get_json()["paths"]


def _enum(operation: dict, parameter: str) -> list[str]:
    return next(p["schema"]["enum"] for p in operation["parameters"] if p["name"] == parameter)


def _content(operation: dict) -> set[str]:
    return set(operation["responses"]["200"]["content"])


def test_openapi_enums_are_the_registered_formats(openapi):
    """Nothing the registry does not know is offered."""
    assert _enum(openapi["/documents/{doc_id}"]["get"], "format") == [f.name for f in SYNTAXES]
    assert _enum(openapi["/provsap"]["get"], "RESPONSEFORMAT") == [f.provsap for f in ANSWERS]
    assert _enum(openapi["/audit"]["get"], "format") == [f.name for f in REPORTS]


@pytest.mark.parametrize("fmt", registry.FORMATS, ids=ids(registry.FORMATS))
def test_openapi_names_every_format(fmt, openapi):
    if fmt.kind == registry.SYNTAX:
        get = openapi["/documents/{doc_id}"]["get"]
        assert fmt.name in _enum(get, "format") and fmt.media_type in _content(get)
        assert set(fmt.media_types) <= set(openapi["/documents"]["post"]["requestBody"]["content"])
    if fmt.provsap:
        get = openapi["/provsap"]["get"]
        assert fmt.provsap in _enum(get, "RESPONSEFORMAT") and fmt.media_type in _content(get)
    if fmt.kind == registry.REPORT:
        get = openapi["/audit"]["get"]
        assert fmt.name in _enum(get, "format") and fmt.media_type in _content(get)


@pytest.fixture(scope="module")
def capabilities(client):
    root = ElementTree.fromstring(client.get("/capabilities").data)
    param = next(p for p in root.iter("param") if p.findtext("name") == "RESPONSEFORMAT")
    return param.findtext("description")


@pytest.mark.parametrize("fmt", ANSWERS, ids=ids(ANSWERS))
def test_capabilities_name_every_answer_format(fmt, capabilities):
    assert fmt.provsap in re.findall(r"[\w-]+", capabilities), capabilities


# -- the CLI ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_help():
    runner, cli = CliRunner(), load_commands()
    out = {}
    for command in ("ingest", "validate", "provsap", "render", "audit"):
        r = runner.invoke(cli, [command, "--help"], terminal_width=1000, max_content_width=1000)
        assert r.exit_code == 0, r.output
        out[command] = r.output
    return out


def _choices(help_text: str, option: str = "--format") -> list[str]:
    return re.search(re.escape(option) + r" \[([^\]]+)\]", help_text).group(1).split("|")


@pytest.mark.parametrize("fmt", registry.FORMATS, ids=ids(registry.FORMATS))
def test_cli_choices_and_help_name_every_format(fmt, cli_help):
    if fmt.kind == registry.SYNTAX:
        assert fmt.name in _choices(cli_help["ingest"]) and fmt.name in _choices(cli_help["validate"])
    if fmt.provsap:
        option = next(line for line in cli_help["provsap"].splitlines() if "--responseformat" in line)
        assert fmt.provsap in re.findall(r"[\w-]+", option), option
    if fmt.kind == registry.PICTURE:
        assert fmt.name in _choices(cli_help["render"])
        summary = cli_help["render"].split("Options:")[0]
        assert fmt.name.upper() in re.findall(r"\w+", summary), summary
    if fmt.kind == registry.REPORT:
        assert fmt.name in _choices(cli_help["audit"])


# -- the web page -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def record_page_links(client):
    """Media type -> file name of each download link of a record page, and the media types
    its links to the documents that asserted the record answer in."""
    page = client.get("/records/" + quote(PRODUCT, safe="") + "?depth=ALL")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    downloads = {}
    for url, filename in re.findall(r'<a href="([^"]+)" download="([^"]+)">', text):
        r = client.get(html.unescape(url))
        assert r.status_code == 200, (url, r.data[:300])
        downloads[r.mimetype] = filename
    documents = {client.get(html.unescape(url)).mimetype for url in re.findall(r'<a href="(/documents/[^"]+)"', text)}
    return downloads, documents


@pytest.mark.parametrize("fmt", ANSWERS, ids=ids(ANSWERS))
def test_record_page_downloads_every_answer_format(fmt, record_page_links):
    downloads, _ = record_page_links
    assert fmt.media_type in downloads, sorted(downloads)
    assert downloads[fmt.media_type].endswith(fmt.suffix)


@pytest.mark.parametrize("fmt", SYNTAXES, ids=ids(SYNTAXES))
def test_record_page_links_documents_in_every_syntax(fmt, record_page_links):
    _, documents = record_page_links
    assert fmt.media_type in documents, sorted(documents)
