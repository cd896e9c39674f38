"""The dashboards in a real headless Chromium against a live server on the real data."""

import pytest

from observatory.dashboards.registry import METRICS
from tests.dashboards.test_api_and_cache import PROBE_METRICS

# Every check runs against one live server on the session's bootstrap (`served` and `browser_page`
# in tests/dashboards/conftest.py): no flush in between, so the real data is loaded once.
pytestmark = [pytest.mark.django_db, pytest.mark.browser, pytest.mark.postgres]


def _traces(page):
    return page.evaluate("""() => document.getElementById('chart').data.map(t => ({
        name: t.name, points: (t.y || []).filter(v => v !== null).length}))""")


def test_it_renders_filters_and_exports_every_chart_in_a_real_browser(served, browser_page, tmp_path):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(served + "/")
    links = page.eval_on_selector_all("#chart-links a", "els => els.map(e => e.getAttribute('href'))")
    assert links == [f"/dashboards/{name}" for name in METRICS]
    page.wait_for_selector("#chart-cumulative-downloads .main-svg")

    for name in METRICS:
        page.goto(f"{served}/dashboards/{name}")
        page.wait_for_selector("#chart .main-svg")
        traces = _traces(page)
        if name in PROBE_METRICS:
            # The shared data holds no probe runs: the chart draws, empty (tests/dashboards/test_api_and_cache.py
            # and the leaderboard's own tests give these metrics runs and check what they show).
            assert sum(t["points"] for t in traces) == 0, name
            assert "No data yet" in page.inner_text("#chart"), name
        else:
            assert sum(t["points"] for t in traces) > 0, name
            assert "Data as of" in page.inner_text("#chart"), name
        assert "Sources:" in page.inner_text("#chart"), name

    # Changing a filter changes the URL and the chart.
    page.goto(f"{served}/dashboards/cumulative-downloads-by-region")
    page.wait_for_selector("#chart .main-svg")
    assert {t["name"] for t in _traces(page)} >= {"United States", "China"}
    page.select_option("select[name=region]", "china")
    page.wait_for_url("**region=china**")
    page.wait_for_selector("#chart .main-svg")
    assert {t["name"] for t in _traces(page)} == {"China"}
    page.fill("input[name=start]", "2024-11-01")
    page.dispatch_event("input[name=start]", "change")
    page.wait_for_url("**start=2024-11-01**")
    page.wait_for_selector("#chart .main-svg")
    first_x = page.evaluate("() => document.getElementById('chart').data[0].x[0]")
    assert str(first_x).startswith("2024-11-01")

    # The exports of the filtered view arrive as valid, non-empty files.
    magic = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<svg", "csv": b"# metric: cumulative-downloads-by-region\n"}
    for fmt, prefix in magic.items():
        with page.expect_download(timeout=90_000) as info:
            page.click(f"[data-export={fmt}]")
        path = tmp_path / f"chart.{fmt}"
        info.value.save_as(path)
        data = path.read_bytes()
        assert len(data) > 200, fmt
        head = data[:400]
        assert prefix in head if fmt == "svg" else data.startswith(prefix), fmt
        if fmt == "csv":
            lines = [line for line in data.decode().splitlines() if not line.startswith("#")]
            assert lines[0] == "date,region,cumulative_downloads"
            assert all(line.split(",")[1] == "china" for line in lines[1:])
            assert min(line.split(",")[0] for line in lines[1:]) == "2024-11-01"
    assert errors == []


def test_it_reaches_the_data_quality_ledger_from_a_chart_in_a_real_browser(served, browser_page):
    page = browser_page
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served}/dashboards/cumulative-downloads-by-region?scope=all&organization=mistralai")
    page.wait_for_selector("#chart .main-svg")
    assert "data-quality ledger flags" in page.inner_text("#flag-note")
    assert "data-quality ledger flags" in page.inner_text("#chart")  # the exported figure says it too
    page.click("#data-quality-link")
    page.wait_for_selector("#sources")
    assert "daily-series-30d/v1" in page.inner_text("#sources")
    page.select_option("select[name=kind]", "implausible-jump")
    page.fill("input[name=model]", "mistralai/Mathstral-7B-v0.1")
    page.click("form.filters button")
    page.wait_for_selector("#issues")
    assert "kind=implausible-jump" in page.url
    assert "mistralai/Mathstral-7B-v0.1" in page.inner_text("#issues")
    assert errors == []
