"""Pages and the JSON behind them. Views only wire metrics (analytics/) to charts (charts/)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from observatory.analytics import frames
from observatory.analytics.filters import Filters
from observatory.catalog.models import DownloadSnapshot, HubModel, LeaderboardEntry, LineageEdge, Organization
from observatory.catalog.runs import data_version
from observatory.charts import adoption as adoption_charts
from observatory.charts.embedding import figure_html
from observatory.dashboards import data_dates
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS
from observatory.vocab import REGION_VALUES

# Counting tens of millions of snapshot rows takes PostgreSQL seconds (a sequential or index-only
# scan every time): count once per data version. Every import, crawl and probe run moves the
# version on; the short lifetime bounds staleness after edits that do not (admin curation).
COUNTS_SECONDS = 300


def catalogue_counts() -> dict[str, int]:
    return _summary()["counts"]


def _summary() -> dict:
    key = f"stats:summary:v{data_version()}"
    summary = cache.get(key)
    if summary is None:
        summary = {
            "counts": {
                "models": HubModel.objects.count(),
                "organizations": Organization.objects.count(),
                "snapshots": DownloadSnapshot.objects.count(),
                "lineage_edges": LineageEdge.objects.count(),
                "leaderboard_entries": LeaderboardEntry.objects.count(),
            },
            "by_region": dict(Organization.objects.values_list("region").annotate(n=Count("id"))
                              .values_list("region", "n")),
            # The newest day of the daily download history (what "data as of" means: dashboards.data_dates).
            "latest_snapshot": frames.latest_snapshot_date(),
        }
        cache.set(key, summary, COUNTS_SECONDS)
    return summary


@csrf_exempt  # read-only: an unsafe method gets require_GET's 405, not a CSRF 403
@require_GET
def stats(request: HttpRequest) -> JsonResponse:
    return JsonResponse(catalogue_counts())


def _cumulative_chart_html() -> str:
    key = f"chart:home-cumulative-block:v{data_version()}"  # a data block, no inline script
    html = cache.get(key)
    if html is None:
        # The chart page's own computation (the rollup when it is fresh) over the tracked models.
        frame = METRICS["cumulative-downloads-by-region"].compute(ChartParams(filters=Filters(scope="tracked"))).rows
        as_of = frames.latest_snapshot_date()
        fig = adoption_charts.cumulative_downloads_by_region(frame, as_of=as_of)
        html = figure_html(fig, div_id="chart-cumulative-downloads")
        cache.set(key, html, 3600)
    return html


def warm_home() -> None:
    """Cache what the home page reads, under the version being read (dashboards.warming)."""
    summary = _summary()
    if summary["counts"]["models"]:
        data_dates.home_sources()
    if summary["counts"]["snapshots"]:
        _cumulative_chart_html()


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    summary = _summary()
    counts, by_region = summary["counts"], summary["by_region"]
    context = {
        "counts": counts,
        "regions": [(r, by_region.get(r, 0)) for r in REGION_VALUES],
        # The stamp means what every chart's does: the newest day of the data shown, here the daily
        # download history the chart below draws; each source's end beside it.
        "latest_snapshot": summary["latest_snapshot"],
        "source_ends": data_dates.home_sources() if counts["models"] else [],
        "chart": _cumulative_chart_html() if counts["snapshots"] else "",
        "today": dt.date.today(),
        "metrics": METRICS.values(),
    }
    return render(request, "observatory/home.html", context)


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().encode("utf-8")


@require_GET
def plotly_js(request: HttpRequest) -> HttpResponse:
    """plotly.js from the installed plotly package: served locally, no CDN."""
    response = HttpResponse(_plotly_js(), content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
