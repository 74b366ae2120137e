"""FITS header importer on the real files of data/ and on headers written here with astropy."""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
import tracemalloc
import warnings

import numpy as np
import pytest
from astropy.io import fits
from prov.model import ProvDocument

from provhub.importers import import_fits, import_fits_bytes
from provhub.importers.base import literal, parse_time
from provhub.importers.fits import COMMENTARY, attribute_name
from provhub.provdm.codec import canonical_hash

from .conftest import FITS_NS, PROV_NS, PROVHUB_NS, VOPROV_NS, Records

MUSE = "data/fits-provenance/eso-muse-mpdaf/PAE_July2013.fits.gz"
HST = "data/fits-provenance/hst-history-mpdaf/HST-HDFS.fits"
FERMI = "data/fits-provenance/fermi-template-history/HB9.fits.gz"
DL3 = "data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_023523.fits.gz"
PROD5 = "data/irf/cta-prod5/Prod5-North-20deg-AverageAz-4LSTs09MSTs.180000s-v0.1.fits.gz"
SPECTRUM = "data/dl5/gadf-examples/1es0229_hess_spectrum.fits"
ID = "https://provhub.org/id/"


def imported(*paths, **kw):
    result = import_fits(list(paths), **kw)
    return result, Records(result.document)


def hdu_entity(records: Records, file_iri: str, index: int) -> str:
    for rel in records.related("hadMember", src=file_iri):
        if records.values(rel.dst, PROVHUB_NS + "hduIndex") == [index]:
            return rel.dst
    raise AssertionError(f"no HDU {index} in {file_iri}")


def headers(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with fits.open(path) as hdul:
            return [hdu.header.copy() for hdu in hdul]


# -- nothing dropped ---------------------------------------------------------------------------


def test_every_card_of_every_file_is_an_attribute_of_its_hdu():
    result, records = imported("data", recursive=True)
    assert len(result.files) == 18 and not result.failed
    checked = 0
    for status in result.files:
        for index, header in enumerate(headers(status.path)):
            hid = hdu_entity(records, status.entity, index)
            for card in header.cards:
                if card.keyword in COMMENTARY:
                    lines = records.values(hid, attribute_name(card.keyword).uri)[0].split("\n")
                    assert str(card.value) in lines
                else:
                    name = attribute_name(card.keyword).uri
                    assert literal(card.value) in records.values(hid, name), (status.path, card.keyword)
                checked += 1
    assert checked == result.keywords == 20017


def test_hst_history_kept_in_order():
    result, records = imported(HST)
    for index, header in enumerate(headers(HST)):
        hid = hdu_entity(records, result.files[0].entity, index)
        history = records.fits(hid, "HISTORY")
        assert len(history) == 1
        assert history[0].split("\n") == [str(v) for v in header["HISTORY"]]
        assert len(header["HISTORY"]) == 31


def test_hst_calibration_reference_files_are_used():
    result, records = imported(HST)
    gen = records.related("wasGeneratedBy", src=result.files[0].entity)[0].dst
    used = {r.dst: r for r in records.related("used", src=gen)}
    mask = ID + "file/name/f8213081u.r0h"
    assert mask in used and records.values(mask, PROVHUB_NS + "reference") == ["uref$f8213081u.r0h"]
    roles = {plain_role(r) for r in used.values()}
    assert {"MASKFILE", "BIASFILE", "DARKFILE", "FLATFILE", "drizzle input"} <= roles
    assert any(w.code == "W06" for w in result.warnings)


def plain_role(rel):
    return next(v for n, v in rel.attrs if n["qn"][1] == "role")


def test_fermi_template_keeps_its_90_history_cards():
    result, records = imported(FERMI)
    hid = hdu_entity(records, result.files[0].entity, 0)
    lines = records.fits(hid, "HISTORY")[0].split("\n")
    assert len(lines) == 90
    assert lines[-1].startswith("File modified by user 'miguel'")
    assert "coordinates = Galactic" in lines


def test_repeated_comments_keyword_keeps_every_value():
    result, records = imported(SPECTRUM)
    hid = hdu_entity(records, result.files[0].entity, 1)
    assert sorted(records.fits(hid, "COMMENTS")) == sorted(
        ["Name=1ES0229+200_HESS_2005-2006", "LiveTime(h)=70.2", "Excess=261", "significance=6.6"]
    )
    assert [w.code for w in result.warnings] == ["W03"]
    assert result.files[0].status == "warnings"


# -- mappings on real files --------------------------------------------------------------------


def test_muse_product_traces_to_its_raw_frame_recipe_and_parameters():
    result, records = imported(MUSE)
    product = result.files[0].entity
    assert product == ID + "file/md5-635fa220693ef7c72870819443146fd9"  # ESO DATAMD5 identity
    rec1 = product + "/REC1"
    assert records.related("wasGeneratedBy", src=product, dst=rec1)
    raw = ID + "file/name/MUSE_CAL_BIAS157_0001.fits"
    assert raw in records.closure(product)
    usage = records.related("used", src=rec1, dst=raw)[0]
    assert plain_role(usage) == "BIAS"
    agents = {r.dst for r in records.related("wasAssociatedWith", src=rec1)}
    assert {ID + "agent/software/muse/0.07.00", ID + "agent/software/cpl/6.3"} <= agents
    params = {
        records.values(r.dst, VOPROV_NS + "name")[0]: records.values(r.dst, VOPROV_NS + "value")[0]
        for r in records.related("wasInfluencedBy", src=rec1)
        if VOPROV_NS + "Parameter" in records.values(r.dst, PROV_NS + "type")
    }
    assert params == {"wrange": "MUSE", "wmin": "4650", "wmax": "9300", "nifu": "0"}


def test_hess_dl3_run_maps_obs_id_hdu_classes_and_production():
    result, records = imported(DL3)
    file_iri = result.files[0].entity
    events = hdu_entity(records, file_iri, 1)
    assert records.values(events, PROVHUB_NS + "obsId") == [23523]
    assert records.values(events, PROVHUB_NS + "hduClass") == ["GADF/EVENTS"]
    production = ID + "obs/HESS/23523/dl3-production"
    gen = records.related("wasGeneratedBy", src=events, dst=production)
    assert gen and dict((n["qn"][1], v) for n, v in gen[0].attrs)["time"] == {"time": "2018-05-06T09:14:31+00:00"}
    assert records.related("wasInformedBy", src=production, dst=ID + "obs/HESS/23523")
    assert records.related(
        "wasAssociatedWith", src=production, dst=ID + "agent/software/SASH%20FITS%3A%3AEventListWriter"
    )
    aeff = hdu_entity(records, file_iri, 3)
    desc = records.related("wasInfluencedBy", src=aeff)[0].dst
    assert desc == ID + "description/GADF/RESPONSE/EFF_AREA/FULL-ENCLOSURE/AEFF_2D/0.2"
    assert records.values(desc, VOPROV_NS + "docurl") == [
        "https://github.com/open-gamma-ray-astro/gamma-astro-data-formats"
    ]


def test_cta_prod5_irf_hdus_and_author():
    result, records = imported(PROD5)
    file_iri = result.files[0].entity
    classes = {records.values(hdu_entity(records, file_iri, i), PROVHUB_NS + "hduClass")[0] for i in range(1, 5)}
    assert classes == {
        "GADF/RESPONSE/EFF_AREA/FULL-ENCLOSURE/AEFF_2D",
        "GADF/RESPONSE/PSF/FULL-ENCLOSURE/PSF_3GAUSS",
        "GADF/RESPONSE/EDISP/FULL-ENCLOSURE/EDISP_2D",
        "GADF/RESPONSE/BKG/FULL-ENCLOSURE/BKG_3D",
    }
    attributed = {r.dst for r in records.related("wasAttributedTo", src=file_iri)}
    assert {ID + "agent/person/G.Maier", ID + "agent/org/CTAO"} <= attributed


@pytest.mark.parametrize(
    "path",
    ["data/irf/gadf-examples/aeff_2d_full_example.fits", "data/irf/gadf-examples/rad_max_2d_point-like_example.fits"],
)
def test_gadf_minimal_examples_import_without_activity(path):
    result, records = imported(path)
    assert result.files[0].status == "ok" and not result.warnings
    assert not [n for n in records.nodes.values() if n.kind == "activity"]
    hdu = hdu_entity(records, result.files[0].entity, 1)
    assert records.fits(hdu, "HDUCLAS1") == ["RESPONSE"]


# -- ctapipe CTA reference metadata, written here as ctapipe writes it -------------------------

PRODUCT_ID = "4a7b2c1e-8f3d-4e2a-9b6c-1d2e3f4a5b6c"
ACTIVITY_ID = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"
LONG_DESCRIPTION = (
    "DL2 event list of the Crab Nebula, stereo reconstruction with the "
    "HillasReconstructor and random-forest energy and gammaness models, "
    "processed for the provhub importer test"
)


def ctapipe_header(prefix: str = "CTA") -> fits.Header:
    header = fits.Header()
    cards = {
        "REFERENCE VERSION": "1",
        "CONTACT EMAIL": "jane.doe@example.org",
        "CONTACT NAME": "Jane Doe",
        "CONTACT ORGANIZATION": "CTAO",
        "PRODUCT CREATION TIME": "2024-03-01 12:34:56.789",
        "PRODUCT DATA ASSOCIATION": "Subarray",
        "PRODUCT DATA CATEGORY": "Sim",
        "PRODUCT DATA LEVELS": "DL1_PARAMETERS,DL2",
        "PRODUCT DATA MODEL NAME": "ASWG",
        "PRODUCT DATA MODEL URL": "https://example.org/dm",
        "PRODUCT DATA MODEL VERSION": "6.0.0",
        "PRODUCT DESCRIPTION": LONG_DESCRIPTION,
        "PRODUCT FORMAT": "fits",
        "PRODUCT ID": PRODUCT_ID,
        "PROCESS ID": "23523,23526",
        "PROCESS SUBTYPE": "",
        "PROCESS TYPE": "Simulation",
        "ACTIVITY ID": ACTIVITY_ID,
        "ACTIVITY NAME": "ctapipe-process",
        "ACTIVITY SOFTWARE NAME": "ctapipe",
        "ACTIVITY SOFTWARE VERSION": "0.19.2",
        "ACTIVITY START TIME": "2024-03-01 12:00:00.123",
        "ACTIVITY STOP TIME": "2024-03-01 12:34:50.000",
        "ACTIVITY TYPE": "software",
        "INSTRUMENT CLASS": "Subarray",
        "INSTRUMENT ID": "alpha",
        "INSTRUMENT SITE": "CTAO-South",
        "INSTRUMENT SUBTYPE": "",
        "INSTRUMENT TYPE": "Array",
        "INSTRUMENT VERSION": "1",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # astropy notes that it uses HIERARCH and CONTINUE
        for key, value in cards.items():
            header[f"HIERARCH {prefix} {key}"] = value
    return header


def write_ctapipe_file(path, prefix="CTA"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits.HDUList(
            [
                fits.PrimaryHDU(header=ctapipe_header(prefix)),
                fits.BinTableHDU.from_columns([fits.Column("x", "E", array=np.arange(3.0))], name="EVENTS"),
            ]
        ).writeto(path)
    return str(path)


@pytest.mark.parametrize("prefix", ["CTA", "CTAO"])
def test_ctapipe_reference_metadata(tmp_path, prefix):
    path = write_ctapipe_file(tmp_path / "dl2.fits", prefix)
    raw = open(path, "rb").read()
    assert b"CONTINUE" in raw and f"HIERARCH {prefix} PRODUCT ID".encode() in raw
    result, records = imported(path)
    product = ID + "cta/product/" + PRODUCT_ID
    activity = ID + "cta/activity/" + ACTIVITY_ID
    assert result.files[0].entity == product
    assert records.values(product, VOPROV_NS + "comment") == [LONG_DESCRIPTION]
    assert records.values(product, PROVHUB_NS + "dataLevels") == ["DL1_PARAMETERS,DL2"]
    gen = records.related("wasGeneratedBy", src=product, dst=activity)[0]
    assert dict((n["qn"][1], v) for n, v in gen.attrs)["time"] == {"time": "2024-03-01T12:34:56.789000+00:00"}
    assert records.values(activity, PROV_NS + "startTime") == ["2024-03-01T12:00:00.123000+00:00"]
    assert records.values(activity, PROVHUB_NS + "stopTimeInHeader") == ["2024-03-01T12:34:50+00:00"]
    assert records.related("wasAssociatedWith", src=activity, dst=ID + "agent/software/ctapipe/0.19.2")
    person = ID + "agent/person/jane.doe%40example.org"
    assert records.related("wasAttributedTo", src=product, dst=person)
    assert records.related("actedOnBehalfOf", src=person, dst=ID + "agent/org/CTAO")
    instrument = [r.dst for r in records.related("used", src=activity)]
    assert instrument == [ID + "instrument/cta/CTAO-South/Subarray/Array/_/1/alpha"]
    assert records.related("wasInformedBy", src=activity, dst=ID + "cta/activity/process/Simulation/23523%2C23526")
    model = records.related("wasInfluencedBy", src=product)[0].dst
    assert records.values(model, VOPROV_NS + "version") == ["6.0.0"]


# -- identity, idempotency ---------------------------------------------------------------------


def test_same_file_twice_gives_the_same_document():
    first = import_fits([DL3, MUSE]).document
    second = import_fits([DL3, MUSE]).document
    assert canonical_hash(first) == canonical_hash(second)


def test_compressed_copy_and_header_only_upload_share_the_file_identity(tmp_path):
    plain_copy = tmp_path / "run.fits"
    plain_copy.write_bytes(gzip.decompress(open(DL3, "rb").read()))
    ids = {import_fits([DL3]).files[0].entity, import_fits([str(plain_copy)]).files[0].entity}
    header_blocks = b"".join(h.tostring().encode() for h in headers(DL3))
    upload = import_fits_bytes(header_blocks, filename="run.fits")
    assert not upload.failed
    ids.add(upload.files[0].entity)
    text_upload = import_fits_bytes("\nEND\n".join(h.tostring(sep="\n") for h in headers(DL3)).encode())
    ids.add(text_upload.files[0].entity)
    ids.add(import_fits_bytes(open(DL3, "rb").read(), filename="run.fits.gz").files[0].entity)
    ids.add(import_fits_bytes(gzip.compress(header_blocks), filename="run.hdr.gz").files[0].entity)
    assert len(ids) == 1
    (tmp_path / "run.hdr").write_text("\n".join(h.tostring(sep="\n") for h in headers(DL3)))
    assert import_fits([str(tmp_path / "run.hdr")]).files[0].entity in ids
    truncated = open(DL3, "rb").read()[:200_000]
    assert import_fits_bytes(truncated, filename="cut.fits.gz").files[0].status == "failed"


# -- broken input ------------------------------------------------------------------------------


def test_broken_files_are_reported_and_the_batch_goes_on(tmp_path):
    data = gzip.decompress(open(DL3, "rb").read())
    (tmp_path / "truncated.fits").write_bytes(data[: len(data) // 2])
    (tmp_path / "cut-header.fits").write_bytes(data[: 2880 * 3 + 100])
    raw = open(DL3, "rb").read()
    (tmp_path / "truncated.fits.gz").write_bytes(raw[: len(raw) // 2])
    (tmp_path / "notes.fits").write_text("this is not FITS")
    (tmp_path / "empty.fits").write_bytes(b"")
    shutil.copy(SPECTRUM, tmp_path / "good.fits")
    result, records = imported(str(tmp_path), str(tmp_path / "missing.fits"))
    status = {f.path.rsplit("/", 1)[-1]: f for f in result.files}
    assert status["good.fits"].status == "warnings"  # its repeated COMMENTS (W03)
    for name in ("truncated.fits", "cut-header.fits", "truncated.fits.gz", "notes.fits", "empty.fits", "missing.fits"):
        assert status[name].status == "failed", name
        assert any(w.code == "W01" and w.file.endswith(name) for w in result.warnings)
    assert status["good.fits"].entity in records.nodes
    assert (
        len(
            [
                n
                for n in records.nodes.values()
                if PROVHUB_NS + "FitsFile" in [records.values(n.id, PROV_NS + "type")][0]
            ]
        )
        == 1
    )


def test_string_obs_id_duplicate_extname_and_bad_time_are_warnings(tmp_path):
    primary = fits.PrimaryHDU()
    primary.header["DATE"] = "yesterday"
    events = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=[1.0])], name="EVENTS")
    events.header.update({"HDUCLASS": "GADF", "HDUCLAS1": "EVENTS", "OBS_ID": "23523", "TELESCOP": "HESS"})
    twin = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=[2.0])], name="EVENTS")
    fits.HDUList([primary, events, twin]).writeto(tmp_path / "odd.fits")
    result, records = imported(str(tmp_path / "odd.fits"))
    codes = {w.code for w in result.warnings}
    assert {"W04", "W05", "W12"} <= codes
    assert result.files[0].status == "warnings"
    assert ID + "obs/HESS/23523/dl3-production" in records.nodes
    assert hdu_entity(records, result.files[0].entity, 2).endswith("/HDU2")


def test_headers_of_a_50_mb_file_are_read_with_flat_memory(tmp_path):
    path = tmp_path / "big.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(np.zeros((2500, 2500), dtype=">f8")),
            fits.ImageHDU(np.zeros((10, 10), dtype=">f4"), name="SMALL"),
        ]
    ).writeto(path)
    assert path.stat().st_size > 50_000_000
    tracemalloc.start()
    result = import_fits([str(path)])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.files[0].status == "ok" and result.files[0].hdus == 2
    assert peak < 5_000_000


# -- references between files of one import ----------------------------------------------------


def test_directory_import_links_eso_raw_calibration_and_provi_references(tmp_path):
    raw = fits.PrimaryHDU()
    raw.header["ORIGFILE"] = "MUSE_RAW_0001.fits"
    raw.writeto(tmp_path / "archive_raw.fits")
    cal = fits.PrimaryHDU()
    cal.header["DATAMD5"] = "0123456789abcdef0123456789abcdef"
    cal.header["PIPEFILE"] = "MASTER_BIAS.fits"
    cal.writeto(tmp_path / "master_bias.fits")
    product = fits.PrimaryHDU()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        product.header.update(
            {
                "HIERARCH ESO PRO CATG": "PIXTABLE_OBJECT",
                "HIERARCH ESO PRO REC1 ID": "muse_scibasic",
                "HIERARCH ESO PRO REC1 PIPE ID": "muse/2.8.7",
                "HIERARCH ESO PRO REC1 RAW1 NAME": "MUSE_RAW_0001.fits",
                "HIERARCH ESO PRO REC1 RAW1 CATG": "OBJECT",
                "HIERARCH ESO PRO REC1 CAL1 NAME": "MASTER_BIAS.fits",
                "HIERARCH ESO PRO REC1 CAL1 CATG": "MASTER_BIAS",
                "HIERARCH ESO PRO REC1 CAL1 DATAMD5": "0123456789abcdef0123456789abcdef",
                "HIERARCH ESO PRO REC2 ID": "muse_bias",
                "HIERARCH ESO PRO REC2 PIPE ID": "muse/2.8.7",
                "PROV1": "archive_raw.fits",
            }
        )
    product.writeto(tmp_path / "product.fits")
    result, records = imported(str(tmp_path))
    files = {f.path.rsplit("/", 1)[-1]: f.entity for f in result.files}
    assert files["master_bias.fits"] == ID + "file/md5-0123456789abcdef0123456789abcdef"
    rec1 = files["product.fits"] + "/REC1"
    assert records.related("used", src=rec1, dst=files["archive_raw.fits"])
    assert records.related("used", src=rec1, dst=files["master_bias.fits"])
    assert records.related("wasInformedBy", src=rec1, dst=files["product.fits"] + "/REC2")
    assert records.related("wasDerivedFrom", src=files["product.fits"], dst=files["archive_raw.fits"])
    assert {files["archive_raw.fits"], files["master_bias.fits"]} <= records.closure(files["product.fits"])
    assert not [w for w in result.warnings if w.code == "W06"]


def test_caldb_irf_pointer_resolves_to_the_irf_file(tmp_path, monkeypatch):
    folder = tmp_path / "caldb" / "data" / "cta" / "1dc" / "bcf" / "South_z20_50h"
    folder.mkdir(parents=True)
    shutil.copy("data/irf/gadf-examples/aeff_2d_full_example.fits", folder / "irf_file.fits")
    events = fits.BinTableHDU.from_columns([fits.Column("TIME", "D", array=[1.0])], name="EVENTS")
    events.header.update(
        {"HDUCLAS1": "EVENTS", "OBS_ID": 110380, "TELESCOP": "CTA", "CALDB": "1dc", "IRF": "South_z20_50h"}
    )
    fits.HDUList([fits.PrimaryHDU(), events]).writeto(tmp_path / "events.fits")
    irf_id = import_fits([str(folder / "irf_file.fits")]).files[0].entity
    _, without = imported(str(tmp_path / "events.fits"))
    assert ID + "file/caldb/cta/1dc/South_z20_50h" in without.nodes
    monkeypatch.setenv("CALDB", str(tmp_path / "caldb"))
    _, records = imported(str(tmp_path / "events.fits"))
    production = ID + "obs/CTA/110380/dl3-production"
    assert records.related("used", src=production, dst=irf_id)


# -- units -------------------------------------------------------------------------------------


def test_times_are_utc_aware():
    assert parse_time("2024-03-01 12:34:56.789") == dt.datetime(2024, 3, 1, 12, 34, 56, 789000, tzinfo=dt.timezone.utc)
    assert parse_time("2018-05-06T09:14:31").tzinfo == dt.timezone.utc
    assert parse_time("28/09/98") == dt.datetime(1998, 9, 28, tzinfo=dt.timezone.utc)
    assert parse_time("2024-01-01T01:00:00+01:00") == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    assert parse_time("yesterday") is None


def test_attribute_names_are_xml_names():
    assert attribute_name("ESO PRO CATG").uri == FITS_NS + "ESO.PRO.CATG"
    assert attribute_name("DATE-OBS").localpart == "DATE-OBS"
    assert attribute_name("1ABC").localpart == "_1ABC"
    assert attribute_name("").localpart == "_blank_cards"


def test_imported_documents_serialise_in_every_prov_syntax():
    doc = import_fits([DL3, MUSE, FERMI]).document
    for fmt in ("json", "provn", "xml"):
        assert doc.serialize(format=fmt)
    back = ProvDocument.deserialize(content=doc.serialize(format="xml"), format="xml")
    assert canonical_hash(back) == canonical_hash(doc)


def test_software_names_and_versions():
    from provhub.importers.keywords import split_version

    assert split_version("Gammapy 2.0.dev1650+g774105d36") == ("Gammapy", "2.0.dev1650+g774105d36")
    assert split_version("muse/0.07.00") == ("muse", "0.07.00")
    assert split_version("cpl-6.3") == ("cpl", "6.3")
    assert split_version("CFITSIO V3.47") == ("CFITSIO", "3.47")
    assert split_version("SASH FITS::EventListWriter") == ("SASH FITS::EventListWriter", None)
