"""Adoption charts: pure functions from a metric frame to a plotly figure."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.charts.theme import REGION_COLOURS, REGION_LABELS, finish
from observatory.vocab import REGION_VALUES


def cumulative_downloads_by_region(frame: pl.DataFrame, *, as_of: dt.date | None, scope: str = "tracked",
                                   note: str | None = None) -> go.Figure:
    fig = go.Figure()
    for region in REGION_VALUES:
        part = frame.filter(pl.col("region") == region).sort("date")
        if part.is_empty():
            continue
        fig.add_trace(go.Scatter(
            x=part["date"].to_list(), y=part["cumulative_downloads"].to_list(), name=REGION_LABELS[region],
            mode="lines", stackgroup="regions", line={"width": 0.5, "color": REGION_COLOURS[region]},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,.0f} downloads<extra>" + REGION_LABELS[region] + "</extra>",
        ))
    what = "tracked models" if scope == "tracked" else "all models"
    return finish(
        fig, title=f"Cumulative downloads by region of origin ({what})", x_title="Date",
        y_title="Downloads accumulated over the range (count)", sources=["daily-series", "hub", "atom"], as_of=as_of,
        note=note,
    )


def relative_adoption(curves: pl.DataFrame, reference: pl.DataFrame, *, size_class: str,
                      as_of: dt.date | None, note: str | None = None, forecast: pl.DataFrame | None = None) -> go.Figure:
    """Cumulative downloads against days since release for a size class's models, with the
    10th-of-class reference curve dashed on top; with `forecast` (analytics.forecast rows), each
    model's fan (median dashed, 80% band) in its colour."""
    from observatory.charts.forecast import add_fan
    from observatory.charts.theme import PALETTE, plain

    fig = go.Figure()
    for index, hub_id in enumerate(curves["hub_id"].unique(maintain_order=True).to_list()):
        part = curves.filter(pl.col("hub_id") == hub_id).sort("days")
        colour = PALETTE[index % len(PALETTE)]
        fig.add_trace(go.Scatter(x=part["days"].to_list(), y=part["cumulative"].to_list(), mode="lines", name=plain(hub_id),
                                 line={"width": 1.6, "color": colour}, legendgroup=hub_id))
        if forecast is not None:
            add_fan(fig, forecast.filter(pl.col("hub_id") == hub_id), colour=colour, label=hub_id)
    # Only where the reference is defined (10 models with data at t): no line through the rest.
    ref = reference.filter(pl.col("reference").is_not_null()).sort("days")
    if not ref.is_empty():
        fig.add_trace(go.Scatter(x=ref["days"].to_list(), y=ref["reference"].to_list(), mode="lines",
                                 name="10th of class (reference)", line={"width": 3, "dash": "dash", "color": "#222"}))
    fig.update_yaxes(type="log")
    return finish(fig, title=f"Relative adoption: {size_class} models against the 10th of their class",
                  x_title="Days since release (days)", y_title="Cumulative downloads (count, log scale)",
                  sources=["daily-series", "hub", "atom"], as_of=as_of,
                  note="; ".join(filter(None, [note, "dashed fans: adoption forecast, median and 80% interval"
                                               if forecast is not None else None])) or None)
