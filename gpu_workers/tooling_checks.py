"""A model's tooling checks as stored probe runs: what the card's timeline, the dashboard and the
feeds read (the rule itself is gpu_workers.readiness).

Only public runs that succeeded count: a lab's private run shows nowhere public (the model card's
rule), and a run that failed to finish says nothing about the tooling.
"""

from __future__ import annotations

import datetime as dt

from gpu_workers import readiness
from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Run

TOOLING = "tooling"


def release_day(model: HubModel) -> dt.date | None:
    """The day checks are counted from: the (corrected) release date, else the Hub's creation day (UTC)."""
    if model.release_date:
        return model.release_date
    return model.created_at.astimezone(dt.UTC).date() if model.created_at else None


def as_check(probe_run: ProbeRun) -> readiness.Check:
    result = probe_run.result
    checks = result.get("checks", [])
    return readiness.Check(
        date=probe_run.run.finished_at.astimezone(dt.UTC).date(),
        revision=probe_run.resolved_revision or probe_run.revision or "",
        passed=int(result["metrics"]["checks_passed"]), total=int(result["metrics"]["checks_total"]),
        failing=tuple(c["name"] for c in checks if not c.get("passed")))


def finished_public(model_ids=None):
    """Public, succeeded tooling runs with a result, their Run joined."""
    runs = ProbeRun.objects.select_related("run").filter(
        probe=TOOLING, public=True, run__status=Run.Status.SUCCEEDED, run__finished_at__isnull=False,
        result__isnull=False)
    if model_ids is not None:
        runs = runs.filter(model_id__in=list(model_ids))
    return runs.order_by("run__finished_at", "pk")


def checks_by_model(model_ids=None) -> dict[int, list[readiness.Check]]:
    out: dict[int, list[readiness.Check]] = {}
    for probe_run in finished_public(model_ids):
        if probe_run.model_id is not None:
            out.setdefault(probe_run.model_id, []).append(as_check(probe_run))
    return out


def model_timeline(model: HubModel) -> dict:
    """{release, days_to_ready, ready_on, checks: [timeline rows]} for the model card."""
    checks = checks_by_model([model.pk]).get(model.pk, [])
    release = release_day(model)
    if release is None or not checks:
        return {"release": release, "days_to_ready": None, "ready_on": None,
                "checks": readiness.timeline(release, checks) if release and checks else []}
    return {"release": release, "days_to_ready": readiness.days_to_ready(release, checks),
            "ready_on": readiness.ready_date(checks), "checks": readiness.timeline(release, checks)}
