"""The adoption forecast's backtest as the methodology page shows it: the table of
bench/results/forecast_backtest.json (written by bench/forecast_backtest.py, not recomputed per
request: it refits the law ten times per measure) and its calibration plot, nominal against
observed coverage of the central intervals."""

from __future__ import annotations

import json

import plotly.graph_objects as go
from django.conf import settings

from observatory.charts.embedding import figure_html
from observatory.charts.theme import PALETTE, finish

RESULTS = settings.BASE_DIR / "bench" / "results" / "forecast_backtest.json"
LABELS = {"downloads": "Downloads", "finetunes": "Fine-tunes"}


def summary() -> dict | None:
    """{methodology, command, rows, calibration_chart}; None where the bench has not been run."""
    try:
        result = json.loads(RESULTS.read_text())
    except FileNotFoundError:
        return None
    rows = [{"measure": LABELS[measure], "cell": cell, **values}
            for measure in LABELS for cell, values in result.get(measure, {}).get("cells", {}).items()]
    return {"methodology": result["methodology"], "command": result["command"], "rows": rows,
            "calibration_chart": _calibration(result)}


def _calibration(result: dict) -> str:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 100], y=[0, 100], mode="lines", name="perfect calibration",
                             line={"color": "#888", "dash": "dot"}))
    drawn = False
    for index, measure in enumerate(LABELS):
        cells = result.get(measure, {}).get("cells", {})
        # Most bases never get a fine-tune, and a zero-width interval at 0 covers them at every
        # level: where the bench scores the active bases apart ("(>= 5 at t0)"), those are drawn.
        active = {k: c for k, c in cells.items() if "(" in k}
        chosen = [c for c in (active or cells).values() if "coverage_by_nominal" in c]
        if not chosen:
            continue  # a results file of before the calibration points: the table only
        drawn = True
        n = sum(c["n"] for c in chosen)
        nominal = sorted(chosen[0]["coverage_by_nominal"], key=float)
        observed = [sum(c["coverage_by_nominal"][level] * c["n"] for c in chosen) / n * 100 for level in nominal]
        name = LABELS[measure] + (" (bases with >= 5 at t0)" if active else "")
        fig.add_trace(go.Scatter(x=[float(level) * 100 for level in nominal], y=observed, mode="lines+markers",
                                 name=name, line={"color": PALETTE[index]}))
    if not drawn:
        return ""
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_yaxes(range=[0, 100], ticksuffix="%")
    finish(fig, title="Adoption forecast calibration: central intervals' observed coverage in the backtest",
           x_title="Nominal coverage of the central interval", y_title="Observed coverage",
           sources=["daily-series", "hub", "finetune-counts"], as_of=None,
           note=f"{result['methodology']}; the backtest cells pooled, weighted by models (bench/forecast_backtest.py)")
    return figure_html(fig, div_id="chart-forecast-calibration")
