"""Rights hold in impact, diff and manifest: the public dl5 <- proprietary middle <- public IRF
chain of tests/security, plus a proprietary DL5 product made from the public DL3 dataset. A
caller never learns that a product it may not read exists; admins get a count of restricted
products."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provhub.app import create_app, services
from provhub.app.access import Viewer
from provhub.app.cli import load_commands
from tests.conftest import make_settings
from tests.security.test_rights import PRIVATE_MIDDLE, PUBLIC_BOTTOM, PUBLIC_TOP, SECRETS

SECRET_PRODUCT = """document
  prefix ex <http://example.org/cta#>
  prefix provhub <https://provhub.org/ns#>
  entity(ex:hiddenproduct, [prov:label="TOPSECRET spectrum", provhub:dataLevel="DL5"])
  activity(ex:hiddenanalysis)
  wasGeneratedBy(ex:ghid; ex:hiddenproduct, ex:hiddenanalysis, -)
  used(ex:uhid; ex:hiddenanalysis, ex:dl3, -)
endDocument"""
#: what the hidden calibration ran and read: software and an input file a manifest would list
PRIVATE_INPUTS = """document
  prefix ex <http://example.org/cta#>
  agent(ex:calibsoft, [prov:type='prov:SoftwareAgent', prov:label="TOPSECRET-calibrator", ex:version="9.9"])
  wasAssociatedWith(ex:secretcalib, ex:calibsoft, -)
  entity(ex:calibtable, [prov:location="/TOPSECRET/calib.fits"])
  used(ex:ucal; ex:secretcalib, ex:calibtable, -)
endDocument"""
HIDDEN = (*SECRETS, "hiddenproduct", "hiddenanalysis", "TOPSECRET", "restricted")


@pytest.fixture
def world(backend, request, tmp_path):
    settings = make_settings(backend, request, tmp_path, auth="on")
    app = create_app(settings)
    store = app.extensions["provhub.store"]
    op = Viewer(name="op", role="admin")
    services.ingest(store, PUBLIC_TOP, "provn", settings=settings, viewer=op)
    services.ingest(store, PRIVATE_MIDDLE, "provn", settings=settings, viewer=op, rights="proprietary", group="hess")
    services.ingest(store, PUBLIC_BOTTOM, "provn", settings=settings, viewer=op)
    services.ingest(store, SECRET_PRODUCT, "provn", settings=settings, viewer=op, rights="proprietary", group="hess")
    services.ingest(store, PRIVATE_INPUTS, "provn", settings=settings, viewer=op, rights="proprietary", group="hess")
    env = {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }
    tokens = {}
    for who, args in {
        "hess": ["--role", "reader", "--group", "hess"],
        "other": ["--role", "reader", "--group", "magic"],
        "admin": ["--role", "admin"],
    }.items():
        r = CliRunner().invoke(load_commands(), ["tokens", "create", *args], env=env, catch_exceptions=False)
        tokens[who] = r.output.strip().splitlines()[-1]
    yield app.test_client(), tokens
    store.close()


def get(client, tokens, who, path, **query):
    headers = {"Accept": "application/json"}
    if tokens.get(who):
        headers["Authorization"] = f"Bearer {tokens[who]}"
    return client.get(path, query_string=query, headers=headers)


def assert_hidden(text: str):
    for s in HIDDEN:
        assert s not in text, f"{s!r} leaked"


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_impact_shows_only_readable_products(world, who):
    client, tokens = world
    for fmt in ("json", "text", "csv", "html"):
        r = get(client, tokens, who, "/impact", ID="ex:irf", FORMAT=fmt)
        assert r.status_code == 200
        assert_hidden(r.get_data(as_text=True))
    body = get(client, tokens, who, "/impact", ID="ex:irf").get_json()
    products = [p["id"] for level in body["products"].values() for p in level]
    assert sorted(products) == ["http://example.org/cta#dl3", "http://example.org/cta#dl5"]
    assert body["affected"] == 2 and "restricted" not in body
    # the path to dl3 goes through the hidden calibration: a placeholder, never a product
    dl3 = next(p for level in body["products"].values() for p in level if p["id"].endswith("dl3"))
    assert dl3["path"][1].startswith("urn:provhub:hidden:")
    assert body["names"][dl3["path"][1]] == "record not visible to you"
    assert [r["id"] for r in body["rerun"]] == ["http://example.org/cta#analysis"]


def test_the_group_and_admins(world):
    client, tokens = world
    body = get(client, tokens, "hess", "/impact", ID="ex:irf").get_json()
    products = sorted(p["id"] for level in body["products"].values() for p in level)
    assert products == [f"http://example.org/cta#{x}" for x in ("dl3", "dl5", "hiddenproduct")]
    assert "restricted" not in body and body["products"]["DL5"][0].get("restricted") is None
    admin = get(client, tokens, "admin", "/impact", ID="ex:irf").get_json()
    assert admin["restricted"] == 1
    assert [p["id"] for p in admin["products"]["DL5"] if p["restricted"]] == ["http://example.org/cta#hiddenproduct"]


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_hidden_starts_are_unknown_ids(world, who):
    client, tokens = world
    for path, query, where in (
        ("/impact", {"ID": "ex:secretmodel"}, "ID"),
        ("/impact", {"ID": "ex:hiddenproduct"}, "ID"),
        ("/diff", {"A": "ex:dl5", "B": "ex:hiddenproduct"}, "B"),
        ("/manifest", {"ID": "ex:hiddenproduct"}, "ID"),
    ):
        hidden = get(client, tokens, who, path, **query)
        unknown = get(
            client,
            tokens,
            who,
            path,
            **{k: v.replace("hiddenproduct", "nosuch").replace("secretmodel", "nosuch") for k, v in query.items()},
        )
        assert hidden.status_code == unknown.status_code == 404
        assert hidden.get_json()["error"]["where"] == where
        assert (
            hidden.get_json()["error"]["message"].replace("hiddenproduct", "nosuch").replace("secretmodel", "nosuch")
            == unknown.get_json()["error"]["message"]
        )


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_selectors_match_only_readable_values(world, who):
    client, tokens = world
    secret = get(client, tokens, who, "/impact", SELECT="note~CONFIDENTIAL").get_json()
    nothing = get(client, tokens, who, "/impact", SELECT="note~NOTHINGATALL").get_json()
    assert secret["starts"] == nothing["starts"] == [] and secret["affected"] == 0
    label = get(client, tokens, who, "/impact", SELECT="name~TOPSECRET").get_json()
    assert label["starts"] == [] and label["affected"] == 0
    # the group member finds it
    mine = get(client, tokens, "hess", "/impact", SELECT="note~CONFIDENTIAL-43").get_json()
    assert [s["id"] for s in mine["starts"]] == ["http://example.org/cta#secretmodel"]


@pytest.mark.parametrize("who", ["anonymous", "other"])
def test_diff_and_manifest_of_public_products_hide_the_middle(world, who):
    client, tokens = world
    for fmt in ("json", "text", "html"):
        r = get(client, tokens, who, "/diff", A="ex:dl5", B="ex:irf", FORMAT=fmt)
        assert r.status_code == 200
        assert_hidden(r.get_data(as_text=True))
    for fmt in ("json", "yaml"):
        r = get(client, tokens, who, "/manifest", ID="ex:dl5", FORMAT=fmt)
        assert r.status_code == 200
        assert_hidden(r.get_data(as_text=True))
    # the group's members see what the calibration ran and read
    mine = get(client, tokens, "hess", "/manifest", ID="ex:dl5").get_json()
    assert [i["location"] for i in mine["inputs"]] == ["/TOPSECRET/calib.fits"]
    assert {"name": "TOPSECRET-calibrator", "version": "9.9"} in mine["software"]
    theirs = get(client, tokens, "hess", "/diff", A="ex:dl5", B="ex:irf").get_json()
    assert theirs["differences"]["software"]["only_a"] == ["TOPSECRET-calibrator"]
