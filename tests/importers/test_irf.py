"""IRF summaries: the FITS importer reads the offset axis of the effective area and the PSF table
of the real H.E.S.S. DR1 runs (and CTA prod5's PSF_3GAUSS) into attributes of their HDU entities;
broken or oversized tables written here with astropy give a W15 and no summary, never a failed
import. The expected values are computed here from the files with astropy and numpy, by other
formulas than the importer's (small-angle annuli, numpy interpolation, a sampled 3-Gauss profile).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from astropy import units as u
from astropy.io import fits

from provhub.importers import import_fits, irf

from .conftest import CRAB_RUNS, PROVHUB_NS, Records

RUN = "data/dl3/hess-dl3-dr1/data/hess_dl3_dr1_obs_id_{:06d}.fits.gz"
PROD5 = "data/irf/cta-prod5/Prod5-North-20deg-AverageAz-4LSTs09MSTs.180000s-v0.1.fits.gz"
SUMMARY = [PROVHUB_NS + name for name in ("fovDiameterDeg", "psfR68Deg", "psfEnergyTeV", "psfOffsetDeg")]


def expected_dl3(path) -> dict:
    """What a DR1 run's IRF tables say, computed with astropy: the field of view (twice the largest
    THETA_HI of AEFF, in deg), the pointing, and the PSF's 68 % radius at 1 TeV and at the
    offset nearest 0.5 deg (deg): the containment of RPSF over small-angle annuli pi (r2^2 - r1^2)
    at each energy bin, then interpolated in log E to 1 TeV."""
    with fits.open(path) as hdul:
        aeff = hdul["AEFF"]
        theta = aeff.data["THETA_HI"][0] * u.Unit(aeff.columns["THETA_HI"].unit)
        psf = hdul["PSF"].data[0]
        events = hdul["EVENTS"].header
        offsets = (psf["THETA_LO"] + psf["THETA_HI"]) / 2
        t = int(np.argmin(np.abs(offsets - 0.5)))
        area = np.pi * (np.radians(psf["RAD_HI"]) ** 2 - np.radians(psf["RAD_LO"]) ** 2)
        radii = []
        for e in range(psf["ENERG_LO"].size):
            mass = np.cumsum(psf["RPSF"][:, t, e] * area)
            if mass[-1] <= 0:
                radii.append(np.nan)
                continue
            radii.append(np.interp(0.68, np.r_[0, mass / mass[-1]], np.r_[psf["RAD_LO"][0], psf["RAD_HI"]]))
        log_e = np.log10(np.sqrt(psf["ENERG_LO"] * psf["ENERG_HI"]))
        return {
            "fov": 2 * float(theta.max().to_value(u.deg)),
            "r68": float(np.interp(0.0, log_e, radii)),
            "offset": float(offsets[t]),
            "ra": float(events["RA_PNT"]),
            "dec": float(events["DEC_PNT"]),
        }


def hdus(records: Records) -> dict[str, str]:
    """{HDU name: HDU entity id} of the imported files."""
    return {
        records.values(n, PROVHUB_NS + "hduName")[0]: n
        for n in records.nodes
        if records.values(n, PROVHUB_NS + "hduName")
    }


@pytest.mark.parametrize("obs_id", CRAB_RUNS)
def test_dl3_runs_keep_their_field_of_view_and_psf_radius(obs_id):
    result = import_fits([RUN.format(obs_id)])
    records = Records(result.document)
    by_name = hdus(records)
    want = expected_dl3(RUN.format(obs_id))
    assert want["fov"] == 5.0 and want["offset"] == 0.5  # DR1: offsets 0 to 2.5 deg, a node at 0.5
    assert records.values(by_name["AEFF"], SUMMARY[0]) == [pytest.approx(want["fov"])]
    assert records.values(by_name["PSF"], SUMMARY[1]) == [pytest.approx(want["r68"], rel=1e-4)]
    assert records.values(by_name["PSF"], SUMMARY[2]) == [1.0]
    assert records.values(by_name["PSF"], SUMMARY[3]) == [want["offset"]]
    assert 0.05 < want["r68"] < 0.2  # H.E.S.S. at 1 TeV: about 0.1 deg
    for name in ("EVENTS", "GTI", "EDISP", "BKG"):  # BKG_3D has no offset axis; nothing else is read
        assert not any(records.values(by_name[name], s) for s in SUMMARY), name
    assert not [w for w in result.warnings if w.code == "W15"]


def test_cta_prod5_three_gauss_psf_radius():
    """PSF_3GAUSS (prod5 writes one Gaussian: AMPL_2 = AMPL_3 = 0): the radius where the sampled
    profile, summed over annuli, reaches 68 %, at 1 TeV (log-E interpolation) and offset 0.5."""
    records = Records(import_fits([PROD5]).document)
    with fits.open(PROD5) as hdul:
        psf = hdul["POINT SPREAD FUNCTION"].data[0]
        aeff = hdul["EFFECTIVE AREA"].data[0]
    t = int(np.argmin(np.abs((psf["THETA_LO"] + psf["THETA_HI"]) / 2 - 0.5)))
    r = np.linspace(0, 1.0, 200_001)
    radii = []
    for e in range(psf["ENERG_LO"].size):
        profile = np.exp(-(r**2) / (2 * psf["SIGMA_1"][t, e] ** 2))
        for n in (2, 3):
            if psf[f"AMPL_{n}"][t, e] > 0:
                profile += psf[f"AMPL_{n}"][t, e] * np.exp(-(r**2) / (2 * psf[f"SIGMA_{n}"][t, e] ** 2))
        mass = np.cumsum(profile * r)
        radii.append(np.interp(0.68, mass / mass[-1], r))
    log_e = np.log10(np.sqrt(psf["ENERG_LO"] * psf["ENERG_HI"]))
    want = float(np.interp(0.0, log_e, radii))
    by_name = hdus(records)
    assert records.values(by_name["POINT SPREAD FUNCTION"], SUMMARY[1]) == [pytest.approx(want, rel=1e-3)]
    assert records.values(by_name["EFFECTIVE AREA"], SUMMARY[0]) == [2 * float(aeff["THETA_HI"].max())]


def broken_copy(tmp_path, obs_id: int = 23523) -> str:
    """A copy of a DR1 run whose AEFF offset axis is in metres and whose PSF lacks RPSF."""
    path = tmp_path / f"broken_{obs_id}.fits"
    with fits.open(RUN.format(obs_id)) as hdul:
        hdul["AEFF"].columns["THETA_HI"].unit = "m"
        hdul["AEFF"].header["TUNIT4"] = "m"
        psf = hdul["PSF"]
        cols = [c for c in psf.columns if c.name != "RPSF"]
        new = fits.BinTableHDU.from_columns(cols, header=psf.header)
        hdul[hdul.index_of("PSF")] = new
        hdul.writeto(path)
    return str(path)


def test_broken_irf_tables_import_without_a_summary_and_with_w15(tmp_path):
    path = broken_copy(tmp_path)
    result = import_fits([path])
    (status,) = result.files
    assert status.status == "warnings" and not result.failed  # imported, with findings
    records = Records(result.document)
    by_name = hdus(records)
    assert len(by_name) == 7  # every HDU is there, with its cards
    assert records.values(by_name["AEFF"], "https://provhub.org/ns/fits#TUNIT4") == ["m"]
    for name in by_name:
        assert not any(records.values(by_name[name], s) for s in SUMMARY), name
    found = {w.message for w in result.warnings if w.code == "W15"}
    assert any("HDU AEFF" in m and "THETA_HI is in 'm', not an angle" in m for m in found), found
    assert any("HDU PSF" in m and "no RPSF column" in m for m in found), found


def test_an_oversized_or_non_finite_irf_table_is_not_read(tmp_path, monkeypatch):
    path = tmp_path / "nan.fits"
    with fits.open(RUN.format(23526)) as hdul:
        hdul["AEFF"].data["THETA_HI"][0][-1] = np.nan
        hdul.writeto(path)
    result = import_fits([str(path)])
    assert not result.failed
    assert any("HDU AEFF" in w.message and "THETA_HI is empty or not finite" in w.message for w in result.warnings)
    monkeypatch.setattr(irf, "MAX_TABLE_BYTES", 1000)  # DR1's PSF table is 112 kB, its AEFF 2.3 kB
    result = import_fits([RUN.format(23526)])
    messages = [w.message for w in result.warnings if w.code == "W15"]
    assert len(messages) == 2 and all("more than the 1000 read" in m for m in messages), messages
    assert not any(Records(result.document).values(n, s) for n in Records(result.document).nodes for s in SUMMARY)


def test_an_irf_column_of_text_is_refused(tmp_path):
    """THETA_HI written as characters: not numbers; the import goes on."""
    path = tmp_path / "text.fits"
    with fits.open(RUN.format(23559)) as hdul:
        aeff = hdul["AEFF"]
        cols = [
            fits.Column("THETA_HI", "6A", unit="deg", array=["abcdef"]) if c.name == "THETA_HI" else c
            for c in aeff.columns
        ]
        hdul[hdul.index_of("AEFF")] = fits.BinTableHDU.from_columns(cols, header=aeff.header)
        hdul.writeto(path)
    result = import_fits([str(path)])
    assert not result.failed and len(Records(result.document).nodes) > 7
    (message,) = [w.message for w in result.warnings if w.code == "W15"]
    assert message == (
        "HDU AEFF (GADF/RESPONSE/EFF_AREA/FULL-ENCLOSURE/AEFF_2D): THETA_HI is not a numeric column "
        "(TFORM '6A'); no summary kept"
    )


def test_a_table_the_summary_cannot_parse_is_a_reason_not_a_crash(tmp_path):
    """A TDIM that is not a list of numbers: whatever fails while reading is a W15 reason."""
    path = tmp_path / "tdim.fits"
    with fits.open(RUN.format(23559)) as hdul:
        hdul["PSF"].header["TDIM7"] = "(x,6,144)"
        hdul.writeto(path, output_verify="silentfix")
    result = import_fits([str(path)])
    assert not result.failed and result.files[0].status == "warnings"
    (message,) = [w.message for w in result.warnings if w.code == "W15"]
    assert message.startswith(
        "HDU PSF (GADF/RESPONSE/RPSF/FULL-ENCLOSURE/PSF_TABLE): cannot read the table: ValueError"
    )
    aeff = hdus(Records(result.document))["AEFF"]
    assert Records(result.document).values(aeff, SUMMARY[0]) == [5.0]  # the other HDUs keep theirs


def test_a_truncated_run_still_fails_as_before(tmp_path):
    """The summary reads nothing of a file the importer refuses: a truncated run is W01."""
    raw = tmp_path / "run.fits"
    with fits.open(RUN.format(23523)) as hdul:
        hdul.writeto(raw)
    data = raw.read_bytes()
    cut = tmp_path / "cut.fits"
    cut.write_bytes(data[: math.floor(len(data) * 0.8)])
    result = import_fits([str(cut)])
    assert [f.status for f in result.files] == ["failed"]
