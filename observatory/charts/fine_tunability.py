"""The fine-tunability leaderboard's chart: the mean LoRA training-loss curves of the models run
with one probe config, overlaid, the best ranked first in the legend."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from observatory.charts.theme import PALETTE, finish, plain


def loss_curves(curves: pl.DataFrame, *, config_hash: str | None, as_of: dt.date | None) -> go.Figure:
    fig = go.Figure()
    shown = curves.filter(pl.col("config_hash") == config_hash) if config_hash else curves.clear()
    for index, ((hub_id,), part) in enumerate(shown.sort(["rank", "step"]).group_by("hub_id", maintain_order=True)):
        fig.add_trace(go.Scatter(x=part["step"].to_list(), y=part["loss"].to_list(), mode="lines+markers",
                                 name=f"{part['rank'][0]}. {plain(hub_id)}",
                                 line={"color": PALETTE[index % len(PALETTE)], "width": 2}))
    config = f"probe config {config_hash[:12]}" if config_hash else "no profiled model yet"
    return finish(fig, title=f"Fine-tunability: LoRA training loss per step ({config})", x_title="Training step",
                  y_title="Training loss (nats per answer token, mean over the tasks)", sources=["probe"],
                  as_of=as_of, note="Ranked only among runs of the same probe config (same tasks, steps and seeds)")
