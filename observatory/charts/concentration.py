"""Download concentration: HHI of the month's downloads, with the top-1/5/10 shares beneath."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from observatory.charts.theme import PALETTE, finish

# The US antitrust guidelines' bands (2023): under 1,000 unconcentrated, over 1,800 highly concentrated.
BANDS = ((1000, "1,000: moderately concentrated above"), (1800, "1,800: highly concentrated above"))


def download_concentration(frame: pl.DataFrame, *, by: str, scope: str, as_of: dt.date | None,
                           note: str | None = None) -> go.Figure:
    group = "organisations" if by == "organization" else "families (root base models)"
    # Panels of equal height close together: the figure's middle lies on a plot, where hover works.
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.5, 0.5],
                        subplot_titles=(f"HHI of downloads gained, over {group}", "Share of the largest"))
    months = frame["month"].to_list()
    fig.add_trace(go.Scatter(x=months, y=frame["hhi"].to_list(), mode="lines+markers", name="HHI",
                             line={"color": "#222"}, customdata=frame["organizations"].to_list(),
                             hovertemplate="%{x|%b %Y}: HHI %{y:,.0f} over %{customdata} groups<extra></extra>"),
                  row=1, col=1)
    for level, label in BANDS:
        fig.add_hline(y=level, line={"dash": "dot", "color": "#999", "width": 1}, annotation_text=label,
                      annotation_font={"size": 10, "color": "#777"}, row=1, col=1)
    for index, (column, label) in enumerate((("top1_share", "top 1"), ("top5_share", "top 5"),
                                             ("top10_share", "top 10"))):
        fig.add_trace(go.Scatter(x=months, y=(frame[column] * 100).to_list(), mode="lines", name=label,
                                 line={"color": PALETTE[index]}, hovertemplate="%{x|%b %Y}: %{y:.1f}%"),
                      row=2, col=1)
    fig.update_yaxes(title_text="HHI (0-10,000)", range=[0, 10_000], row=1, col=1)
    fig.update_yaxes(title_text="Share (%)", ticksuffix="%", range=[0, 100], row=2, col=1)
    models = "tracked models" if scope == "tracked" else "all models"
    return finish(fig, title=f"Concentration of monthly downloads by {group} ({models})", x_title="Month",
                  y_title=None, sources=["daily-series", "hub", "atom"], as_of=as_of, note=note)
