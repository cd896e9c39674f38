"""Warm before switching: after new data, fill the cache for the new data version, then publish it.

catalog.runs.bump_data_version leaves the new version pending (pages keep reading the old one)
and sends `version_pending`; the dashboards app answers by queueing tasks.warm_data_version,
which computes every chart's default view, its page's other choices (by, depth, source) and its
common filter sets (each region, each size class, the most downloaded organisations, where the
chart has the filter; WARM_FILTER_SETS=0: the default views only) under the new version:
the frames, the JSON, the page (both export variants) and the embed; and, last, the home page's
counts and chart. Then the version is
published, and no visitor pays the cold path for those views. Images are not warmed: each is a
browser render of seconds, drawn on first request as before.

Idempotent: an entry already cached is kept, a version already published (or superseded by a
newer pending one, whose own warm publishes it) is left alone.
"""

from __future__ import annotations

import dataclasses
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError
from django.db.models import F, Sum
from django.http import QueryDict

from observatory.analytics import rollups
from observatory.catalog.models import HubModel
from observatory.catalog.runs import data_version, pending_data_version, publish_data_version, reading_version
from observatory.dashboards import chart_pages, data_dates, results
from observatory.dashboards.params import ChartParams, parse
from observatory.dashboards.registry import METRICS
from observatory.dashboards.views import warm_home
from observatory.vocab import REGION_VALUES, SIZE_CLASS_VALUES

log = logging.getLogger(__name__)


def top_organizations(count: int) -> list[str]:
    """The `count` organisations with the most downloads of all time (their models' sum)."""
    if count <= 0:
        return []
    # An organisation whose models carry no count sums to NULL, which a descending order puts first.
    rows = (HubModel.objects.filter(organization__isnull=False).values("organization__namespace")
            .annotate(total=Sum("downloads_all_time"))
            .order_by(F("total").desc(nulls_last=True), "organization__namespace")[:count])
    return [row["organization__namespace"] for row in rows]


# The choices each chart's page offers beside its filters (templates/dashboards/chart.html's
# selects), other than the default: one view each, over all the data.
CHOICE_VIEWS: dict[str, tuple[str, ...]] = {
    # Its form sends by=organization for what the default (by=region) also shows: another key.
    "download-concentration": ("by=family", "by=organization"),
    "derivatives-by-base": ("by=organization", "by=base", "depth=tree"),
    "finetunes-by-origin": ("by=organization", "by=base"),
    "tooling-readiness": ("by=organization",),
    "open-closed-gap": ("source=lmarena", "source=probe"),
}


def common_views(name: str, organizations: list[str]) -> list[ChartParams]:
    """The chart's default view, its page's other choices (CHOICE_VIEWS), then one view per region,
    size class and organisation it filters by, normalised (two that give the same result are one)."""
    uses = METRICS[name].uses
    default = parse(QueryDict(""))

    def with_filter(**change) -> ChartParams:
        return dataclasses.replace(default, filters=dataclasses.replace(default.filters, **change))

    views = [default, *(parse(QueryDict(query)) for query in CHOICE_VIEWS.get(name, ()))]
    if "region" in uses:
        views += [with_filter(regions=(region,)) for region in REGION_VALUES]
    if "size_class" in uses:
        views += [with_filter(size_class=size) for size in SIZE_CLASS_VALUES]
    if "organization" in uses:
        views += [with_filter(organization=org) for org in organizations]
    unique: list[ChartParams] = []
    for view in views:
        view = results.normalised(name, view)
        if view not in unique:
            unique.append(view)
    return unique


def warm_view(name: str, params: ChartParams) -> None:
    """Cache the view's frames, JSON, pages and embed under the version being read (normalised params)."""
    results.json_bytes(name, params)  # computes (or reads) the frames on the way
    chart: list[str] = []

    def drawn() -> str:  # one chart HTML for the three bodies, drawn only if one of them is missing
        if not chart:
            chart.append(chart_pages.chart_html(name, params))
        return chart[0]

    for server_export in (True, False):
        results.remembered(chart_pages.page_kind(server_export), name, params,
                           lambda s=server_export: chart_pages.page_body(name, params, server_export=s, chart=drawn()),
                           normalise=False)
    results.remembered(chart_pages.embed_kind(), name, params, lambda: chart_pages.embed_body(name, params, chart=drawn()),
                       normalise=False)


def kinds() -> tuple[str, ...]:
    """The kinds of entry warm_view writes for a view (results.cache_key)."""
    return ("frames", "json", chart_pages.page_kind(True), chart_pages.page_kind(False), chart_pages.embed_kind())


def warm(version: int) -> dict:
    """Fill the cache for `version` (see the module's docstring); {views, failed, seconds}."""
    started, views, failed = time.perf_counter(), 0, []
    # Writes committed since the bump's fold (a crawl's pages, which bump only at its end; an
    # admin edit) leave the rollup stale, and every download chart would read the raw rows.
    try:
        rollups.refresh()
    except OperationalError:
        raise  # the database is away: the task retries
    except Exception:  # the raw rows give the same numbers: a fold's bug must not hold the version back
        log.exception("folding the rollups before warming %s failed", version)
    with reading_version(version):
        if settings.WARM_FILTER_SETS:
            organizations = top_organizations(settings.WARM_TOP_ORGANIZATIONS)
            plan = {name: common_views(name, organizations) for name in METRICS}
        else:
            plan = {name: common_views(name, [])[:1] for name in METRICS}
        # Every chart's default view first: the views most visitors open.
        ordered = [(name, views_[0]) for name, views_ in plan.items()] + [
            (name, view) for name, views_ in plan.items() for view in views_[1:]]
        for name, params in ordered:
            try:
                warm_view(name, params)
            except OperationalError:
                raise  # the database is away: the task retries the whole warm (kept entries stay)
            except Exception:  # one chart's bug must not hold every other chart's new data back
                log.exception("warming %s %s failed", name, params.query())
                failed.append(f"{name}?{params.query()}")
            views += 1
        # The views kept briefly (an organisation's: results.lifetime) start their lifetime again
        # now: written early in a warm longer than it, they would lapse before the version is read.
        for name, params in ordered:
            if results.lifetime(params) < settings.METRIC_CACHE_SECONDS:
                for kind in kinds():
                    cache.touch(results.cache_key(kind, name, params), results.lifetime(params))
        # Last: its counts and source ends live minutes (views.COUNTS_SECONDS, data_dates.SECONDS),
        # less than a warm can take; written first, they would lapse before the version is read.
        # The source ends were cached by the first page drawn: their lifetime starts again now
        # (data_dates._ends' key; a scan of every snapshot's source to recompute).
        cache.touch(f"data-dates:v{version}", data_dates.SECONDS)
        warm_home()
    return {"views": views, "failed": failed, "seconds": round(time.perf_counter() - started, 2)}


def warm_and_publish(version: int) -> dict:
    """Warm `version`, then publish it; nothing when it is published already or superseded."""
    pending = pending_data_version()
    if data_version() >= version:
        return {"version": version, "skipped": "published already"}
    if pending is not None and pending > version:
        return {"version": version, "skipped": f"superseded by {pending}"}
    report = warm(version)
    published = publish_data_version(version)
    log.info("data version %s warmed (%s views, %s failed, %ss) and %s", version, report["views"],
             len(report["failed"]), report["seconds"], "published" if published else "not published (newer read)")
    return {"version": version, "published": published, **report}
