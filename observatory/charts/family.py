"""A model family: a sunburst of the tree by depth, and its new derivatives by relation over time."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from observatory.charts.theme import LICENCE_COLOURS, PALETTE, REGION_COLOURS, REGION_LABELS, finish, plain

CONFLICT = "#d62728"  # the ring drawn round a derivative more permissive than its parent
RELATION_ORDER = ("finetune", "adapter", "quantized", "merge")


def family_sunburst(page: dict, *, model: str, as_of: dt.date | None) -> go.Figure:
    """The page's nodes (families.Family.page: each node's parent precedes it), sized by downloads
    (+1, so a model nobody downloaded still shows), coloured by licence class; buttons recolour by region."""
    nodes = page["nodes"]
    licence = [LICENCE_COLOURS.get(n["licence_class"], LICENCE_COLOURS["unknown"]) for n in nodes]
    region = [REGION_COLOURS.get(n["region"], REGION_COLOURS["unknown"]) for n in nodes]
    text = [f"{plain(n['id'])}<br>{n['relation'] or 'root'} · depth {n['depth']} · {n['downloads']:,} downloads"
            f"<br>{REGION_LABELS.get(n['region'], n['region'])} · {n['licence_class']}"
            + ("<br>licence conflict: more permissive than its parent" if n["licence_conflict"] else "")
            for n in nodes]
    fig = go.Figure(go.Sunburst(
        ids=[n["id"] for n in nodes], labels=[plain(n["id"].split("/")[-1]) for n in nodes],
        parents=[n["parent"] or "" for n in nodes], values=[n["downloads"] + 1 for n in nodes],
        branchvalues="remainder", hovertext=text, hoverinfo="text", maxdepth=4,
        marker={"colors": licence, "line": {"color": [CONFLICT if n["licence_conflict"] else "#fff" for n in nodes],
                                            "width": [3 if n["licence_conflict"] else 1 for n in nodes]}},
    ))
    fig.update_layout(updatemenus=[{
        "type": "buttons", "direction": "right", "x": 0, "y": 1.06, "xanchor": "left", "showactive": True,
        "buttons": [{"label": "Colour: licence class", "method": "restyle", "args": [{"marker.colors": [licence]}]},
                    {"label": "Colour: region", "method": "restyle", "args": [{"marker.colors": [region]}]}],
    }])
    shown = f"{len(nodes)} of {page['total']} models" if page["truncated"] else f"{len(nodes)} models"
    return finish(fig, title=f"The family of {plain(model)}: root {plain(page['root'])} ({shown})", x_title=None,
                  y_title=None, sources=["hub"], as_of=as_of,
                  note="Rings by depth; size: downloads; red edge: a licence conflict with the parent")


def relations_over_time(rows: list[tuple[str, str, int]], *, root: str, as_of: dt.date | None) -> go.Figure:
    fig = go.Figure()
    relations = [r for r in RELATION_ORDER if any(rel == r for _, rel, _ in rows)]
    for index, rel in enumerate(relations):
        part = [(month, n) for month, r, n in rows if r == rel]
        fig.add_trace(go.Bar(x=[m for m, _ in part], y=[n for _, n in part], name=rel,
                             marker_color=PALETTE[index % len(PALETTE)]))
    fig.update_layout(barmode="stack")
    return finish(fig, title=f"New members of the {plain(root)} family by relation", x_title="Month created",
                  y_title="New derivatives (count)", sources=["hub"], as_of=as_of)
