"""Benchmark probe results feed the open/closed gap as the `probe` source.

A public-set run (HellaSwag, MMLU-Redux, GSM8K, full or a seeded subset) is one entry per model
under its item-set label ("hellaswag[limit=1000]"): subsets are the same items for every model,
so runs of one label compare, and the gap draws one label at a time. A run of the project's own
set is kept under BENCHMARK_NAME, full sets only, for the model card's table.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, LeaderboardEntry
from probes.public_sets import HEADLINE, parse_label

BENCHMARK_NAME = "observatory-benchmark"


def _finished(probe_run: ProbeRun):
    return probe_run.run.finished_at or dt.datetime.min.replace(tzinfo=dt.UTC)


def entry_benchmark(result: dict) -> tuple[str, str] | None:
    """(benchmark name, metric key) a benchmark result feeds, or None: a public set's label and its
    headline score; the own set's BENCHMARK_NAME and accuracy, when it ran whole."""
    metrics = result.get("metrics") or {}
    public = parse_label(str(metrics.get("item_set") or ""))
    if public is not None:
        return metrics["item_set"], HEADLINE[public[0]][0]
    if (result.get("config") or {}).get("limit") is None:
        return BENCHMARK_NAME, "accuracy"
    return None  # an own-set subset: its first N of each kind is no public figure


def record_probe_score(probe_run: ProbeRun) -> LeaderboardEntry | None:
    """One entry per model and benchmark (entry_benchmark): the latest public benchmark result.

    A private run never feeds it (nor overwrites a public score); publishing an older run does
    not displace the score of a run that finished after it.
    """
    result = probe_run.result or {}
    if not probe_run.public or probe_run.probe != "benchmark" or not result:
        return None
    fed = entry_benchmark(result)
    if fed is None or result["metrics"].get(fed[1]) is None:
        return None
    benchmark, score_key = fed
    current = LeaderboardEntry.objects.filter(source=LeaderboardEntry.Source.PROBE, benchmark=benchmark,
                                              model_name=probe_run.hub_id).first()
    if current is not None and current.extra.get("probe_run_id") != probe_run.pk:
        shown = ProbeRun.objects.filter(pk=current.extra.get("probe_run_id"), public=True).select_related("run").first()
        if shown is not None and _finished(shown) > _finished(probe_run):
            return current
    metrics = result["metrics"]
    model = probe_run.model or HubModel.objects.filter(hub_id=probe_run.hub_id).first()
    entry, _ = LeaderboardEntry.objects.update_or_create(
        source=LeaderboardEntry.Source.PROBE, benchmark=benchmark, model_name=probe_run.hub_id,
        defaults={
            "hub_model": model,
            "organization": (model.organization.namespace if model and model.organization else
                             probe_run.hub_id.split("/")[0] if "/" in probe_run.hub_id else ""),
            "open_weights": True,
            "licence": model.licence_id if model else "",
            "release_date": model.release_date if model else None,
            "score": metrics[score_key],
            "snapshot_date": timezone.now().date(),
            "extra": {"probe_run_id": probe_run.pk, "metric": score_key, "accuracy_norm": metrics.get("accuracy_norm"),
                      "exact_match": metrics.get("exact_match"), "item_set_hash": metrics["item_set_hash"],
                      "items": metrics.get("items"), "config_hash": probe_run.config_hash},
        },
    )
    return entry
