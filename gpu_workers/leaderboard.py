"""Benchmark probe results feed the open/closed gap as the `probe` source."""

from __future__ import annotations

from django.utils import timezone

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, LeaderboardEntry

BENCHMARK_NAME = "observatory-benchmark"


def record_probe_score(probe_run: ProbeRun) -> LeaderboardEntry | None:
    """One entry per model: the latest full-item-set benchmark result (subsets do not compare)."""
    result = probe_run.result or {}
    if probe_run.probe != "benchmark" or not result or result["config"].get("limit") is not None:
        return None
    metrics = result["metrics"]
    model = probe_run.model or HubModel.objects.filter(hub_id=probe_run.hub_id).first()
    entry, _ = LeaderboardEntry.objects.update_or_create(
        source=LeaderboardEntry.Source.PROBE, benchmark=BENCHMARK_NAME, model_name=probe_run.hub_id,
        defaults={
            "hub_model": model,
            "organization": (model.organization.namespace if model and model.organization else
                             probe_run.hub_id.split("/")[0] if "/" in probe_run.hub_id else ""),
            "open_weights": True,
            "licence": model.licence_id if model else "",
            "release_date": model.release_date if model else None,
            "score": metrics["accuracy"],
            "snapshot_date": timezone.now().date(),
            "extra": {"probe_run_id": probe_run.pk, "accuracy_norm": metrics["accuracy_norm"],
                      "exact_match": metrics.get("exact_match"), "item_set_hash": metrics["item_set_hash"],
                      "config_hash": probe_run.config_hash},
        },
    )
    return entry
