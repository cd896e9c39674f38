"""The model API and the crawl status page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ingest.lineage import HUB_ID
from observatory.catalog.models import QuarantinedRecord, Run
from observatory.dashboards import model_presenter
from observatory.read_only import read_only_json


@read_only_json
def model_api(request: HttpRequest, org: str, name: str) -> JsonResponse:
    hub_id = f"{org}/{name}"
    if not HUB_ID.match(hub_id):
        return JsonResponse({"error": "not a Hub model id", "id": hub_id[:200]}, status=400)
    # Any casing, or an old name of a renamed repo, is the same model (the card finds it alike).
    model = model_presenter.find(hub_id)
    if model is None:
        return JsonResponse({"error": "model not found", "id": hub_id}, status=404)
    return JsonResponse(model_presenter.ModelFacts(model).document())


@require_GET
def status_page(request: HttpRequest) -> HttpResponse:
    runs = Run.objects.filter(kind__in=[Run.Kind.CRAWL, Run.Kind.IMPORT, Run.Kind.BOOTSTRAP])[:50]
    quarantined = QuarantinedRecord.objects.only("run_id", "source", "record_key", "reason", "created_at")[:20]
    return render(request, "ingest/status.html", {"runs": runs, "quarantined": quarantined})
