"""Adoption forecasts drawn: the models most likely to be on track, and one model's forecast fan."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.charts.theme import PALETTE, finish, plain

SIZE_COLOURS = dict(zip(["<1B", "1-5B", "7-9B", "10-50B", "50-100B", "100-250B", "250B+"], PALETTE, strict=False))


def likely_top10(rows: pl.DataFrame, *, top: int, as_of: dt.date | None, note: str | None = None) -> go.Figure:
    """Horizontal bars: P(RAM v2 ≥ 1 at day 90) of the `top` most likely models not yet past day
    90, with the day-90 download forecast (p50, 80% band) in the hover."""
    fig = go.Figure()
    chosen = (rows.filter((pl.col("measure") == "downloads") & (pl.col("horizon") == "day-90")
                          & pl.col("p_on_track").is_not_null() & (pl.col("days_observed") < 90))
              .sort(["p_on_track", "p50", "hub_id"], descending=[True, True, False]).head(top)
              .reverse())  # plotly draws the first bar at the bottom
    for size_class in chosen["size_class"].unique(maintain_order=True).to_list():
        part = chosen.filter(pl.col("size_class") == size_class)
        fig.add_trace(go.Bar(
            x=(part["p_on_track"] * 100).to_list(), y=[plain(h) for h in part["hub_id"].to_list()], orientation="h",
            name=plain(size_class), marker_color=SIZE_COLOURS.get(size_class, "#9a9a9a"),
            customdata=list(zip(part["p10"].to_list(), part["p50"].to_list(), part["p90"].to_list(),
                                part["days_observed"].to_list(), strict=True)),
            hovertemplate=("%{y}: %{x:.0f}% on track<br>day-90 downloads %{customdata[1]:,.0f} "
                           "(80%: %{customdata[0]:,.0f}–%{customdata[2]:,.0f})<br>"
                           "from %{customdata[3]} days of history<extra></extra>")))
    fig.update_xaxes(range=[0, 100], ticksuffix="%")
    fig.update_layout(barmode="overlay", yaxis={"categoryorder": "array",
                                                "categoryarray": [plain(h) for h in chosen["hub_id"].to_list()]})
    return finish(fig, title="Adoption forecast: the models most likely to be a top-10 of their size at day 90",
                  x_title="P(RAM v2 ≥ 1 at day 90), %", y_title=None, sources=["daily-series", "hub", "atom"],
                  as_of=as_of, note=note)


def forecast_fan(curve: pl.DataFrame, rows: pl.DataFrame, *, hub_id: str, measure: str = "downloads",
                 as_of: dt.date | None) -> go.Figure:
    """One model's observed cumulative count (`curve`: days, cumulative) and its forecast: the
    median dashed and the 80% band, from the last observed day to each forecast horizon.

    The hook for the model card: curve = adoption.adoption_curves(...) of the model, rows =
    the adoption-forecast metric's rows of it (analytics.forecast.adoption_forecast)."""
    fig = go.Figure()
    label = "downloads" if measure == "downloads" else "fine-tunes"
    if not curve.is_empty():
        fig.add_trace(go.Scatter(x=curve["days"].to_list(), y=curve["cumulative"].to_list(), mode="lines",
                                 name=f"observed cumulative {label}", line={"color": "#1f5aa6"}))
    add_fan(fig, rows, measure=measure, colour="#1f5aa6")
    fig.update_yaxes(type="log")
    return finish(fig, title=f"{plain(hub_id)}: cumulative {label} and forecast",
                  x_title="Days since release" if measure == "downloads" else "Days since the base's creation",
                  y_title=f"Cumulative {label} (log)",
                  sources=["daily-series", "hub"] if measure == "downloads" else ["finetune-counts"], as_of=as_of)


def add_fan(fig: go.Figure, rows: pl.DataFrame, *, measure: str = "downloads", colour: str,
            label: str | None = None) -> None:
    """One model's fan on `fig`: from its last observed day, the 80% band (p10..p90) and the
    median dashed at each horizon still ahead (a horizon already reached is the observed count,
    drawn as the curve). `label`: the model's name in the legend entries (for a chart of several)."""
    fan = rows.filter((pl.col("measure") == measure) & pl.col("horizon").str.starts_with("day-")
                      & (pl.col("target_days") > pl.col("days_observed"))).sort("target_days")
    if fan.is_empty():
        return
    start = fan.row(0, named=True)
    days = [start["days_observed"], *fan["target_days"].to_list()]
    low = [start["observed"], *fan["p10"].to_list()]
    mid = [start["observed"], *fan["p50"].to_list()]
    high = [start["observed"], *fan["p90"].to_list()]
    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    prefix = f"{plain(label)}: " if label else ""
    fig.add_trace(go.Scatter(x=days + days[::-1], y=high + low[::-1], fill="toself", name=f"{prefix}80% interval",
                             fillcolor=f"rgba({red},{green},{blue},0.15)",
                             line={"color": f"rgba({red},{green},{blue},0.4)", "dash": "dash"}, hoverinfo="skip",
                             legendgroup=label, showlegend=label is None))
    fig.add_trace(go.Scatter(x=days, y=mid, mode="lines", name=f"{prefix}median forecast", legendgroup=label,
                             line={"color": colour, "dash": "dash"}, showlegend=label is None))
