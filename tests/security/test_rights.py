"""Access rights hold inside lineage, search and every endpoint: two users, a proprietary
document in the middle of a public chain, every format, no leak."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from provhub.app import create_app, services
from provhub.app.access import Viewer
from provhub.app.cli import load_commands
from tests.conftest import make_settings
from tests.oidc.provider import AUDIENCE

EX = "http://example.org/cta#"
PUBLIC_TOP = """document
  prefix ex <http://example.org/cta#>
  entity(ex:dl5, [prov:label="Crab spectrum"])
  activity(ex:analysis)
  wasGeneratedBy(ex:gen5; ex:dl5, ex:analysis, -)
  used(ex:u1; ex:analysis, ex:dl3, -)
  entity(ex:dl3, [ex:obs_id=23523])
endDocument"""
PRIVATE_MIDDLE = """document
  prefix ex <http://example.org/cta#>
  activity(ex:secretcalib)
  wasGeneratedBy(ex:gsec; ex:dl3, ex:secretcalib, -)
  used(ex:usec; ex:secretcalib, ex:irf, -)
  entity(ex:dl3, [ex:calibnote="CONFIDENTIAL-42"])
  entity(ex:secretmodel, [ex:note="CONFIDENTIAL-43"])
  used(ex:usec2; ex:secretcalib, ex:secretmodel, -)
endDocument"""
PUBLIC_BOTTOM = """document
  prefix ex <http://example.org/cta#>
  entity(ex:irf, [prov:label="IRF prod5"])
  wasDerivedFrom(ex:dsim; ex:irf, ex:sim)
  entity(ex:sim)
endDocument"""
SECRETS = ("CONFIDENTIAL", "secretcalib", "secretmodel", "usec", "gsec")
FORMATS = ("PROV-JSON", "PROV-N", "PROV-XML", "PROV-SVG")


@pytest.fixture
def world(backend, caller, request, tmp_path):
    """A service with authentication on, the three documents, and tokens for two users."""
    oidc = {}
    if caller == "oidc":
        provider = request.getfixturevalue("oidc_provider")
        oidc = dict(oidc_issuers=provider.issuer, oidc_audience=AUDIENCE, oidc_writer_groups="/hess,/magic")
    settings = make_settings(backend, request, tmp_path, auth="on", **oidc)
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    op = Viewer(name="op", role="admin")
    services.ingest(store, PUBLIC_TOP, "provn", settings=settings, viewer=op)
    priv = services.ingest(
        store, PRIVATE_MIDDLE, "provn", settings=settings, viewer=op, rights="proprietary", group="hess"
    )
    services.ingest(store, PUBLIC_BOTTOM, "provn", settings=settings, viewer=op)
    runner = CliRunner()
    env = {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }
    tokens = {}
    for who, args in {
        "hess": ["--role", "writer", "--group", "hess"],
        "other": ["--role", "writer", "--group", "magic"],
    }.items():
        if caller == "oidc":
            provider.add_client(who, {"wlcg.groups": ["/" + args[-1]]})
            tokens[who] = provider.token(who)
            continue
        r = runner.invoke(load_commands(), ["tokens", "create", *args], env=env, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        tokens[who] = r.output.strip().splitlines()[-1]
    yield app.test_client(), tokens, priv.id, settings, store
    store.close()


def hdr(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def assert_no_secret(text: str):
    for s in SECRETS:
        assert s not in text, f"{s!r} leaked"


@pytest.mark.parametrize("who", ["anonymous", "other"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_lineage_hides_the_private_middle(world, who, fmt):
    client, tokens, _, _, _ = world
    token = tokens.get(who)
    for q in (
        "ID=ex:dl5&DEPTH=ALL",
        "ID=ex:irf&DEPTH=ALL&DIRECTION=FORTH",
        "ID=ex:dl3&DEPTH=3&AGENT=true",
        f"ID={quote(EX + 'dl5')}&DEPTH=4&MEMBERS=true",
    ):
        r = client.get(f"/provsap?{q}&RESPONSEFORMAT={fmt}", headers=hdr(token))
        assert r.status_code == 200, r.get_data(as_text=True)
        assert_no_secret(r.get_data(as_text=True))
        assert "ETag" not in r.headers


@pytest.mark.parametrize("who", ["anonymous", "other", "hess"])
def test_a_dali_post_is_a_read_with_the_rights_of_get(world, who):
    """POST /provsap and POST /datalink (DALI sync queries as a form) need no write role: any
    caller gets what GET gives it, no more (they were refused as writes with auth on)."""
    client, tokens, _, _, _ = world
    token = tokens.get(who)
    form = {"ID": "ex:dl5", "DEPTH": "ALL", "RESPONSEFORMAT": "PROV-JSON"}
    got = client.get("/provsap?ID=ex:dl5&DEPTH=ALL&RESPONSEFORMAT=PROV-JSON", headers=hdr(token))
    posted = client.post("/provsap", data=form, headers=hdr(token))
    assert posted.status_code == 200, posted.get_data(as_text=True)
    assert json.loads(posted.get_data()) == json.loads(got.get_data())
    if who == "hess":
        assert "secretcalib" in posted.get_data(as_text=True)
    else:
        assert_no_secret(posted.get_data(as_text=True))
    links = client.post("/datalink", data={"ID": "ex:dl3"}, headers=hdr(token))
    assert links.status_code == 200, links.get_data(as_text=True)
    assert links.get_data() == client.get("/datalink?ID=ex:dl3", headers=hdr(token)).get_data()


def test_placeholder_keeps_the_path_and_cut_drops_it(world, backend, request, tmp_path):
    client, tokens, _, settings, store = world
    doc = json.loads(client.get("/provsap?ID=ex:dl5&DEPTH=ALL").get_data())
    ents = set(doc["entity"])
    assert {"ex:dl5", "ex:dl3", "ex:irf", "ex:sim"} <= ents
    placeholders = [e for e in ents if e.startswith("hidden:")]
    assert len(placeholders) == 1  # the hidden activity between dl3 and irf; not the dead-end model
    assert "ex:calibnote" not in doc["entity"]["ex:dl3"]
    infl = doc["wasInfluencedBy"].values()
    assert {(i["prov:influencee"], i["prov:influencer"]) for i in infl} == {
        ("ex:dl3", placeholders[0]),
        (placeholders[0], "ex:irf"),
    }
    # a member of the group sees everything, with the private attribute
    full = json.loads(client.get("/provsap?ID=ex:dl5&DEPTH=ALL", headers=hdr(tokens["hess"])).get_data())
    assert "ex:secretcalib" in full["activity"] and "ex:secretmodel" in full["entity"]
    assert "ex:calibnote" in full["entity"]["ex:dl3"]
    # cut mode: nothing beyond the hidden activity
    cut = create_app(settings.__class__(**{**settings.__dict__, "hidden_records": "cut"}), store=store)
    doc = json.loads(cut.test_client().get("/provsap?ID=ex:dl5&DEPTH=ALL").get_data())
    assert set(doc["entity"]) == {"ex:dl5", "ex:dl3"} and "wasInfluencedBy" not in doc


def test_hidden_ids_answer_like_unknown_ids(world):
    client, tokens, priv, _, _ = world
    for path in ("/provsap?ID=ex:secretcalib", "/provsap?ID=ex:secretmodel"):
        as_json = {**hdr(tokens["other"]), "Accept": "application/json"}  # ProvSAP's default is VOTable
        r = client.get(path, headers=as_json)
        unknown = client.get(path.replace("secret", "nosuch"), headers=as_json)
        assert r.status_code == unknown.status_code == 404
        assert r.get_json()["error"]["message"].replace("secret", "nosuch") == unknown.get_json()["error"]["message"]
    for path in (f"/documents/{priv}", f"/documents/{priv}?format=provn", f"/documents/{priv}/rights"):
        assert client.get(path).status_code == 404
        assert client.get(path, headers=hdr(tokens["hess"])).status_code == 200
    listing = client.get("/documents").get_json()
    assert priv not in json.dumps(listing) and listing["total"] == 2
    assert client.get("/documents", headers=hdr(tokens["hess"])).get_json()["total"] == 3
    health = client.get("/health").get_data(as_text=True)
    assert "counts" not in health


def test_search_and_record_pages_hide_private_records(world):
    _, _, _, _, store = world
    anon, hess = Viewer(), Viewer(name="h", role="reader", groups=frozenset({"hess"}))
    assert services.search_records(store, "CONFIDENTIAL", viewer=anon) == ([], 0)
    assert services.search_records(store, "secret", viewer=anon) == ([], 0)
    nodes, total = services.search_records(store, "", viewer=anon)
    assert total == len(nodes) == 5 and not any("secret" in n.id for n in nodes)
    assert "CONFIDENTIAL" not in json.dumps([n.attrs for n in nodes])
    assert services.search_records(store, "CONFIDENTIAL", viewer=hess)[1] == 2
    with pytest.raises(Exception) as info:
        services.record_detail(store, EX + "secretmodel", viewer=anon)
    assert info.value.code == "not-found"
    detail = services.record_detail(store, EX + "dl3", viewer=anon)
    assert "CONFIDENTIAL" not in json.dumps(detail.node.attrs) and len(detail.documents) == 1


def test_writes_need_a_writer_token(world):
    client, tokens, priv, settings, _ = world
    doc = "document\n prefix ex <http://example.org/cta#>\n entity(ex:new1)\nendDocument"
    ct = {"Content-Type": "text/provenance-notation"}
    r = client.post("/documents", data=doc, headers=ct)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"
    assert client.post("/documents", data=doc, headers={**ct, **hdr("ph_wrong")}).status_code == 401
    r = client.post("/documents?rights=proprietary&group=hess", data=doc, headers={**ct, **hdr(tokens["other"])})
    assert r.status_code == 403 and r.get_json()["error"]["where"] == "group"
    r = client.post(
        "/documents?rights=proprietary&group=magic&release=2020-01-01", data=doc, headers={**ct, **hdr(tokens["other"])}
    )
    assert r.status_code == 201
    # an embargo that has passed makes the document public
    assert client.get(f"/documents/{r.get_json()['id']}").status_code == 200
    # rights changes: the owner group may, another group may not
    body = {"rights": "public"}
    assert client.put(f"/documents/{priv}/rights", json=body, headers=hdr(tokens["other"])).status_code == 404
    assert client.put(f"/documents/{priv}/rights", json=body).status_code == 401
    ok = client.put(f"/documents/{priv}/rights", json=body, headers=hdr(tokens["hess"]))
    assert ok.status_code == 200 and ok.get_json()["rights"] == "public"
    assert "CONFIDENTIAL" in client.get("/provsap?ID=ex:dl5&DEPTH=ALL").get_data(as_text=True)


def test_revoked_and_reader_tokens(world, caller):
    if caller == "oidc":
        pytest.skip("provhub's own API tokens (tests/oidc covers refused OIDC tokens)")
    client, tokens, _, settings, _ = world
    env = {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }
    runner = CliRunner()
    reader = (
        runner.invoke(load_commands(), ["tokens", "create", "--role", "reader"], env=env)
        .output.strip()
        .splitlines()[-1]
    )
    r = client.post("/documents", data="{}", headers={"Content-Type": "application/json", **hdr(reader)})
    assert r.status_code == 403
    listing = runner.invoke(load_commands(), ["tokens", "list"], env=env).output
    assert reader not in listing and listing.count("\n") == 3
    token_id = [line.split("\t")[0] for line in listing.splitlines() if "magic" in line][0]
    assert runner.invoke(load_commands(), ["tokens", "revoke", token_id], env=env).exit_code == 0
    assert client.get("/documents", headers=hdr(tokens["other"])).status_code == 401
