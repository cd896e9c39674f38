"""Probe run status as JSON: what the queue page, the labs pages and scripts poll."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.views.decorators.http import require_GET

from gpu_workers.models import ProbeRun


def probe_run_payload(probe_run: ProbeRun, *, with_result: bool = True) -> dict:
    run = probe_run.run
    payload = {
        "id": probe_run.pk,
        "hub_id": probe_run.hub_id,
        "revision": probe_run.revision,
        "resolved_revision": probe_run.resolved_revision,
        "probe": probe_run.probe,
        "config_hash": probe_run.config_hash,
        "attempts": probe_run.attempts,
        "budget_seconds": probe_run.budget_seconds,
        "status": run.status,
        "progress": run.progress,
        "current_step": run.current_step,
        "error": run.error,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "heartbeat_at": run.heartbeat_at.isoformat() if run.heartbeat_at else None,
    }
    if with_result and probe_run.result:
        result = dict(probe_run.result)
        result.pop("per_item", None)  # large; the full record stays in the admin
        payload["result"] = result
    return payload


@require_GET
def probe_run_status(request, pk: int):
    probe_run = ProbeRun.objects.select_related("run").filter(pk=pk).first()
    # Private runs are visible to staff only; to everyone else they do not exist.
    if probe_run is None or not (probe_run.public or request.user.is_staff):
        raise Http404("no such probe run")
    return JsonResponse(probe_run_payload(probe_run))
