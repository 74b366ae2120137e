"""ObsCore in and out, on both stores: ``provhub import-obscore`` joins an ObsCore table's rows to
the sample's DL3 files, ``GET /obscore`` exports the products, astropy reads both tables.

The test table is built from the sample's ``data/dl3/hess-dl3-dr1/obs-index.fits.gz`` (the
H.E.S.S. DL3 DR1 observation index): ``obs_id``, ``target_name``, ``s_ra``/``s_dec``
(RA_PNT/DEC_PNT), ``t_exptime`` (LIVETIME) are that index's values; ``obs_publisher_did`` and
``access_url`` are made up for the test (``ivo://hess.example/...``, ``https://archive.example/...``
with the release's file names), since DR1 publishes no ObsCore service.
"""

from __future__ import annotations

import json
import warnings
from io import BytesIO

import numpy as np
import pytest
from astropy.io.votable import from_table, parse
from astropy.table import Table
from click.testing import CliRunner
from prov.model import ProvDocument

from provhub.app import obscore, services
from provhub.importers import import_fits
from provhub.app.access import ANONYMOUS, OPERATOR
from provhub.app.cli import load_commands
from provhub.provdm.obscore import COLUMNS
from tests.api.test_dali import votlint
from tests.conftest import ROOT
from tests.datalink.test_bundle import cli_env
from tests.datalink.test_datalink import _sample
from tests.importers.test_irf import RUN, SUMMARY, broken_copy, expected_dl3

OBS_INDEX = ROOT / "data/dl3/hess-dl3-dr1/obs-index.fits.gz"
PRESENT = (23523, 23526, 23559, 23592, 33787)  # the runs whose files are in data/
ABSENT = 33788  # in the index, its file is not in data/
FILE = "hess_dl3_dr1_obs_id_{:06d}.fits.gz"


def did(obs_id: int) -> str:
    return f"ivo://hess.example/dl3-dr1?obs_id={obs_id}"


def url(obs_id: int) -> str:
    return "https://archive.example/hess-dl3-dr1/data/" + FILE.format(obs_id)


def obscore_table() -> Table:
    index = Table.read(OBS_INDEX)
    rows = []
    for obs_id in (*PRESENT, ABSENT):
        (r,) = index[index["OBS_ID"] == obs_id]
        rows.append(
            (
                obs_id,
                did(obs_id),
                url(obs_id),
                str(r["OBJECT"]),
                float(r["RA_PNT"]),
                float(r["DEC_PNT"]),
                float(r["LIVETIME"]),
            )
        )
    # a row whose file name and obs_id name two different files: ambiguous, never guessed
    rows.append((23526, "ivo://hess.example/dl3-dr1?mixed", url(23523), "Crab Nebula", 0.0, 0.0, 0.0))
    names = ("obs_id", "obs_publisher_did", "access_url", "target_name", "s_ra", "s_dec", "t_exptime")
    table = Table(rows=rows, names=names)
    table["obs_id"] = [str(v) for v in table["obs_id"]]
    table["dataproduct_type"] = "event"
    table["calib_level"] = np.int16(2)
    table["obs_collection"] = "HESS-DL3-DR1"
    return table


def write_votable(table: Table, path) -> None:
    """The table as a TAP service returns ObsCore: ObsCore 1.1 utypes, UCDs and units."""
    vot = from_table(table)
    for f in vot.get_first_table().fields:
        _dtype, utype, ucd, unit = COLUMNS[f.name]
        f.utype, f.ucd = utype, ucd
        if unit:
            f.unit = unit
    vot.to_xml(str(path))


@pytest.fixture
def sample_store(store, settings):
    for doc in _sample():
        services.ingest_prov(store, doc, settings=settings)
    return store


@pytest.mark.parametrize("kind", ["votable", "fits"])
def test_import_joins_rows_and_reports_the_others(sample_store, settings, client, tmp_path, kind):
    path = tmp_path / ("obscore.xml" if kind == "votable" else "obscore.fits")
    table = obscore_table()
    write_votable(table, path) if kind == "votable" else table.write(path)
    r = CliRunner().invoke(load_commands(), ["import-obscore", str(path), "--json"], env=cli_env(settings))
    assert r.exit_code == 2, r.output  # some rows are not matched
    report = json.loads(r.stdout)
    assert sorted(m["obs_id"] for m in report["matched"]) == sorted(str(o) for o in PRESENT)
    assert {m["by"] for m in report["matched"]} == {"access_url"}
    (unmatched,) = report["unmatched"]
    assert unmatched["obs_id"] == str(ABSENT)
    (ambiguous,) = report["ambiguous"]
    assert ambiguous["why"] == "disagree" and len(ambiguous["candidates"]) == 2
    # the DID is now a name of the DL3 file, and access_url its location
    resolved = client.get("/resolve", query_string={"ID": did(23523)}).get_json()
    assert resolved["id"] == services.canonical(sample_store, FILE.format(23523))
    vot = parse(BytesIO(client.get("/datalink", query_string={"ID": did(23523)}).data))
    links = vot.get_first_table().to_table(use_names_over_ids=True)
    (this,) = [row for row in links if row["semantics"] == "#this"]
    assert this["access_url"] == url(23523) and this["content_type"] == "application/fits"
    assert "ivo://hess.example/dl3-dr1?mixed" not in json.dumps(resolved)


def test_export_and_round_trip(sample_store, settings, client, tmp_path):
    path = tmp_path / "in.xml"
    write_votable(obscore_table(), path)
    obscore.import_obscore(sample_store, str(path), settings=settings)
    r = client.get("/obscore")
    assert r.status_code == 200 and r.mimetype == "application/x-votable+xml"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        vot = parse(BytesIO(r.data), verify="exception")
    fields = {f.name: f for f in vot.get_first_table().fields}
    for name, (_d, utype, ucd, unit) in COLUMNS.items():
        assert fields[name].utype == utype and fields[name].ucd == ucd
        assert (str(fields[name].unit) if fields[name].unit else None) == unit
    out = vot.get_first_table().to_table()
    events = out[out["dataproduct_type"] == "event"]
    assert sorted(events["obs_publisher_did"]) == sorted(did(o) for o in PRESENT)
    row = events[events["obs_publisher_did"] == did(23523)][0]
    assert row["obs_id"] == "23523" and row["target_name"] == "Crab Nebula" and row["calib_level"] == 2
    assert row["access_url"].endswith("/datalink?ID=" + "ivo%3A%2F%2Fhess.example%2Fdl3-dr1%3Fobs_id%3D23523")
    assert abs(row["t_min"] - 53343.922) < 0.01  # 2004-12-04T22:08 UTC, from TSTART and MJDREF
    products = [str(r["obs_publisher_did"]) for r in out if r["dataproduct_type"] != "event"]
    assert len(products) == 2 and len(out) == len(PRESENT) + 2  # and the two DL5 products
    # the exported table goes back in: every row is known by its DID now
    back = tmp_path / "out.xml"
    back.write_bytes(r.data)
    again = obscore.import_obscore(sample_store, str(back), settings=settings, dry_run=True)
    assert not again.unmatched and not again.ambiguous and len(again.matched) == len(out)
    assert {m["by"] for m in again.matched} == {"obs_publisher_did"}


PROPRIETARY_FILE = """document
  prefix ex <http://example.org/o#>
  prefix provhub <https://provhub.org/ns#>
  entity(ex:secretfile, [prov:type='provhub:FitsFile', prov:label="SECRET-RUN.fits", provhub:alias="ivo://x/secret"])
endDocument"""


def test_export_and_import_hide_what_the_caller_may_not_read(store, settings, tmp_path):
    services.ingest(store, PROPRIETARY_FILE, "provn", settings=settings, rights="proprietary", group="hess")

    def rows(viewer):
        return obscore.products(store, settings=settings, viewer=viewer, datalink_url=lambda d: d)

    assert [r["obs_publisher_did"] for r in rows(OPERATOR)] == ["ivo://x/secret"]
    assert rows(ANONYMOUS) == []
    path = tmp_path / "t.xml"
    table = Table(
        rows=[("ivo://x/secret", "https://a.example/SECRET-RUN.fits", "1")],
        names=("obs_publisher_did", "access_url", "obs_id"),
    )
    write_votable(table, path)
    report = obscore.import_obscore(store, str(path), settings=settings, viewer=ANONYMOUS, dry_run=True)
    assert report.matched == [] and "secretfile" not in json.dumps(report.to_dict())


def test_a_table_without_obs_publisher_did_is_refused(store, settings, tmp_path):
    path = tmp_path / "t.fits"
    Table({"obs_id": ["1"]}).write(path)
    r = CliRunner().invoke(load_commands(), ["import-obscore", str(path)], env=cli_env(settings))
    assert r.exit_code == 1 and "no obs_publisher_did column" in r.output


@pytest.mark.parametrize("maxrec", ["x", "-1"])
def test_a_bad_maxrec_is_refused(client, maxrec):
    r = client.get(f"/obscore?MAXREC={maxrec}", headers={"Accept": "application/json"})
    assert r.status_code == 400 and r.get_json()["error"]["where"] == "MAXREC"


def test_export_columns_agree_with_the_obs_index(sample_store, client, tmp_path):
    """Each DL3 run's row against the sample's real obs-index (data/dl3/hess-dl3-dr1): pointing,
    times, livetime, and the safe energy range as wavelengths (lambda = h c / E, computed here
    with astropy's constants); the field of view, its region and the PSF against the run's own
    IRF tables (read here with astropy, tests/importers/test_irf.py); what the records do not
    hold is NULL."""
    from astropy import constants as const
    from astropy import units as u

    data = client.get("/obscore").data
    votlint(data, tmp_path)  # STILTS finds nothing to report
    vot = parse(BytesIO(data), verify="exception")
    fields = {f.name: f for f in vot.get_first_table().fields}
    assert list(fields) == list(COLUMNS) and len(fields) == 30  # every mandatory ObsCore 1.1 column
    assert str(fields["em_min"].unit) == "m" and str(fields["s_fov"].unit) == "deg"
    out = vot.get_first_table().to_table()
    index = Table.read(OBS_INDEX)
    header = index.meta
    mjdref = header["MJDREFI"] + header["MJDREFF"]
    events = out[out["dataproduct_type"] == "event"]
    assert sorted(int(o) for o in events["obs_id"]) == sorted(PRESENT)
    hc = (const.h * const.c).to(u.TeV * u.m).value
    for row in events:
        (ref,) = index[index["OBS_ID"] == int(row["obs_id"])]
        assert row["s_ra"] == pytest.approx(ref["RA_PNT"], abs=1e-5)
        assert row["s_dec"] == pytest.approx(ref["DEC_PNT"], abs=1e-5)
        assert row["t_exptime"] == pytest.approx(ref["LIVETIME"], rel=1e-6)
        assert row["t_min"] == pytest.approx(mjdref + ref["TSTART"] / 86400, abs=1e-7)
        assert row["t_max"] == pytest.approx(mjdref + ref["TSTOP"] / 86400, abs=1e-7)
        assert row["em_min"] == pytest.approx(hc / ref["SAFE_ENERGY_HI"], rel=1e-6)
        assert row["em_max"] == pytest.approx(hc / ref["SAFE_ENERGY_LO"], rel=1e-6)
        assert row["em_min"] < row["em_max"] and row["o_ucd"] == "phot.count"
        irf = expected_dl3(RUN.format(int(row["obs_id"])))
        assert row["s_fov"] == pytest.approx(irf["fov"]) and row["s_fov"] == 5.0  # 2 x 2.5 deg
        assert row["s_resolution"] == pytest.approx(irf["r68"] * 3600, rel=1e-4)  # arcsec
        shape, frame, ra, dec, radius = row["s_region"].split()
        assert (shape, frame) == ("CIRCLE", "ICRS")
        assert float(ra) == pytest.approx(irf["ra"], abs=1e-9) and float(dec) == pytest.approx(irf["dec"], abs=1e-9)
        assert float(radius) == pytest.approx(irf["fov"] / 2) and float(ra) == row["s_ra"]
        for name in ("s_xel1", "s_xel2", "t_resolution", "t_xel", "em_res_power", "em_xel"):
            assert np.ma.is_masked(row[name]), name
        assert row["pol_states"] == ""  # an empty char cell: no polarisation
        assert np.ma.is_masked(row["pol_xel"])
    # 23523 by hand: 0.871-100 TeV is 1.24e-20 to 1.42e-18 m
    (crab,) = events[events["obs_id"] == "23523"]
    assert crab["em_min"] == pytest.approx(1.2398e-20, rel=1e-4) and crab["em_max"] == pytest.approx(
        1.4235e-18, rel=1e-4
    )


def _without_summaries(doc: ProvDocument) -> ProvDocument:
    """The same records with the IRF summary attributes left out (through PROV-JSON)."""
    data = json.loads(doc.serialize(format="json"))
    names = {name.replace("https://provhub.org/ns#", "provhub:") for name in SUMMARY}
    for kind in ("entity",):
        for attrs in data.get(kind, {}).values():
            for name in names:
                attrs.pop(name, None)
    return ProvDocument.deserialize(content=json.dumps(data), format="json")


def test_a_hidden_irf_summary_stays_out_of_an_anonymous_row(store, settings):
    """The run's full import (with the IRF summaries) is proprietary; a public document states
    the same records without them: the anonymous row has the public facts and NULL s_fov,
    s_region, s_resolution; the operator's has them."""
    full = import_fits([RUN.format(23523)]).document
    services.ingest_prov(store, full, settings=settings, rights="proprietary", group="hess")
    services.ingest_prov(store, _without_summaries(full), settings=settings)

    def row(viewer):
        (only,) = obscore.products(store, settings=settings, viewer=viewer, datalink_url=lambda d: d)
        return only

    seen = row(OPERATOR)
    assert seen["s_fov"] == 5.0 and seen["s_region"].startswith("CIRCLE ICRS ") and seen["s_resolution"] > 0
    anonymous = row(ANONYMOUS)
    assert anonymous["obs_id"] == "23523" and anonymous["s_ra"] == seen["s_ra"]  # the public facts
    assert anonymous.get("s_fov") is None and anonymous.get("s_region") is None
    assert anonymous.get("s_resolution") is None


def test_a_run_with_broken_irf_tables_is_stored_and_its_row_has_no_field_of_view(store, settings, client, tmp_path):
    result = import_fits([broken_copy(tmp_path)])
    assert {w.code for w in result.warnings} >= {"W15"} and not result.failed
    services.ingest_prov(store, result.document, settings=settings)
    vot = parse(BytesIO(client.get("/obscore").data), verify="exception")
    (row,) = vot.get_first_table().to_table()
    assert row["obs_id"] == "23523" and row["em_min"] > 0  # the rest of the run is there
    assert np.ma.is_masked(row["s_fov"]) and np.ma.is_masked(row["s_resolution"]) and row["s_region"] == ""
