"""The dashboards in a real browser: each sample month's exports/<period>/dashboard.html (written by `p06 run` over
the four sample months in a temporary warehouse) and the national dashboard of a small national warehouse built
here per the contract of `p06 national`.

NEEDS A BROWSER: Debian's Chromium (`apt-get install chromium`; P06_CHROMIUM names another executable), driven by
Playwright (dev dependency; no browser download). Without one these tests are skipped, except in CI (CI=true),
where they fail. The network is blocked: every request that does not stay on file:// is aborted and recorded.
Screenshots (1440 px desktop, 390 px phone) and the measured sizes and opening times are written under
test-artifacts/dashboard/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import copy_samples, landing_env

from p06 import periods, reference
from p06.documents import dashboard
from p06.documents.dashboard import data as dash_data
from p06.publish.indicator_catalog import load
from p06.wording import so
from pipelines import cli

MONTHS = ("2023-08", "2023-09", "2025-06", "2025-07")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
OPEN_SECONDS = 10.0       # a bound against a pathological page only: a shared machine varies 3x; the times are recorded


def _chromium() -> str | None:
    for candidate in (os.environ.get("P06_CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    """Chromium started by Playwright; skipped where it cannot start, failed in CI."""
    try:
        from playwright.sync_api import sync_playwright
        executable = _chromium()
        if executable is None:
            raise RuntimeError("no Chromium executable (apt-get install chromium, or set P06_CHROMIUM)")
        pw = sync_playwright().start()
        try:
            b = pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        except Exception:
            pw.stop()
            raise
    except Exception as exc:                                    # noqa: BLE001 - any reason the browser is missing
        if os.environ.get("CI") == "true":
            pytest.fail(f"this test needs a browser and Chromium cannot be started in CI: {exc}")
        pytest.skip(f"this test needs a browser: {exc}")
    yield b
    b.close()
    pw.stop()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict:
    """`p06 run` over the four sample months in a temporary warehouse (about 30 s)."""
    base = tmp_path_factory.mktemp("dash")
    raw = copy_samples(base, MONTHS)
    with landing_env(raw, base / "warehouse") as env:
        assert cli.main(["run"]) == 0
        yield {**env, "db": base / "warehouse" / "p06_published.duckdb",
               "exports": base / "warehouse" / "exports"}


def _query(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


class Opened:
    """A page opened with the network blocked: console errors and off-file requests recorded."""

    def __init__(self, browser, path: Path, width: int, height: int = 900):
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)
        started = time.perf_counter()
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']", timeout=15000)
        self.seconds = time.perf_counter() - started
        self.paint_ms = self.page.evaluate(
            "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || null")

    def _route(self, route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            self.requests.append(route.request.url)
            route.abort()

    def close(self):
        self.page.close()


def _record(name: str, facts: dict) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "measures.json"
    known = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    known[name] = facts
    path.write_text(json.dumps(known, ensure_ascii=False, indent=2), encoding="utf-8")


def _province_rows(db: Path, period: str) -> dict[str, tuple]:
    return {code: (value, decimals, quality) for code, value, decimals, quality in _query(
        db, "SELECT indicator_code, value, decimals, quality FROM marts.indicator_monthly "
            "WHERE unit_level = 'province' AND period = ?", [period])}


@pytest.mark.parametrize("period", MONTHS)
def test_month_dashboard_in_a_browser(published, browser, period):
    path = published["exports"] / period / "dashboard.html"
    size = path.stat().st_size
    assert size < 3_000_000, f"{path.name} is {size} bytes"
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']https?://""", html), "the page links to the internet"
    province = _province_rows(published["db"], period)

    desktop = Opened(browser, path, 1440)
    page = desktop.page
    assert desktop.errors == [], desktop.errors
    assert desktop.requests == [], desktop.requests
    assert desktop.seconds < OPEN_SECONDS
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{period}-desktop.png"), full_page=True)       # as it opens

    # Headline figures in Vietnamese number style, equal to the warehouse's province rows.
    cards = page.locator("[data-testid=headline]")
    assert cards.count() == 5
    for k in range(cards.count()):
        card = cards.nth(k)
        code = card.get_attribute("data-code")
        value, decimals, quality = province[code]
        assert card.locator("[data-testid=headline-value]").inner_text() == so(value, decimals)
        assert (card.locator("[data-testid=flag]").count() == 1) == (quality != "ok")
    rows = page.locator("[data-testid=indicator-row]")
    assert rows.count() == len(province)
    for k in range(rows.count()):
        row = rows.nth(k)
        value, decimals, quality = province[row.get_attribute("data-code")]
        assert row.locator("[data-testid=indicator-value]").inner_text() == so(value, decimals)
        flag = row.locator("[data-testid=flag]")
        assert flag.count() == (0 if quality == "ok" else 1)
        if quality != "ok":                                           # shown as flagged, with why
            assert flag.inner_text().endswith(dash_data.texts().flag_mark[quality])
            assert flag.get_attribute("title")

    # The ranking of the default indicator is sorted (best first), and sorts by value on a click.
    lower = set(dash_data.texts().lower_is_better)
    code = page.locator("#rank-indicator").input_value()
    values = [float(v) for v in page.locator("[data-testid=rank-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.value).filter(v => v !== 'null' && v !== undefined && v !== '')")]
    assert len(values) > 10
    assert values == sorted(values, reverse=code not in lower)
    page.locator("#rank-table th[data-sort=value]").click()
    clicked = [float(v) for v in page.locator("[data-testid=rank-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.value).filter(v => v !== 'null' && v !== undefined && v !== '')")]
    assert clicked == sorted(values)
    page.locator("#rank-search").fill(page.locator("[data-testid=rank-row] td:nth-child(2)").first.inner_text())
    assert 1 <= page.locator("[data-testid=rank-row]").count() <= 3

    # One unit's trend: what the page shows equals the unit's published values, for that unit only.
    level, unit_code, unit_name = _query(published["db"], """
        SELECT unit_level, unit_code, unit_name FROM marts.indicator_monthly
        WHERE period = ? AND unit_level IN ('district', 'commune') AND indicator_code = ? ORDER BY unit_code LIMIT 1""",
        [period, code])[0]
    (option,) = page.eval_on_selector_all(
        "#unit-select option", "(os, n) => os.filter(o => o.textContent === n || o.textContent.startsWith(n + ' (')"
                               ").map(o => o.value)", unit_name)
    page.select_option("#unit-select", option)
    page.select_option("#unit-indicator", code)
    shown = {r.locator("td").nth(0).inner_text(): r.locator("td").nth(1).inner_text()
             for r in page.locator("[data-testid=unit-month]").all()}
    months = dash_data.window(period)
    published_values = {dash_data.month_label(p): so(v, d) for p, v, d in _query(published["db"], """
        SELECT period, value, decimals FROM marts.indicator_monthly
        WHERE unit_level = ? AND unit_code = ? AND indicator_code = ? AND period BETWEEN ? AND ?""",
        [level, unit_code, code, months[0], period])
        if dash_data._unit_key(level, unit_code, p)[0] == dash_data._unit_key(level, unit_code, period)[0]}
    assert {m: v for m, v in shown.items() if v != "—"} == published_values
    assert published_values[dash_data.month_label(period)]

    # Vintage, links, deliveries and findings are on the page.
    vintage = _query(published["db"], "SELECT max(vintage) FROM marts.publications WHERE period = ?", [period])[0][0]
    assert f"Lần công bố thứ {vintage}" in page.locator("[data-testid=vintage]").inner_text()
    assert page.locator("[data-testid=link-workbook]").get_attribute("href") == f"DA06_{period}.xlsx"
    assert (path.parent / f"DA06_{period}.xlsx").exists() and (path.parent / f"bao_cao_DA06_{period}.docx").exists()
    statuses = page.locator("[data-testid=delivery-table] [data-status]").evaluate_all("n => n.map(x => x.dataset.status)")
    assert statuses and set(statuses) <= set(dash_data.texts().delivery_status)
    open_findings = _query(published["db"], "SELECT count(*) FROM marts.findings_register WHERE period = ? AND status = 'open'",
                           [period])[0][0]
    assert page.locator("[data-testid=findings-department] li.st-open").count() == open_findings

    seconds, paint = desktop.seconds, desktop.paint_ms
    desktop.close()
    phone = Opened(browser, path, 390, 844)
    assert phone.errors == [] and phone.requests == []
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the phone page is {width} px wide"
    phone.page.screenshot(path=str(ARTIFACTS / f"{period}-phone.png"), full_page=True)
    phone.close()
    _record(period, {"bytes": size, "open_seconds_desktop": round(seconds, 3), "first_paint_ms_desktop": paint,
                     "open_seconds_phone": round(phone.seconds, 3)})


def test_a_flagged_figure_is_shown_as_flagged_with_why(published, browser):
    """September 2023: the BHXH share has a warning (Mường Lát's stock fell); the card says so and why."""
    path = published["exports"] / "2023-09" / "dashboard.html"
    opened = Opened(browser, path, 1440)
    card = opened.page.locator("[data-testid=headline][data-code=BHXH_VERIFIED_SHARE]")
    assert card.locator("[data-testid=flag]").inner_text() == "⚠ Cảnh báo"
    why = card.locator(".why").inner_text()
    assert "Bảo hiểm xã hội tỉnh" in why and "Mường Lát" in why
    opened.close()


def test_the_dashboard_is_written_again_only_when_what_it_shows_changed(published, tmp_path):
    """A second run changes nothing: the pages are not rewritten. And each page costs well under a second."""
    pages = {p: published["exports"] / p / "dashboard.html" for p in MONTHS}
    before = {p: path.stat().st_mtime_ns for p, path in pages.items()}
    assert cli.main(["run"]) == 0
    assert {p: path.stat().st_mtime_ns for p, path in pages.items()} == before
    con = duckdb.connect(str(published["db"]), read_only=True)
    try:
        costs = {}
        for p in MONTHS:
            started = time.perf_counter()
            dashboard.write_dashboard(con, p, tmp_path / f"{p}.html")
            costs[p] = round(time.perf_counter() - started, 3)
            assert dashboard.digest(con, p) == dashboard.digest(con, p)
    finally:
        con.close()
    _record("cost_seconds_per_month", costs)
    assert max(costs.values()) < 5


def test_a_unit_is_never_joined_across_the_2025_change(published):
    """July 2025's communes have no June figures (June had districts): no commune's series reaches before July."""
    con = duckdb.connect(str(published["db"]), read_only=True)
    try:
        page = dash_data.page_data(con, "2025-07")
    finally:
        con.close()
    months = page["months"]
    july = months.index("T7/2025")
    communes = [u for u in page["units"] if u["level"] == "commune"]
    assert len(communes) == 166
    assert all(set(map(int, s)) == {july} for u in communes for s in u["series"].values())
    assert page["breaks"] and page["breaks"][0]["month"] == "T7/2025"


# --- the national dashboard, from a small national warehouse made per the contract -------------------------------

NATIONAL = [("01", "Thành phố Hà Nội"), ("38", "Tỉnh Thanh Hóa"), ("79", "Thành phố Hồ Chí Minh")]


def build_national(path: Path, provinces_expected: int = 34) -> dict:
    """A national warehouse of three provinces and two months (2025-07, 2025-08), Hồ Chí Minh missing in August,
    with the nation's rows summed from the provinces' numerators and denominators."""
    cat = load().indicators
    codes = ["EID_ACTIVATED_VS_TARGET", "BHXH_VERIFIED_SHARE", "CHILDREN_UPDATED_SHARE"]
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.indicator_monthly (period VARCHAR, indicator_id VARCHAR, unit_level VARCHAR,
        unit_code VARCHAR, unit_name VARCHAR, numerator DOUBLE, denominator DOUBLE, value DOUBLE, target DOUBLE,
        quality VARCHAR, provinces_reporting INTEGER, provinces_expected INTEGER, missing_provinces VARCHAR,
        vintage INTEGER, previous_value DOUBLE)""")
    con.execute("""CREATE TABLE marts.province_publications (province_code VARCHAR, province_name VARCHAR,
        period VARCHAR, vintage INTEGER, published_at TIMESTAMP, copy_sha256 VARCHAR, received_at TIMESTAMP)""")
    con.execute("""CREATE TABLE marts.province_ranking (period VARCHAR, indicator_id VARCHAR, province_code VARCHAR,
        province_name VARCHAR, value DOUBLE, rank INTEGER)""")
    con.execute("CREATE TABLE marts.national_build (built_at TIMESTAMP, provinces INTEGER, copies VARCHAR)")
    expected: dict = {}
    previous_nation: dict = {}
    for m, month in enumerate(("2025-07", "2025-08")):
        present = NATIONAL if month == "2025-07" else NATIONAL[:2]
        for i, code in enumerate(codes):
            factor = cat[code].factor
            parts = {}
            for p, (pc, name) in enumerate(present):
                num, den = 1000.0 * (p + 2) + 37 * i + 11 * m, 1200.0 * (p + 2) + 300 * p * (-1) ** i + 5 * i
                parts[pc] = (num, den)
                vintage = 1 + (pc == "38" and month == "2025-08")
                con.execute("INSERT INTO marts.indicator_monthly VALUES (?, ?, 'province', ?, ?, ?, ?, ?, NULL, "
                            "'complete', NULL, NULL, NULL, ?, NULL)",
                            [month, code, pc, name, num, den, num / den * factor, vintage])
            num, den = sum(n for n, _ in parts.values()), sum(d for _, d in parts.values())
            missing = ", ".join(u.name_vi for u in reference.all_units("province", on=periods.period_end(month))
                                if u.unit_code not in parts)
            value = num / den * factor
            con.execute("INSERT INTO marts.indicator_monthly VALUES (?, ?, 'nation', '00', 'Toàn quốc', ?, ?, ?, NULL, "
                        "'partial', ?, ?, ?, NULL, ?)", [month, code, num, den, value, len(parts), provinces_expected,
                                                          missing, previous_nation.get(code)])
            previous_nation[code] = value
            ranked = sorted(parts, key=lambda c: -parts[c][0] / parts[c][1])
            for rank, pc in enumerate(ranked, start=1):
                con.execute("INSERT INTO marts.province_ranking VALUES (?, ?, ?, ?, ?, ?)",
                            [month, code, pc, dict(NATIONAL)[pc], parts[pc][0] / parts[pc][1] * factor, rank])
            expected[(month, code)] = {"value": value, "reporting": len(parts), "missing": missing, "ranked": ranked}
        for pc, name in present:
            vintage = 1 + (pc == "38" and month == "2025-08")
            con.execute("INSERT INTO marts.province_publications VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [pc, name, month, vintage, datetime(2025, 9 + m, 3, 10, 15), "sha", datetime(2025, 9 + m, 3, 9)])
    con.execute("INSERT INTO marts.national_build VALUES (?, 3, 'a;b;c')", [datetime(2025, 10, 5, 8, 0)])
    con.close()
    return expected


def test_national_dashboard_in_a_browser(browser, tmp_path):
    db = tmp_path / "p06_national.duckdb"
    expected = build_national(db)
    out = dashboard.write_national(db, tmp_path / "exports" / "national" / "dashboard.html")
    opened = Opened(browser, out, 1440)
    page = opened.page
    assert opened.errors == [] and opened.requests == []
    assert page.locator("#month").input_value() == "2025-08"                 # opens on the latest month
    cat = load().indicators
    for card in page.locator("[data-testid=nation-headline]").all():
        code = card.get_attribute("data-code")
        want = expected[("2025-08", code)]
        assert card.locator("[data-testid=headline-value]").inner_text() == so(want["value"], cat[code].decimals)
        assert card.locator("[data-testid=reporting]").inner_text() == f"{want['reporting']}/34"
        assert card.locator("[data-testid=flag]").count() == 1               # partial: provinces lack
    summary = page.locator("[data-testid=missing-summary]").inner_text()
    assert "2/34" in summary and "Thành phố Hồ Chí Minh" in summary and "Tỉnh Cao Bằng" in summary
    assert "Tỉnh Thanh Hóa" not in summary
    code = page.locator("#rank-indicator").input_value()
    ranked = page.locator("[data-testid=rank-row]").evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert ranked == expected[("2025-08", code)]["ranked"]
    # Each province's last published month and vintage; a province that never published says so.
    rows = {r.get_attribute("data-code"): r.inner_text() for r in page.locator("[data-testid=publication]").all()}
    assert len(rows) == 34
    assert "T8/2025" in rows["38"] and "\t2\t" in rows["38"]
    assert "T7/2025" in rows["79"] and "\t1\t" in rows["79"]
    assert "Chưa có bản công bố" in rows["04"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "national-desktop.png"), full_page=True)
    page.select_option("#month", "2025-07")
    summary = page.locator("[data-testid=missing-summary]").inner_text()
    assert "3/34" in summary and "Tỉnh Cao Bằng" in summary and "Thành phố Hồ Chí Minh" not in summary
    values = [float(v) for v in page.locator("[data-testid=rank-row]").evaluate_all("rs => rs.map(r => r.dataset.value)")]
    assert values == sorted(values, reverse=True) and len(set(values)) == 3
    seconds = opened.seconds
    opened.close()
    phone = Opened(browser, out, 390, 844)
    assert phone.errors == [] and phone.requests == []
    phone.page.screenshot(path=str(ARTIFACTS / "national-phone.png"), full_page=True)
    phone.close()
    _record("national", {"bytes": out.stat().st_size, "open_seconds_desktop": round(seconds, 3)})
