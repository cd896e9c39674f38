"""Chart pages, chrome-less embeds, image exports and the metric endpoint (JSON / CSV)."""

from __future__ import annotations

import plotly.io as pio
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from observatory.analytics.filters import REGIONS, SIZE_CLASSES
from observatory.dashboards import results
from observatory.dashboards.params import CHOICES, BadParameter, ChartParams, parse
from observatory.dashboards.registry import METRICS
from observatory.exports.images import FORMATS, ExportUnavailable, figure_bytes
from observatory.exports.tables import rows_to_csv


def _metric(name: str):
    metric = METRICS.get(name)
    if metric is None:
        raise Http404("no such chart")
    return metric


def _params(request: HttpRequest) -> ChartParams:
    return parse(request.GET)


def _bad(exc: BadParameter) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=400)


def chart_html(name: str, params: ChartParams, *, div_id: str) -> str:
    result = results.computed(name, params)
    fig = METRICS[name].chart(result, params)
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


@require_GET
def dashboard(request: HttpRequest, name: str) -> HttpResponse:
    metric = _metric(name)
    try:
        params = _params(request)
    except BadParameter as exc:
        return render(request, "dashboards/bad_request.html", {"error": str(exc)}, status=400)
    query = params.query()
    suffix = f"?{query}" if query else ""
    body = results.payload(name, params)
    context = {
        "metric": metric, "metrics": METRICS.values(), "params": params, "filters": params.filters,
        "chart": chart_html(name, params, div_id="chart"), "as_of": body["as_of"], "sources": body["sources"],
        "query": query, "suffix": suffix, "regions": REGIONS, "size_classes": SIZE_CLASSES,
        "permalink": request.build_absolute_uri(reverse("dashboard", args=[name]) + suffix),
        "embed_url": request.build_absolute_uri(reverse("embed", args=[name]) + suffix),
        "formats": list(FORMATS), "body": body, "by_choices": CHOICES["by"],
    }
    return render(request, "dashboards/chart.html", context)


@xframe_options_exempt  # the point of an embed is to sit in someone else's page
@require_GET
def embed(request: HttpRequest, name: str) -> HttpResponse:
    metric = _metric(name)
    try:
        params = _params(request)
    except BadParameter as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    query = params.query()
    return render(request, "dashboards/embed.html", {
        "metric": metric, "chart": chart_html(name, params, div_id="chart"),
        "permalink": request.build_absolute_uri(reverse("dashboard", args=[name]) + (f"?{query}" if query else "")),
    })


@require_GET
def chart_image(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    metric = _metric(name)
    if fmt not in FORMATS:
        raise Http404("no such format")
    try:
        params = _params(request)
    except BadParameter as exc:
        return _bad(exc)
    fig = metric.chart(results.computed(name, params), params)
    try:
        data = figure_bytes(fig, fmt)
    except ExportUnavailable as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@csrf_exempt  # read-only: an unsafe method gets require_GET's 405, not a CSRF 403
@require_GET
def metric_api(request: HttpRequest, name: str) -> HttpResponse:
    if name not in METRICS:
        return JsonResponse({"error": f"no such metric; known: {', '.join(METRICS)}"}, status=404)
    empty = sorted(key for key in request.GET if not request.GET.get(key))
    if empty:  # the API is strict; the pages' forms may send empty fields
        return JsonResponse({"error": f"{empty[0][:40]} must not be empty (leave it out instead)"}, status=400)
    try:
        params = _params(request)
    except BadParameter as exc:
        return _bad(exc)
    if request.GET.get("format") == "csv":
        text = rows_to_csv(results.payload(name, params)["rows"])
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    return HttpResponse(results.json_bytes(name, params), content_type="application/json")
