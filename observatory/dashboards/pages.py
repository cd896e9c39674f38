"""Catalogue pages: the model card, the organisation page and the methodology."""

from __future__ import annotations

import plotly.graph_objects as go
from django.db.models import Count, Max, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ingest.download_measures import SOURCES
from observatory.analytics import quality
from observatory.analytics.frames import DAILY_SOURCES
from observatory.catalog.models import DataQualityIssue, DownloadSnapshot, HubModel, LeaderboardEntry, LineageEdge, Organization
from observatory.charts.embedding import figure_html
from observatory.charts.theme import REGION_COLOURS, finish
from observatory.dashboards import forecast_backtest, model_forecast, model_presenter
from observatory.dashboards.gap_comparison import epoch_comparison
from observatory.dashboards.registry import GAP_SOURCES, METRICS

MAX_ANCESTOR_DEPTH = 12


def _ancestors(model: HubModel) -> list[dict]:
    """The chain(s) above a model, breadth first, each base once (cycles stop)."""
    seen, out, frontier = {model.hub_id}, [], [(model, 0)]
    while frontier:
        current, depth = frontier.pop(0)
        if depth >= MAX_ANCESTOR_DEPTH:
            continue
        for edge in LineageEdge.objects.filter(child=current).select_related("parent").order_by("parent_hub_id"):
            if edge.parent_hub_id in seen:
                continue
            seen.add(edge.parent_hub_id)
            out.append({"hub_id": edge.parent_hub_id, "relation": edge.relation, "depth": depth + 1,
                        "known": edge.parent is not None, "child": current.hub_id})
            if edge.parent is not None:
                frontier.append((edge.parent, depth + 1))
    return out


SERIES_LABELS = {
    "estimated": "estimated all-time downloads (daily series)",
    "lower-bound": "downloads since sampling began (daily series; a lower bound of all-time)",
    "all-time": "the Hub's all-time count",
}


def _contradicting(points: list[DownloadSnapshot]) -> set[int]:
    """Snapshots whose Hub all-time count is below a cumulative count the model had earlier:
    contradictions (the ledger lists them), not points to draw (see analytics.quality)."""
    highest, out = None, set()
    for s in points:
        if highest is not None and s.cumulative_kind == "all-time" and s.downloads_all_time < highest:
            out.add(s.pk)
            continue
        highest = s.downloads_all_time if highest is None else max(highest, s.downloads_all_time)
    return out


def _downloads_chart(model: HubModel, region: str, snapshots: list[DownloadSnapshot]) -> str:
    dated = [s for s in snapshots if s.downloads_all_time is not None]
    if not dated:
        return ""
    left_off = _contradicting(dated)
    drawn = [s for s in dated if s.pk not in left_off]
    # One line per source and kind of count: an estimate, a lower bound and the Hub's own count are
    # not one series. One-off bulk snapshots (hub-stats) are markers of another vintage.
    fig = go.Figure()
    for source in DAILY_SOURCES:
        for kind, label in SERIES_LABELS.items():
            line = [s for s in drawn if s.source == source and s.cumulative_kind == kind]
            if line:
                fig.add_trace(go.Scatter(
                    x=[s.date for s in line], y=[s.downloads_all_time for s in line], mode="lines",
                    line={"color": REGION_COLOURS.get(region, "#555"), "width": 2,
                          "dash": "dot" if kind == "lower-bound" else "solid" if kind == "all-time" else "dash"},
                    name=label if source == "daily-series" else f"{label} (crawl)"))
    for source in sorted({s.source for s in drawn} - set(DAILY_SOURCES)):
        points = [s for s in drawn if s.source == source]
        fig.add_trace(go.Scatter(x=[s.date for s in points], y=[s.downloads_all_time for s in points], mode="markers",
                                 marker={"size": 9, "symbol": "diamond", "color": "#444"},
                                 name=f"{source}: the Hub's all-time count (other vintage)"))
    flagged = DataQualityIssue.objects.filter(model=model, kind__in=quality.DRAWN_KINDS).aggregate(days=Sum("days"))
    notes = []
    if flagged["days"]:
        notes.append(f"{flagged['days']} days flagged in the data-quality ledger are drawn")
    if left_off:
        notes.append(f"{len(left_off)} contradicting all-time count(s) left off")
    finish(fig, title=f"Cumulative downloads of {model.hub_id}", x_title="Date",
           y_title="Cumulative downloads (count)", sources=["daily-series", "hub"], as_of=drawn[-1].date,
           note=("; ".join(notes) + ": see /data-quality") if notes else None)
    return figure_html(fig, div_id="chart-model-downloads")


@require_GET
def model_card(request: HttpRequest, org: str, name: str) -> HttpResponse:
    # Found as the model API finds it: any casing, or an old name of a renamed repo, shows the
    # model under its current id.
    model = model_presenter.find(f"{org}/{name}")
    if model is None:
        raise Http404("unknown model")
    facts = model_presenter.ModelFacts(model)
    snapshots = list(DownloadSnapshot.objects.filter(model=model).order_by("date"))
    context = {
        "model": model, "facts": facts, "region": facts.region,
        "chart": _downloads_chart(model, facts.region, snapshots), "latest": facts.latest,
        "ram": facts.ram, "forecast_fan": model_forecast.fan_html(model, facts.forecast),
        "ancestors": _ancestors(model), "children_by_relation": facts.children_by_relation,
        "children": LineageEdge.objects.filter(parent=model).select_related("child")
        .order_by("-child__downloads_all_time", "child__hub_id")[:50],
        "conflicts": facts.licence_conflicts,
        "entries": LeaderboardEntry.objects.filter(hub_model=model).order_by("source", "benchmark", "-snapshot_date")[:100],
        # Public runs only: a lab's private submission stays off the card until it publishes it.
        "probe_runs": model.probe_runs.filter(public=True).order_by("-pk"),
    }
    return render(request, "dashboards/model_card.html", context)


@require_GET
def organization(request: HttpRequest, namespace: str) -> HttpResponse:
    org = Organization.objects.filter(namespace=namespace).first()
    if org is None:
        raise Http404("unknown organisation")
    models = org.models.order_by("-downloads_all_time", "hub_id")
    derivatives = LineageEdge.objects.filter(parent__organization=org)
    context = {
        "org": org, "models": models[:200], "n_models": models.count(),
        "downloads": models.aggregate(total=Sum("downloads_all_time"))["total"] or 0,
        "latest": DownloadSnapshot.objects.filter(model__organization=org).aggregate(d=Max("date"))["d"],
        "derivatives_by_relation": sorted(derivatives.values_list("relation").annotate(n=Count("id"))
                                          .values_list("relation", "n")),
        "top_bases": derivatives.values("parent__hub_id").annotate(n=Count("id")).order_by("-n", "parent__hub_id")[:15],
        "n_derivatives": derivatives.count(),
    }
    return render(request, "dashboards/organization.html", context)


@require_GET
def methodology(request: HttpRequest) -> HttpResponse:
    return render(request, "dashboards/methodology.html", {"metrics": METRICS.values(), "gap_sources": GAP_SOURCES,
                                                           "download_sources": SOURCES.values(),
                                                           "epoch_gap": epoch_comparison(),
                                                           "forecast_backtest": forecast_backtest.summary()})
