"""Benchmark probe results feed the open/closed gap as the `probe` source."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, LeaderboardEntry

BENCHMARK_NAME = "observatory-benchmark"


def _finished(probe_run: ProbeRun):
    return probe_run.run.finished_at or dt.datetime.min.replace(tzinfo=dt.UTC)


def record_probe_score(probe_run: ProbeRun) -> LeaderboardEntry | None:
    """One entry per model: the latest public full-item-set benchmark result (subsets do not compare).

    A private run never feeds it (nor overwrites a public score); publishing an older run does
    not displace the score of a run that finished after it.
    """
    result = probe_run.result or {}
    if (not probe_run.public or probe_run.probe != "benchmark" or not result
            or (result.get("config") or {}).get("limit") is not None):
        return None
    current = LeaderboardEntry.objects.filter(source=LeaderboardEntry.Source.PROBE, benchmark=BENCHMARK_NAME,
                                              model_name=probe_run.hub_id).first()
    if current is not None and current.extra.get("probe_run_id") != probe_run.pk:
        shown = ProbeRun.objects.filter(pk=current.extra.get("probe_run_id"), public=True).select_related("run").first()
        if shown is not None and _finished(shown) > _finished(probe_run):
            return current
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
