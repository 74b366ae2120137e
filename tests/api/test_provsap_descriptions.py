"""ProvSAP answers bring every IVOA description with its main class, at any depth, and no
reference in an answer dangles (issue 16, item 2), on each backend.

The documents are voprov's own (tests/fixtures/voprov, made by voprov 0.0.4): a calibration with
every description and configuration class voprov writes, and a small CTA analysis step."""

from __future__ import annotations

import json
from itertools import product

import pytest

from provhub.provdm import formats, voprov
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "voprov"
CTA = "http://cta-observatory.org/prov#"
DOCUMENTS = ("voprov-all-native.json", "voprov-native.json")
ELEMENTS = ("entity", "activity", "agent")
#: the relation sections of PROV-JSON and the formal attributes that name records
ENDS = {
    "used": ("prov:activity", "prov:entity"),
    "wasGeneratedBy": ("prov:entity", "prov:activity"),
    "wasInformedBy": ("prov:informed", "prov:informant"),
    "wasStartedBy": ("prov:activity", "prov:trigger", "prov:starter"),
    "wasEndedBy": ("prov:activity", "prov:trigger", "prov:ender"),
    "wasInvalidatedBy": ("prov:entity", "prov:activity"),
    "wasDerivedFrom": ("prov:generatedEntity", "prov:usedEntity", "prov:activity"),
    "wasAttributedTo": ("prov:entity", "prov:agent"),
    "wasAssociatedWith": ("prov:activity", "prov:agent", "prov:plan"),
    "actedOnBehalfOf": ("prov:delegate", "prov:responsible", "prov:activity"),
    "wasInfluencedBy": ("prov:influencee", "prov:influencer"),
    "hadMember": ("prov:collection", "prov:entity"),
}


@pytest.fixture
def described(client):
    for name in DOCUMENTS:
        r = client.post("/documents", data=(FIXTURES / name).read_bytes(), headers={"Content-Type": "application/json"})
        assert r.status_code == 201, r.get_json()
    return client


def provsap(client, **params) -> dict:
    """The answer as W3C PROV-JSON: MODEL=W3C as it comes, MODEL=IVOA (the default, voprov's
    native sections) read back the way provhub and voprov read it."""
    r = client.get("/provsap", query_string={"RESPONSEFORMAT": "PROV-JSON", **params})
    assert r.status_code == 200, r.get_data(as_text=True)
    text = r.get_data(as_text=True)
    if params.get("MODEL", "IVOA") == "IVOA":
        text = voprov.to_w3c(text, "json")
    formats.parse(text, "json")  # prov reads it
    return json.loads(text)


def expand(name: str, prefixes: dict) -> str:
    prefix, _, local = name.partition(":")
    return prefixes[prefix] + local if prefix in prefixes else name


def declared(answer: dict) -> set[str]:
    prefixes = answer.get("prefix", {})
    return {expand(i, prefixes) for section in ELEMENTS for i in answer.get(section, {})}


def references(answer: dict) -> set[str]:
    """Every record an answer names: the ends of its relations and every qualified-name value
    (``voprov:descriptor``...)."""
    prefixes = answer.get("prefix", {})
    out = set()
    for section, records in answer.items():
        if section == "prefix":
            continue
        for record in records.values():
            for body in record if isinstance(record, list) else [record]:
                for key, value in body.items():
                    for v in value if isinstance(value, list) else [value]:
                        if key in ENDS.get(section, ()) and isinstance(v, str):
                            out.add(expand(v, prefixes))
                        elif isinstance(v, dict) and v.get("type") in ("prov:QUALIFIED_NAME", "xsd:QName"):
                            out.add(expand(v["$"], prefixes))
    return out


def stored(client) -> set[str]:
    """The ids of every record the store holds."""
    app = client.application
    nodes, total = app.extensions["provhub.store"].search("", limit=1000)
    assert total == len(nodes)
    return {n.id for n in nodes}


def dangling(answer: dict, known: set[str]) -> set[str]:
    """The stored records an answer names (relation ends, qualified-name values such as
    ``voprov:descriptor``) without holding them."""
    return (references(answer) & known) - declared(answer)


def ids(answer: dict) -> set[str]:
    return {i[len(CTA) :] for i in declared(answer) if i.startswith(CTA)}


def test_a_dataset_comes_with_its_second_level_descriptions(described):
    answer = provsap(described, ID="cta:calibrated_1", DEPTH="ALL", MODEL="IVOA")
    assert {
        "calib_1",
        "dl3_1",
        "ad_calib",  # first level: isDescribedBy of the activity
        "p_thr",
        "cf_1",  # wasConfiguredBy
        "ed_events",
        "dd_fits",
        "pd_thr",  # the Parameter's ParameterDescription
        "cfd_yaml",  # the ConfigFile's ConfigFileDescription
        "thr_1",  # the ValueEntity behind hadReference
        "vd_thr",  # and its ValueDescription
        "ud_events",  # voprov:descriptor of the used
        "gd_calib",  # voprov:descriptor of the wasGeneratedBy
    } <= ids(answer)
    assert not dangling(answer, stored(described))


def test_an_activity_description_comes_with_what_belongs_to_it(described):
    answer = provsap(described, ID="cta:ad_calib", DEPTH="ALL")
    assert ids(answer) == {"ad_calib", "ud_events", "gd_calib", "pd_thr", "cfd_yaml"}
    related = answer["wasInfluencedBy"].values()
    assert len(related) == 4 and {r["prov:influencer"] for r in related} == {"cta:ad_calib"}
    # a ParameterDescription brings the ActivityDescription it belongs to, which brings its parts
    assert ids(provsap(described, ID="cta:pd_thr", DEPTH="0")) == ids(answer)


OPTIONS = list(product(("0", "1", "2", "ALL"), ("BACK", "FORTH"), ("false", "true"), ("false", "true")))


def test_no_reference_in_any_answer_dangles(described):
    """From every record, at every depth, in both directions, with and without AGENT and
    MEMBERS: each stored record an answer names is in the answer."""
    known = stored(described)
    assert len(known) > 20
    for start, (depth, direction, agent, members) in product(sorted(known), OPTIONS):
        answer = provsap(described, ID=start, DEPTH=depth, DIRECTION=direction, AGENT=agent, MEMBERS=members)
        missing = dangling(answer, known)
        assert not missing, (start, depth, direction, agent, members, sorted(missing))
