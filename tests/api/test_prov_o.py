"""PROV-O (linked data): Turtle and JSON-LD in and out, through prov's RDF serializer (rdflib).

What comes back equal, and the PROV-O limits of prov that provhub inherits (docs/model.md,
"PROV-O"), each shown on a document of its own. Over real stores (both backends) through the HTTP
API; rdflib reads the answers as a linked-data client would, independently of prov.
"""

from __future__ import annotations

import datetime
import threading
from urllib.parse import quote
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import rdflib
from prov.model import ProvDocument

from provhub.app import services
from provhub.provdm import formats
from provhub.provdm.errors import InvalidDocument, NotAcceptable, ProvhubError
from tests.api.test_api import assert_error
from tests.conftest import ROOT, make_settings, prov_files

KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
TTL, JSONLD = "text/turtle", "application/ld+json"
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
EX = "http://example.org/cta#"
#: corpus documents whose records, merged by id, do not come back through PROV-O, and why
LOSSY = {
    # two anonymous associations of one activity, one with a plan: prov reads them back as one
    "revsort-run-1/primary.cwlprov.json": "mixed qualified and unqualified relations",
    "revsort-run-1/primary.cwlprov.provn": "mixed qualified and unqualified relations",
    "revsort-run-1/primary.cwlprov.xml": "mixed qualified and unqualified relations",
    # an IRI prov cannot read back as a qualified name (file://///home/...)
    "provtoolbox/tom-bytheway.provx": "an IRI prov cannot split",
}


def post(client, text: str, media_type: str, query: str = ""):
    return client.post("/documents" + query, data=text.encode(), headers={"Content-Type": media_type})


def doc_of(text: str) -> ProvDocument:
    return formats.parse(text, "provn")[0]


@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_posted_prov_o_is_stored_and_answered_on_each_store(client, syntax):
    original = doc_of(KNOWN)
    text = formats.serialize(original, syntax)
    r = post(client, text, formats.MEDIA_TYPES[syntax])
    assert r.status_code == 201, r.get_json()
    doc_id = r.get_json()["id"]
    # the same records as posted in PROV-N are the same document
    again = post(client, KNOWN, "text/provenance-notation")
    assert again.status_code == 200 and again.get_json()["id"] == doc_id
    for out in ("ttl", "jsonld"):
        g = client.get(f"/documents/{doc_id}?format={out}")
        assert g.status_code == 200 and g.mimetype == formats.MEDIA_TYPES[out]
        assert formats.parse(g.get_data(as_text=True), out)[0] == original
        # a linked-data client reads it: every record is a typed node with its IRI
        graph = rdflib.Graph().parse(data=g.get_data(as_text=True), format="turtle" if out == "ttl" else "json-ld")
        assert (rdflib.URIRef(EX + "dl5"), rdflib.RDF.type, PROV.Entity) in graph
    back = client.get(f"/documents/{doc_id}", headers={"Accept": TTL})
    assert back.mimetype == TTL


@pytest.mark.parametrize("path,fmt", prov_files(), ids=[p.name for p, _ in prov_files()])
@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_the_corpus_through_prov_o(path, fmt, syntax):
    """prov equality of the records merged by id (``unified``): PROV-O has no statements, only
    triples about a subject, so records of one id asserted in several statements come back as one."""
    name = f"{path.parent.name}/{path.name}"
    original = formats.parse(path.read_text(), fmt)[0]
    try:
        back = formats.parse(formats.serialize(original, syntax), syntax)[0]
    except ProvhubError:
        assert name in LOSSY
        return
    assert (back.unified() == original.unified()) is (name not in LOSSY), name


def test_provsap_answers_in_prov_o_in_either_model(client):
    post(client, KNOWN, "text/provenance-notation")
    original = doc_of(KNOWN)
    for value, syntax in (("PROV-O-TURTLE", "ttl"), ("text/turtle", "ttl"), ("application/ld+json", "jsonld")):
        answers = []
        for model in ("IVOA", "W3C"):
            r = client.get(f"/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT={quote(value)}&MODEL={model}")
            assert r.status_code == 200, r.get_data(as_text=True)
            assert r.mimetype == formats.MEDIA_TYPES[syntax]
            answers.append(formats.parse(r.get_data(as_text=True), syntax)[0])
        # PROV-O has one form: voprov writes none, MODEL=IVOA is the W3C mapping
        assert answers[0] == answers[1]
        ids = {rec.identifier.uri for rec in answers[0].get_records() if rec.identifier is not None}
        assert {EX + "dl5", EX + "dl3a", EX + "irf", EX + "sim"} <= ids
        assert ids <= {rec.identifier.uri for rec in original.get_records() if rec.identifier is not None}


def test_the_command_line_ingests_and_answers_prov_o(settings, tmp_path):
    from click.testing import CliRunner

    from provhub.app.cli import load_commands
    from tests.datalink.test_bundle import cli_env

    path = tmp_path / "known.ttl"
    path.write_text(formats.serialize(doc_of(KNOWN), "ttl"))
    runner, env = CliRunner(), cli_env(settings)
    r = runner.invoke(load_commands(), ["ingest", str(path)], env=env)
    assert r.exit_code == 0 and "created" in r.output, r.output
    r = runner.invoke(
        load_commands(), ["provsap", "--id", "ex:dl5", "--depth", "1", "--responseformat", "PROV-O-JSONLD"], env=env
    )
    assert r.exit_code == 0, r.output
    back = formats.parse(r.stdout, "jsonld")[0]
    assert EX + "dl5" in {rec.identifier.uri for rec in back.get_records() if rec.identifier is not None}


def test_a_large_prov_o_answer_is_refused_before_it_is_written(client, monkeypatch):
    post(client, KNOWN, "text/provenance-notation")
    monkeypatch.setattr(services, "RDF_ANSWER_RECORDS", 5)
    r = client.get("/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT=text/turtle", headers={"Accept": "application/json"})
    assert_error(r, 422, "answer-too-large", "RESPONSEFORMAT")
    assert client.get("/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT=PROV-N").status_code == 200
    assert client.get("/provsap?ID=ex:sim&DEPTH=0&RESPONSEFORMAT=text/turtle").status_code == 200


def test_the_cli_and_the_client_know_the_suffixes():
    from provhub import client as pipeline_client

    assert formats.SUFFIX_FORMATS[".ttl"] == "ttl" and formats.SUFFIX_FORMATS[".jsonld"] == "jsonld"
    assert pipeline_client.SUFFIXES[".ttl"] == "ttl" and pipeline_client.SUFFIXES[".jsonld"] == "jsonld"
    for name in ("ttl", "jsonld"):
        assert pipeline_client.MEDIA_TYPES[name] == formats.MEDIA_TYPES[name]
    assert formats.sniff_format("@prefix ex: <http://example.org/> .") == "ttl"
    assert formats.sniff_format('[{"@id": "http://example.org/e"}]') == "jsonld"
    assert formats.sniff_format('{"@context": {}}') == "jsonld" and formats.sniff_format('{"prefix": {}}') == "json"


# -- bad PROV-O: status and where --------------------------------------------------------------

BAD = [
    # Turtle syntax: rdflib's line
    (
        TTL,
        "@prefix prov: <http://www.w3.org/ns/prov#> .\n<http://x.org/e> a prov:Entity ;\n  prov:used <http://x",
        400,
        "line 3",
    ),
    # a relative IRI would resolve against the service's working directory
    (TTL, "@prefix prov: <http://www.w3.org/ns/prov#> .\n<e> a prov:Entity .", 422, "<e>"),
    # no PROV record at all
    (TTL, "@prefix ex: <http://x.org/> .\nex:e a ex:Thing .", 422, "document"),
    (JSONLD, '{"@id": "http://x.org/e", "@type": "http://www.w3.org/ns/prov#Entity"', 400, "line 1, column 70"),
    (
        JSONLD,
        '[{"@id": "http://x.org/e"}, {"@context": {"@import": "http://127.0.0.1:9/c"}}]',
        422,
        "[1]/@context/@import",
    ),
    # nesting past the parsers' stack
    (
        TTL,
        "@prefix ex: <http://x.org/> .\nex:a ex:p " + "[ ex:p " * 5000 + "ex:b" + " ]" * 5000 + " .",
        400,
        "document",
    ),
    (
        JSONLD,
        '{"@id": "http://x.org/a", "http://x.org/p": ' + '{"http://x.org/p": ' * 5000 + "1" + "}" * 5001,
        400,
        "line 1",
    ),
]


@pytest.mark.parametrize("media_type,text,status,where", BAD, ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD)])
def test_bad_prov_o_is_refused_with_where(client, media_type, text, status, where):
    r = post(client, text, media_type)
    code = "malformed-document" if status == 400 else "invalid-document"
    assert_error(r, status, code, where)


class _Counting(BaseHTTPRequestHandler):
    asked: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        _Counting.asked.append(self.path)
        body = b'{"@context": {"ex": "http://example.org/"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/ld+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_remote_json_ld_context_is_never_fetched(client):
    server = HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/context.jsonld"
        text = f'{{"@context": "{url}", "@id": "ex:e", "@type": "http://www.w3.org/ns/prov#Entity"}}'
        assert_error(post(client, text, JSONLD), 422, "invalid-document", "@context")
        nested = f'{{"@context": [{{"ex": "http://example.org/"}}, "{url}"], "@id": "ex:e"}}'
        assert_error(post(client, nested, JSONLD), 422, "invalid-document", "@context")
    finally:
        server.shutdown()
        thread.join(5)
    assert _Counting.asked == []


def test_prov_o_bodies_are_held_to_the_parse_limits(backend, request, tmp_path):
    from provhub.app import create_app

    settings = make_settings(backend, request, tmp_path, max_parse_mb=0.01, max_attribute_bytes=1000)
    app = create_app(settings)
    client = app.test_client()
    head = "@prefix prov: <http://www.w3.org/ns/prov#> .\n@prefix ex: <http://example.org/> .\n"
    big = head + "".join(f"ex:e{i} a prov:Entity .\n" for i in range(1000))
    assert_error(post(client, big, TTL), 413, "payload-too-large", "body")
    long = head + 'ex:e a prov:Entity ; ex:note """' + "x" * 2000 + '""" .\n'
    assert_error(post(client, long, TTL), 422, "invalid-document", "character")
    # an escaped quote does not hide the long literal from the check
    hidden = head + "ex:e a prov:Entity ; ex:note 'a\\'" + "x" * 2000 + "' .\n"
    assert_error(post(client, hidden, TTL), 422, "invalid-document", "character")
    js = '{"@id": "http://example.org/e", "http://example.org/note": "' + "x" * 2000 + '"}'
    assert_error(post(client, js, JSONLD), 422, "invalid-document", "character")
    # one parse at a time per place: with both places taken, the next body is 503 busy
    taken = [services._PARSES.acquire(blocking=False) for _ in range(services.MAX_PARSES)]
    try:
        assert_error(post(client, head + "ex:e a prov:Entity .\n", TTL), 503, "busy")
    finally:
        for t in taken:
            if t:
                services._PARSES.release()
    assert post(client, head + "ex:e a prov:Entity .\n", TTL).status_code == 201
    app.extensions["provhub.store"].close()


def test_a_document_with_bundles_is_not_written_in_turtle(client):
    doc = ProvDocument()
    doc.add_namespace("ex", "http://example.org/")
    doc.bundle("ex:b").entity("ex:e")
    doc_id = post(client, formats.serialize(doc, "json"), "application/x-prov+json").get_json()["id"]
    assert_error(client.get(f"/documents/{doc_id}?format=ttl"), 406, "not-acceptable", "format")
    # JSON-LD keeps a bundle as a named graph
    back = client.get(f"/documents/{doc_id}?format=jsonld").get_data(as_text=True)
    assert formats.parse(back, "jsonld")[0] == doc


# -- the PROV-O limits prov documents, as provhub inherits them ----------------------------------


def _new() -> ProvDocument:
    doc = ProvDocument()
    doc.add_namespace("ex", "http://example.org/")
    return doc


@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_limit_relations_sharing_one_id_with_different_times_are_not_read_back(syntax):
    doc = _new()
    doc.generation("ex:e", "ex:a", identifier="ex:g", time=datetime.datetime(2020, 1, 1))
    doc.generation("ex:e", "ex:a", identifier="ex:g", time=datetime.datetime(2021, 1, 1))
    with pytest.raises(Exception, match="more than one value for formal attribute"):
        formats.parse(formats.serialize(doc, syntax), syntax)


@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_limit_one_id_for_two_kinds_of_relation_is_refused(syntax):
    """prov reads such a node as one relation with the other kind as a prov:type (here a
    wasGeneratedBy of ex:a by ex:a): provhub refuses it, naming the id."""
    doc = _new()
    doc.usage("ex:a", "ex:e", identifier="ex:r")
    doc.generation("ex:e", "ex:a", identifier="ex:r")
    with pytest.raises(InvalidDocument, match="both") as caught:
        formats.parse(formats.serialize(doc, syntax), syntax)
    assert caught.value.where == "http://example.org/r"


@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_limit_a_qualified_and_an_unqualified_relation_of_one_subject_are_read_as_one(syntax):
    doc = _new()
    doc.association("ex:a", "ex:g", plan="ex:p")
    doc.association("ex:a", "ex:h")
    back = formats.parse(formats.serialize(doc, syntax), syntax)[0]
    assert back != doc and len(back.get_records()) == len(doc.get_records()) - 1


@pytest.mark.parametrize("syntax", ["ttl", "jsonld"])
def test_qualified_relations_come_back_equal(syntax):
    doc = _new()
    doc.usage("ex:a", "ex:e", identifier="ex:u1", other_attributes={"prov:role": "ex:input"})
    doc.usage("ex:a", "ex:f", other_attributes={"prov:role": "ex:calibration"})
    doc.usage("ex:a", "ex:f2", other_attributes={"prov:role": "ex:calibration"})
    doc.association("ex:a", "ex:g", plan="ex:p", other_attributes={"prov:role": "ex:operator"})
    doc.derivation("ex:f", "ex:e", activity="ex:a", generation="ex:gen", usage="ex:u1")
    doc.activity("ex:a", datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc))
    doc.entity("ex:e", {"prov:label": "e", "ex:size": 12, "ex:ratio": 0.1234567890123})
    assert formats.parse(formats.serialize(doc, syntax), syntax)[0] == doc


def test_statements_of_one_record_come_back_as_one():
    doc = _new()
    doc.entity("ex:e", {"prov:label": "e"})
    doc.entity("ex:e", {"ex:size": 3})
    back = formats.parse(formats.serialize(doc, "ttl"), "ttl")[0]
    assert back != doc and back == doc.unified() and len(back.get_records()) == 1


def test_writing_turtle_of_bundles_is_refused_in_provdm():
    doc = _new()
    doc.bundle("ex:b").entity("ex:e")
    with pytest.raises(NotAcceptable):
        formats.serialize(doc, "ttl")


def test_a_literal_prov_type_survives_json_ld():
    """rdflib's JSON-LD compaction would write it as a @type string (an IRI): such a document is
    written expanded."""
    doc = _new()
    doc.activity("ex:a", other_attributes={"prov:type": "publish"})
    text = formats.serialize(doc, "jsonld")
    assert "@context" not in text and formats.parse(text, "jsonld")[0] == doc
