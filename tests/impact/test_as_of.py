"""AS_OF: the answer as the store knew it then, both stores. Documents ingested later are left
out; documents retracted or superseded later are there as they were; rights hold as they were."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from provhub.app import asof, identity, impact, services
from provhub.provdm.errors import InvalidParameter, NotFound

EX = "http://example.org/asof#"
CHAIN = """document
  prefix ex <http://example.org/asof#>
  entity(ex:irf, [prov:type='ex:aeff'])
  entity(ex:dl3, [ex:dataLevel="DL3"])
  wasDerivedFrom(ex:dl3, ex:irf)
endDocument"""
PRODUCT = """document
  prefix ex <http://example.org/asof#>
  prefix voprov <http://www.ivoa.net/documents/ProvenanceDM/index.html#>
  activity(ex:ana{n})
  used(ex:ana{n}, ex:dl3, -)
  entity(ex:dl5_{n}, [ex:dataLevel="DL5", prov:label="spectrum {n}"])
  wasGeneratedBy(ex:dl5_{n}, ex:ana{n}, -)
  entity(ex:p{n}, [prov:type='voprov:Parameter', voprov:name="emin", voprov:value="{emin}"])
  wasInfluencedBy(ex:ana{n}, ex:p{n}, [prov:type='voprov:wasConfiguredBy'])
endDocument"""


def now():
    time.sleep(1.1)  # the store keeps times to the second
    moment = dt.datetime.now(dt.timezone.utc)
    time.sleep(1.1)
    return moment


def products(store, settings, moment, viewer=None):
    at = asof.store_as_of(store, moment, settings)
    report = impact.impact(at, [EX + "irf"], settings=settings, **({"viewer": viewer} if viewer else {}))
    return sorted(p.id.removeprefix(EX) for p in report.products)


def test_documents_as_they_were(store, settings, client):
    ing = lambda text, **kw: services.ingest(store, text, "provn", settings=settings, validation="off", **kw)  # noqa: E731
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
    ing(CHAIN)
    first = ing(PRODUCT.format(n=1, emin="0.2 TeV"))
    t1 = now()
    second = ing(PRODUCT.format(n=2, emin="0.5 TeV"))
    t2 = now()
    ing(PRODUCT.format(n=1, emin="0.3 TeV"), supersedes=first.id)
    identity.retract(store, second.id)
    t3 = now()
    assert products(store, settings, None) == ["dl3", "dl5_1"]
    assert products(store, settings, t3) == ["dl3", "dl5_1"]  # retracted and superseded before t3
    assert products(store, settings, t1) == ["dl3", "dl5_1"]
    assert products(store, settings, t2) == ["dl3", "dl5_1", "dl5_2"]  # the retracted one was there then
    with pytest.raises(NotFound):  # nothing was known then
        products(store, settings, before)
    # the superseded version's parameter, as it was then
    from provhub.app import manifest

    old = manifest.manifest(asof.store_as_of(store, t2, settings), EX + "dl5_1", settings=settings)
    new = manifest.manifest(store, EX + "dl5_1", settings=settings)
    assert [p["value"] for p in old["parameters"]] == ["0.2"] and [p["value"] for p in new["parameters"]] == ["0.3"]
    later = manifest.manifest(asof.store_as_of(store, t3, settings), EX + "dl5_1", settings=settings)
    assert later["parameters"] == new["parameters"]
    # over HTTP: ProvSAP, impact, diff and audit take AS_OF
    q = {"ID": EX + "irf", "DEPTH": "ALL", "DIRECTION": "FORTH", "MODEL": "W3C"}
    then = client.get("/provsap", query_string={**q, "AS_OF": t2.isoformat()}).get_json()
    assert "ex:dl5_2" in then["entity"]
    assert "ex:dl5_2" not in client.get("/provsap", query_string=q).get_json()["entity"]
    r = client.get("/impact", query_string={"ID": EX + "irf", "AS_OF": t1.isoformat(), "LEVEL": "DL5"}).get_json()
    assert [p["id"] for p in r["products"]["DL5"]] == [EX + "dl5_1"]
    d = client.get("/diff", query_string={"A": EX + "dl5_1", "B": EX + "dl5_2", "AS_OF": t2.isoformat()}).get_json()
    assert d["differences"]["parameters"]["differ"][0]["a"]["value"] == "0.2"
    assert client.get("/diff", query_string={"A": EX + "dl5_1", "B": EX + "dl5_2"}).status_code == 404
    audit = client.get("/audit", query_string={"ID": EX + "dl5_2", "AS_OF": t2.isoformat()})
    assert audit.status_code == 200
    # the commands take --as-of
    from click.testing import CliRunner

    from provhub.app.cli import load_commands
    from tests.impact.test_impact import env_of

    run = CliRunner().invoke
    env = env_of(settings)
    forth = ["provsap", "--id", EX + "irf", "--depth", "ALL", "--direction", "FORTH", "--model", "W3C"]
    assert "dl5_2" in run(load_commands(), [*forth, "--as-of", t2.isoformat()], env=env).stdout
    assert "dl5_2" not in run(load_commands(), forth, env=env).stdout
    r = run(load_commands(), ["impact", EX + "irf", "--as-of", t1.isoformat(), "--format", "json"], env=env)
    assert r.exit_code == 1 and '"affected": 2' in r.stdout
    r = run(load_commands(), ["audit", EX + "dl5_2", "--as-of", t2.isoformat(), "--format", "json"], env=env)
    assert "dl5_2" in r.stdout
    assert run(load_commands(), ["audit", EX + "dl5_2"], env=env).exit_code != 0
    assert run(load_commands(), ["impact", EX + "irf", "--as-of", "soon"], env=env).exit_code == 2
    bad = client.get(
        "/impact", query_string={"ID": EX + "irf", "AS_OF": "last tuesday"}, headers={"Accept": "application/json"}
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["where"] == "AS_OF"


def test_rights_hold_as_of(store, settings):
    from provhub.app.access import ANONYMOUS

    services.ingest(store, CHAIN, "provn", settings=settings, validation="off")
    services.ingest(
        store,
        PRODUCT.format(n=7, emin="1 TeV"),
        "provn",
        settings=settings,
        validation="off",
        rights="proprietary",
        group="hess",
    )
    moment = now()
    assert products(store, settings, moment) == ["dl3", "dl5_7"]
    assert products(store, settings, moment, viewer=ANONYMOUS) == ["dl3"]


def test_parse():
    assert asof.parse_as_of(None) is None
    assert asof.parse_as_of("2026-01-02") == dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    assert asof.parse_as_of("2026-01-02T03:04:05Z").hour == 3
    with pytest.raises(InvalidParameter):
        asof.parse_as_of("soon")


def test_a_replay_is_bounded_shared_and_thrown_away_when_it_runs_out(store, settings, client, monkeypatch):
    """A replay reads every live document (42 s for 10^5 records): one at a time per process (503
    busy, where AS_OF), within PROVHUB_QUERY_TIMEOUT (422, nothing left behind), and moments with
    the same live documents share one."""
    from dataclasses import replace

    services.ingest(store, CHAIN, "provn", settings=settings, validation="off")
    moment = now()
    q = {"ID": EX + "dl3", "DEPTH": "ALL", "AS_OF": moment.isoformat()}
    assert asof.REPLAYS._free.acquire(blocking=False)
    try:
        r = client.get("/provsap", query_string=q, headers={"Accept": "application/json"})
        assert r.status_code == 503 and r.headers["Retry-After"], r.get_data(as_text=True)
        assert r.get_json()["error"]["where"] == "AS_OF"
    finally:
        asof.REPLAYS.give()
    built = []
    real, copy = asof._build, asof._copy_without
    monkeypatch.setattr(asof, "_build", lambda *a: built.append(1) or real(*a))
    monkeypatch.setattr(asof, "_copy_without", lambda *a: built.append(1) or copy(*a))
    first = asof.store_as_of(store, moment, settings)
    assert asof.store_as_of(store, moment + dt.timedelta(seconds=1), settings) is first  # same live documents
    assert len(built) == 1
    monkeypatch.setattr(asof, "_build", real)
    monkeypatch.setattr(asof, "_copy_without", copy)
    import tempfile
    from pathlib import Path

    left = set(Path(tempfile.gettempdir()).glob("provhub-asof-*"))
    from provhub.provdm.errors import QueryTimeout

    with pytest.raises(QueryTimeout) as info:
        asof._build(store, asof.live_at(store, moment), replace(settings, query_timeout=0))
    assert info.value.where == "AS_OF"
    assert set(Path(tempfile.gettempdir()).glob("provhub-asof-*")) == left


def test_an_embedded_store_as_of_a_moment_is_a_copy_without_what_came_later(store, settings, backend, monkeypatch):
    """On the embedded store, when every document live then is live now, the store as of T is a
    copy with the later documents taken out; it answers exactly as the replay does, joins and
    merged attributes included, and is the path taken."""
    if backend != "sqlite":
        pytest.skip("a Bolt store is always replayed")
    from provhub.app.stores.base import TraceQuery

    ing = lambda text: services.ingest(store, text, "provn", settings=settings, validation="off")  # noqa: E731
    ing(CHAIN)
    for n in (1, 4, 5, 6):  # more records before t1 than after: the copy is the cheaper way
        ing(PRODUCT.format(n=n, emin="0.2 TeV"))
    t1 = now()
    ing(PRODUCT.format(n=2, emin="0.5 TeV"))
    # later: another document says more of ex:dl3 (its attributes merge) and of ex:irf
    ing(CHAIN.replace('[ex:dataLevel="DL3"]', '[ex:dataLevel="DL3", ex:note="reprocessed"]'))
    t2 = now()
    ing(PRODUCT.format(n=3, emin="0.9 TeV"))

    def answer(at):
        g = at.trace(TraceQuery(ids=[EX + "irf"], depth=None, direction="FORTH"))
        return sorted((n.id, n.kind, str(n.attrs)) for n in g.nodes), sorted((r.id, r.src, r.dst) for r in g.relations)

    ways = []
    copy = asof._copy_without
    monkeypatch.setattr(asof, "_copy_without", lambda *a: ways.append("copy") or copy(*a))
    copied = {t: answer(asof.store_as_of(store, t, settings)) for t in (t1, t2)}
    assert ways == ["copy", "copy"]
    monkeypatch.setattr(asof, "_changes", lambda *a: None)  # the replay, for the same moments
    asof._forget()
    replayed = {t: answer(asof.store_as_of(store, t, settings)) for t in (t1, t2)}
    assert copied == replayed
    nodes_t1 = {n for n, _k, _a in copied[t1][0]}
    assert EX + "dl5_1" in nodes_t1 and EX + "dl5_2" not in nodes_t1
    dl3_t1 = next(a for n, _k, a in copied[t1][0] if n == EX + "dl3")
    dl3_t2 = next(a for n, _k, a in copied[t2][0] if n == EX + "dl3")
    assert "reprocessed" not in dl3_t1 and "reprocessed" in dl3_t2  # what a later document said is out
    assert EX + "dl5_3" not in {n for n, _k, _a in copied[t2][0]}


def test_a_copy_puts_back_what_was_retracted_or_superseded_since(store, settings, backend, monkeypatch):
    """A document retracted or superseded after T is put back in the copy as it asserted its
    records, and its successor taken out: the copy answers exactly as the replay does, and
    only a store with more changed after T than live then is replayed."""
    if backend != "sqlite":
        pytest.skip("a Bolt store is always replayed")
    from provhub.app.stores.base import TraceQuery

    ing = lambda text, **kw: services.ingest(store, text, "provn", settings=settings, validation="off", **kw)  # noqa: E731
    ing(CHAIN)
    first = ing(PRODUCT.format(n=1, emin="0.2 TeV"))
    second = ing(PRODUCT.format(n=2, emin="0.5 TeV"))
    for n in (4, 5, 6):
        ing(PRODUCT.format(n=n, emin="0.2 TeV"))
    noted = ing(CHAIN.replace('[ex:dataLevel="DL3"]', '[ex:dataLevel="DL3", ex:note="first look"]'))
    t1 = now()
    ing(PRODUCT.format(n=1, emin="0.3 TeV"), supersedes=first.id)
    identity.retract(store, second.id)
    identity.retract(store, noted.id)

    def answer(at):
        g = at.trace(TraceQuery(ids=[EX + "irf"], depth=None, direction="FORTH"))
        return sorted((n.id, n.kind, str(n.attrs)) for n in g.nodes), sorted((r.id, r.src, r.dst) for r in g.relations)

    ways = []
    copy, build = asof._copy_without, asof._build
    monkeypatch.setattr(asof, "_copy_without", lambda *a: ways.append("copy") or copy(*a))
    monkeypatch.setattr(asof, "_build", lambda *a: ways.append("replay") or build(*a))
    copied = answer(asof.store_as_of(store, t1, settings))
    assert ways == ["copy"]
    nodes = {n: a for n, _k, a in copied[0]}
    assert EX + "dl5_2" in nodes  # retracted since: there as it was
    assert "first look" in nodes[EX + "dl3"]  # what a retracted document said is back
    assert any("0.2 TeV" in a for n, a in nodes.items() if n == EX + "p1")  # the superseded version
    assert not any("0.3 TeV" in a for a in nodes.values())  # not its successor
    now_nodes = {n for n, _k, _a in answer(store)[0]}
    assert EX + "dl5_2" not in now_nodes  # the store itself is untouched
    monkeypatch.setattr(asof, "_changes", lambda *a: None)
    asof._forget()
    assert answer(asof.store_as_of(store, t1, settings)) == copied  # the replay's answer
    assert ways == ["copy", "replay"]
