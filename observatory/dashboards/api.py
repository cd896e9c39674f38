"""The read API: models, organisations, lineage and snapshots as JSON, strictly validated."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Q
from django.http import HttpRequest, JsonResponse

from ingest.identity import find_model
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Organization
from observatory.dashboards.params import BadParameter, parse_date
from observatory.read_only import read_only_json
from observatory.vocab import HUB_ID, HUB_ID_DESCRIPTION, HUB_NAMESPACE, REGION_VALUES, SIZE_CLASS_VALUES

TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SEARCH = re.compile(r"^[A-Za-z0-9 ._/-]{1,100}$")


class Invalid(ValueError):
    pass


def _check_known(request: HttpRequest, allowed: set[str]) -> None:
    unknown = sorted(set(request.GET) - allowed)
    if unknown:
        raise Invalid(f"unknown parameter: {unknown[0][:40]!r}")
    empty = sorted(name for name in request.GET if not request.GET.get(name))
    if empty:
        raise Invalid(f"{empty[0]} must not be empty (leave it out instead)")


def _match(request: HttpRequest, name: str, pattern: re.Pattern, what: str, *, required: bool = False) -> str:
    value = request.GET.get(name, "")
    if not value:
        if required:
            raise Invalid(f"{name} is required")
        return ""
    if not pattern.match(value):
        raise Invalid(f"{name} must be {what}")
    return value


def _int(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    value = request.GET.get(name, "")
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or not low <= int(value) <= high:
        raise Invalid(f"{name} must be an integer from {low} to {high}")
    return int(value)


def _choice(request: HttpRequest, name: str, choices, default: str = "") -> str:
    value = request.GET.get(name, "") or default
    if value and value not in choices:
        raise Invalid(f"{name} must be one of {', '.join(choices)}")
    return value


def _date(request: HttpRequest, name: str) -> dt.date | None:
    try:
        return parse_date(name, request.GET.get(name, ""))
    except BadParameter as exc:  # the charts' parser, this API's error type
        raise Invalid(str(exc)) from None


def _api(view):
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except Invalid as exc:
            return JsonResponse({"error": str(exc)}, status=400)
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    # Read-only: an unsafe method gets a JSON 405, not the CSRF middleware's HTML 403.
    return read_only_json(wrapper)


def _model_row(m: HubModel) -> dict:
    return {
        "hub_id": m.hub_id, "organization": m.organization.namespace if m.organization else None,
        "region": m.organization.region if m.organization else "unknown", "pipeline_tag": m.pipeline_tag,
        "licence_id": m.licence_id, "licence_class": m.licence_class, "size_class": m.size_class or None,
        "total_params": m.total_params, "release_date": m.release_date.isoformat() if m.release_date else None,
        "downloads": m.downloads, "downloads_all_time": m.downloads_all_time, "likes": m.likes, "tracked": m.tracked,
    }


@_api
def models_list(request: HttpRequest) -> JsonResponse:
    _check_known(request, {"organization", "region", "size_class", "pipeline_tag", "tracked", "search", "limit",
                           "offset"})
    qs = HubModel.objects.select_related("organization")
    if org := _match(request, "organization", HUB_NAMESPACE, "a Hub namespace"):
        qs = qs.filter(organization__namespace=org)
    if region := _choice(request, "region", REGION_VALUES):
        qs = qs.filter(organization__region=region) if region != "unknown" else qs.filter(
            Q(organization__isnull=True) | Q(organization__region="unknown"))
    if size := _choice(request, "size_class", SIZE_CLASS_VALUES):
        qs = qs.filter(size_class=size)
    if tag := _match(request, "pipeline_tag", TAG, "a Hub pipeline tag"):
        qs = qs.filter(pipeline_tag=tag)
    if tracked := _choice(request, "tracked", ("true", "false")):
        qs = qs.filter(tracked=tracked == "true")
    if search := _match(request, "search", SEARCH, "letters, digits, spaces and . _ / -"):
        qs = qs.filter(hub_id__icontains=search)
    limit, offset = _int(request, "limit", 100, 1, 500), _int(request, "offset", 0, 0, 10_000_000)
    qs = qs.order_by("-downloads_all_time", "hub_id")
    return JsonResponse({"count": qs.count(), "limit": limit, "offset": offset,
                         "results": [_model_row(m) for m in qs[offset:offset + limit]]})


@_api
def organizations_list(request: HttpRequest) -> JsonResponse:
    _check_known(request, {"region", "limit", "offset"})
    qs = Organization.objects.annotate(n_models=Count("models")).order_by("namespace")
    if region := _choice(request, "region", REGION_VALUES):
        qs = qs.filter(region=region)
    limit, offset = _int(request, "limit", 100, 1, 500), _int(request, "offset", 0, 0, 10_000_000)
    return JsonResponse({"count": qs.count(), "limit": limit, "offset": offset, "results": [
        {"namespace": o.namespace, "display_name": o.display_name, "region": o.region,
         "region_source": o.region_source, "models": o.n_models} for o in qs[offset:offset + limit]]})


def _model_or_404(request: HttpRequest):
    hub_id = _match(request, "model", HUB_ID, f"a Hub id: {HUB_ID_DESCRIPTION}", required=True)
    model = find_model(hub_id)  # any casing, or an old name of a renamed repo
    return (model.hub_id if model else hub_id), model


@_api
def lineage(request: HttpRequest) -> JsonResponse:
    _check_known(request, {"model"})
    hub_id, model = _model_or_404(request)
    if model is None:
        return JsonResponse({"error": f"unknown model {hub_id}"}, status=404)
    parents = [{"hub_id": e.parent_hub_id, "relation": e.relation, "source": e.source, "known": e.parent_id is not None}
               for e in LineageEdge.objects.filter(child=model).order_by("parent_hub_id")]
    children = [{"hub_id": e.child.hub_id, "relation": e.relation, "source": e.source}
                for e in LineageEdge.objects.filter(Q(parent=model) | Q(parent_hub_id=hub_id))
                .select_related("child").order_by("child__hub_id")[:5000]]
    return JsonResponse({"model": hub_id, "parents": parents, "children": children})


@_api
def snapshots(request: HttpRequest) -> JsonResponse:
    _check_known(request, {"model", "start", "end", "limit"})
    hub_id, model = _model_or_404(request)
    start, end = _date(request, "start"), _date(request, "end")
    limit = _int(request, "limit", 1000, 1, 10_000)
    if model is None:
        return JsonResponse({"error": f"unknown model {hub_id}"}, status=404)
    qs = DownloadSnapshot.objects.filter(model=model).order_by("date")
    if start:
        qs = qs.filter(date__gte=start)
    if end:
        qs = qs.filter(date__lte=end)
    rows = [{"date": s.date.isoformat(), "downloads": s.downloads, "downloads_all_time": s.downloads_all_time,
             "likes": s.likes, "source": s.source} for s in qs[:limit]]
    return JsonResponse({"model": hub_id, "rows": rows})
