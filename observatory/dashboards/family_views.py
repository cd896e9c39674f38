"""/api/families/<org>/<name> (the tree as JSON or CSV), the family page and its chart images."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from observatory.analytics import frames
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


def card_page(model) -> tuple[families.Family, dict]:
    """The family and its first page as the API serves it by default (the card draws exactly that)."""
    family = families.family_of(model)
    return family, family.page()


def card_chart(model) -> tuple[str, dict]:
    family, page = card_page(model)
    if len(page["nodes"]) < 2:
        return "", page  # a model alone is no tree to draw
    fig = family_charts.family_sunburst(page, model=model.hub_id, as_of=frames.latest_created_date())
    return figure_html(fig, div_id="chart-family"), page


@_api
def family_api(request: HttpRequest, org: str, name: str) -> HttpResponse:
    _check_known(request, {"limit", "offset", "format"})
    limit = _int(request, "limit", families.DEFAULT_LIMIT, 1, families.MAX_LIMIT)
    offset = _int(request, "offset", 0, 0, families.MAX_WALK)
    fmt = _choice(request, "format", ("json", "csv"), "json")
    model = _model(org, name)
    if model is None:
        return JsonResponse({"error": f"unknown model {org}/{name}"[:200]}, status=404)
    page = families.family_of(model).page(offset=offset, limit=limit)
    if fmt == "csv":
        text = rows_to_csv(page["nodes"], comments=[
            f"family of {model.hub_id}; root {page['root']}", f"nodes {offset}..{offset + len(page['nodes'])} "
            f"of {page['total']}", f"data as of: {frames.latest_created_date() or 'no data'}", "sources: hub"])
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="family.csv"'
        return response
    return JsonResponse({"model": model.hub_id, **page})


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
    try:
        # An image is rendered each time (no cache): charged to the client like the charts' exports.
        hit(f"export-render:ip:{client_ip(request)}", settings.EXPORT_RENDERS_PER_MINUTE, degrade=True)
        data = figure_bytes(_figures(model)[1][chart], fmt)
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
