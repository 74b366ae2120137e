"""One lineage from many imports (issue 13): the sample's real files imported in many orders give
the store, the lineage and the audit of one batch; retract and supersede take documents out;
an ambiguous name is never merged. Every test runs on both stores."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from provhub.app import identity, services
from provhub.app.access import Viewer
from provhub.app.sample import ANALYSES, DATASTORE, ROOT, SAMPLE_PRODUCT_ID
from provhub.importers import import_analysis, import_datastore, import_fits
from provhub.provdm.errors import AmbiguousId, Forbidden, NotFound
from provhub.provdm.provsap import ProvSapQuery

RUNS = sorted(p.name for p in (ROOT / DATASTORE / "data").glob("*.fits.gz"))
CRAB_RUN = "hess_dl3_dr1_obs_id_023523.fits.gz"
INDEX = ("hdu-index.fits.gz", "obs-index.fits.gz")
_CACHE: dict = {}


def _layout(tmp: Path) -> Path:
    ds = tmp / "ds"
    (ds / "data").mkdir(parents=True)
    for name in INDEX:
        shutil.copy(ROOT / DATASTORE / name, ds / name)
    return ds


def _result(step, present: frozenset):
    """The import of one step with ``present`` run files in ds/data (cached: imports are pure)."""
    key = (step, present)
    if key not in _CACHE:
        kind, arg = step
        if kind == "index":
            _CACHE[key] = import_datastore("ds")
        elif kind == "run":
            _CACHE[key] = import_fits([f"ds/data/{arg}"])
        else:
            config, product = ANALYSES[arg]
            _CACHE[key] = import_analysis(ROOT / config, ROOT / product, datastore="ds")
    return _CACHE[key]


def _run_order(store, settings, tmp: Path, order) -> list[str]:
    """Import ``order`` (steps: ("index", None), ("run", file), ("analysis", i)); a run's file is
    copied into the DataStore just before it is imported, as it arrives."""
    ds = tmp / "ds"
    warnings = []
    for step in order:
        if step[0] == "run":
            shutil.copy(ROOT / DATASTORE / "data" / step[1], ds / "data" / step[1])
        present = frozenset(p.name for p in (ds / "data").iterdir())
        res = services.ingest_prov(store, _result(step, present).document, settings=settings)
        warnings += res.warnings
    return warnings


ONE_BATCH = [("run", r) for r in RUNS] + [("index", None), ("analysis", 0), ("analysis", 1)]
ORDERS = {
    "index-first": [("index", None)] + [("run", r) for r in RUNS] + [("analysis", 0), ("analysis", 1)],
    "analyses-first": [("analysis", 0), ("analysis", 1), ("index", None)] + [("run", r) for r in RUNS],
    "interleaved": [("run", RUNS[2]), ("analysis", 1), ("index", None), ("run", RUNS[0]), ("analysis", 0)]
    + [("run", r) for r in RUNS if r not in (RUNS[0], RUNS[2])],
    "index-last-reimported": [("analysis", 0)]
    + [("run", r) for r in reversed(RUNS)]
    + [("index", None), ("analysis", 1), ("index", None)],
}


def _snapshot(store, settings) -> dict:
    """Everything a user sees: records with attributes, counts, lineage both ways, the audit."""
    nodes, total = store.search("", limit=100_000)
    out = {
        "stats": store.stats(),
        "nodes": {n.id: sorted(json.dumps(a, sort_keys=True) for a in n.attrs) for n in nodes},
    }
    assert total == len(nodes)

    def trace(ident, direction):
        q = ProvSapQuery.from_args({"ID": [ident], "DEPTH": "ALL", "DIRECTION": direction}, max_depth=1000)
        return services.trace(store, q, settings=settings)

    out["back"] = trace(SAMPLE_PRODUCT_ID, "BACK")
    events = [
        n.id
        for n in nodes
        if n.id.endswith("/EVENTS") and "hdr-sha256" in n.id and any("023523" in a for a in out["nodes"][n.id])
    ]
    assert len(events) == 1, events
    out["events"] = events[0]
    out["forth"] = {h: trace(events[0][: -len("EVENTS")] + h, "FORTH") for h in ("EVENTS", "AEFF", "PSF", "BKG")}
    report = services.audit_product(store, [SAMPLE_PRODUCT_ID], settings=settings)
    out["audit"] = json.dumps(
        report.to_dict()["summary"] if hasattr(report, "to_dict") else str(report), sort_keys=True, default=str
    )
    return out


@pytest.fixture
def sample_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _layout(tmp_path)
    return tmp_path


@pytest.fixture
def one_batch(tmp_path_factory, monkeypatch, request):
    """The sample imported with every file present, on a fresh SQLite store (the reference)."""
    if "one_batch" not in _CACHE:
        from provhub.app.config import Settings
        from provhub.app.stores import open_store

        tmp = tmp_path_factory.mktemp("one-batch")
        monkeypatch.chdir(tmp)
        ds = _layout(tmp)
        for r in RUNS:
            shutil.copy(ROOT / DATASTORE / "data" / r, ds / "data" / r)
        settings = Settings(store_url=f"sqlite:///{tmp / 'one.db'}", sample="off", auth="off")
        store = open_store(settings.store_url, settings)
        present = frozenset(RUNS)
        for step in [("index", None), ("run-all", None), ("analysis", 0), ("analysis", 1)]:
            res = import_fits(["ds/data"]) if step[0] == "run-all" else _result(step, present)
            services.ingest_prov(store, res.document, settings=settings)
        _CACHE["one_batch"] = _snapshot(store, settings)
        store.close()
    return _CACHE["one_batch"]


@pytest.mark.slow
@pytest.mark.parametrize("order", list(ORDERS), ids=list(ORDERS))
def test_any_import_order_gives_the_one_batch_lineage(order, one_batch, store, settings, sample_dir):
    warnings = _run_order(store, settings, sample_dir, ORDERS[order])
    got = _snapshot(store, settings)
    assert not [w for w in warnings if w.startswith(identity.AMBIGUOUS)]
    assert got["stats"].nodes == one_batch["stats"].nodes
    assert got["stats"].relations == one_batch["stats"].relations  # no duplicated relation
    assert set(got["nodes"]) == set(one_batch["nodes"])
    assert got["nodes"] == one_batch["nodes"]
    assert not [i for i in got["nodes"] if "/file/name/" in i and "23523" in i]  # no stand-in left
    assert not [i for i in got["nodes"] if i.startswith("https://provhub.org/id/obs/unknown/23523")]
    assert got["back"] == one_batch["back"]
    back_ids = {r.identifier.uri for r in got["back"].get_records() if r.identifier is not None}
    for hdu in ("EVENTS", "AEFF", "EDISP", "PSF", "BKG"):
        assert got["events"][: -len("EVENTS")] + hdu in back_ids
    assert got["forth"] == one_batch["forth"]
    forth_ids = {r.identifier.uri for r in got["forth"]["AEFF"].get_records() if r.identifier is not None}
    assert SAMPLE_PRODUCT_ID in forth_ids  # FORTH from a real IRF HDU reaches the flux points
    assert got["audit"] == one_batch["audit"]


def test_stand_in_ids_and_aliases_resolve(store, settings, sample_dir):
    _run_order(store, settings, sample_dir, [("index", None), ("run", CRAB_RUN)])
    real, claims = identity.canonical_id(store, CRAB_RUN)
    assert real.startswith("https://provhub.org/id/file/hdr-sha256-")
    assert identity.canonical_id(store, f"https://provhub.org/id/file/name/{CRAB_RUN}/AEFF")[0] == real + "/AEFF"
    assert (
        identity.canonical_id(store, "https://provhub.org/id/obs/unknown/23523")[0]
        == "https://provhub.org/id/obs/HESS/23523"
    )
    described = identity.describe(store, real)
    assert "name:" + CRAB_RUN in described["aliases"]
    assert f"https://provhub.org/id/file/name/{CRAB_RUN}" in described["joined"]
    # ProvSAP takes the alias as ID
    q = ProvSapQuery.from_args({"ID": [CRAB_RUN], "DEPTH": "1"}, max_depth=1000)
    doc = services.trace(store, q, settings=settings)
    assert real in {r.identifier.uri for r in doc.get_records() if r.identifier is not None}


def _two_files_one_name(tmp: Path):
    """Two different FITS files with one base name in two directories, and a stand-in for it."""
    from astropy.io import fits

    paths = []
    for i, sub in enumerate(("a", "b")):
        (tmp / sub).mkdir()
        hdu = fits.PrimaryHDU()
        hdu.header["OBJECT"] = f"field {i}"
        path = tmp / sub / "calib.fits"
        hdu.writeto(path)
        paths.append(f"{sub}/calib.fits")
    return paths


PROVN_STANDIN = """document
prefix phfile <https://provhub.org/id/file/>
prefix ex <http://example.org/>
entity(phfile:name/calib.fits, [prov:label="calib.fits"])
activity(ex:reduce)
used(ex:reduce, phfile:name/calib.fits, -)
entity(ex:out)
wasGeneratedBy(ex:out, ex:reduce, -)
endDocument
"""


def test_an_ambiguous_name_is_not_merged_until_pinned(store, settings, sample_dir):
    a, b = _two_files_one_name(sample_dir)
    services.ingest_prov(store, import_fits([a, b]).document, settings=settings)
    res = services.ingest(store, PROVN_STANDIN, "provn", settings=settings)
    assert any(w.startswith("I01") and "calib.fits" in w for w in res.warnings)
    standin = "https://provhub.org/id/file/name/calib.fits"
    assert store.get_nodes([standin])  # kept as it is: not merged
    with pytest.raises(AmbiguousId) as exc:
        identity.canonical_id(store, "calib.fits")
    candidates = [d["candidate"] for d in exc.value.details]
    assert len(candidates) == 2
    findings = services.audit_product(store, ["http://example.org/out"], settings=settings).findings
    assert [f.records for f in findings if f.code == "ambiguous-name"] == [(standin, *candidates)]
    identity.pin(store, "id:" + standin, candidates[1])
    assert not store.get_nodes([standin])
    q = ProvSapQuery.from_args({"ID": ["http://example.org/reduce"], "DEPTH": "1"}, max_depth=1000)
    ids = {
        r.identifier.uri for r in services.trace(store, q, settings=settings).get_records() if r.identifier is not None
    }
    assert candidates[1] in ids and candidates[0] not in ids
    assert [h.action for h in store.history()][-1:] == ["pin"]


CHAIN = """document
prefix ex <http://example.org/>
{body}
endDocument
"""


def _doc(body: str) -> str:
    return CHAIN.format(body=body)


def test_retract_and_supersede_in_the_middle_of_a_chain(store, settings):
    dl3 = services.ingest(store, _doc('entity(ex:dl3, [prov:label="run"])'), "provn", settings=settings)
    dl4 = services.ingest(
        store,
        _doc(
            "entity(ex:dl4)\nactivity(ex:bin)\nused(ex:bin, ex:dl3, -)\n"
            'wasGeneratedBy(ex:dl4, ex:bin, -)\nentity(ex:dl3, [ex:note="from dl4"])'
        ),
        "provn",
        settings=settings,
    )
    services.ingest(store, _doc("entity(ex:dl5)\nwasDerivedFrom(ex:dl5, ex:dl4)"), "provn", settings=settings)

    def back():
        q = ProvSapQuery.from_args({"ID": ["ex:dl5"], "DEPTH": "ALL"}, max_depth=1000)
        return {
            r.identifier.uri
            for r in services.trace(store, q, settings=settings).get_records()
            if r.identifier is not None
        }

    assert "http://example.org/dl3" in back()
    fixed = services.ingest(
        store,
        _doc("entity(ex:dl4)\nactivity(ex:bin2)\nused(ex:bin2, ex:dl3, -)\nwasGeneratedBy(ex:dl4, ex:bin2, -)"),
        "provn",
        settings=settings,
        supersedes=dl4.id,
    )
    ids = back()
    assert "http://example.org/bin2" in ids and "http://example.org/bin" not in ids
    found = [
        f for f in services.audit_product(store, ["ex:dl5"], settings=settings).findings if f.code == "input-superseded"
    ]
    assert found and fixed.id in found[0].message and "http://example.org/dl4" in found[0].records
    assert "http://example.org/dl3" in ids
    note = [a for a in store.get_nodes(["http://example.org/dl3"])[0].attrs if "note" in json.dumps(a)]
    assert not note  # what only the superseded document said is gone
    assert store.get_document(dl4.id).status == "superseded"
    assert [h["action"] for h in identity.history(store, dl4.id)["history"]] == ["superseded", "supersedes"]
    assert [d.id for d in store.list_documents()[0]] == [dl3.id, store.list_documents()[0][1].id, fixed.id]
    identity.retract(store, fixed.id)
    # dl4 was declared only by the retracted version: the derivation to it stays (its document
    # says it), the record does not
    assert {r for r in back() if not r.startswith("urn:provhub:anon:")} == {"http://example.org/dl5"}
    assert store.get_nodes(["http://example.org/dl3"])  # its own document still asserts it
    assert not store.get_nodes(["http://example.org/bin2"])
    assert store.get_document(fixed.id).status == "retracted"
    with pytest.raises(Exception, match="already retracted"):
        identity.retract(store, fixed.id)


def test_retract_needs_the_owner_group_and_hides_hidden_history(store, settings):
    secret = services.ingest(
        store, _doc("entity(ex:secret)"), "provn", settings=settings, rights="proprietary", group="A"
    )
    outsider = Viewer(name="b", role="writer", groups=frozenset({"B"}))
    reader = Viewer(name="ra", role="reader", groups=frozenset({"A"}))
    with pytest.raises(NotFound):
        identity.retract(store, secret.id, viewer=outsider)
    with pytest.raises(NotFound):
        identity.history(store, secret.id, viewer=outsider)
    with pytest.raises(Forbidden):
        identity.retract(store, secret.id, viewer=reader)
    identity.retract(store, secret.id, viewer=Viewer(name="wa", role="writer", groups=frozenset({"A"})))
    assert identity.history(store, secret.id, viewer=reader)["history"][0]["by"] == "wa"


def test_http_lifecycle_and_resolve(client, store, settings, sample_dir):
    r = client.post("/documents", data=_doc("entity(ex:x)"), content_type="text/provenance-notation")
    doc_id = r.get_json()["id"]
    r2 = client.post(
        f"/documents?supersedes={doc_id}",
        data=_doc('entity(ex:x, [prov:label="fixed"])'),
        content_type="text/provenance-notation",
    )
    assert r2.status_code == 201
    hist = client.get(f"/documents/{doc_id}/history").get_json()
    assert hist["status"] == "superseded" and hist["superseded_by"] == r2.get_json()["id"]
    assert client.delete(f"/documents/{r2.get_json()['id']}").status_code == 200
    assert client.get("/resolve?ID=ex:x").status_code == 404
    _run_order(store, settings, sample_dir, [("index", None), ("run", CRAB_RUN)])
    body = client.get(f"/resolve?ID={CRAB_RUN}").get_json()
    assert body["id"].startswith("https://provhub.org/id/file/hdr-sha256-")
    assert client.get("/resolve").status_code == 400


def test_export_keeps_the_history(store, settings, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from provhub.app.cli import load_commands

    old = services.ingest(store, _doc("entity(ex:y)"), "provn", settings=settings)
    services.ingest(store, _doc('entity(ex:y, [prov:label="v2"])'), "provn", settings=settings, supersedes=old.id)
    for name in ("neo4j_user", "neo4j_password", "neo4j_database"):
        monkeypatch.setenv("PROVHUB_" + name.upper(), str(getattr(settings, name) or ""))
    runner = CliRunner()
    out = tmp_path / "export.jsonl"
    res = runner.invoke(load_commands(), ["export", "-o", str(out), "--store", settings.store_url])
    assert res.exit_code == 0, res.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert {line["status"] for line in lines} == {"live", "superseded"}
    assert any(h["action"] == "superseded" for line in lines for h in line.get("history", []))
    # and import-export brings the lifecycle back into a new store
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    res = runner.invoke(load_commands(), ["import-export", str(out), "--store", target])
    assert res.exit_code == 0, res.output
    from provhub.app.config import Settings
    from provhub.app.stores import open_store

    restored = open_store(target, Settings(store_url=target, sample="off"))
    assert restored.get_document(old.id).status == "superseded"
    assert [h.action for h in restored.history(old.id)][:1] == ["superseded"]
    restored.close()
