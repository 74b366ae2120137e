"""Impact on generated stores, both backends: the fan-out of one IRF to DL3, DL4 and DL5
products, paths and their counts, what to re-run, levels, selectors, the command's exit code
and the HTTP answer in each format."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from provhub.app import impact, services
from provhub.app.cli import load_commands
from provhub.importers.base import DocBuilder
from provhub.provdm.errors import InvalidParameter, NotFound
from tests.impact import chains


def ingest(store, settings, doc, **options):
    return services.ingest_prov(store, doc, settings=settings, validation="off", **options)


@pytest.fixture
def fan(store, settings):
    b, irf = chains.fan_out(30)
    ingest(store, settings, b.build())
    return irf


def env_of(settings):
    return {
        "PROVHUB_STORE_URL": settings.store_url,
        "PROVHUB_NEO4J_USER": settings.neo4j_user,
        "PROVHUB_NEO4J_PASSWORD": settings.neo4j_password,
        "PROVHUB_NEO4J_DATABASE": settings.neo4j_database,
    }


def test_fan_out_by_level_with_paths_and_rerun(store, settings, fan):
    report = impact.impact(store, [fan], settings=settings)
    levels = report.by_level()
    assert {k: len(v) for k, v in levels.items()} == {"DL3": 30, "DL4": 30, "DL5": 3}
    dl5 = {p.id: p for p in levels["DL5"]}
    first = dl5[chains.EX["fan/dl5/0"].uri]
    assert first.path == [
        fan,
        chains.EX["fan/dl3/0"].uri,
        chains.EX["fan/reduce/0"].uri,
        chains.EX["fan/dl4/0"].uri,
        chains.EX["fan/analysis/0"].uri,
        chains.EX["fan/dl5/0"].uri,
    ]
    assert first.other_paths == 9  # ten DL3 datasets lead to each DL5 product
    assert first.distance == 5 and first.level == "DL5"
    assert [p.other_paths for p in levels["DL3"]] == [0] * 30
    # what to re-run: the 30 reductions (nearest) before the 3 analyses
    names = [r.name for r in report.rerun]
    assert len(names) == 33 and all(n.startswith("reduction") for n in names[:30])
    assert names[30:] == ["analysis 0", "analysis 1", "analysis 2"]
    assert [r.distance for r in report.rerun] == sorted(r.distance for r in report.rerun)


def test_a_second_path_is_counted(store, settings):
    b, irf = chains.fan_out(10)
    b.relation("wasDerivedFrom", chains.EX["fan/dl5/0"], chains.EX["fan/dl3/0"])
    ingest(store, settings, b.build())
    report = impact.impact(store, [irf], settings=settings, levels=["DL5"])
    (dl5,) = report.products
    assert dl5.other_paths == 10
    # the shortest path is the first one: through the derivation
    assert dl5.path == [irf, chains.EX["fan/dl3/0"].uri, dl5.id]


def test_level_filter_and_nothing_affected(store, settings, fan):
    report = impact.impact(store, [fan], settings=settings, levels=["dl5"])
    assert [p.level for p in report.products] == ["DL5"] * 3
    assert len(report.rerun) == 33  # all of them lead to a DL5 product
    leaf = impact.impact(store, [chains.EX["fan/dl5/0"].uri], settings=settings)
    assert not leaf.affected and leaf.rerun == []
    with pytest.raises(InvalidParameter) as exc:
        impact.impact(store, [fan], settings=settings, levels=["DL9"])
    assert exc.value.where == "LEVEL"
    with pytest.raises(NotFound):
        impact.impact(store, ["ex:nothing-here"], settings=settings)


def test_selectors_software_irf_and_configuration_time(store, settings):
    b = DocBuilder()
    chains.analysis(b, "old", software=("ctapipe", "0.19.2"))
    chains.analysis(b, "new", software=("ctapipe", "0.20.0"), obs=(3,), irf={3: "prod6-v1"})
    ingest(store, settings, b.build())
    old = impact.impact(store, [], ["software=ctapipe & version<0.20"], settings=settings)
    assert [s["id"] for s in old.starts] == [chains.EX["old/analysis"].uri]
    assert [p.id for p in old.products] == [chains.EX["old/dl5"].uri]
    both = impact.impact(store, [], ["software=ctapipe & version>=0.19", "software=CTAPIPE"], settings=settings)
    assert sorted(p.id for p in both.products) == [chains.EX["new/dl5"].uri, chains.EX["old/dl5"].uri]
    prod5 = impact.impact(store, [], ["irf~prod5-v0.1"], settings=settings)
    assert sorted(s["id"] for s in prod5.starts) == [
        chains.irf_id(1, "prod5-v0.1").uri,
        chains.irf_id(2, "prod5-v0.1").uri,
    ]
    assert {p.id for p in prod5.products} == {
        chains.dl3_id(1, "prod5-v0.1").uri,
        chains.dl3_id(2, "prod5-v0.1").uri,
        chains.EX["old/dl5"].uri,
    }
    assert impact.impact(store, [], ["irf~prod7"], settings=settings).products == []


def test_configuration_between_two_dates(store, settings):
    b = DocBuilder()
    from prov.model import PROV

    from provhub.provdm.vocabulary import PROVHUB

    for obs, day in ((1, "2020-01-10"), (2, "2020-02-10")):
        cfg = b.entity(
            chains.EX[f"cfg/{obs}"],
            [
                (PROV["type"], PROVHUB["InstrumentConfiguration"]),
                (PROVHUB["TELLIST"], "1,3,4"),
                (PROVHUB["obsId"], obs),
            ],
        )
        run = b.activity(
            chains.EX[f"run/{obs}"], [(PROVHUB["obsId"], obs)], start=f"{day}T20:00:00", end=f"{day}T21:00:00"
        )
        b.relation("used", run, cfg, None)
        dl3 = b.entity(chains.EX[f"cfgdl3/{obs}"], [(PROVHUB["dataLevel"], "DL3")])
        b.relation("wasGeneratedBy", dl3, run, None)
    ingest(store, settings, b.build())
    sel = "type=InstrumentConfiguration & TELLIST=3 & time>=2020-01-01 & time<2020-02-01"
    report = impact.impact(store, [], [sel], settings=settings)
    assert [s["id"] for s in report.starts] == [chains.EX["cfg/1"].uri]
    assert [p.id for p in report.products] == [chains.EX["cfgdl3/1"].uri]
    assert [r.id for r in report.rerun] == [chains.EX["run/1"].uri]
    none = impact.impact(store, [], ["type=InstrumentConfiguration & TELLIST=2"], settings=settings)
    assert none.starts == [] and not none.affected


def test_command_exit_code_and_formats(store, settings, fan):
    runner = CliRunner()
    env = env_of(settings)
    r = runner.invoke(load_commands(), ["impact", fan, "--format", "json"], env=env)
    assert r.exit_code == 1, r.output
    assert json.loads(r.stdout)["affected"] == 63
    r = runner.invoke(load_commands(), ["impact", fan, "--level", "DL5", "--format", "csv"], env=env)
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert r.exit_code == 1 and [row["level"] for row in rows] == ["DL5"] * 3
    r = runner.invoke(load_commands(), ["impact", chains.EX["fan/dl5/1"].uri], env=env)
    assert r.exit_code == 0 and "0 affected product(s)" in r.stdout
    r = runner.invoke(load_commands(), ["impact", "--where", "software=x & version<<1"], env=env)
    assert r.exit_code == 2 and "invalid-parameter" in r.output
    r = runner.invoke(load_commands(), ["impact", "ex:absent"], env=env)
    assert r.exit_code == 2 and "not-found" in r.output


def test_http_formats_and_errors(client, fan):
    r = client.get("/impact", query_string={"ID": fan})
    assert r.status_code == 200 and r.headers["X-Affected"] == "63"
    body = r.get_json()
    assert body["affected"] == 63 and list(body["products"]) == ["DL3", "DL4", "DL5"]
    assert body["rerun"][0]["name"].startswith("reduction")
    html = client.get("/impact", query_string={"ID": fan, "FORMAT": "html"})
    assert html.mimetype == "text/html" and "63</strong> affected" in html.get_data(as_text=True)
    assert html.headers["Content-Security-Policy"].startswith("default-src 'none'")
    csv_ = client.get("/impact", query_string={"ID": fan, "LEVEL": "DL4", "FORMAT": "csv"})
    assert csv_.mimetype == "text/csv" and len(csv_.get_data(as_text=True).splitlines()) == 31
    text = client.get("/impact", query_string={"ID": fan}, headers={"Accept": "text/plain"})
    assert "What to re-run" in text.get_data(as_text=True)
    for query, where, status in (
        ({}, "ID", 400),
        ({"ID": "ex:absent"}, "ID", 404),
        ({"SELECT": "version<1"}, "SELECT", 400),
        ({"SELECT": "software=a & time>=yesterday"}, "SELECT", 400),
        ({"ID": fan, "LEVEL": "DL7"}, "LEVEL", 400),
    ):
        r = client.get("/impact", query_string=query, headers={"Accept": "application/json"})
        assert r.status_code == status, (query, r.get_data(as_text=True))
        assert r.get_json()["error"]["where"] == where


def test_a_large_fan_out_takes_a_place_among_the_large_answers(store, settings, client, monkeypatch):
    """Issue 15's bound on heavy requests holds for /impact: with every place taken, a fan-out past
    HEAVY_RECORDS is 503 busy, and a small one is answered."""
    from provhub.app import services
    from tests.security.test_search_and_prefixes import chain

    monkeypatch.setattr(services, "HEAVY_RECORDS", 20)
    services.ingest(store, chain("c", 40), "provn", settings=settings)
    held = []
    while services.LARGE._free.acquire(blocking=False):
        held.append(1)
    try:
        r = client.get("/impact", query_string={"ID": "http://example.org/c40"})
        assert r.status_code == 503 and r.headers["Retry-After"], r.get_data(as_text=True)[:200]
        assert client.get("/impact", query_string={"ID": "http://example.org/c3"}).status_code == 200
    finally:
        for _ in held:
            services.LARGE.give()
    assert client.get("/impact", query_string={"ID": "http://example.org/c40"}).status_code == 200
