"""The open/closed gap: both frontiers as steps, each closed frontier model's horizontal gap."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.charts.theme import finish, plain

OPEN_COLOUR = "#2a9d8f"
CLOSED_COLOUR = "#6c3fa0"


def open_closed_gap(fronts: pl.DataFrame, gaps: pl.DataFrame, *, source_label: str, unit: str, sources: list[str],
                    estimate: dict, as_of: dt.date | None, mean_gap: dict | None = None,
                    vertical: dict | None = None, x_title: str = "Release date") -> go.Figure:
    fig = go.Figure()
    for side, colour, label in (("closed", CLOSED_COLOUR, "Closed-weights frontier"),
                                ("open", OPEN_COLOUR, "Open-weights frontier")):
        part = fronts.drop_nulls(f"{side}_best")
        fig.add_trace(go.Scatter(x=part["date"].to_list(), y=part[f"{side}_best"].to_list(), mode="lines",
                                 line={"shape": "hv", "color": colour, "width": 2.5}, name=label,
                                 text=[plain(m) for m in part[f"{side}_model"].to_list()],
                                 hovertemplate="%{x|%Y-%m-%d}: %{y:.1f} (%{text})<extra>" + label + "</extra>"))
    for row in gaps.iter_rows(named=True):
        end = row["open_date"] or as_of
        if end is None:
            continue
        fig.add_trace(go.Scatter(
            x=[row["closed_date"], end], y=[row["closed_score"], row["closed_score"]], mode="lines+markers",
            line={"color": "#888" if row["matched"] else "#d62828", "width": 1, "dash": "dot" if row["matched"] else "dash"},
            marker={"size": 5}, showlegend=False,
            hovertemplate=(f"{row['gap_months']:.1f} months" + ("" if row["matched"] else " so far (unmatched)")
                           + "<extra></extra>"),
        ))
    summary = (f"Current gap estimate: {estimate.get('estimated_months')} months · vertical gap now: "
               f"{estimate.get('current_vertical_gap')} {unit}")
    lines = [_window_line(mean_gap, vertical, unit), summary] if mean_gap else [summary]
    fig.add_annotation(text="<br>".join(lines), xref="paper", yref="paper", x=0, y=1.0, yanchor="bottom",
                       showarrow=False, xanchor="left", align="left", font={"size": 12, "color": "#333"})
    return finish(fig, title=f"Open vs closed frontier on {source_label}", x_title=x_title,
                  y_title=f"{source_label} ({unit})", sources=sources, as_of=as_of)


def _window_line(mean_gap: dict, vertical: dict | None, unit: str) -> str:
    """The window's mean gaps in words, with how many closed models are left out and why."""
    if mean_gap.get("months") is None:
        text = "Mean horizontal gap: no closed frontier model caught up in this range"
    else:
        text = (f"Mean horizontal gap: {mean_gap['months']:.1f} months ({mean_gap['level']:.0%} CI "
                f"{mean_gap['low']:.1f}–{mean_gap['high']:.1f}) over {mean_gap['matched']} caught-up closed models")
    if mean_gap.get("censored"):
        text += f"; {mean_gap['censored']} not caught up yet, left out"
    if vertical and vertical.get("points") is not None:
        text += f" · mean vertical gap {vertical['points']:.1f} {unit}"
    return text
