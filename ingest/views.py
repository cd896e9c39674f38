"""The model API and the crawl status page."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ingest.identity import find_model
from ingest.lineage import HUB_ID, licence_conflicts
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, QuarantinedRecord, Run
from observatory.dashboards.model_ram import model_ram
from observatory.read_only import read_only_json


def _model_or_404(hub_id: str) -> HubModel:
    # Any casing, or an old name of a renamed repo (ingest.identity), is the same model.
    model = find_model(hub_id, HubModel.objects.select_related("organization"))
    if model is None:
        raise Http404(hub_id)
    return model


def model_document(model: HubModel) -> dict:
    latest = DownloadSnapshot.objects.filter(model=model).order_by("-date").first()
    parents = list(LineageEdge.objects.filter(child=model).order_by("parent_hub_id").values_list("parent_hub_id", "relation"))
    conflicts = licence_conflicts().filter(child=model)
    return {
        "id": model.hub_id,
        "aliases": list(model.aliases.values_list("old_hub_id", flat=True)),
        "organization": model.organization.namespace if model.organization else None,
        "region": model.organization.region if model.organization else "unknown",
        "created_at": model.created_at.isoformat() if model.created_at else None,
        "release_date": model.release_date.isoformat() if model.release_date else None,
        "pipeline_tag": model.pipeline_tag or None,
        "licence": {"raw": model.licence_raw, "id": model.licence_id or None, "class": model.licence_class},
        "licence_conflicts": [{"parent": c.parent_hub_id, "parent_class": c.parent.licence_class} for c in conflicts],
        "parameters": {"total": model.total_params, "active": model.active_params, "source": model.params_source or None,
                       "size_class": model.size_class or None},
        "parents": [{"id": parent, "relation": relation} for parent, relation in parents],
        "children_count": LineageEdge.objects.filter(parent=model).count(),
        "tracked": model.tracked,
        "tracked_reason": model.tracked_reason,
        "latest_snapshot": None if latest is None else {
            "date": latest.date.isoformat(), "downloads": latest.downloads,
            "downloads_all_time": latest.downloads_all_time, "cumulative_kind": latest.cumulative_kind,
            "raw_value": latest.raw_value, "likes": latest.likes, "source": latest.source,
        },
        # The default relative-adoption table's numbers for this model (one RAM computation).
        "relative_adoption": model_ram(model),
    }


@read_only_json
def model_api(request: HttpRequest, org: str, name: str) -> JsonResponse:
    hub_id = f"{org}/{name}"
    if not HUB_ID.match(hub_id):
        return JsonResponse({"error": "not a Hub model id", "id": hub_id[:200]}, status=400)
    try:
        model = _model_or_404(hub_id)
    except Http404:
        return JsonResponse({"error": "model not found", "id": hub_id}, status=404)
    return JsonResponse(model_document(model))


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    runs = Run.objects.filter(kind__in=[Run.Kind.CRAWL, Run.Kind.IMPORT, Run.Kind.BOOTSTRAP])[:50]
    quarantined = QuarantinedRecord.objects.only("run_id", "source", "record_key", "reason", "created_at")[:20]
    return render(request, "ingest/status.html", {"runs": runs, "quarantined": quarantined})
