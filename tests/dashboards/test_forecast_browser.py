"""The adoption forecast's fans in a real Chromium under the Content-Security-Policy: the model
card's fan (its numbers the adoption-forecast metric's rows), the relative-adoption chart's fans
with forecast=1 (and none without), the adoption-forecast dashboard, and the methodology page's
backtest table and calibration plot."""

import json
import urllib.request

import pytest

# `served` and `browser_page` (tests/dashboards/conftest.py): the same server and bootstrap as test_browser.
pytestmark = [pytest.mark.django_db, pytest.mark.browser, pytest.mark.postgres]

WATCH = """window.__refused = [];
document.addEventListener('securitypolicyviolation', e => window.__refused.push(e.violatedDirective));"""


def _traces(page, div: str) -> list[dict]:
    return page.evaluate(f"""() => document.getElementById('{div}').data.map(t => ({{
        name: t.name, x: t.x, y: t.y, dash: (t.line || {{}}).dash || null}}))""")


def _a_forecast_with_a_horizon_ahead(served: str) -> list[dict]:
    """The default forecast's downloads rows of the first model with its day-365 still ahead."""
    with urllib.request.urlopen(served + "/api/metrics/adoption-forecast") as response:
        rows = json.load(response)["rows"]
    ahead = [r for r in rows if r["measure"] == "downloads" and r["horizon"] == "day-365"
             and r["target_days"] > r["days_observed"]]
    assert ahead, "the real data's default forecast has no model younger than a year"
    hub_id = ahead[0]["hub_id"]
    return [r for r in rows if r["hub_id"] == hub_id and r["measure"] == "downloads" and r["horizon"].startswith("day-")]


def test_the_card_and_the_dashboards_draw_the_forecast_fans(served, browser_page):
    page = browser_page
    page.add_init_script(WATCH)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    rows = sorted(_a_forecast_with_a_horizon_ahead(served), key=lambda r: r["target_days"])
    hub_id, start = rows[0]["hub_id"], rows[0]
    ahead = [r for r in rows if r["target_days"] > r["days_observed"]]
    page.goto(f"{served}/models/{hub_id}")
    page.wait_for_selector("#chart-model-forecast .main-svg")
    traces = {t["name"]: t for t in _traces(page, "chart-model-forecast")}
    median, band = traces["median forecast"], traces["80% interval"]
    assert median["dash"] == "dash" and band["dash"] == "dash"
    # The fan starts at the count observed on the forecast's last day and runs through each
    # horizon still ahead at the metric's p50; the band's upper edge is its p90, back along p10.
    assert median["x"] == [start["days_observed"], *(r["target_days"] for r in ahead)]
    assert median["y"] == pytest.approx([start["observed"], *(r["p50"] for r in ahead)], rel=1e-5)
    assert band["y"][1:len(ahead) + 1] == pytest.approx([r["p90"] for r in ahead], rel=1e-5)
    assert band["y"][-len(ahead) - 1:-1] == pytest.approx([r["p10"] for r in ahead][::-1], rel=1e-5)
    # The observed curve drawn ends at the count the forecast started from, on that day.
    observed = next(t for n, t in traces.items() if n.startswith("observed"))
    assert observed["x"][-1] == start["days_observed"]
    assert observed["y"][-1] == pytest.approx(start["observed"])
    assert page.evaluate("() => window.__refused") == []

    # Relative adoption: no fan by default; the Forecast box adds one per drawn model.
    page.goto(f"{served}/dashboards/relative-adoption")
    page.wait_for_selector("#chart .main-svg")
    assert not [t for t in _traces(page, "chart") if "forecast" in (t["name"] or "")]
    page.check("input[name=forecast]")
    page.wait_for_url("**forecast=1**")
    page.wait_for_selector("#chart .main-svg")
    drawn = _traces(page, "chart")
    models = [t["name"] for t in drawn if t["dash"] is None]
    medians = [t for t in drawn if (t["name"] or "").endswith(": median forecast")]
    assert medians and all(t["dash"] == "dash" for t in medians)
    assert {t["name"].removesuffix(": median forecast") for t in medians} <= set(models)
    assert page.evaluate("() => window.__refused") == []

    # The adoption-forecast dashboard draws its chart.
    page.goto(f"{served}/dashboards/adoption-forecast")
    page.wait_for_selector("#chart .main-svg")
    assert sum(len(t["x"] or []) for t in _traces(page, "chart")) > 0

    # The methodology: the backtest table and the calibration plot from the bench's results.
    page.goto(f"{served}/methodology#adoption-forecast")
    page.wait_for_selector("#chart-forecast-calibration .main-svg")
    table = page.inner_text("#forecast-backtest")
    assert "30->90" in table and "Downloads" in table
    lines = {t["name"]: t for t in _traces(page, "chart-forecast-calibration")}
    assert lines["perfect calibration"]["x"] == [0, 100] and "Downloads" in lines
    assert page.evaluate("() => window.__refused") == []
    assert errors == []
