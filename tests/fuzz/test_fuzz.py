"""Property-based tests: the parsers and the ProvSAP parameter parser never fail with anything
but a provhub error, and the running API never answers 5xx or off its OpenAPI document."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

from provhub.app import create_app
from provhub.provdm import formats
from provhub.provdm.errors import InvalidParameter, ProvhubError
from provhub.provdm.provsap import PARAMETERS, ProvSapQuery
from tests.conftest import BACKENDS, ROOT, make_settings

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
PC1 = (ROOT / "data" / "prov" / "provtoolbox" / "pc1-full.provn").read_text()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
sections = st.sampled_from(
    [
        "entity",
        "activity",
        "agent",
        "used",
        "wasGeneratedBy",
        "wasDerivedFrom",
        "hadMember",
        "bundle",
        "prefix",
        "wasAssociatedWith",
    ]
)
ids = st.sampled_from(["ex:a", "ex:b", "_:x", "nope:c", "http://e/d", "", "ex:", ":"]) | st.text(max_size=8)
prov_json = st.fixed_dictionaries({"prefix": st.just({"ex": "http://example.org/"})}).flatmap(
    lambda base: st.dictionaries(
        sections,
        st.dictionaries(
            ids,
            json_values
            | st.dictionaries(
                st.sampled_from(
                    ["prov:activity", "prov:entity", "prov:time", "prov:startTime", "prov:type", "prov:label", "ex:v"]
                ),
                json_values,
                max_size=4,
            ),
            max_size=3,
        ),
        max_size=4,
    ).map(lambda d: {**base, **d})
)


def only_provhub_errors(fn, *args):
    try:
        fn(*args)
    except ProvhubError as exc:
        assert exc.code and exc.message


@FUZZ
@given(prov_json)
def test_prov_json_parser(data):
    only_provhub_errors(formats.parse, json.dumps(data), "json")


def _mutations(text: str):
    return st.builds(
        lambda i, j, junk: text[:i] + junk + text[j:],
        st.integers(0, len(text)),
        st.integers(0, len(text)),
        st.text(alphabet="()[],;:=\"'<>-%@ \nabcxyz0123456789_", max_size=12),
    )


@FUZZ
@given(_mutations(KNOWN) | _mutations(PC1[:3000]))
def test_provn_parser_on_mutated_documents(text):
    only_provhub_errors(formats.parse, text, "provn")


@FUZZ
@given(st.sampled_from([formats.serialize(formats.parse(KNOWN, "provn")[0], "xml")]).flatmap(_mutations))
def test_provxml_parser_on_mutated_documents(text):
    only_provhub_errors(formats.parse, text, "xml")


@FUZZ
@given(
    st.sampled_from(
        [formats.serialize(formats.parse(KNOWN, "provn")[0], f) for f in sorted(formats.RDF_FORMATS)]
    ).flatmap(_mutations)
)
def test_prov_o_parsers_on_mutated_documents(text):
    for syntax in formats.RDF_FORMATS:
        only_provhub_errors(formats.parse, text, syntax)


param_names = st.sampled_from(list(PARAMETERS) + ["id", "Depth", "AGENTS", "direction", "FOO", "LAYOUT"])
param_values = st.sampled_from(
    [
        "ex:a",
        "ALL",
        "all",
        "0",
        "1",
        "-1",
        "999999",
        "BACK",
        "FORTH",
        "FORWARD",
        "true",
        "FALSE",
        "1",
        "maybe",
        "IVOA",
        "W3C",
        "PROV-N",
        "image/png",
        "",
        " ",
    ]
) | st.text(max_size=10)


@FUZZ
@given(st.lists(st.tuples(param_names, param_values), max_size=8))
def test_provsap_parameter_parser(pairs):
    args: dict[str, list[str]] = {}
    for k, v in pairs:
        args.setdefault(k, []).append(v)
    try:
        q = ProvSapQuery.from_args(args, max_depth=100)
    except InvalidParameter as exc:
        assert exc.where
        return
    assert q.ids and q.direction in ("BACK", "FORTH") and q.model in ("IVOA", "W3C")
    assert q.depth is None or 0 <= q.depth <= 100


@pytest.fixture(scope="module", params=BACKENDS)
def api_app(tmp_path_factory, request):
    s = make_settings(request.param, request, tmp_path_factory.mktemp("fuzz"), max_body_mb=1.0)
    app = create_app(s)
    client = app.test_client()
    client.post("/documents", data=KNOWN, headers={"Content-Type": "text/provenance-notation"})
    yield app
    app.extensions["provhub.store"].close()


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", api_app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_against_its_openapi_document(case):
    """No 5xx, and every answer fits the OpenAPI document (status, content type, schema); bad
    requests are refused. Not checked: that every schema-valid request is accepted (a JSON object
    that is not valid PROV is rightly refused, and JSON Schema cannot say what valid PROV is)."""
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


@pytest.fixture(scope="module")
def sign_in_app(tmp_path_factory, request):
    """Web sign-in configured against the loopback provider (tests/oidc/provider.py): the
    /login routes exist and are in the document (they are not in api_app's)."""
    from tests.oidc.provider import AUDIENCE, Provider

    provider = Provider()
    provider.add_client("provhub-web", {}, scope="openid profile wlcg.groups", redirect_uris=[SIGN_IN_CALLBACK])
    s = make_settings(
        "sqlite",
        request,
        tmp_path_factory.mktemp("fuzz-login"),
        auth="on",
        oidc_issuers=provider.issuer,
        oidc_audience=AUDIENCE,
        oidc_client_id="provhub-web",
        oidc_client_secret="provhub-web-secret",
    )
    app = create_app(s)
    yield app
    app.extensions["provhub.store"].close()
    provider.stop()


SIGN_IN_CALLBACK = "http://localhost/login/callback"


def sign_in_or_not_get(ctx) -> bool:
    """The sign-in routes, and every operation that is not a GET (with auth on, writes are 401
    without a token; DALI's POST /provsap and POST /datalink are reads)."""
    op = ctx.operation
    return op.method.upper() != "GET" or "sign-in" in (op.definition.raw.get("tags") or [])


sign_in_schema = schemathesis.pytest.from_fixture("sign_in_api_schema").include(sign_in_or_not_get)


@pytest.fixture(scope="module")
def sign_in_api_schema(sign_in_app):
    return schemathesis.openapi.from_wsgi("/openapi.json", sign_in_app)


@sign_in_schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_sign_in_and_writes_with_auth_on_against_the_openapi_document(case):
    """With authentication and web sign-in on (api_app has neither): the sign-in routes with
    made-up next, state, code, CSRF tokens and bookmarks, and every POST/PUT/DELETE without a
    token. No 5xx, answers as documented. The fuzzer cannot sign in at the provider (that leg is
    the browser's: tests/oidc test it), so the callback sees only answers that belong to no
    sign-in of its browser. It found that DALI's POST /provsap was refused as a write."""
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])


# -- issue 15's limits: records, ids and attribute names, PROV-N/PROV-XML bodies -------------------

#: small limits, so that generated documents fall just under, at and just over each of them
TIGHT = {
    "max_id_bytes": 64,
    "max_attribute_bytes": 200,
    "max_record_bytes": 600,
    "max_parse_mb": 4096 / 2**20,  # 4,096 characters
    "max_body_mb": 16384 / 2**20,
}
PARSE_LIMIT = 4096
NS = "http://f.example/"  # 17 bytes of every id and attribute name
LIMITS_FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
#: one, two, three and four bytes in UTF-8; none needs escaping in PROV-N, PROV-XML or JSON
CHARS = ["a", "é", "€", "\U0001f52d"]


@pytest.fixture(scope="module", params=BACKENDS)
def limited(tmp_path_factory, request):
    s = make_settings(request.param, request, tmp_path_factory.mktemp("limits"), **TIGHT)
    app = create_app(s)
    yield app.test_client(), app.extensions["provhub.store"]
    app.extensions["provhub.store"].close()


def utf8(text: str) -> int:
    return len(text.encode("utf-8"))


@st.composite
def sized(draw, lead: str, near: int, spread: int = 3) -> str:
    """``lead`` then multi-byte characters and padding: exactly ``t`` bytes in UTF-8 in all, for a
    ``t`` within ``spread`` of ``near`` (just under, at or just over a limit)."""
    target = draw(st.integers(near - spread, near + spread))
    text = lead
    for ch in draw(st.lists(st.sampled_from(CHARS), max_size=target // 2)):
        if utf8(text + ch) > target:
            break
        text += ch
    return text + "a" * (target - utf8(text))


def local(lead: str, limit: int):
    """A local name whose full IRI (NS + local) is short, or within a few bytes of ``limit``."""
    return st.just(lead) | sized(lead, limit - utf8(NS))


@st.composite
def documents(draw) -> list[tuple[str, list[tuple[str, str]]]]:
    """1-3 entities, each (local id, [(local attribute name, value)]) around the limits; a
    record may get a last value that brings it to within a few bytes of the record limit."""
    ents = []
    for i in range(draw(st.integers(1, 3))):
        attrs = []
        for j in range(draw(st.integers(0, 3))):
            name = draw(local(f"n{j}x", TIGHT["max_id_bytes"]))
            value = draw(sized("", draw(st.sampled_from([5, 100, TIGHT["max_attribute_bytes"]]))))
            attrs.append((name, value))
        if draw(st.booleans()):
            used = sum(utf8(v) + utf8(NS + n) for n, v in attrs)
            name = f"fill{i}"
            room = TIGHT["max_record_bytes"] - used - utf8(NS + name)
            if 3 < room <= TIGHT["max_attribute_bytes"]:
                attrs.append((name, draw(sized("", room))))
        ents.append((draw(local(f"e{i}x", TIGHT["max_id_bytes"])), attrs))
    return ents


def as_body(ents, fmt: str) -> tuple[str, str]:
    if fmt == "json":
        body = {"prefix": {"ex": NS}, "entity": {f"ex:{e}": {f"ex:{n}": v for n, v in a} for e, a in ents}}
        return json.dumps(body, ensure_ascii=False), "application/json"
    if fmt == "provn":
        lines = [
            f"entity(ex:{e}" + (", [" + ", ".join(f'ex:{n}="{v}"' for n, v in a) + "]" if a else "") + ")"
            for e, a in ents
        ]
        return f"document\nprefix ex <{NS}>\n" + "\n".join(lines) + "\nendDocument\n", "text/provenance-notation"
    records = "".join(
        f'<prov:entity prov:id="ex:{e}">' + "".join(f"<ex:{n}>{v}</ex:{n}>" for n, v in a) + "</prov:entity>"
        for e, a in ents
    )
    root = f'<prov:document xmlns:prov="http://www.w3.org/ns/prov#" xmlns:ex="{NS}">'
    return root + records + "</prov:document>", "application/provenance+xml"


def expected_codes(ents) -> set[str]:
    """What docs/security.md promises for these records: the codes of size_errors, in bytes."""
    codes = set()
    for e, attrs in ents:
        if utf8(NS + e) > TIGHT["max_id_bytes"]:
            codes.add("id-too-long")
            continue
        total = 0
        for n, v in attrs:
            if utf8(NS + n) > TIGHT["max_id_bytes"]:
                codes.add("id-too-long")
            if utf8(v) > TIGHT["max_attribute_bytes"]:
                codes.add("attribute-too-large")
            total += utf8(v) + utf8(NS + n)
        if total > TIGHT["max_record_bytes"]:
            codes.add("record-too-large")
    return codes


def counts(store):
    s = store.stats()
    return s.documents, s.nodes, s.relations


@pytest.mark.parametrize("fmt", ["json", "provn", "xml"])
@LIMITS_FUZZ
@given(ents=documents())
def test_records_ids_and_names_around_the_limits(limited, fmt, ents):
    """201 (or 200 for a repeat) with every record stored, or the documented 413/422 with its code
    and where, and then nothing stored; never 5xx."""
    client, store = limited
    body, ctype = as_body(ents, fmt)
    before = counts(store)
    r = client.post("/documents", data=body.encode("utf-8"), headers={"Content-Type": ctype})
    assert r.status_code < 500, r.get_data(as_text=True)
    codes = expected_codes(ents)
    longest = max((len(v) for _, a in ents for _, v in a), default=0)
    if r.status_code in (200, 201):
        assert not codes and longest <= TIGHT["max_attribute_bytes"], (codes, body)
        assert len(store.get_nodes([NS + e for e, _ in ents])) == len(ents)
        return
    err = r.get_json()["error"]
    assert counts(store) == before, "a refused document stored something"
    if utf8(body) > 16384:
        assert (r.status_code, err["code"], err["where"]) == (413, "payload-too-large", "body")
    elif fmt != "json" and len(body) > PARSE_LIMIT:
        assert (r.status_code, err["code"], err["where"]) == (413, "payload-too-large", "body")
        assert "PROVHUB_MAX_PARSE_MB" in err["message"]
    elif fmt != "json" and err["where"].startswith("character "):
        # refused before prov parses the body: a value (PROV-N: between quotes; PROV-XML: the text
        # between two '<', its element name included) of more characters than the value limit
        assert (r.status_code, err["code"]) == (422, "invalid-document")
        assert "PROVHUB_MAX_ATTRIBUTE_BYTES" in err["message"]
        assert longest > TIGHT["max_attribute_bytes"] or fmt == "xml", (err, body)
    else:
        assert (r.status_code, err["code"]) == (422, "invalid-document"), err
        assert codes, (err, body)
        assert err["where"] in codes
        assert {d.split(":", 1)[0] for d in err["details"]} == codes, (err["details"], ents)


@pytest.mark.parametrize("fmt", ["provn", "xml"])
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(target=st.integers(PARSE_LIMIT - 3, PARSE_LIMIT + 3))
def test_provn_and_provxml_bodies_around_the_parse_limit(limited, fmt, target):
    """A body of at most PROVHUB_MAX_PARSE_MB is parsed and stored; one character more is 413
    where body, before prov reads it, and nothing is stored."""
    client, store = limited
    n = 0
    while len(as_body([(f"b{target}e{i}", [("v", "x")]) for i in range(n + 1)], fmt)[0]) < target - 60:
        n += 1
    ents = [(f"b{target}e{i}", [("v", "x")]) for i in range(n)]
    short = len(as_body(ents + [(f"b{target}e{n}", [("v", "")])], fmt)[0])
    ents.append((f"b{target}e{n}", [("v", "y" * (target - short))]))
    body, ctype = as_body(ents, fmt)
    assert len(body) == target
    before = counts(store)
    r = client.post("/documents", data=body, headers={"Content-Type": ctype})
    if target <= PARSE_LIMIT:
        assert r.status_code in (200, 201), r.get_data(as_text=True)
        assert len(store.get_nodes([NS + e for e, _ in ents])) == len(ents)
    else:
        err = r.get_json()["error"]
        assert (r.status_code, err["code"], err["where"]) == (413, "payload-too-large", "body")
        assert counts(store) == before
