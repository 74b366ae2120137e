"""The OpenAPI document describes exactly the routes the running service has: every API route
(the HTML pages aside) with each of its methods, nothing it does not serve, and the
Provhub-Bookmark header on every operation."""

from __future__ import annotations

import re

import pytest

from provhub.app import bookmarks, create_app
from provhub.provdm.errors import InvalidParameter
from tests.conftest import make_settings

#: the blueprints of HTML pages for people (docs/web.md), not part of the HTTP API
HTML_PAGES = {"web", "compare", "static"}
#: pages that are also API operations: record pages answer PROV-O to linked-data clients (issue 20)
ALSO_API = {"web.record"}


def served_and_documented(app) -> tuple[set[str], set[str]]:
    """('METHOD /path' of every API route, 'METHOD /path' of every documented operation)."""
    spec = app.test_client().get("/openapi.json").get_json()
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in HTML_PAGES and rule.endpoint not in ALSO_API:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        served |= {f"{m} {path}" for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {f"{m.upper()} {p}" for p, item in spec["paths"].items() for m in item}
    return served, documented


def test_every_route_is_documented_and_nothing_else(backend, request, tmp_path):
    app = create_app(make_settings(backend, request, tmp_path))
    try:
        served, documented = served_and_documented(app)
        assert served - documented == set(), "routes missing from /openapi.json"
        assert documented - served == set(), "/openapi.json documents what this service does not serve"
        # web sign-in is not configured here: its routes are neither served nor documented
        assert not {x for x in documented if "/log" in x}
        assert app.test_client().get("/login").status_code == 404
    finally:
        app.extensions["provhub.store"].close()


def test_every_operation_takes_the_bookmark_and_writes_answer_it(client):
    spec = client.get("/openapi.json").get_json()
    param = spec["components"]["parameters"]["Bookmark"]
    assert param["name"] == "Provhub-Bookmark" and param["in"] == "header" and "400" in param["description"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert {"$ref": "#/components/parameters/Bookmark"} in op["parameters"], (method, path)
            assert "400" in op["responses"], (method, path)  # a bad bookmark, on every path
            answers = [a for s, a in op["responses"].items() if s.startswith("2")]
            given = ["Provhub-Bookmark" in a.get("headers", {}) for a in answers]
            assert all(given) if method not in ("get", "head") else not any(given), (method, path)
    # a GET with a bad bookmark is the 400 the document promises
    r = client.get("/health", headers={"Provhub-Bookmark": "a,b\x7f"})
    assert r.status_code == 400 and r.get_json()["error"]["where"] == "Provhub-Bookmark"


def test_no_such_method_or_path_comes_before_authentication_and_the_bookmark(backend, request, tmp_path):
    """405 (with Allow) and 404, as the document's methods and paths say, also for a caller
    without a token and with a bad Provhub-Bookmark (found by the fuzzer: they were 401 and 400)."""
    app = create_app(make_settings(backend, request, tmp_path, auth="on"))
    try:
        client = app.test_client()
        bad = {"Provhub-Bookmark": "a" * 2000, "Accept": "application/json"}
        r = client.delete("/health", headers=bad)
        assert r.status_code == 405 and "GET" in r.headers["Allow"], r.get_data(as_text=True)
        assert client.post("/no/such/path", headers=bad).status_code == 404
        # on a route that exists, the write needs a token and the bookmark must be one
        assert client.post("/documents", headers={"Accept": "application/json"}).status_code == 401
        assert client.get("/health", headers=bad).status_code == 400
    finally:
        app.extensions["provhub.store"].close()


@pytest.mark.parametrize(
    "value",
    ["", "FB:kcwQ", "a,b", "a , b", "a,,b", " ,a\t", "a" * 1024, "a" * 1025, ",".join("x" * 16), ",".join("x" * 17)]
    + ["a b", "a\x7fb", "é", ", ".join(["b" * 1024] * 16)],
)
def test_the_documented_bookmark_pattern_is_what_the_service_takes(value):
    try:
        bookmarks.parse(value)
        taken = True
    except InvalidParameter:
        taken = False
    assert bool(re.fullmatch(bookmarks.PATTERN, value)) is taken


def test_writes_document_401_and_403_and_dali_posts_are_reads(client):
    spec = client.get("/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "get":
                continue
            if path in ("/provsap", "/datalink"):  # DALI sync queries by POST: reads
                assert "401" not in op["responses"] and "403" not in op["responses"], path
            else:
                assert {"401", "403"} <= set(op["responses"]), (method, path)
