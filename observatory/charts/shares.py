"""Download share by organisation: stacked monthly shares."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.charts.theme import PALETTE, finish, plain


def download_share_by_org(frame: pl.DataFrame, *, as_of: dt.date | None, note: str | None = None) -> go.Figure:
    fig = go.Figure()
    order = (frame.group_by("organization").agg(pl.col("downloads").sum())
             .sort(["downloads", "organization"], descending=[True, False])["organization"].to_list())
    order = [o for o in order if o != "other"] + (["other"] if "other" in order else [])
    for index, org in enumerate(order):
        part = frame.filter(pl.col("organization") == org).sort("month")
        fig.add_trace(go.Bar(
            x=part["month"].to_list(), y=(part["share"] * 100).to_list(), name=plain(org),
            marker_color="#b8bcc6" if org == "other" else PALETTE[index % len(PALETTE)],
            hovertemplate="%{x|%b %Y}: %{y:.1f}%<extra>" + plain(org) + "</extra>",
        ))
    fig.update_layout(barmode="stack", yaxis={"range": [0, 100], "ticksuffix": "%"})
    return finish(fig, title="Share of monthly downloads by organisation", x_title="Month",
                  y_title="Share of downloads gained in the month (%)", sources=["daily-series", "hub", "atom"],
                  as_of=as_of, note=note)
