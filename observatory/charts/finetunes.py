"""ATOM's signature chart: the share of new fine-tunes by the origin of their base model."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import PALETTE, REGION_COLOURS, REGION_LABELS, finish, plain

OTHER_GREYS = ["#9a9a9a", "#c4c4c4", "#6f6f6f", "#dedede", "#4d4d4d"]


def _series(frame: pl.DataFrame, by: str) -> list[tuple[str, str, pl.DataFrame]]:
    """(label, colour, rows) per stacked series: regions in the house order, else the groups
    largest first (ties by name) with 'other' last."""
    if by == "region":
        return [(REGION_LABELS[r], colour, frame.filter(pl.col("region") == r))
                for r, colour in REGION_COLOURS.items() if not frame.filter(pl.col("region") == r).is_empty()]
    column = "organization" if by == "organization" else "base_model"
    totals = (frame.group_by(column, "region").agg(pl.col("new_finetunes").sum())
              .with_columns((pl.col(column) == "other").alias("is_other"))
              .sort(["is_other", "new_finetunes", column, "region"], descending=[False, True, False, False]))
    out, named, others = [], 0, 0
    for name, region in totals.select(column, "region").iter_rows():
        label = f"{plain(name)} ({REGION_LABELS.get(region, region)})"
        if name == "other":  # the rest of each region: greys, told apart by shade
            colour, others = OTHER_GREYS[others % len(OTHER_GREYS)], others + 1
        else:
            colour, named = PALETTE[named % len(PALETTE)], named + 1
        out.append((label, colour, frame.filter((pl.col(column) == name) & (pl.col("region") == region))))
    return out


def finetunes_by_origin(frame: pl.DataFrame, *, by: str, scope: str, as_of: dt.date | None,
                        partial_month: dt.date | None) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14, row_heights=[0.62, 0.38],
                        subplot_titles=("Share of new fine-tunes", "New fine-tunes per month"))
    months = frame.select("month").unique()
    for label, colour, part in _series(frame, by):
        per_month = part.group_by("month").agg(pl.col("new_finetunes").sum(), pl.col("share").sum())
        # A month without this series' fine-tunes is 0%, not a gap, or the stacked areas would cross.
        per_month = (months.join(per_month, on="month", how="left")
                     .with_columns(pl.col("share").fill_null(0.0), pl.col("new_finetunes").fill_null(0)).sort("month"))
        x = per_month["month"].to_list()
        fig.add_trace(go.Scatter(x=x, y=(per_month["share"] * 100).to_list(), mode="lines", stackgroup="share",
                                 name=label, legendgroup=label, line={"width": 0.5, "color": colour},
                                 hovertemplate="%{x|%b %Y}: %{y:.1f}%"), row=1, col=1)
        fig.add_trace(go.Bar(x=x, y=per_month["new_finetunes"].to_list(), name=label, legendgroup=label,
                             marker_color=colour, showlegend=False), row=2, col=1)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Share (%)", ticksuffix="%", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="Fine-tunes (count)", row=2, col=1)
    if partial_month is not None:
        fig.add_annotation(text=f"{partial_month:%B %Y} left out: observed only in part (to {as_of})",
                           xref="paper", yref="paper", x=1, y=1.0, yanchor="bottom", xanchor="right",
                           showarrow=False, font={"size": 11, "color": "#555"})
    bases = "tracked base models" if scope == "tracked" else "all base models in the counts"
    split = {"region": "region", "organization": "organisation", "base": "base model"}[by]
    return finish(fig, title=f"Derivatives by base-model origin: new fine-tunes by base {split} ({bases})",
                  x_title="Month the fine-tunes were counted (base's creation month + n)", y_title=None,
                  sources=["finetune-counts", "atom"], as_of=as_of)
