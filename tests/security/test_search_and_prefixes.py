"""Issue 15, leaks 1 and 2: search counts and answer prefixes use only what the caller may read.

The scenario of the attack: a public DL5 product made from a proprietary DL4 dataset (group A,
with a private prefix and activity), made from a public DL3 file. A proprietary document also
says something (a TOPSECRET value) about the public DL3 file. Both stores."""

from __future__ import annotations

import pytest

from provhub.app import services
from provhub.app.access import Viewer
from provhub.app.config import Settings
from provhub.provdm.provsap import ProvSapQuery

PUBLIC = """document
prefix ex <http://example.org/>
entity(ex:dl3, [prov:label="run 23523"])
entity(ex:dl5, [prov:label="Crab spectrum"])
wasDerivedFrom(ex:dl5, ex:dl4)
entity(ex:other, [prov:label="unrelated"])
endDocument
"""
PRIVATE = """document
prefix ex <http://example.org/>
prefix topsecretns <http://secret.example.org/project-zeta#>
entity(ex:dl4, [prov:label="binned"])
activity(topsecretns:binning)
used(topsecretns:binning, ex:dl3, -)
wasGeneratedBy(ex:dl4, topsecretns:binning, -)
entity(ex:dl3, [topsecretns:note="TOPSECRET-value"])
endDocument
"""
SECRET = "TOPSECRET-value"


def chain(name: str, n: int, head: str = "") -> str:
    """A PROV-N document of ``n`` derivations ex:<name>0 <- ex:<name>1 <- ... ex:<name><n>, every
    entity declared, after ``head`` (more statements)."""
    body = "\n".join(f"entity(ex:{name}{i})\nwasDerivedFrom(ex:{name}{i}, ex:{name}{i + 1})" for i in range(n))
    return f"document\nprefix ex <http://example.org/>\n{head}{body}\nentity(ex:{name}{n})\nendDocument\n"


@pytest.fixture
def world(store):
    settings = Settings(sample="off", auth="off")
    services.ingest(store, PUBLIC, "provn", settings=settings)
    services.ingest(store, PRIVATE, "provn", settings=settings, rights="proprietary", group="A")
    return store, settings


ANON = Viewer()
MEMBER = Viewer(name="a", role="reader", groups=frozenset({"A"}))


def test_search_counts_do_not_confirm_a_hidden_value(world):
    store, _ = world
    # every prefix of the hidden value, on every page: nothing, and a count of nothing
    for n in range(3, len(SECRET) + 1):
        for offset in (0, 1):
            nodes, total = services.search_records(store, SECRET[:n], viewer=ANON, limit=1, offset=offset)
            assert (nodes, total) == ([], 0), (SECRET[:n], offset)
    # what readable documents say is still found and counted exactly
    nodes, total = services.search_records(store, "23523", viewer=ANON, limit=1, offset=1)
    assert (nodes, total) == ([], 1)
    assert services.search_records(store, "23523", viewer=ANON)[1] == 1
    # a member of the group finds the value
    nodes, total = services.search_records(store, SECRET, viewer=MEMBER)
    assert total == 1 and nodes[0].id == "http://example.org/dl3"


def test_search_page_of_a_hidden_match_through_http(world, settings):
    from dataclasses import replace

    from provhub.app import create_app

    store, _ = world
    client = create_app(replace(settings, auth="on"), store=store).test_client()
    page = client.get(f"/?q={SECRET}&page=2&limit=1").get_data(as_text=True)
    nothing = client.get("/?q=NOTHINGMATCHESTHIS&page=2&limit=1").get_data(as_text=True)
    assert page.replace(SECRET, "X") == nothing.replace("NOTHINGMATCHESTHIS", "X")


@pytest.mark.parametrize("fmt", ["PROV-JSON", "PROV-N", "PROV-XML"])
def test_answers_declare_only_the_prefixes_they_use(world, fmt):
    store, settings = world
    for ident, viewer in (("ex:other", ANON), ("ex:dl5", ANON), ("ex:other", MEMBER)):
        query = ProvSapQuery.from_args({"ID": [ident], "DEPTH": "ALL", "RESPONSEFORMAT": fmt}, max_depth=1000)
        body, _ = services.provsap_response(store, query, settings=settings, viewer=viewer)
        text = body.decode()
        assert "secret.example.org" not in text and "topsecretns" not in text, (ident, viewer)
        assert "http://example.org/" in text
    # a member whose answer does use the prefix gets it declared
    query = ProvSapQuery.from_args({"ID": ["ex:dl5"], "DEPTH": "ALL", "RESPONSEFORMAT": fmt}, max_depth=1000)
    body, _ = services.provsap_response(store, query, settings=settings, viewer=MEMBER)
    assert "secret.example.org" in body.decode()


def test_the_node_cap_counts_what_the_caller_sees(store, settings):
    """Issue 15, item 5: hidden records beyond the visible answer make no difference to the cap."""
    from dataclasses import replace

    from provhub.provdm.errors import AnswerTooLarge

    settings = replace(settings, node_cap=20)
    services.ingest(store, PUBLIC, "provn", settings=settings)
    hidden = chain("h", 30, head="wasDerivedFrom(ex:dl5, ex:h0)\n")
    services.ingest(store, hidden, "provn", settings=settings, rights="proprietary", group="A")
    query = ProvSapQuery.from_args({"ID": ["ex:dl5"], "DEPTH": "ALL"}, max_depth=1000)
    graph, _ = services.trace_graph(store, query, settings=settings, viewer=ANON)
    assert {n.id for n in graph.nodes} == {"http://example.org/dl5"}
    with pytest.raises(AnswerTooLarge):  # the member sees 32 records (dl5, h0-h30): over the cap of 20
        services.trace_graph(store, query, settings=settings, viewer=MEMBER)


def test_placeholders_cannot_be_joined_across_answers(world):
    """Issue 15, item 6: one hidden step has one id inside an answer, and another in another query."""
    store, settings = world

    def hidden(ident, depth, viewer=ANON):
        query = ProvSapQuery.from_args({"ID": [ident], "DEPTH": depth}, max_depth=1000)
        graph, _ = services.trace_graph(store, query, settings=settings, viewer=viewer)
        return {n.id for n in graph.nodes if n.id.startswith("urn:provhub:hidden:")}

    first = hidden("ex:dl5", "ALL")
    assert len(first) == 2  # the proprietary dl4 and its activity, on the path to the public dl3
    assert hidden("ex:dl5", "ALL") == first  # the same question, the same answer
    assert not hidden("ex:dl5", "4") & first
    assert not hidden("ex:dl5", "ALL", Viewer(name="b", role="reader", groups=frozenset({"B"}))) & first


def test_writers_of_another_group_learn_nothing_of_hidden_records(store, settings):
    """Issue 15, item 3: a conflict with a hidden record tells no stored value, kind or endpoint,
    and validation treats a hidden id as an unknown one."""
    import json

    from provhub.provdm.errors import Conflict

    secret = """document
prefix ex <http://example.org/>
activity(ex:secretmodel, 2020-01-01T00:00:00Z, 2020-01-02T00:00:00Z)
entity(ex:secretent, [ex:v="SECRETVALUE"])
endDocument
"""
    services.ingest(store, secret, "provn", settings=settings, rights="proprietary", group="A")
    writer_b = Viewer(name="b", role="writer", groups=frozenset({"B"}))
    doc = "document\nprefix ex <http://example.org/>\nactivity(ex:secretmodel, 2021-05-05T00:00:00Z, -)\nendDocument\n"
    with pytest.raises(Conflict) as info:  # a different start time
        services.ingest(store, doc, "provn", settings=settings, viewer=writer_b)
    said = info.value.message + json.dumps(info.value.details)
    for leak in ("2020-01-0", "entity", "SECRETVALUE"):
        assert leak not in said, said
    # the stored record is an entity: an activity of that id is another assertion of it (issue
    # 17), stored at every level with nothing said of the hidden entity
    for level in ("warn", "strict"):
        doc = f'document\nprefix ex <http://example.org/>\nactivity(ex:secretent, [ex:l="{level}"])\nendDocument\n'
        res = services.ingest(store, doc, "provn", settings=settings, viewer=writer_b, validation=level)
        said = json.dumps(res.warnings)
        for leak in ("entity", "SECRETVALUE", "constraint 55"):
            assert leak not in said, said

    def verdict(ident):
        doc = f"document\nprefix ex <http://example.org/>\nactivity(ex:b1)\nused(ex:b1, ex:{ident}, -)\nendDocument\n"
        try:
            res = services.ingest(store, doc, "provn", settings=settings, viewer=writer_b, validation="strict")
            return "stored", [w.replace(ident, "X") for w in res.warnings]
        except Exception as exc:  # noqa: BLE001 - the verdict is what is compared
            return type(exc).__name__, str(exc).replace(ident, "X")

    assert verdict("secretent") == verdict("nosuchthing")


def test_import_warnings_are_bounded_and_linear():
    """Issue 15, item 7: a FITS header of many odd cards gives a bounded warning list (the
    duplicate check was a list scan, quadratic: 543 s of CPU for 10^5 cards)."""
    from provhub.importers.base import MAX_WARNINGS, Warnings

    warn = Warnings()
    for i in range(3 * MAX_WARNINGS):
        warn.add("W02", f"card {i} is odd", "f.fits")
        warn.add("W02", f"card {i} is odd", "f.fits")  # the same warning again is not listed twice
    assert len(warn.items) == MAX_WARNINGS + 1
    assert warn.items[-1].code == "W14" and f"{2 * MAX_WARNINGS} more" in warn.items[-1].message


def test_a_gzip_bomb_upload_is_refused_while_it_inflates(client):
    """Issue 15, item 7: a small gzip upload that inflates past 50x its size is a 413, found while
    it is streamed (1.5 MB inflated to 3.9 GB before)."""
    import gzip
    import io

    from astropy.io import fits

    header = fits.PrimaryHDU().header
    header["NAXIS"], header["BITPIX"], header["NAXIS1"] = 1, 8, 200 * 1024 * 1024
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(header.tostring().encode("ascii"))
        zeros = bytes(1 << 20)
        for _ in range(200):
            gz.write(zeros)
    body = buf.getvalue()
    assert len(body) < 1024 * 1024
    r = client.post("/fits?filename=bomb.fits.gz", data=body, content_type="application/fits")
    assert r.status_code == 413, r.get_data(as_text=True)
    assert r.get_json()["error"]["where"] == "body" and "inflates" in r.get_json()["error"]["message"]


def test_depth_all_keeps_to_the_maximum_depth(store, settings):
    """Issue 15, item 10: DEPTH=ALL walked 40,001 levels although PROVHUB_MAX_DEPTH said 1000."""
    from dataclasses import replace

    from provhub.provdm.errors import AnswerTooLarge

    settings = replace(settings, max_depth=10)
    services.ingest(store, chain("c", 12), "provn", settings=settings)

    def ask(ident):
        query = ProvSapQuery.from_args({"ID": [ident], "DEPTH": "ALL"}, max_depth=settings.max_depth)
        return services.trace_graph(store, query, settings=settings, viewer=ANON)[0]

    assert len(ask("ex:c2").nodes) == 11  # ten relations deep: within the maximum
    with pytest.raises(AnswerTooLarge, match="PROVHUB_MAX_DEPTH"):
        ask("ex:c0")  # twelve: deeper than the maximum


def test_pictures_have_a_size_cap_and_a_concurrency_limit(store, settings):
    """Issue 15, item 10: PROV-SVG of a 40k-node chain ran Graphviz for 60 s, six at once 2.1 GB."""
    from dataclasses import replace

    from provhub.provdm.errors import AnswerTooLarge, Busy

    settings = replace(settings, render_node_cap=2)
    services.ingest(store, chain("p", 50), "provn", settings=settings)

    def picture(depth):
        query = ProvSapQuery.from_args({"ID": ["ex:p0"], "DEPTH": depth, "RESPONSEFORMAT": "PROV-DOT"}, max_depth=1000)
        return services.provsap_response(store, query, settings=settings, viewer=ANON)

    with pytest.raises(AnswerTooLarge, match="picture"):
        picture("ALL")  # 51 records, over 2 x 20
    assert picture("10")[0]  # 11 records: drawn (collapsed above 2)
    held = [services._RENDERS.acquire(blocking=False) for _ in range(services.MAX_RENDERS)]
    try:
        assert all(held)
        with pytest.raises(Busy):
            picture("10")
    finally:
        for _ in held:
            services._RENDERS.release()
    assert picture("10")[0]


@pytest.mark.parametrize("fmt", ["provn", "xml"])
def test_a_huge_literal_is_refused_before_prov_parses_it(store, settings, fmt):
    """Issue 15, item 7: one 60 MB PROV-N literal took the server to 8.2 GB inside prov's parser."""
    from dataclasses import replace

    from provhub.provdm.errors import InvalidDocument

    settings = replace(settings, max_attribute_bytes=1000)
    big = "x" * 5000
    if fmt == "provn":
        text = f'document\nprefix ex <http://example.org/>\nentity(ex:e, [ex:v="{big}"])\nendDocument\n'
    else:
        text = (
            '<prov:document xmlns:prov="http://www.w3.org/ns/prov#" xmlns:ex="http://example.org/">'
            f'<prov:entity prov:id="ex:e"><ex:v>{big}</ex:v></prov:entity></prov:document>'
        )
    called = []
    real = services.formats.parse_any
    services.formats.parse_any = lambda *a: called.append(a) or real(*a)
    try:
        with pytest.raises(InvalidDocument, match="MAX_ATTRIBUTE_BYTES"):
            services.ingest(store, text, fmt, settings=settings)
    finally:
        services.formats.parse_any = real
    assert not called  # refused before prov read it
    assert store.stats().documents == 0


HEAD = "document\nprefix ex <http://example.org/>\n"
XML_HEAD = '<prov:document xmlns:prov="http://www.w3.org/ns/prov#" xmlns:ex="http://example.org/">'


@pytest.mark.parametrize(
    "text, fmt",
    [
        # an escaped quote used to shift the count of quotes, and the next literal went unchecked
        (HEAD + 'entity(ex:a, [ex:v="\\""])\nentity(ex:b, [ex:w="%s"])\nendDocument\n', "provn"),
        # a long string holds quotes and newlines
        (HEAD + 'entity(ex:a, [ex:v="""a "b"\n%s"""])\nendDocument\n', "provn"),
        # a qualified-name literal and an IRI are values too
        (HEAD + "entity(ex:a, [ex:v='ex:%s'])\nendDocument\n", "provn"),
        (XML_HEAD + '<prov:entity prov:id="ex:a" ex:v="%s"/></prov:document>', "xml"),
    ],
    ids=["escaped-quote", "long-string", "qname-literal", "xml-attribute"],
)
def test_no_syntax_hides_a_huge_literal_from_the_check(store, settings, text, fmt):
    from dataclasses import replace

    from provhub.provdm.errors import InvalidDocument

    with pytest.raises(InvalidDocument, match="MAX_ATTRIBUTE_BYTES"):
        services.ingest(store, text % ("x" * 5000), fmt, settings=replace(settings, max_attribute_bytes=1000))
    assert store.stats().documents == 0


@pytest.mark.parametrize(
    "text, fmt",
    [
        (HEAD + 'entity(ex:a, [ex:v="""%s"""])\nendDocument\n', "provn"),
        (HEAD + '// a comment with a quote " in it\nentity(ex:a, [ex:v="%s"])\nendDocument\n', "provn"),
        (
            XML_HEAD + '<prov:entity prov:id="ex:a"><ex:a_long_element_name>%s</ex:a_long_element_name>'
            "</prov:entity></prov:document>",
            "xml",
        ),
    ],
    ids=["long-string", "comment", "xml-element-name"],
)
def test_a_literal_of_exactly_the_limit_is_stored(store, settings, text, fmt):
    """What is counted is the value, not its quotes, its element's name or a comment before it."""
    from dataclasses import replace

    services.ingest(store, text % ("x" * 1000), fmt, settings=replace(settings, max_attribute_bytes=1000))
    assert store.stats().documents == 1


def test_a_record_many_documents_share_is_read_from_one_when_a_hidden_one_adds_nothing(store, monkeypatch):
    """A software agent that fifty public documents and one proprietary document assert alike is
    shown whole after reading one public document's view (what the readable documents say already
    holds all the store keeps of it); one the proprietary document adds to is read from every
    public one, and shows nothing of what it added."""
    from provhub.app import identity

    settings = Settings(sample="off", auth="off")
    agent = 'agent(ex:gammapy, [prov:type="prov:SoftwareAgent", ex:version="1.2"])'
    for i in range(50):
        text = f"document\nprefix ex <http://example.org/>\n{agent}\nentity(ex:run{i})\nendDocument\n"
        services.ingest(store, text, "provn", settings=settings)
    hidden = f'document\nprefix ex <http://example.org/>\n{agent}\nagent(ex:ctapipe, [ex:note="{SECRET}"])\n'
    services.ingest(store, hidden + "endDocument\n", "provn", settings=settings, rights="proprietary", group="A")
    for i in range(50):
        text = f"document\nprefix ex <http://example.org/>\nagent(ex:ctapipe)\nentity(ex:more{i})\nendDocument\n"
        services.ingest(store, text, "provn", settings=settings)
    views = []
    real = identity.document_view

    def counted(store_, doc_id):
        views.append(doc_id)
        return real(store_, doc_id)

    monkeypatch.setattr(identity, "document_view", counted)
    [gammapy], _ = services.search_records(store, "gammapy", viewer=ANON)
    assert len(views) == 1
    assert gammapy == store.get_nodes(["http://example.org/gammapy"])[0]
    views.clear()
    [ctapipe], _ = services.search_records(store, "ctapipe", viewer=ANON)
    assert len(views) == 50 and SECRET not in str(ctapipe.attrs)
