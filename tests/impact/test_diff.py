"""Difference of two products' provenance, both stores: generated pairs with one planted
difference of each kind (each found, nothing else reported), quantities in other units, and the
sample's Crab flux points against the PKS 2155-304 light curve."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from provhub.app import diff, services
from provhub.app.cli import load_commands
from provhub.app.profile import Parameter
from tests.impact import chains
from tests.impact.test_impact import env_of

#: planted change -> (section, what the section holds)
PLANTED = {
    "observation": ({"obs": (1, 2, 3)}, "observations", {"only_b": ["3"]}),
    "irf": (
        {"irf": {2: "prod6-v1"}},
        "irfs",
        {
            "differ": [
                {
                    "obs_id": "2",
                    "a": [f"AEFF of observation 2 prod5-v0.1 <{chains.irf_id(2, 'prod5-v0.1').uri}>"],
                    "b": [f"AEFF of observation 2 prod6-v1 <{chains.irf_id(2, 'prod6-v1').uri}>"],
                }
            ]
        },
    ),
    "software": (
        {"software": ("gammapy", "1.3")},
        "software",
        {"differ": [{"name": "gammapy", "a": "1.2", "b": "1.3"}]},
    ),
    "parameter": (
        {"params": {**chains.BASE["params"], "energy.min": "0.3 TeV"}},
        "parameters",
        {
            "differ": [
                {
                    "name": "energy.min",
                    "a": {"name": "energy.min", "value": "0.2", "unit": "TeV"},
                    "b": {"name": "energy.min", "value": "0.3", "unit": "TeV"},
                }
            ]
        },
    ),
    "config": (
        {"config": "b" * 64},
        "config_files",
        {"differ": [{"name": "config.yaml", "a": "sha256:" + "a" * 64, "b": "sha256:" + "b" * 64}]},
    ),
    "agent": ({"agent": "Bob"}, "agents", {"only_a": ["Alice"], "only_b": ["Bob"]}),
}


def _nonempty(differences: dict) -> dict:
    return {
        section: {k: v for k, v in content.items() if v}
        for section, content in differences.items()
        if any(content.values())
    }


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_one_planted_difference_is_all_that_is_reported(store, settings, kind):
    changes, section, expected = PLANTED[kind]
    doc, a, b = chains.pair(**changes)
    services.ingest_prov(store, doc, settings=settings, validation="off")
    report = diff.diff(store, a, b, settings=settings)
    assert _nonempty(report.differences) == {section: expected}
    assert report.count == sum(len(v) for v in expected.values())


def test_identical_pairs_and_equal_quantities(store, settings):
    doc, a, b = chains.pair(params={**chains.BASE["params"], "energy.min": "200 GeV", "energy.max": "3e13 eV"})
    services.ingest_prov(store, doc, settings=settings, validation="off")
    report = diff.diff(store, a, b, settings=settings)
    assert report.count == 0, report.differences
    assert diff.same_value(Parameter("x", "0.2", "TeV"), Parameter("x", "200", "GeV"))
    assert not diff.same_value(Parameter("x", "0.2", "TeV"), Parameter("x", "0.2", "deg"))
    assert not diff.same_value(Parameter("x", "15", None), Parameter("x", "16", None))


def test_command_and_http(store, settings, client):
    doc, a, b = chains.pair(software=("gammapy", "1.3"))
    services.ingest_prov(store, doc, settings=settings, validation="off")
    runner = CliRunner()
    r = runner.invoke(load_commands(), ["diff", a, b], env=env_of(settings))
    assert r.exit_code == 1 and "gammapy: A 1.2, B 1.3" in r.stdout
    r = runner.invoke(load_commands(), ["diff", a, a], env=env_of(settings))
    assert r.exit_code == 0 and "no differences" in r.stdout
    r = runner.invoke(load_commands(), ["diff", a, "ex:absent"], env=env_of(settings))
    assert r.exit_code == 2 and "not-found" in r.output
    body = client.get("/diff", query_string={"A": a, "B": b}).get_json()
    assert body["count"] == 1 and body["differences"]["software"]["differ"][0]["b"] == "1.3"
    page = client.get("/diff", query_string={"A": a, "B": b}, headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and "gammapy: A 1.2, B 1.3" in page.get_data(as_text=True)
    for query, where, status in (
        ({"A": a}, "B", 400),
        ({"A": "ex:no", "B": b}, "A", 404),
        ({"A": a, "B": "ex:no"}, "B", 404),
    ):
        r = client.get("/diff", query_string=query, headers={"Accept": "application/json"})
        assert r.status_code == status and r.get_json()["error"]["where"] == where
