"""The tooling-readiness dashboard's chart: days to ready by group and release month, and the
share of releases ready at days 0, 7 and 30."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import PALETTE, REGION_COLOURS, REGION_LABELS, finish, plain

SHARES = (("ready_day_0", "day 0"), ("ready_day_7", "day 7"), ("ready_day_30", "day 30"))


def tooling_readiness(rows: pl.DataFrame, *, by: str, as_of: dt.date | None) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.18,
                        subplot_titles=("Median days to ready, by month of release",
                                        "Share of releases ready (all checks passing) by day after release"))
    groups = rows.select("group").unique(maintain_order=True)["group"].to_list()
    for index, group in enumerate(groups):
        part = rows.filter(pl.col("group") == group).sort("release_month")
        colour = REGION_COLOURS.get(group) if by == "region" else PALETTE[index % len(PALETTE)]
        name = REGION_LABELS.get(group, group) if by == "region" else plain(group)
        fig.add_trace(go.Bar(x=part["release_month"].to_list(), y=part["median_days_to_ready"].to_list(), name=name,
                             marker_color=colour, legendgroup=group), row=1, col=1)
        totals = part.select([pl.col(c).sum() for c in ("releases", *[f"{k}_of" for k, _ in SHARES],
                                                        *[k for k, _ in SHARES])])
        shares = [(100 * totals[k][0] / totals[f"{k}_of"][0]) if totals[f"{k}_of"][0] else None for k, _ in SHARES]
        fig.add_trace(go.Bar(x=[label for _, label in SHARES], y=shares, name=name, marker_color=colour,
                             legendgroup=group, showlegend=False), row=2, col=1)
    fig.update_layout(barmode="group")
    fig.update_yaxes(title_text="Days (median)", row=1, col=1)
    fig.update_yaxes(title_text="Share (%)", ticksuffix="%", range=[0, 100], row=2, col=1)
    return finish(fig, title=f"Tooling readiness after release, by {by}", x_title=None, y_title=None,
                  sources=["probe", "hub", "atom"], as_of=as_of,
                  note="Ready: the first tooling check at which every check passed; a share counts releases old enough")
