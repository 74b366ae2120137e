"""Issue 19's pages in a real browser (Chromium, real HTTP): from the sample's Crab product page,
"Compare with..." the PKS 2155-304 light curve, and "what depends on" one of its DL3 runs, with
AS_OF before and after the analysis was ingested. No console errors, no CSP violations;
screenshots go to artifacts/."""

from __future__ import annotations

import datetime as _dt
import re
from urllib.parse import quote

import pytest

from tests.web.test_browser import ARTIFACTS, browser, serving, watched  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser):  # noqa: F811 - the browser fixture
    with watched(browser, viewport={"width": 1280, "height": 800}) as pg:
        yield pg


def test_compare_and_impact_pages_from_the_sample_product(page, tmp_path):
    sample = pytest.importorskip("provhub.app.sample")
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    ARTIFACTS.mkdir(exist_ok=True)
    before = _dt.datetime.now(_dt.timezone.utc) - _dt.timedelta(days=1)
    with serving(tmp_path, *docs) as base:
        page.goto(base + "/records/" + quote(sample.SAMPLE_PRODUCT_ID, safe=""))
        page.get_by_role("link", name="Compare with…").click()
        page.wait_for_url(re.compile(r"/compare\?A="))
        page.get_by_label("Other product (id, file name or any alias)").fill("pks2155_hess_lc_3bins.fits")
        page.get_by_role("button", name="Compare").click()
        page.wait_for_url(re.compile(r"&B="))
        count = int(page.locator("#count strong").inner_text())
        assert count > 0
        sections = page.locator("main section h2").all_inner_texts()
        assert any("bservation" in s for s in sections), sections
        text = page.locator("main").inner_text()
        assert "23523" in text  # a Crab run that the PKS 2155-304 light curve was not made from
        page.screenshot(path=str(ARTIFACTS / "web-compare.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1280, f"the compare page is {width} px wide at 1280"
        page.get_by_role("link", name=re.compile("^What depends on")).click()
        page.wait_for_url(re.compile(r"/impacts\?ID="))
        assert page.locator("#affected strong").inner_text() == "0"  # nothing is made from the product

        # what depends on one DL3 run: the Crab product, linked to its record page
        page.goto(base + "/impacts?ID=" + quote("hess_dl3_dr1_obs_id_023523.fits.gz", safe=""))
        affected = int(page.locator("#affected strong").inner_text())
        assert affected >= 1
        assert page.locator("main table a", has_text="crab_hess_fp").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "web-impacts.png"), full_page=True)
        assert page.locator("main h2", has_text="What to re-run").count() == 1
        page.locator("main table a", has_text="crab_hess_fp").first.click()
        page.wait_for_url(re.compile(r"/records/"))
        assert "crab_hess_fp" in page.locator("h1").inner_text()

        # as the store knew it a day ago the run was not there: the page says so (404), as for
        # any unknown record
        answer = page.request.get(
            base
            + "/impacts?ID="
            + quote("hess_dl3_dr1_obs_id_023523.fits.gz", safe="")
            + "&AS_OF="
            + before.date().isoformat()
        )
        assert answer.status == 404 and "no record" in answer.text().lower(), answer.text()[:300]
