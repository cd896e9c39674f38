"""/api/families/<org>/<name> (the tree as JSON or CSV), the family page and its chart images.

Cached per data version, like the metrics: the walked family per model (what the API, the card,
the page and the images read), each API body per (model, offset, limit, format), each image. A walk that
misses the cache is charged to the client's address (METRIC_COMPUTATIONS_PER_MINUTE); a page of
other than the default paging is kept briefly (METRIC_CACHE_SHORT_SECONDS), as free-text views are.
"""

from __future__ import annotations

import dataclasses
import json

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from observatory.analytics import frames
from observatory.catalog.runs import data_version
from observatory.charts import family as family_charts
from observatory.charts.embedding import figure_html
from observatory.dashboards import families, model_presenter
from observatory.dashboards.api import Invalid, _api, _check_known, _choice, _int
from observatory.exports.images import FORMATS, ExportBusy, ExportUnavailable, figure_bytes
from observatory.exports.tables import rows_to_csv
from observatory.labs.audit import client_ip
from observatory.labs.limits import LimitExceeded, hit
from observatory.vocab import HUB_ID, HUB_ID_DESCRIPTION

TOP_DERIVATIVES = 25
CHARTS = ("tree", "relations")


def _model(org: str, name: str):
    """The stored model the path names (any casing, or an old name: the presenter's lookup), or Invalid / None."""
    hub_id = f"{org}/{name}"
    if not HUB_ID.match(hub_id):
        raise Invalid(f"{hub_id[:120]!r} is not a Hub id: {HUB_ID_DESCRIPTION}")
    return model_presenter.find(hub_id)


def family_of(model, *, charge=None) -> families.Family:
    """families.family_of(model), from the cache for this data version or walked (charged) and kept."""
    key = f"family:tree:v{data_version()}:{model.pk}"
    stored = cache.get(key)
    if stored is not None:
        return families.Family(**json.loads(stored))
    if charge is not None:
        charge()
    family = families.family_of(model)
    cache.set(key, json.dumps(dataclasses.asdict(family), separators=(",", ":")), settings.METRIC_CACHE_SECONDS)
    return family


def card_page(model) -> tuple[families.Family, dict]:
    """The family and its first page as the API serves it by default (the card draws exactly that)."""
    family = family_of(model)
    return family, family.page()


def card_chart(model) -> tuple[str, dict]:
    family, page = card_page(model)
    if len(page["nodes"]) < 2:
        return "", page  # a model alone is no tree to draw
    fig = family_charts.family_sunburst(page, model=model.hub_id, as_of=frames.latest_created_date())
    return figure_html(fig, div_id="chart-family"), page


def _api_body(model, fmt: str, offset: int, limit: int, charge) -> bytes:
    """The API's body (JSON or CSV) for this page of the family."""
    page = family_of(model, charge=charge).page(offset=offset, limit=limit)
    if fmt == "csv":
        return rows_to_csv(page["nodes"], comments=[
            f"family of {model.hub_id}; root {page['root']}", f"nodes {offset}..{offset + len(page['nodes'])} "
            f"of {page['total']}", f"data as of: {frames.latest_created_date() or 'no data'}", "sources: hub"]).encode()
    return json.dumps({"model": model.hub_id, **page}).encode()


@_api
def family_api(request: HttpRequest, org: str, name: str) -> HttpResponse:
    _check_known(request, {"limit", "offset", "format"})
    limit = _int(request, "limit", families.DEFAULT_LIMIT, 1, families.MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, families.MAX_WALK)
    fmt = _choice(request, "format", ("json", "csv"), "json")
    model = _model(org, name)
    if model is None:
        return JsonResponse({"error": f"unknown model {org}/{name}"[:200]}, status=404)
    key = f"family:{fmt}:v{data_version()}:{model.pk}:{offset}:{limit}"
    body = cache.get(key)
    if body is None:
        def charge() -> None:  # only a walk that misses the cache: slicing a cached family is cheap
            hit(f"metric-compute:ip:{client_ip(request)}", settings.METRIC_COMPUTATIONS_PER_MINUTE, degrade=True)

        try:
            body = _api_body(model, fmt, offset, limit, charge)
        except LimitExceeded as exc:
            response = JsonResponse({"error": f"uncached family {exc}"}, status=429)
            response["Retry-After"] = str(max(1, int(exc.retry_after)))
            return response
        default = (offset, limit) == (0, families.DEFAULT_LIMIT)
        cache.set(key, body, settings.METRIC_CACHE_SECONDS if default else settings.METRIC_CACHE_SHORT_SECONDS)
    if fmt == "csv":
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="family.csv"'
        return response
    return HttpResponse(body, content_type="application/json")


def _found(org: str, name: str):
    try:
        model = _model(org, name)
    except Invalid:
        model = None
    if model is None:
        raise Http404("unknown model")
    return model


def _figures(model) -> tuple[families.Family, dict]:
    family, page = card_page(model)
    as_of = frames.latest_created_date()
    return family, {
        "tree": family_charts.family_sunburst(page, model=model.hub_id, as_of=as_of),
        "relations": family_charts.relations_over_time(families.relations_by_month(family), root=family.root,
                                                       as_of=as_of),
    }


@require_GET
def family_page(request: HttpRequest, org: str, name: str) -> HttpResponse:
    model = _found(org, name)
    family, figures = _figures(model)
    derivatives = sorted((n for n in family.nodes if n["depth"] > 0), key=lambda n: (-n["downloads"], n["id"]))
    counts: dict[str, int] = {}
    for n in family.nodes:
        if n["relation"]:
            counts[n["relation"]] = counts.get(n["relation"], 0) + 1
    return render(request, "dashboards/family.html", {
        "model": model, "family": family, "tree": figure_html(figures["tree"], div_id="chart-family"),
        "relations": figure_html(figures["relations"], div_id="chart-family-relations"),
        "top": derivatives[:TOP_DERIVATIVES], "counts": sorted(counts.items()), "formats": list(FORMATS),
        "api": f"/api/families/{model.hub_id}", "as_of": frames.latest_created_date(),
    })


@require_GET
def family_image(request: HttpRequest, org: str, name: str, chart: str, fmt: str) -> HttpResponse:
    if chart not in CHARTS or fmt not in FORMATS:
        raise Http404("no such chart or format")
    model = _found(org, name)
    key = f"family:image-{chart}-{fmt}:v{data_version()}:{model.pk}"
    try:
        data = cache.get(key)
        if data is None:
            # A render that misses the cache is charged to the client like the charts' exports.
            hit(f"export-render:ip:{client_ip(request)}", settings.EXPORT_RENDERS_PER_MINUTE, degrade=True)
            data = figure_bytes(_figures(model)[1][chart], fmt)
            cache.set(key, data, settings.METRIC_CACHE_SECONDS)
    except LimitExceeded as exc:
        response = JsonResponse({"error": f"uncached image export {exc}"}, status=429)
        response["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response
    except ExportBusy as exc:
        response = JsonResponse({"error": str(exc)}, status=503)
        response["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response
    except ExportUnavailable as exc:
        return JsonResponse({"error": str(exc)}, status=503)
    response = HttpResponse(data, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="family-{chart}.{fmt}"'
    return response
