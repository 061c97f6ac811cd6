"""Data Docs as a data engineer opens them, offline: headless Chromium (Debian's /usr/bin/chromium through
Playwright), every request outside the site refused. No request may fail, the scripts must run ("Show more info"
opens its panel), the suites' pages exist, and there is one validation page per month and table with its data
asset named."""
import shutil
from pathlib import Path

import pytest

from p06 import warehouse
from p06.ingest.load import ingest_period
from p06.publish import quality
from p06.publish.marts import publish_periods
from p06.reconcile.store import reconcile_periods
from tests.conftest import copy_samples

CHROMIUM = Path("/usr/bin/chromium")
MONTHS = ["2023-08", "2023-09"]

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not shutil.which("chromium"), reason="no Chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The Data Docs of the two sample months, validated as a run of both validates them."""
    base = tmp_path_factory.mktemp("data_docs")
    raw = copy_samples(base)
    with warehouse.connect(base / "p06.duckdb") as con:
        for month in MONTHS:
            ingest_period(con, raw, month)
        reconcile_periods(con, MONTHS)
        publish_periods(con, MONTHS)
        collected = quality.collect(con, MONTHS)
    summary = quality.validate_collected(collected, base)
    return summary.data_docs_index.parent


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")))
        try:
            yield b
        finally:
            b.close()


def open_page(browser, path: Path):
    """The page loaded with every non-file request refused; returns (page, failed requests, script errors)."""
    page = browser.new_page()
    failed, errors = [], []
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file://") else route.abort())
    page.on("requestfailed", lambda r: failed.append(f"{r.url}: {r.failure}"))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    return page, failed, errors


def test_the_index_loads_every_file_it_asks_for(site, browser):
    page, failed, errors = open_page(browser, site / "index.html")
    try:
        assert failed == [] and errors == []
        assert page.evaluate("typeof jQuery !== 'undefined' && typeof jQuery.fn.collapse === 'function'")  # bootstrap ran
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    finally:
        page.close()
    suites = [href for href in links if href.startswith("expectations/")]
    assert suites and all((site / href).is_file() for href in suites)             # the suites' links lead somewhere
    validations = sorted(href for href in links if href.startswith("validations/"))
    assert all((site / href).is_file() for href in validations)
    tables = {Path(href).parts[2] for href in validations}
    for month in MONTHS:                               # one validation per month and table
        assert sorted(Path(h).parts[2] for h in validations if f"/p06-{month}/" in h) == sorted(tables)


def test_show_more_info_opens_on_a_validation_page(site, browser):
    (path,) = sorted(site.glob("validations/p06/check_values_within_bounds/p06-2023-09/*/*.html"))
    page, failed, errors = open_page(browser, path)
    try:
        assert "Data asset: check_values_within_bounds, 2023-09" in " ".join(page.inner_text("body").split())
        link = page.get_by_text("Show more info...").first
        body = page.locator(link.get_attribute("href"))
        assert not body.is_visible()
        link.click()
        body.wait_for(state="visible", timeout=5000)
        assert "Info" in body.inner_text()
        assert failed == [] and errors == []
    finally:
        page.close()
