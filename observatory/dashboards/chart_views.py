"""Chart pages, chrome-less embeds, image exports and the metric endpoint (JSON / CSV).

Everything here is cached per data version (results.remembered): the JSON body, the rendered
page and embed (dashboards.chart_pages: what they may hold and under which key), the image.
Work that misses the cache is charged to the client's address first (METRIC_COMPUTATIONS_PER_MINUTE,
EXPORT_RENDERS_PER_MINUTE; the labs' counters, degraded to this process's memory while Redis is
down); past a limit the answer is 429 with Retry-After.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET

from observatory.dashboards import chart_pages, results
from observatory.dashboards.params import BadParameter, ChartParams, parse
from observatory.dashboards.registry import METRICS
from observatory.exports.images import FORMATS, ExportBusy, ExportUnavailable, figure_bytes, server_export_available
from observatory.exports.tables import rows_to_csv
from observatory.labs.audit import client_ip
from observatory.labs.limits import LimitExceeded, hit
from observatory.read_only import read_only_json


def _metric(name: str):
    metric = METRICS.get(name)
    if metric is None:
        raise Http404("no such chart")
    return metric


def _params(request: HttpRequest) -> ChartParams:
    return parse(request.GET)


def _bad(exc: BadParameter) -> JsonResponse:
    return JsonResponse({"error": str(exc)}, status=400)


def _charge(request: HttpRequest, kind: str, limit: int):
    """Count one uncached computation (or render) against the client's address."""
    return lambda: hit(f"{kind}:ip:{client_ip(request)}", limit, degrade=True)


def _compute_charge(request: HttpRequest):
    return _charge(request, "metric-compute", settings.METRIC_COMPUTATIONS_PER_MINUTE)


def _retry_later(response: HttpResponse, seconds: int) -> HttpResponse:
    response["Retry-After"] = str(max(1, int(seconds)))
    return response


def _too_many_json(exc: LimitExceeded) -> HttpResponse:
    return _retry_later(JsonResponse({"error": f"uncached metric {exc}"}, status=429), exc.retry_after)


def _too_many_page(request: HttpRequest, exc: LimitExceeded) -> HttpResponse:
    return _retry_later(render(request, "dashboards/bad_request.html", {"error": f"Too many new views: {exc}."},
                               status=429), exc.retry_after)


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@require_GET
def dashboard(request: HttpRequest, name: str) -> HttpResponse:
    _metric(name)
    try:
        params = _params(request)
    except BadParameter as exc:
        return render(request, "dashboards/bad_request.html", {"error": str(exc)}, status=400)
    # The whole page, like the JSON: building its chart HTML is most of a request's time.
    try:
        page = chart_pages.cached_page(name, params, server_export=server_export_available(),
                                       charge=_compute_charge(request))
    except LimitExceeded as exc:
        return _too_many_page(request, exc)
    return HttpResponse(chart_pages.with_origin(page, _origin(request)), content_type="text/html; charset=utf-8")


@xframe_options_exempt  # the point of an embed is to sit in someone else's page
@require_GET
def embed(request: HttpRequest, name: str) -> HttpResponse:
    _metric(name)
    try:
        params = _params(request)
    except BadParameter as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    try:
        page = chart_pages.cached_embed(name, params, charge=_compute_charge(request))
    except LimitExceeded as exc:
        return _retry_later(HttpResponse(f"Too many new views: {exc}.", status=429,
                                         content_type="text/plain; charset=utf-8"), exc.retry_after)
    return HttpResponse(chart_pages.with_origin(page, _origin(request)), content_type="text/html; charset=utf-8")


@require_GET
def chart_image(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    metric = _metric(name)
    if fmt not in FORMATS:
        raise Http404("no such format")
    try:
        params = results.normalised(name, _params(request))
    except BadParameter as exc:
        return _bad(exc)

    def render_image() -> bytes:
        fig = metric.chart(results.computed(name, params, charge=_compute_charge(request)), params)
        return figure_bytes(fig, fmt)

    try:
        data = results.remembered(f"image-{fmt}", name, params, render_image,
                                  charge=_charge(request, "export-render", settings.EXPORT_RENDERS_PER_MINUTE))
    except LimitExceeded as exc:
        return _retry_later(JsonResponse({"error": f"uncached image export {exc}"}, status=429), exc.retry_after)
    except ExportBusy as exc:
        return _retry_later(JsonResponse({"error": str(exc)}, status=503), exc.retry_after)
    except ExportUnavailable as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response

@read_only_json  # an unsafe method gets a JSON 405, not a CSRF 403
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
    try:
        if request.GET.get("format") == "csv":
            body = results.payload(name, params, charge=_compute_charge(request))
            text = rows_to_csv(body["rows"], comments=[
                f"metric: {name}",
                "methodology: " + "; ".join(f"{k}={v}" for k, v in body.get("methodology", {}).items()),
                f"data as of: {body.get('as_of') or 'no data'}", "sources: " + "; ".join(body.get("sources", []))])
            response = HttpResponse(text, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response
        return HttpResponse(results.json_bytes(name, params, charge=_compute_charge(request)),
                            content_type="application/json")
    except LimitExceeded as exc:
        return _too_many_json(exc)
