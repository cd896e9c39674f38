"""A chart's rendered page and embed, cached whole by (view, normalised filters, data version).

What a cached body may hold: nothing of the request it was first built for. So
- it is rendered without the request (no context processor runs: no user, no CSRF token, no
  session; the templates show none), and a visitor logged in gets the same bytes;
- its absolute permalinks carry ORIGIN, a per-deployment marker put in place of
  scheme://host on each response, so one entry serves every allowed host and a Host header
  cannot multiply entries;
- it is stored only under the normalised parameters (results.normalised): a query that
  normalises to another one (an unused filter, a date outside the data) is drawn from the
  normalised view's cached chart and not stored, so such values cannot fill the cache.
Errors (400, 429) are answered by the views and never pass through here.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse

from observatory.charts.embedding import figure_html
from observatory.dashboards import data_dates, results
from observatory.dashboards.params import CHOICES, ChartParams
from observatory.dashboards.registry import METRICS, Computed
from observatory.exports.images import FORMATS
from observatory.vocab import LICENCE_CLASS_VALUES, REGION_VALUES, SIZE_CLASS_VALUES

# Letters and digits only, so escaping leaves it as it is; unguessable, so no data can hold it.
ORIGIN = "origin" + hashlib.sha256(f"page-origin:{settings.SECRET_KEY}".encode()).hexdigest()[:24]
# In the cache keys: a process with another SECRET_KEY (a rotation mid-deploy) has another marker,
# so it must not serve bodies holding this one. Not the marker itself, which stays unpublished.
ORIGIN_ID = hashlib.sha256(f"page-origin-key:{settings.SECRET_KEY}".encode()).hexdigest()[:8]


def with_origin(body: bytes, origin: str) -> bytes:
    """The cached body with this request's scheme://host in its permalinks."""
    return body.replace(ORIGIN.encode(), origin.encode())


def chart_html(name: str, params: ChartParams, *, div_id: str = "chart", result: Computed | None = None) -> str:
    """The chart's HTML, drawn from `result` when the caller has computed it already."""
    if result is None:
        result = results.computed(name, params)
    return figure_html(METRICS[name].chart(result, params), div_id=div_id)


def _suffix(params: ChartParams) -> str:
    query = params.query()
    return f"?{query}" if query else ""


def page_body(name: str, params: ChartParams, *, server_export: bool, chart: str | None = None,
              result: Computed | None = None) -> bytes:
    metric, query = METRICS[name], params.query()
    suffix = _suffix(params)
    # One computation (or cache read) for both the chart and the table beside it.
    result = result or results.computed(name, params)
    body = results.payload_of(name, params, result)
    context = {
        "metric": metric, "metrics": METRICS.values(), "params": params, "filters": params.filters,
        "chart": chart if chart is not None else chart_html(name, params, result=result),
        "as_of": body["as_of"], "sources": body["sources"],
        "query": query, "suffix": suffix, "regions": REGION_VALUES, "size_classes": SIZE_CLASS_VALUES,
        "licence_classes": LICENCE_CLASS_VALUES,
        "permalink": ORIGIN + reverse("dashboard", args=[name]) + suffix,
        "embed_url": ORIGIN + reverse("embed", args=[name]) + suffix,
        "formats": list(FORMATS), "body": body, "by_choices": CHOICES["by"],
        # Where each source this chart reads ends (the stamp is the newest day of its rows).
        "source_ends": data_dates.source_ends(metric.sources(params)), "server_export": server_export,
    }
    return render_to_string("dashboards/chart.html", context).encode()


def embed_body(name: str, params: ChartParams, *, chart: str | None = None) -> bytes:
    return render_to_string("dashboards/embed.html", {
        "metric": METRICS[name], "chart": chart if chart is not None else chart_html(name, params),
        "permalink": ORIGIN + reverse("dashboard", args=[name]) + _suffix(params),
    }).encode()


def page_kind(server_export: bool) -> str:
    # Without Chromium the page's export buttons draw images in the reader's browser
    # (dashboard.js); the page says which, so pages built either way are cached apart.
    return f"page-{ORIGIN_ID}" if server_export else f"page-browser-export-{ORIGIN_ID}"


def embed_kind() -> str:
    return f"embed-{ORIGIN_ID}"


def _cached(kind: str, name: str, params: ChartParams, build, *, charge) -> bytes:
    canonical = results.normalised(name, params)
    if canonical == params:
        return results.remembered(kind, name, params, lambda: build(None), charge=charge, normalise=False)
    # The form shows the values as asked; the chart is the normalised view's (as its image is).
    chart = results.remembered("chart-html", name, canonical, lambda: chart_html(name, canonical).encode(),
                               charge=charge, normalise=False).decode()
    return build(chart)


def cached_page(name: str, params: ChartParams, *, server_export: bool, charge=None) -> bytes:
    return _cached(page_kind(server_export), name, params,
                   lambda chart: page_body(name, params, server_export=server_export, chart=chart), charge=charge)


def cached_embed(name: str, params: ChartParams, *, charge=None) -> bytes:
    return _cached(embed_kind(), name, params, lambda chart: embed_body(name, params, chart=chart), charge=charge)
