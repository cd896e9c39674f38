"""Derivatives per month by base, and the share of new fine-tunes by base region."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import PALETTE, REGION_COLOURS, REGION_LABELS, finish, plain


def derivatives_by_base(frame: pl.DataFrame, share: pl.DataFrame, *, by: str, scope: str,
                        as_of: dt.date | None) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.16, row_heights=[0.65, 0.35],
                        subplot_titles=("New derivatives per month", "Share of new fine-tunes by base model's region"))
    totals = frame.group_by(["month", "base"]).agg(pl.col("new_derivatives").sum())
    bases = (totals.group_by("base").agg(pl.col("new_derivatives").sum())
             .sort(["new_derivatives", "base"], descending=[True, False])["base"].to_list())
    for index, base in enumerate(bases):
        part = totals.filter(pl.col("base") == base).sort("month")
        colour = REGION_COLOURS.get(base) if by == "region" else PALETTE[index % len(PALETTE)]
        fig.add_trace(go.Bar(x=part["month"].to_list(), y=part["new_derivatives"].to_list(),
                             name=REGION_LABELS.get(base, base) if by == "region" else plain(base), marker_color=colour,
                             legendgroup="bases"), row=1, col=1)
    # Months without a region's fine-tunes are 0%, not gaps, or the stacked areas would cross.
    months = share.select("month").unique()
    for region, colour in REGION_COLOURS.items():
        part = (months.join(share.filter(pl.col("base_region") == region), on="month", how="left")
                .with_columns(pl.col("share").fill_null(0.0)).sort("month"))
        if part.is_empty() or part["share"].sum() == 0:
            continue
        fig.add_trace(go.Scatter(x=part["month"].to_list(), y=(part["share"] * 100).to_list(), mode="lines",
                                 stackgroup="share", name=f"fine-tunes of {REGION_LABELS[region]} bases",
                                 line={"width": 0.5, "color": colour}, showlegend=by != "region"), row=2, col=1)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Derivatives (count)", row=1, col=1)
    fig.update_yaxes(title_text="Share (%)", ticksuffix="%", range=[0, 100], row=2, col=1)
    what = "direct children" if scope == "direct" else "whole tree below each base"
    return finish(fig, title=f"Derivatives by base {by} ({what})", x_title="Month the derivative was created",
                  y_title=None, sources=["hub", "atom"], as_of=as_of)
