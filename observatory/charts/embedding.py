"""A plotly figure as page HTML that needs no inline script (the Content-Security-Policy allows
none): an empty div and the figure as a JSON data block, drawn by /assets/charts.js.

plotly.io.to_html would write a <script> calling Plotly.newPlot inline. A data block
(<script type="application/json">) is never executed, so `script-src 'self'` allows it; and it
holds no per-request nonce, so the HTML stays cacheable as a whole page.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from django.utils.html import escape

CONFIG = {"displaylogo": False, "responsive": True}

# Django's json_script escapes: no "</script>" or "<!--" can end or bend the data block early.
_JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def figure_html(fig: go.Figure, *, div_id: str, config: dict | None = None) -> str:
    figure = pio.to_json({"data": fig.data, "layout": fig.layout, "config": config or CONFIG}, validate=False,
                         engine="json")
    data_id = f"{div_id}-figure"
    return (f'<div id="{escape(div_id)}" class="plotly-chart" data-figure="{escape(data_id)}"></div>'
            f'<script type="application/json" id="{escape(data_id)}">{figure.translate(_JSON_SCRIPT_ESCAPES)}</script>')
