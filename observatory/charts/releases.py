"""Releases per region per quarter, two sources side by side."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import REGION_COLOURS, REGION_LABELS, finish


def releases_by_region(frame: pl.DataFrame, *, as_of: dt.date | None) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=("Tracked Hub releases (observatory)", "Notable models (Epoch AI)"))
    for row, source in ((1, "observatory"), (2, "epoch-notable")):
        part_source = frame.filter(pl.col("source") == source)
        for region, colour in REGION_COLOURS.items():
            part = part_source.filter(pl.col("region") == region).sort("quarter")
            if part.is_empty():
                continue
            fig.add_trace(go.Bar(x=part["quarter"].to_list(), y=part["releases"].to_list(), name=REGION_LABELS[region],
                                 marker_color=colour, legendgroup=region, showlegend=row == 1,
                                 hovertemplate="%{x|%Y Q%q}: %{y} releases<extra>" + REGION_LABELS[region] + "</extra>"),
                          row=row, col=1)
    fig.update_layout(barmode="stack")
    fig.update_yaxes(title_text="Releases (count)")
    return finish(fig, title="Model releases per quarter by region of origin", x_title="Quarter of release",
                  y_title=None, sources=["hub", "atom", "epoch"], as_of=as_of)
