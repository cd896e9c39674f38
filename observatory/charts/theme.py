"""The observatory's look: one colour per region everywhere, a source line on every chart."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from observatory import vocab

REGION_COLOURS = {
    "us": "#1f5aa6",
    "china": "#c8372d",
    "eu": "#f2b01e",
    "other": "#3a9a5b",
    "unknown": "#9a9a9a",
}
# Organisations, bases, models: a qualitative palette that keeps clear of the region colours' meaning.
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#eeca3b",
           "#bab0ac", "#1b9e77", "#7570b3"]
LICENCE_COLOURS = {"permissive": "#3a9a5b", "copyleft": "#72b7b2", "restricted": "#f58518",
                   "non-commercial": "#c8372d", "unknown": "#9a9a9a"}
REGION_LABELS = vocab.REGION_LABELS

ATTRIBUTIONS = {
    "hub": "Hugging Face Hub (hub-stats, Apache-2.0) and the observatory's daily crawls",
    "daily-series": "Daily download series: KBhandari11/ForecastHuggingFaceModels (MIT)",
    "finetune-counts": "Monthly fine-tune counts per base model: KBhandari11/ForecastHuggingFaceModels (MIT)",
    "atom": "Region table and tracked lists: The ATOM Project / Interconnects (Apache-2.0)",
    "lmarena": "LMArena",
    "epoch": "Epoch AI (CC-BY-4.0)",
    "probe": "Open Model Observatory probes",
}


def plain(text) -> str:
    """Data (model and organisation names) as plain text: plotly.js reads a subset of HTML in
    names, hover text and annotations, so angle brackets from the Hub must not reach it raw."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


HEIGHT = 640  # fixed, so the source line sits at the same place on screen and in exports
MARGIN = {"l": 80, "r": 30, "t": 90, "b": 150}


def finish(fig: go.Figure, *, title: str, x_title: str | None, y_title: str | None, sources: list[str],
           as_of: dt.date | None, note: str | None = None) -> go.Figure:
    """Title, axis titles with units, and the source / licence / data-as-of line at the foot
    (with `note`, e.g. the estimator and any flagged points, on a line of its own)."""
    source_line = "Sources: " + "<br>".join(ATTRIBUTIONS.get(s, s) for s in sources)
    as_of_text = f"Data as of {as_of.isoformat()}" if as_of else "No data yet"
    if note:
        as_of_text = f"{plain(note)}<br>{as_of_text}"
    fig.update_layout(
        height=HEIGHT,
        title={"text": title, "x": 0.01, "xanchor": "left", "font": {"size": 20}},
        template="plotly_white",
        font={"family": "Inter, Helvetica, Arial, sans-serif", "size": 13, "color": "#222"},
        margin=MARGIN,
        # Right of the plot, where plotly widens the margin to fit it: never over the title.
        legend={"orientation": "v", "y": 1.0, "yanchor": "top", "x": 1.02, "xanchor": "left"},
    )
    if x_title:
        # On stacked subplots the title belongs under the bottom axis (the highest-numbered one).
        axes = sorted((int(name[5:] or 1), name) for name in fig.layout if name.startswith("xaxis"))
        fig.layout[axes[-1][1] if axes else "xaxis"].title = {"text": x_title}
    if y_title:
        fig.update_layout(yaxis_title=y_title)
    fig.add_annotation(
        text=f"{source_line}<br>{as_of_text} · Open Model Observatory",
        # 75 px under the plot area: below the x-axis title, inside the bottom margin.
        xref="paper", yref="paper", x=0, y=-75 / (HEIGHT - MARGIN["t"] - MARGIN["b"]), yanchor="top",
        showarrow=False, align="left",
        font={"size": 11, "color": "#555"}, xanchor="left",
    )
    return fig
