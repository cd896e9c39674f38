"""Adoption charts: pure functions from a metric frame to a plotly figure."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.analytics.adoption import REGIONS
from observatory.charts.theme import REGION_COLOURS, REGION_LABELS, finish


def cumulative_downloads_by_region(frame: pl.DataFrame, *, as_of: dt.date | None, scope: str = "tracked") -> go.Figure:
    fig = go.Figure()
    for region in REGIONS:
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
        y_title="Downloads accumulated since start (count)", sources=["daily-series", "hub", "atom"], as_of=as_of,
    )
