"""Probe results as polars frames: the fine-tunability runs and the tooling checks.

Read through the ORM (results are JSON documents, one per run; the fields used are read by JSON key
lookups, not whole runs: some 7,000 at scale 0.1), and only public runs that succeeded: a lab's
private run feeds nothing public until it publishes (tests/labs/test_private_probe_scores.py holds
the rule for every public view).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from gpu_workers import readiness, tooling_checks
from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Run

FINETUNE_SCHEMA = {
    "model_id": pl.Int64, "hub_id": pl.Utf8, "config_hash": pl.Utf8, "finished_at": pl.Datetime("us", "UTC"),
    "initial_loss": pl.Float64, "final_loss": pl.Float64, "heldout_gain": pl.Float64, "forgetting": pl.Float64,
    "lr_sensitivity": pl.Float64, "diverged": pl.Boolean, "steps_to_target_mean": pl.Float64,
    "targets_reached": pl.Int64, "targets_total": pl.Int64, "peak_memory_mb": pl.Float64,
    "tokens_per_second": pl.Float64, "wall_seconds": pl.Float64,
}
CURVE_SCHEMA = {"hub_id": pl.Utf8, "config_hash": pl.Utf8, "step": pl.Int64, "loss": pl.Float64}
READINESS_SCHEMA = {"model_id": pl.Int64, "checks": pl.Int64, "first_check": pl.Date, "ready_on": pl.Date,
                    "days_to_ready": pl.Int64}


def _number(value) -> float | None:
    return None if value is None else float(value)


def mean_curve(metrics: dict) -> list[float]:
    """The training loss per step averaged over the config's tasks (all train the same steps)."""
    curves = [t["loss_curve"] for t in (metrics.get("tasks") or {}).values() if t.get("loss_curve")]
    if not curves:
        return []
    length = min(len(c) for c in curves)
    return [sum(c[i] for c in curves) / len(curves) for i in range(length)]


def finetune_runs() -> tuple[pl.DataFrame, pl.DataFrame, dict[str, dict]]:
    """(runs, curves, configs): each public succeeded finetune run's numbers, its mean loss curve,
    and config hash → the full config it ran with.

    Reads the result's metrics by a JSON key lookup (both backends), not the whole result or Run."""
    rows, curves, configs = [], [], {}
    runs = (ProbeRun.objects.filter(probe="finetune", public=True, run__status=Run.Status.SUCCEEDED,
                                    result__isnull=False)
            .annotate(metrics_kind=tooling_checks.json_kind("result", "metrics"))
            .order_by("run__finished_at", "pk")
            .values_list("pk", "model_id", "hub_id", "config_hash", "config", "run__finished_at", "result__metrics",
                         "metrics_kind"))
    for pk, model_id, hub_id, config_hash, config, finished_at, metrics, kind in runs:
        if type(metrics) is not dict or kind not in (None, "object"):
            # A lookup reads a missing key and a JSON null alike, and SQLite a JSON string holding
            # JSON text as that text's value: anything but a metrics object reads, or raises, as
            # it always did, from the whole result.
            metrics = ProbeRun.objects.get(pk=pk).result["metrics"]
        steps = metrics.get("steps_to_target") or {}
        reached = [s for s in steps.values() if s is not None]
        rows.append({
            "model_id": model_id, "hub_id": hub_id, "config_hash": config_hash, "finished_at": finished_at,
            **{k: _number(metrics.get(k)) for k in ("initial_loss", "final_loss", "heldout_gain", "forgetting",
                                                     "lr_sensitivity", "peak_memory_mb", "tokens_per_second",
                                                     "wall_seconds")},
            "diverged": bool(metrics.get("diverged")),
            "steps_to_target_mean": sum(reached) / len(reached) if reached else None,
            "targets_reached": len(reached), "targets_total": len(steps)})
        curves += [{"hub_id": hub_id, "config_hash": config_hash, "step": i + 1, "loss": loss,
                    "finished_at": finished_at} for i, loss in enumerate(mean_curve(metrics))]
        configs.setdefault(config_hash, config)
    curve_frame = pl.DataFrame(curves, schema={**CURVE_SCHEMA, "finished_at": pl.Datetime("us", "UTC")}, orient="row")
    return pl.DataFrame(rows, schema=FINETUNE_SCHEMA, orient="row"), curve_frame, configs


def readiness_by_model() -> pl.DataFrame:
    """(model_id, checks, first_check, ready_on, days_to_ready): each model with a public tooling
    check, its readiness by the one rule (gpu_workers.readiness; days counted from release_day)."""
    by_model = tooling_checks.checks_by_model()
    rows = []
    for pk, release_date, created_at in HubModel.objects.filter(pk__in=list(by_model)).values_list(
            "pk", "release_date", "created_at"):
        release, checks = tooling_checks.release_day_of(release_date, created_at), by_model[pk]
        rows.append({"model_id": pk, "checks": len(checks), "first_check": min(c.date for c in checks),
                     "ready_on": readiness.ready_date(checks),
                     "days_to_ready": readiness.days_to_ready(release, checks) if release else None})
    return pl.DataFrame(rows, schema=READINESS_SCHEMA, orient="row")


MODEL_SCHEMA = {"model_id": pl.Int64, "organization": pl.Utf8, "region": pl.Utf8, "size_class": pl.Utf8,
                "licence_class": pl.Utf8}


def models_of(model_ids: list[int]) -> pl.DataFrame:
    """The profiled models' filter columns (a handful of rows: not the whole catalogue's frame)."""
    rows = [{"model_id": pk, "organization": ns or author, "region": region or "unknown", "size_class": size or None,
             "licence_class": licence}
            for pk, ns, author, region, size, licence in HubModel.objects.filter(pk__in=model_ids).values_list(
                "pk", "organization__namespace", "author", "organization__region", "size_class", "licence_class")]
    return pl.DataFrame(rows, schema=MODEL_SCHEMA, orient="row")


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
