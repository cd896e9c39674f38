"""A model's tooling checks as stored probe runs: what the card's timeline, the dashboard and the
feeds read (the rule itself is gpu_workers.readiness).

Only public runs that succeeded count: a lab's private run shows nowhere public (the model card's
rule), and a run that failed to finish says nothing about the tooling.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import BooleanField, CharField, ExpressionWrapper, F, Func, Q, Value

from gpu_workers import readiness
from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Run

TOOLING = "tooling"


def release_day(model: HubModel) -> dt.date | None:
    """The day checks are counted from: the (corrected) release date, else the Hub's creation day (UTC)."""
    return release_day_of(model.release_date, model.created_at)


def release_day_of(release_date: dt.date | None, created_at: dt.datetime | None) -> dt.date | None:
    """release_day from the two columns, for readers that fetch only those."""
    if release_date:
        return release_date
    return created_at.astimezone(dt.UTC).date() if created_at else None


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


# What a check needs of a run, read as JSON key lookups (both backends) instead of the whole run:
# the results also hold the config, versions and device, and the Run its params, counts and cursor.
CHECK_FIELDS = ("pk", "model_id", "run__finished_at", "resolved_revision", "revision", "has_checks", "checks_kind",
                "result__checks", "result__metrics__checks_passed", "result__metrics__checks_total")


def json_kind(column: str, key: str):
    """SQLite's JSON_TYPE of a JSON column's top-level key ('object', 'array', 'text', ...); None
    elsewhere. SQLite's key lookups read a JSON string holding JSON text as that text's value
    (PostgreSQL's keep it a string), so there a looked-up list or dict must show it is one."""
    if connection.vendor != "sqlite":
        return Value(None, output_field=CharField())
    return Func(F(column), Value(f'$."{key}"'), function="JSON_TYPE", output_field=CharField())


def checks_by_model(model_ids=None) -> dict[int, list[readiness.Check]]:
    out: dict[int, list[readiness.Check]] = {}
    runs = finished_public(model_ids).filter(model_id__isnull=False).annotate(
        has_checks=ExpressionWrapper(Q(result__has_key="checks"), output_field=BooleanField()),
        checks_kind=json_kind("result", "checks"))
    for pk, model_id, finished_at, resolved, revision, has_checks, kind, checks, passed, total in (
            runs.values_list(*CHECK_FIELDS)):
        if checks is None and not has_checks:
            checks, kind = [], "array"  # as_check's default (the result is an object: its counts were found in it)
        if _well_formed(checks, kind, passed, total):
            check = readiness.Check(
                date=finished_at.astimezone(dt.UTC).date(), revision=resolved or revision or "",
                passed=passed, total=total, failing=tuple(c["name"] for c in checks if not c.get("passed")))
        else:
            check = as_check(ProbeRun.objects.select_related("run").get(pk=pk))
        out.setdefault(model_id, []).append(check)
    return out


def _well_formed(checks, kind, passed, total) -> bool:
    """Whether the looked-up values are those of a record in the result schema. A lookup reads a
    missing key and a JSON null alike (None), so anything else goes the whole-object way
    (as_check), which then reads or raises exactly as it always did."""
    return (type(passed) is int and type(total) is int and type(checks) is list and kind in (None, "array")
            and all(type(c) is dict for c in checks))


def model_timeline(model: HubModel) -> dict:
    """{release, days_to_ready, ready_on, checks: [timeline rows]} for the model card."""
    checks = checks_by_model([model.pk]).get(model.pk, [])
    release = release_day(model)
    if release is None or not checks:
        return {"release": release, "days_to_ready": None, "ready_on": None,
                "checks": readiness.timeline(release, checks) if release and checks else []}
    return {"release": release, "days_to_ready": readiness.days_to_ready(release, checks),
            "ready_on": readiness.ready_date(checks), "checks": readiness.timeline(release, checks)}
