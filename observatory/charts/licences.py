"""Licence mix: models, downloads and derivatives per licence class."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import LICENCE_COLOURS, finish


def licence_mix(frame: pl.DataFrame, *, as_of: dt.date | None) -> go.Figure:
    fig = make_subplots(rows=1, cols=3, subplot_titles=("Models (count)", "All-time downloads (count)",
                                                        "Direct derivatives (count)"))
    colours = [LICENCE_COLOURS.get(c, "#999") for c in frame["licence_class"].to_list()]
    for column, col in (("models", 1), ("downloads_all_time", 2), ("derivatives", 3)):
        fig.add_trace(go.Bar(x=frame["licence_class"].to_list(), y=frame[column].to_list(), marker_color=colours,
                             showlegend=False, hovertemplate="%{x}: %{y:,.0f}<extra></extra>"), row=1, col=col)
    return finish(fig, title="Licence mix: models, downloads and derivatives by licence class",
                  x_title=None, y_title=None, sources=["hub", "atom"], as_of=as_of)
