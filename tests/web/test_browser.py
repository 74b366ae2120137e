"""The lineage web page in a real browser: Debian's headless Chromium driven by Playwright.

The app runs on a free 127.0.0.1 port in a thread (werkzeug ``make_server``) over a SQLite store
holding a lineage. Screenshots go to ``artifacts/`` (kept by CI as artifacts).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from prov.model import ProvDocument
from werkzeug.serving import make_server

from provhub.app import create_app, services
from provhub.app.config import Settings
from provhub.app.stores import open_store
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("PROVHUB_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "artifacts"
KNOWN = (ROOT / "tests" / "fixtures" / "known_graph.provn").read_text()
EX = "http://example.org/cta#"


def fan_in(runs: int) -> str:
    """A product made from ``runs`` DL3 event lists (enough to be collapsed in the picture)."""
    lines = [
        "document",
        "  prefix ex <http://example.org/cta#>",
        "  activity(ex:stack)",
        '  entity(ex:stacked, [prov:label="stacked DL4 cube"])',
        "  wasGeneratedBy(ex:stacked, ex:stack, -)",
    ]
    for i in range(runs):
        lines += [
            f'  entity(ex:ev{i}, [prov:label="DL3 event list {i}", ex:obs_id={2000 + i}])',
            f"  used(ex:stack, ex:ev{i}, -)",
        ]
    return "\n".join(lines + ["endDocument"])


@contextlib.contextmanager
def serving(tmp_path: Path, *docs: str | ProvDocument, **overrides):
    """Base URL of the app on a free local port, over a SQLite store holding ``docs`` (PROV-N
    texts or documents)."""
    settings = dataclasses.replace(Settings(store_url=f"sqlite:///{tmp_path / 'web.db'}", sample="off"), **overrides)
    store = open_store(settings.store_url, settings)
    server = None
    try:
        for doc in docs:
            if isinstance(doc, str):
                services.ingest(store, doc, "provn", settings=settings)
            else:
                services.ingest_prov(store, doc, settings=settings)
        server = make_server("127.0.0.1", 0, create_app(settings, store=store), threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="web-test-server", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(10)
    finally:
        if server is not None:
            server.server_close()
        store.close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ModuleNotFoundError:
        if os.environ.get("CI"):
            raise
        pytest.skip("playwright is not installed")
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def watched(browser, **context_args):
    """A page of a new browser context that fails the test on any script error or CSP
    violation in the browser console."""
    context = browser.new_context(**context_args)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert errors == [], errors  # no script errors, no CSP violations


@pytest.fixture
def page(browser):
    with watched(browser, viewport={"width": 1366, "height": 900}, accept_downloads=True) as pg:
        yield pg


def test_search_open_record_follow_node_and_download(page, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(tmp_path, KNOWN) as base:
        page.goto(base + "/")
        assert page.title().endswith("provhub")
        page.get_by_label("Id, label, type, data level, OBS_ID or any attribute text").fill("Crab")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"\?q=Crab"))
        results = page.locator("table.results tbody tr")
        assert results.count() == 1
        page.get_by_role("link", name="Crab spectrum").click()

        page.wait_for_url(base + "/records/" + quote(EX + "dl5", safe=""))
        assert page.locator("h1").inner_text().endswith("Crab spectrum")
        graph = page.locator("figure.graph svg")
        graph.wait_for(state="visible")
        box = graph.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 200
        assert graph.locator("g.node").count() >= 10
        assert page.locator("table.attributes").inner_text().count("prov:label") == 1
        page.screenshot(path=str(ARTIFACTS / "web-record.png"), full_page=True)

        with page.expect_download() as download_info:
            page.locator("ul.downloads").get_by_role("link", name="PROV-JSON").click()
        download = download_info.value
        assert download.suggested_filename == "lineage-ex_dl5.json"
        doc = ProvDocument.deserialize(content=Path(download.path()).read_text(), format="json")
        ids = {str(r.identifier) for r in doc.get_records() if r.is_element()}
        assert {"ex:dl5", "ex:analysis", "ex:dl3a", "ex:irf", "ex:sim"} <= ids

        graph.locator("a").filter(has_text="ex:dl3a").click()
        page.wait_for_url(base + "/records/" + quote(EX + "dl3a", safe=""))
        assert page.locator("h1").inner_text().endswith("ex:dl3a")
        assert "23523" in page.locator("dl.facts").inner_text()
        page.get_by_label("forth (what came from it)").check()
        page.get_by_role("button", name="Show").click()
        page.wait_for_url(re.compile(r"direction=FORTH"))
        assert page.locator("figure.graph svg a").filter(has_text="Crab spectrum").count() == 1
        page.goto(base + "/")
        page.screenshot(path=str(ARTIFACTS / "web-search.png"), full_page=True)


def test_clicking_a_collapsed_group_expands_it(page, tmp_path):
    with serving(tmp_path, fan_in(12), render_node_cap=4) as base:
        page.goto(base + "/records/" + quote(EX + "stacked", safe="") + "?depth=2")
        group = page.locator("figure.graph svg g[id^='group-']")
        assert group.count() == 1 and "12 DL3" in group.text_content()
        group.locator("a").click()
        page.wait_for_url(re.compile(r"expand=g[0-9a-f]{12}#lineage$"))
        page.locator("figure.graph svg").wait_for(state="visible")
        assert page.locator("figure.graph svg g[id^='group-']").count() == 0
        assert page.locator("figure.graph svg g.node").count() == 14
        page.screenshot(path=str(ARTIFACTS / "web-expanded.png"), full_page=True)


def test_quick_start_sample_product(page, tmp_path):
    """The issue's 'done when': find the sample DL5 product, see its lineage back to the DL3 runs
    and IRFs, download it as SVG and PROV-JSON."""
    sample = pytest.importorskip("provhub.app.sample")
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(tmp_path, *docs) as base:
        page.goto(base + "/")
        page.get_by_label("Id, label, type, data level, OBS_ID or any attribute text").fill("crab_hess_fp")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="crab_hess_fp.fits", exact=True).click()
        page.wait_for_url(base + "/records/" + quote(sample.SAMPLE_PRODUCT_ID, safe=""))
        graph = page.locator("figure.graph svg")
        graph.wait_for(state="visible")
        drawn = graph.text_content()
        for run in ("23523", "23526", "23559", "23592"):
            assert f"OBS_ID {run}" in drawn
        assert "IRF" in drawn
        page.screenshot(path=str(ARTIFACTS / "web-sample.png"), full_page=True)
        for name, check in (
            ("SVG picture", lambda b: b"<svg" in b and b"OBS_ID 23523" in b),
            ("PROV-JSON", lambda b: ProvDocument.deserialize(content=b.decode(), format="json")),
        ):
            with page.expect_download() as info:
                page.locator("ul.downloads").get_by_role("link", name=name).click()
            assert check(Path(info.value.path()).read_bytes())
        # the runs are folded into one node each: the list under the graph links every record
        page.locator("details.graph-records summary").click()
        page.locator("details.graph-records a").filter(has_text="_023523.fits.gz[EVENTS]").first.click()
        page.wait_for_url(re.compile(r"EVENTS$"))
        rows = page.locator("#attributes-table tbody tr")
        assert rows.count() > 60  # every FITS keyword of the HDU
        page.get_by_label("Filter attributes").fill("time-")
        assert {r.split("\t")[0] for r in rows.locator("visible=true").all_inner_texts()} == {
            "fits:TIME-OBS",
            "fits:TIME-END",
        }


def runs_fan_in(runs: int) -> str:
    """A DL4 cube stacked from ``runs`` observations, each an event list and its effective area
    (both carry the OBS_ID, so the page folds each run into one node)."""
    lines = [
        "document",
        "  prefix ex <http://example.org/cta#>",
        "  prefix fits <https://provhub.org/ns/fits#>",
        '  activity(ex:stack, [prov:label="stacking"])',
        '  entity(ex:stacked, [prov:label="stacked DL4 cube", ex:dataLevel="DL4"])',
        "  wasGeneratedBy(ex:stacked, ex:stack, -)",
    ]
    for i in range(runs):
        obs = 100000 + i
        lines += [
            f'  entity(ex:ev{i}, [prov:label="events {obs}", ex:obs_id={obs}, fits:HDUCLAS1="EVENTS"])',
            f'  entity(ex:aeff{i}, [prov:label="aeff {obs}", ex:obs_id={obs}, fits:HDUCLAS1="RESPONSE", '
            'fits:HDUCLAS2="EFF_AREA", ex:hduName="AEFF"])',
            f"  used(ex:stack, ex:ev{i}, -)",
            f"  used(ex:stack, ex:aeff{i}, -)",
        ]
    return "\n".join(lines + ["endDocument"])


@pytest.fixture
def screen(browser):
    """A 1280x800 page (a laptop screen) that fails on script errors and CSP violations."""
    with watched(browser, viewport={"width": 1280, "height": 800}) as pg:
        yield pg


def _inside(box, frame) -> bool:
    return (
        box["x"] >= frame["x"] - 1
        and box["y"] >= frame["y"] - 1
        and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
    )


def test_the_sample_product_opens_with_its_four_runs_readable_at_1280(screen, tmp_path):
    sample = pytest.importorskip("provhub.app.sample")
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(tmp_path, *docs) as base:
        screen.goto(base + "/records/" + quote(sample.SAMPLE_PRODUCT_ID, safe=""))
        frame_el = screen.locator("[data-graph]")
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        frame = frame_el.bounding_box()
        assert frame and frame["width"] <= 1280
        assert screen.evaluate("document.documentElement.scrollWidth") <= 1280  # no sideways scrolling
        runs = screen.locator("figure.graph svg g[id^='group-']")
        assert runs.count() == 4
        texts = runs.all_text_contents()
        for run in ("23523", "23526", "23559", "23592"):
            (text,) = [t for t in texts if f"OBS_ID {run}" in t]
            assert "IRFs AEFF BKG EDISP PSF" in text and "Crab Nebula" in text
        screen.screenshot(path=str(ARTIFACTS / "web-sample-1280-top.png"))  # the summary
        frame_el.scroll_into_view_if_needed()
        frame = frame_el.bounding_box()
        assert frame and frame["height"] >= 500  # most of an 800 px screen
        screen.screenshot(path=str(ARTIFACTS / "web-sample-1280.png"))
        for i in range(4):
            box = runs.nth(i).bounding_box()
            assert box and _inside(box, frame), (box, frame)
            assert box["height"] >= 55  # 5 lines of text, not a thin strip
        screen.screenshot(path=str(ARTIFACTS / "web-sample-1280-top.png"))  # the summary
        frame_el.scroll_into_view_if_needed()
        frame = frame_el.bounding_box()
        assert frame and frame["height"] >= 500  # most of an 800 px screen
        screen.screenshot(path=str(ARTIFACTS / "web-sample-1280.png"))

        # keyboard: the frame takes focus, + zooms in
        frame_el.focus()
        before = runs.first.bounding_box()
        screen.keyboard.press("+")
        after = runs.first.bounding_box()
        for _ in range(20):  # the zoom is applied on the next frames, not within the key press
            if not (before and after) or after["width"] > before["width"] * 1.1:
                break
            screen.wait_for_timeout(100)
            after = runs.first.bounding_box()
        assert before and after and after["width"] > before["width"] * 1.1
        screen.get_by_role("button", name="Whole graph").click()

        run = runs.filter(has_text="OBS_ID 23523")
        run.locator("a").click()
        screen.wait_for_url(re.compile(r"expand=g[0-9a-f]{12}#lineage$"))
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        assert screen.locator("figure.graph svg g[id^='group-']").count() == 3
        drawn = screen.locator("figure.graph svg").text_content()
        assert "hess_dl3_dr1_obs_id_023523.fits.gz[EVENTS]" in drawn
        screen.screenshot(path=str(ARTIFACTS / "web-sample-expanded.png"))


def test_a_1000_run_fan_in_opens_in_under_2_s_and_expands_on_click(screen, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(tmp_path, runs_fan_in(1000)) as base:
        url = base + "/records/" + quote(EX + "stacked", safe="") + "?depth=2"
        screen.goto(url)  # warm: the first trace of a fresh store reads its files
        started = time.perf_counter()
        screen.goto(url)
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        opened = time.perf_counter() - started
        assert opened < 2.0, f"the page took {opened:.2f} s"
        group = screen.locator("figure.graph svg g[id^='group-']")
        assert group.count() == 1 and "1,000 observations" in group.text_content()
        screen.screenshot(path=str(ARTIFACTS / "web-fan-in-1000.png"))

        screen.locator("[data-graph]").scroll_into_view_if_needed()
        frame = screen.locator("[data-graph]").bounding_box()
        assert frame
        box = group.bounding_box()
        started = time.perf_counter()
        screen.mouse.move(frame["x"] + 40, frame["y"] + 40)
        screen.mouse.down()
        for step in range(1, 11):
            screen.mouse.move(frame["x"] + 40 + 20 * step, frame["y"] + 40 + 5 * step)
        screen.mouse.up()
        panned = time.perf_counter() - started
        moved = group.bounding_box()
        assert box and moved and moved["x"] > box["x"] + 150
        assert panned < 1.0, f"ten pan steps took {panned:.2f} s"

        started = time.perf_counter()
        group.locator("a").click()
        screen.wait_for_url(re.compile(r"expand=g[0-9a-f]{12}#lineage$"))
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        expanded = time.perf_counter() - started
        summary_started = time.perf_counter()
        screen.get_by_role("link", name="what it was made from").click()
        screen.wait_for_url(re.compile(r"/summaries/"))
        summarised = time.perf_counter() - summary_started
        assert "Observations (1,000)" in screen.locator("section.product").inner_text()
        screen.screenshot(path=str(ARTIFACTS / "web-fan-in-1000-summary.png"))
        screen.go_back()
        print(f"1000-run fan-in: summary page {summarised:.2f} s")
        print(f"1000-run fan-in: opened {opened:.2f} s, 10 pan steps {panned:.3f} s, expanded {expanded:.2f} s")
        assert screen.locator("figure.graph svg g[id^='group-']").count() >= 1000
        screen.screenshot(path=str(ARTIFACTS / "web-fan-in-1000-expanded.png"))


def _shots(pg, name: str) -> None:
    """The whole page, and what the screen shows first."""
    pg.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    pg.screenshot(path=str(ARTIFACTS / f"{name}-screen.png"))


def _fits_the_screen(pg) -> None:
    """In the site layout (header, one h1), no sideways scrolling, every image described."""
    assert pg.locator("header.banner").count() == 1 and pg.locator("h1").count() == 1
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"]
    assert pg.evaluate("[...document.images].filter(i => !i.hasAttribute('alt')).length") == 0
    assert pg.locator("header.banner a.brand").count() == 1


def test_the_sample_pages_an_astronomer_opens(screen, tmp_path):
    """Home, document, product, its summary and audit, and the analysis activity, on the quick
    start's sample in Chromium at 1280x800, reached by clicking: no script error or CSP violation
    (``watched``), each fits the screen; a screenshot of each in artifacts/."""
    sample = pytest.importorskip("provhub.app.sample")
    docs = sample.sample_documents()
    if not docs:
        pytest.skip("the sample data is not in data/")
    ARTIFACTS.mkdir(exist_ok=True)
    timings = {}
    with serving(tmp_path, *docs) as base:
        for visit in ("cold", "warm"):  # the first request of a fresh store reads its files
            started = time.perf_counter()
            screen.goto(base + "/")
            timings[visit] = time.perf_counter() - started
        _fits_the_screen(screen)
        products = screen.locator("section.home-products table tbody tr")
        assert products.count() == 2 and products.first.inner_text().startswith("pks2155_hess_lc_3bins.fits")
        assert "crab_hess_fp.fits" in products.nth(1).inner_text()
        counts = screen.locator("section.home-counts").inner_text()
        assert "DL5" in counts and "DL3" in counts and "entity" in counts
        _shots(screen, "web-home")

        # keyboard: the skip link comes first, then the site's links
        screen.keyboard.press("Tab")
        assert screen.evaluate("document.activeElement.className") == "skip"

        screen.locator("section.home-documents a", has_text="crab_hess_fp.fits").click()
        screen.wait_for_url(re.compile(r"/documents/[0-9a-f]{32}$"))
        document_url = screen.url
        _fits_the_screen(screen)
        assert screen.locator("h1").inner_text().endswith("crab_hess_fp.fits")
        assert "public" in screen.locator("dl.facts").inner_text()
        assert screen.locator("ul.downloads a").count() == 5  # PROV-JSON, PROV-N, PROV-XML, Turtle, JSON-LD
        _shots(screen, "web-document")
        with screen.expect_download() as info:
            screen.locator("ul.downloads").get_by_role("link", name="PROV-N").click()
        assert Path(info.value.path()).read_text().startswith("document")

        screen.locator("table.results a", has_text="crab_hess_fp.fits").first.click()
        screen.wait_for_url(base + "/records/" + quote(sample.SAMPLE_PRODUCT_ID, safe=""))
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        _fits_the_screen(screen)
        # fold by night: the two runs of 2004-12-04 in one node, the other nights' single runs as runs
        screen.get_by_label("Fold into one node").select_option("night")
        screen.get_by_role("button", name="Show").click()
        screen.wait_for_url(re.compile(r"fold=night"))
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        folded = screen.locator("figure.graph svg g[id^='group-']")
        drawn = screen.locator("figure.graph svg").text_content()
        assert "night of 2004-12-04" in drawn and "OBS_ID 23559" in drawn and "OBS_ID 23592" in drawn
        assert folded.count() == 3
        screen.locator("[data-graph]").scroll_into_view_if_needed()
        screen.screenshot(path=str(ARTIFACTS / "web-sample-nights.png"))
        screen.go_back()
        screen.get_by_role("link", name="The full audit report").click()
        screen.wait_for_url(re.compile(r"/audits/"))
        _fits_the_screen(screen)
        assert screen.title() == "Audit of crab_hess_fp.fits · provhub"
        assert screen.locator("main a[href^='/records/']").count() > 10
        _shots(screen, "web-audit")

        screen.goto(base + "/summaries/" + quote(sample.SAMPLE_PRODUCT_ID, safe=""))
        _fits_the_screen(screen)
        assert "Observations (4)" in screen.locator("section.product").inner_text()
        _shots(screen, "web-summary")

        screen.goto(document_url)
        screen.locator("table.results a", has_text="gammapy analysis of Crab").first.click()
        screen.wait_for_url(re.compile(r"generation$"))
        screen.wait_for_function("document.querySelector('[data-graph]').dataset.readyMs !== undefined")
        _fits_the_screen(screen)
        run = screen.locator("section.activity").inner_text()
        assert "Parameters (33)" in run and "Gammapy" in run
        _shots(screen, "web-activity")

        # the search ranks the DL5 product first
        screen.goto(base + "/?q=crab")
        first = screen.locator("table.results tbody tr").first
        assert first.locator("a").inner_text() == "crab_hess_fp.fits" and "DL5" in first.inner_text()
        _fits_the_screen(screen)
        _shots(screen, "web-search-crab")
    print(f"sample home page: first {timings['cold']:.2f} s, again {timings['warm']:.2f} s")
