"""Property-based tests: the parsers and the ProvSAP parameter parser never fail with anything
but a provhub error, and the running API never answers 5xx or off its OpenAPI document."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

from app import create_app
from provdm import formats
from provdm.errors import InvalidParameter, ProvhubError
from provdm.provsap import PARAMETERS, ProvSapQuery
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
