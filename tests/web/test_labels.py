"""The labels the pages and pictures show of the quick-start sample (issue 18): each error the
issue lists, fixed where the label is made (importers for what they assert, provhub.provdm.render and
provhub.provdm.audit for what they draw and list)."""

from __future__ import annotations

import re

import pytest
from prov.model import ProvDocument

from provhub.app import services
from provhub.importers import keywords
from provhub.provdm import audit_report
from provhub.provdm.audit import audit
from provhub.provdm.facts import noun, obs_id, read_facts, title
from provhub.provdm.render import to_dot

sample = pytest.importorskip("provhub.app.sample")


@pytest.fixture(scope="module")
def sample_docs():
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    return docs


@pytest.fixture(scope="module")
def merged(sample_docs):
    """Every record of the sample in one document."""
    doc = ProvDocument()
    for d in sample_docs:
        doc.update(d)
    return doc


@pytest.fixture(scope="module")
def flat(merged):
    """Every record of the sample, merged by id as a store merges them."""
    return read_facts(merged)


def _hdus(flat, run: str):
    return {el.short.rsplit("/", 1)[-1]: el for el in flat.elements.values() if f"obs_id_0{run}.fits.gz[" in title(el)}


def test_every_hdu_and_the_file_of_a_run_carry_its_obs_id(flat):
    hdus = _hdus(flat, "23523")
    assert {"EVENTS", "GTI", "AEFF", "EDISP", "PSF", "BKG"} <= set(hdus)
    assert {name: obs_id(el) for name, el in hdus.items()} == {name: "23523" for name in hdus}
    run_file = next(el for el in flat.elements.values() if title(el) == "hess_dl3_dr1_obs_id_023523.fits.gz")
    assert obs_id(run_file) == "23523"
    production = next(el for el in flat.elements.values() if title(el) == "DL3 production of observation 23523")
    assert obs_id(production) == "23523"


def test_the_irf_record_page_shows_its_obs_id(client, store, settings, sample_docs):
    for doc in sample_docs:
        services.ingest_prov(store, doc, settings=settings)
    found = client.get("/?q=obs_id_023559.fits.gz%5BBKG%5D").get_data(as_text=True)
    href = found.split('href="/records/', 1)[1].split('"', 1)[0]
    page = client.get("/records/" + href + "?depth=1").get_data(as_text=True)
    facts = page[page.index('<dl class="facts">') : page.index("</dl>")]
    assert "<dt>OBS_ID</dt><dd>23559</dd>" in facts


def test_a_description_label_says_its_version_once(merged):
    dot = to_dot(merged, node_cap=10_000)
    assert "GADF EVENTS 0.2" in dot
    assert "0.2 0.2" not in dot


def test_the_instrument_is_not_named_twice(flat):
    instruments = [title(el) for el in flat.elements.values() if el.short.startswith("phinst:")]
    assert instruments == ["H.E.S.S. Phase I"]
    assert keywords.instrument_label("HESS", "H.E.S.S. Phase I") == "H.E.S.S. Phase I"
    assert keywords.instrument_label("CTA-North", "LST") == "CTA-North LST"
    assert keywords.instrument_label(None, "LST") == "LST"


def test_the_analysis_has_one_label(flat):
    analyses = [el for el in flat.elements.values() if noun(el) == "analysis"]
    labels = sorted(tuple(str(v) for v in el.values("label")) for el in analyses)
    assert labels == [
        ("gammapy analysis of Crab producing crab_hess_fp.fits",),
        ("gammapy analysis of source producing pks2155_hess_lc_3bins.fits",),
    ]


def test_the_audit_lists_irfs_sorted(merged):
    report = audit(merged, roots=[sample.SAMPLE_PRODUCT_ID])
    names = [i["name"] for i in report.summary["irfs"]]  # 4 IRF HDUs of each of the 5 runs
    assert len(names) == 20 and names == sorted(names, key=str.lower)
    text = audit_report.write_text(report)
    assert text.index("obs_id_023523.fits.gz[AEFF]") < text.index("obs_id_023523.fits.gz[BKG]")


def test_the_records_of_a_run_fold_into_one_node_named_by_its_obs_id(merged):
    dot = to_dot(merged, by_observation=True, node_cap=10_000)
    runs = re.findall(r"<B>OBS_ID (\d+)</B>", dot)
    assert {"23523", "23526", "23559", "23592"} <= set(runs) and len(runs) == len(set(runs))
    assert "IRFs AEFF BKG EDISP PSF" in dot and "obs_id_023523.fits.gz[EVENTS]</B>" not in dot
    gid = re.search(r'<B>OBS_ID 23523</B>[^\n]*id="group-(g[0-9a-f]{12})"[^\n]*URL="#expand=\1"', dot)
    assert gid
    opened = to_dot(merged, by_observation=True, node_cap=10_000, expand=[gid.group(1)])
    assert set(re.findall(r"<B>OBS_ID (\d+)</B>", opened)) == set(runs) - {"23523"}
    assert "obs_id_023523.fits.gz[EVENTS]</B>" in opened and "obs_id_023526.fits.gz[EVENTS]</B>" not in opened
    assert "obs_id_023526.fits.gz[EVENTS]</B>" in to_dot(merged, node_cap=10_000)  # downloads draw every record
