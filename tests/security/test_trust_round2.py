"""Issue 15, item 4 (PUT /documents/{id}/rights), item 9 (reads never need the write lock) and
the errors that must not be 500 (deep JSON, huge integers, lone surrogates; download headers).

Authentication on, tokens of real writers, both stores. The scenario of the attack (the documents
of test_search_and_prefixes.py): a public DL5 product made from a proprietary DL4 dataset (group
A, with a private prefix and activity), made from a public DL3 file."""

from __future__ import annotations

import secrets
import sqlite3
import threading
import time

import pytest

from provhub.app import create_app
from provhub.app.access import hash_token, new_token
from provhub.app.stores.base import TokenRecord, utcnow_iso
from tests.conftest import make_settings
from tests.oidc.provider import AUDIENCE
from tests.security.test_search_and_prefixes import PRIVATE as PRIVATE_DL4
from tests.security.test_search_and_prefixes import PUBLIC as PUBLIC_DL5

PROVN = {"Content-Type": "text/provenance-notation"}
PJSON = {"Content-Type": "application/json"}
PUBLIC_DL3 = """document
prefix ex <http://example.org/>
entity(ex:dl3, [prov:label="run 23523"])
endDocument
"""
#: token name -> (role, groups); a1 and a2 share a name (the default name of a writer of group A)
TOKENS = {
    "a1": ("writer:A", "writer", ["A"]),
    "a2": ("writer:A", "writer", ["A"]),
    "b": ("writer:B", "writer", ["B"]),
    "nog1": ("writer:-", "writer", []),
    "nog2": ("writer:-", "writer", []),
    "admin": ("admin", "admin", []),
}


@pytest.fixture
def hub(backend, caller, request, tmp_path):
    """A service with authentication on and a token for each of TOKENS (name -> header): a
    provhub API token, or (``caller`` oidc) an OIDC access token of a client of the loopback
    provider (writers without a group are members of the writer group ``/writers`` only)."""
    oidc = {}
    if caller == "oidc":
        provider = request.getfixturevalue("oidc_provider")
        oidc = dict(
            oidc_issuers=provider.issuer, oidc_audience=AUDIENCE, oidc_writer_groups="writers", oidc_admin_groups="ops"
        )
    settings = make_settings(backend, request, tmp_path, auth="on", store_timeout=2, **oidc)
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    headers = {}
    for who, (name, role, groups) in TOKENS.items():
        if caller == "oidc":
            member = ["/ops"] if role == "admin" else ["/" + g for g in groups] + ["/writers"]
            client = f"{who}-{secrets.token_hex(3)}"
            provider.add_client(client, {"wlcg.groups": member, "preferred_username": name})
            headers[who] = {"Authorization": f"Bearer {provider.token(client)}"}
            continue
        token = new_token()
        store.save_token(TokenRecord(secrets.token_hex(4), name, role, groups, hash_token(token), utcnow_iso()))
        headers[who] = {"Authorization": f"Bearer {token}"}
    yield app.test_client(), headers, store, settings
    store.close()


def post(client, text, who, query="", ctype=PROVN):
    r = client.post("/documents" + query, data=text, headers={**ctype, **who})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def rights(client, doc_id, who=None):
    r = client.get(f"/documents/{doc_id}/rights", headers=who or {})
    return r.status_code, (r.get_json() if r.status_code == 200 else None)


# -- errors that must not be 500 -----------------------------------------------------------------

DEEP = 100_000
BAD_JSON = {
    "deep array": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v": ' + "[" * DEEP + "]" * DEEP + "}}}",
    "deep object": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v": '
    + '{"a": ' * DEEP
    + "1"
    + "}" * DEEP
    + "}}}",
    "deep unknown key": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {}}, "x": ' + "[" * 990 + "]" * 990 + "}",
    "huge integer": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v": ' + "9" * 4301 + "}}}",
    "huge negative integer": '{"prefix": {"ex": "http://e/"},\n "entity": {"ex:a": {"ex:v": [-' + "1" * 5000 + "]}}}",
    "lone high surrogate": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v": "x\\ud800"}}}',
    "lone low surrogate": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v": "\\uDC00y"}}}',
    "surrogate in an id": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a\\udbff": {}}}',
    "surrogate in a name": '{"prefix": {"ex": "http://e/"}, "entity": {"ex:a": {"ex:v\\ud800": 1}}}',
    "surrogate in a typed value": '{"prefix": {"ex": "http://e/"}, '
    '"entity": {"ex:a": {"ex:v": {"$": "\\ud83d", "type": "xsd:string"}}}}',
    "surrogate pair then a lone one": '{"prefix": {"ex": "http://e/"}, '
    '"entity": {"ex:a": {"ex:v": "\\ud83d\\ude00", "ex:w": "\\ude00"}}}',
}


@pytest.mark.parametrize("case", sorted(BAD_JSON))
@pytest.mark.parametrize("validation", ["", "?validation=strict"])
def test_bad_json_is_refused_with_where(hub, case, validation):
    client, h, store, _ = hub
    r = client.post("/documents" + validation, data=BAD_JSON[case], headers={**PJSON, **h["a1"]})
    assert r.status_code in (400, 422), r.get_data(as_text=True)[:500]
    error = r.get_json()["error"]
    assert error["where"] and error["where"] != "document", error
    assert store.stats().documents == 0


def test_bad_json_where_points_at_the_fault():
    from provhub.provdm.errors import MalformedDocument
    from provhub.provdm.formats import load_json

    cases = {
        '{"a": "\\\\ud800", "b": "\\ud800"}': "line 1, column 24",  # an escaped backslash is no escape
        '{"a":\n  [' + "7" * 4400 + "]}": "line 2, column 4",
        "[" * 5000 + "]" * 5000: "line 1, column",
    }
    for text, where in cases.items():
        with pytest.raises(MalformedDocument) as err:
            load_json(text)
        assert err.value.where.startswith(where), (text[:40], err.value.where)
    # valid pairs, an escaped backslash before u and big but allowed integers are fine
    assert load_json('["\\ud83d\\ude00", "\\\\udc00", ' + "9" * 4300 + "]")[:2] == ["\U0001f600", "\\udc00"]


@pytest.mark.parametrize("case", ["deep array", "lone high surrogate", "huge integer"])
def test_bad_json_in_other_bodies(hub, case):
    """The JSON bodies of PUT /documents/{id}/rights and PUT /pins go through the same checks."""
    client, h, store, _ = hub
    doc = post(client, PUBLIC_DL3, h["a1"])
    bad = {"deep array": "[" * DEEP + "]" * DEEP, "lone high surrogate": '"A\\ud800"', "huge integer": "9" * 5000}[case]
    for path, body, who in (
        (f"/documents/{doc}/rights", '{"group": %s}' % bad, "a1"),
        ("/pins", '{"key": %s, "to": "ex:dl3"}' % bad, "admin"),
    ):
        r = client.put(path, data=body, headers={**PJSON, **h[who]})
        assert r.status_code in (400, 422), (path, r.get_data(as_text=True)[:300])
        assert r.get_json()["error"]["where"]
    assert rights(client, doc)[1]["group"] is None
    assert store.find_aliases(record_ids=["http://example.org/dl3"]) == []


XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<prov:document xmlns:prov="http://www.w3.org/ns/prov#" xmlns:ex="http://example.org/"
    xmlns:h="http://www.w3.org/1999/xhtml">
  <prov:entity prov:id="ex:page">
    <prov:label>&lt;script&gt;alert(1)&lt;/script&gt;</prov:label>
    <ex:note><h:script>alert(document.domain)</h:script></ex:note>
  </prov:entity>
</prov:document>
"""


def test_document_downloads_cannot_run_in_the_browser(hub):
    client, h, _, _ = hub
    r = client.post("/documents", data=XHTML, headers={"Content-Type": "application/provenance+xml", **h["a1"]})
    assert r.status_code == 201, r.get_data(as_text=True)
    doc = r.get_json()["id"]
    for fmt in ("xml", "json", "provn", None):
        r = client.get(f"/documents/{doc}" + (f"?format={fmt}" if fmt else ""))
        assert r.status_code == 200
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "sandbox" in csp, csp


# -- item 9: reads never need the write lock ----------------------------------------------------


def _placeholder_query(client):
    return client.get("/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT=PROV-JSON")


def test_an_anonymous_query_with_placeholders_answers_while_a_write_holds_the_lock(hub, backend):
    client, h, store, settings = hub
    post(client, PUBLIC_DL5, h["a1"])
    post(client, PRIVATE_DL4, h["a1"], "?rights=proprietary&group=A")
    if backend == "sqlite":  # another connection holds the write lock, as a large ingest does
        holder = sqlite3.connect(store.path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO meta (key, value) VALUES ('held', 'x')")
        release = holder.rollback
    else:  # a read that opened a write transaction is an error

        def no_write(work):
            raise AssertionError("a read opened a write transaction")

        store._write, release = no_write, lambda: vars(store).pop("_write")
    answers: list = []
    try:
        for _ in range(2):  # the first placeholder answer of this store, then another one
            # in a thread of its own: a new thread gets a new connection to the store
            started = time.monotonic()
            worker = threading.Thread(target=lambda: answers.append(_placeholder_query(client)))
            worker.start()
            worker.join(30)
            assert time.monotonic() - started < 1.0, "the read waited for the write lock"
    finally:
        release()
    assert [r.status_code for r in answers] == [200, 200], [r.get_data(as_text=True)[:300] for r in answers]
    text = answers[0].get_data(as_text=True)
    assert "hidden:" in text and "binning" not in text and "ex:dl3" in text


# -- item 4: PUT /documents/{id}/rights ----------------------------------------------------------


def test_a_public_document_is_changed_only_by_its_poster_or_an_admin(hub):
    client, h, _, _ = hub
    for poster, others in (("a1", ("b", "a2", "nog1")), ("nog1", ("nog2", "a1", "b"))):
        doc = post(client, PUBLIC_DL3.replace("23523", "2352" + poster), h[poster])
        before = rights(client, doc)
        # another writer, of another group or with the same token name, cannot take it over
        for other in others:
            groups = TOKENS[other][2]  # what the other writer could do to a document of its own
            body = {"rights": "proprietary", "group": groups[0]} if groups else {"release": "2030-01-01"}
            r = client.put(f"/documents/{doc}/rights", json=body, headers=h[other])
            assert r.status_code == 403, (poster, other, r.get_data(as_text=True))
            assert r.get_json()["error"]["where"]
            assert client.delete(f"/documents/{doc}", headers=h[other]).status_code == 403
        assert rights(client, doc) == before  # the poster still reads it, so does everyone
        # the poster may change it, and so may an admin
        r = client.put(f"/documents/{doc}/rights", json={"release": "2030-01-01"}, headers=h[poster])
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["release"] == "2030-01-01" and r.get_json()["rights"] == "public"
        r = client.put(f"/documents/{doc}/rights", json={"release": None}, headers=h["admin"])
        assert r.status_code == 200 and r.get_json()["release"] is None


def test_left_out_fields_keep_their_stored_values(hub):
    client, h, _, _ = hub
    post(client, PUBLIC_DL5, h["a1"])
    secret = post(client, PRIVATE_DL4, h["a1"], "?rights=proprietary&group=A")
    r = client.put(f"/documents/{secret}/rights", json={"release": "2030-01-01"}, headers=h["a2"])
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json() == {"id": secret, "rights": "proprietary", "group": "A", "release": "2030-01-01"}
    assert rights(client, secret) == (404, None)  # still hidden from anonymous callers
    assert "binning" not in client.get("/provsap?ID=ex:dl5&DEPTH=ALL").get_data(as_text=True)
    # an empty change changes nothing; a GET answer may be put back as it is
    assert client.put(f"/documents/{secret}/rights", json={}, headers=h["a2"]).get_json()["release"] == "2030-01-01"
    same = client.put(f"/documents/{secret}/rights", json=r.get_json(), headers=h["a2"])
    assert same.status_code == 200 and same.get_json() == r.get_json()
    # null clears the release; rights alone keeps group and release
    r = client.put(f"/documents/{secret}/rights", json={"release": None}, headers=h["a1"])
    assert r.get_json() == {"id": secret, "rights": "proprietary", "group": "A", "release": None}
    r = client.put(f"/documents/{secret}/rights", json={"rights": "public"}, headers=h["a1"])
    assert r.get_json() == {"id": secret, "rights": "public", "group": "A", "release": None}


@pytest.mark.parametrize(
    "body, where",
    [
        ({"rights": 5}, "rights"),
        ({"rights": None}, "rights"),
        ({"rights": ["public"]}, "rights"),
        ({"group": ["A"]}, "group"),
        ({"group": {"A": 1}}, "group"),
        ({"group": 7}, "group"),
        ({"group": ""}, "group"),
        ({"release": 20300101}, "release"),
        ({"release": ["2030-01-01"]}, "release"),
        ({"release": "tomorrow"}, "release"),
        ({"rights": "proprietary", "group": None}, "group"),
        ({"rigths": "public"}, "rigths"),
        ({"id": "another"}, "id"),
        (["rights", "public"], "body"),
        ("public", "body"),
    ],
)
def test_rights_changes_are_type_checked(hub, body, where):
    client, h, _, _ = hub
    doc = post(client, PRIVATE_DL4, h["a1"], "?rights=proprietary&group=A")
    before = rights(client, doc, h["a1"])
    r = client.put(f"/documents/{doc}/rights", json=body, headers=h["a1"])
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["error"]["where"] == where
    assert rights(client, doc, h["a1"]) == before


def test_a_writer_names_only_its_own_groups(hub):
    client, h, _, _ = hub
    # posting, public or proprietary, for a group the writer is not in
    for query in ("?rights=public&group=B", "?group=B", "?rights=proprietary&group=B"):
        r = client.post("/documents" + query, data=PUBLIC_DL3, headers={**PROVN, **h["a1"]})
        assert r.status_code == 403, (query, r.get_data(as_text=True))
        assert r.get_json()["error"]["where"] == "group"
    # setting it
    doc = post(client, PUBLIC_DL3, h["a1"])
    for body in ({"group": "B"}, {"rights": "public", "group": "B"}, {"rights": "proprietary", "group": "B"}):
        r = client.put(f"/documents/{doc}/rights", json=body, headers=h["a1"])
        assert r.status_code == 403 and r.get_json()["error"]["where"] == "group", body
    assert rights(client, doc)[1]["group"] is None
    # its own group is fine, and then the group's writers manage the document
    r = client.put(f"/documents/{doc}/rights", json={"group": "A"}, headers=h["a1"])
    assert r.status_code == 200 and r.get_json()["group"] == "A"
    assert client.put(f"/documents/{doc}/rights", json={"release": "2031-01-01"}, headers=h["a2"]).status_code == 200
    assert client.put(f"/documents/{doc}/rights", json={"release": None}, headers=h["b"]).status_code == 403
    # an admin may name any group
    r = client.post("/documents?rights=public&group=B", data=PUBLIC_DL5, headers={**PROVN, **h["admin"]})
    assert r.status_code == 201


def test_a_store_made_before_posters_is_upgraded_on_open(tmp_path):
    """SQLite: the poster column is added to an old store (whose posters are not known, so its
    public documents are changed by admins only), and the secret is made when it is opened."""
    from dataclasses import replace

    from provhub.app.stores.sqlite import SQLiteStore

    settings = make_settings("sqlite", None, tmp_path, auth="on")
    app = create_app(settings)
    client, store = app.test_client(), app.extensions["provhub.store"]
    writer, admin = new_token(), new_token()
    store.save_token(TokenRecord("w1", "w", "writer", [], hash_token(writer), utcnow_iso()))
    store.save_token(TokenRecord("a1", "a", "admin", [], hash_token(admin), utcnow_iso()))
    doc = post(client, PUBLIC_DL3, {"Authorization": f"Bearer {writer}"})
    store.close()
    conn = sqlite3.connect(store.path)
    conn.executescript("ALTER TABLE documents DROP COLUMN poster; DELETE FROM meta WHERE key = 'secret';")
    conn.close()
    reopened = SQLiteStore(settings.store_url, settings)
    try:
        assert reopened.get_document(doc).poster is None
        conn = sqlite3.connect(store.path)
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'secret'").fetchone() == (1,)
        conn.close()
        client = create_app(replace(settings), store=reopened).test_client()
        body = {"release": "2030-01-01"}
        assert (
            client.put(f"/documents/{doc}/rights", json=body, headers={"Authorization": f"Bearer {writer}"}).status_code
            == 403
        )
        assert (
            client.put(f"/documents/{doc}/rights", json=body, headers={"Authorization": f"Bearer {admin}"}).status_code
            == 200
        )
    finally:
        reopened.close()


def test_export_and_import_keep_the_poster(hub, tmp_path):
    from click.testing import CliRunner

    from provhub.app.cli import load_commands
    from provhub.app.stores import open_store

    client, h, store, settings = hub
    doc = post(client, PUBLIC_DL3, h["nog1"])
    env = {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }
    out = tmp_path / "backup.jsonl"
    runner = CliRunner()
    r = runner.invoke(load_commands(), ["export", "-o", str(out)], env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    url = f"sqlite:///{tmp_path / 'restored.db'}"
    r = runner.invoke(load_commands(), ["import-export", str(out), "--store", url], env=env, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    restored = open_store(url)
    try:
        assert restored.get_document(doc).poster == store.get_document(doc).poster
        assert store.get_document(doc).poster.startswith(("token:", "oidc:http://127.0.0.1:"))
    finally:
        restored.close()
