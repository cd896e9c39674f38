"""The probe loaders read only the fields they need (JSON key lookups, not whole runs) and give
exactly what the whole-object path gives: the same checks and rows for well-formed records, and
for garbage (keys missing, JSON null, wrong types, JSON text held in a string, which SQLite's
lookups would read as the text's value) the same values or the same error. Runs in the embedded
default's SQLite (`make test-fast`) and on PostgreSQL (`make test`)."""

from __future__ import annotations

import datetime as dt

import pytest

from gpu_workers import tooling_checks
from observatory.analytics import probe_frames

JSON_NULL = object()  # a result stored as JSON null, which `result__isnull=False` lets through

GOOD_TOOLING = {"metrics": {"checks_passed": 1, "checks_total": 2},
                "checks": [{"name": "load", "passed": True}, {"name": "chat", "passed": False, "error": "x"}]}
TOOLING_RESULTS = {
    "well formed": GOOD_TOOLING,
    "all passed": {"metrics": {"checks_passed": 2, "checks_total": 2},
                   "checks": [{"name": "load", "passed": True}, {"name": "chat", "passed": True}]},
    "no checks key": {"metrics": {"checks_passed": 2, "checks_total": 2}},
    "empty checks": {"metrics": {"checks_passed": 0, "checks_total": 0}, "checks": []},
    "float count": {"metrics": {"checks_passed": 2.9, "checks_total": 4.0}, "checks": []},
    "string count": {"metrics": {"checks_passed": "3", "checks_total": " 4"}, "checks": []},
    "boolean count": {"metrics": {"checks_passed": True, "checks_total": 1}, "checks": []},
    "fractional string count": {"metrics": {"checks_passed": "3.5", "checks_total": 4}, "checks": []},
    "null count": {"metrics": {"checks_passed": None, "checks_total": 4}, "checks": []},
    "missing total": {"metrics": {"checks_passed": 1}, "checks": []},
    "no metrics": {"checks": [{"name": "load", "passed": False}]},
    "metrics a list": {"metrics": [1, 2], "checks": []},
    "checks null": {"metrics": {"checks_passed": 1, "checks_total": 1}, "checks": None},
    "checks a JSON string": {"metrics": {"checks_passed": 1, "checks_total": 2},
                             "checks": '[{"name": "chat", "passed": false}]'},
    "checks an empty JSON string": {"metrics": {"checks_passed": 1, "checks_total": 1}, "checks": "[]"},
    "checks of numbers": {"metrics": {"checks_passed": 1, "checks_total": 2}, "checks": [1, 2]},
    "check without a name": {"metrics": {"checks_passed": 1, "checks_total": 2}, "checks": [{"passed": False}]},
    "passed check without a name": {"metrics": {"checks_passed": 1, "checks_total": 1}, "checks": [{"passed": 1}]},
    "checks an object": {"metrics": {"checks_passed": 1, "checks_total": 2}, "checks": {"chat": {"passed": False}}},
    "result a list": [1, 2],
    "result a JSON string": '{"metrics": {"checks_passed": 1, "checks_total": 1}}',
    "result JSON null": JSON_NULL,
}

GOOD_METRICS = {"initial_loss": 2.5, "final_loss": 1.5, "heldout_gain": 0.25, "forgetting": 0.1,
                "lr_sensitivity": 0.5, "peak_memory_mb": 900, "tokens_per_second": 120, "wall_seconds": 60,
                "diverged": False, "steps_to_target": {"t1": 10, "t2": None},
                "tasks": {"x": {"loss_curve": [3.0, 2.0]}, "y": {"loss_curve": [1.0, 1.0, 1.0]}}}
FINETUNE_RESULTS = {
    "well formed": {"metrics": GOOD_METRICS},
    "empty metrics": {"metrics": {}},
    "no initial loss": {"metrics": {"final_loss": "1.5", "diverged": 1, "steps_to_target": None}},
    "null initial loss": {"metrics": {**GOOD_METRICS, "initial_loss": None}},
    "string numbers": {"metrics": {**GOOD_METRICS, "initial_loss": "2.5", "wall_seconds": "6e1"}},
    "steps a list": {"metrics": {**GOOD_METRICS, "steps_to_target": [1, 2]}},
    "tasks a list": {"metrics": {**GOOD_METRICS, "tasks": [1]}},
    "no metrics": {"checks": []},
    "metrics null": {"metrics": None},
    "metrics a list": {"metrics": [GOOD_METRICS]},
    "metrics a JSON string": {"metrics": '{"initial_loss": 2.5, "final_loss": 1.5}'},
    "result a list": [GOOD_METRICS],
    "result a JSON string": '{"metrics": {"initial_loss": 2.5}}',
    "result JSON null": JSON_NULL,
}


def outcome(load):
    """What a loader gives, or the error it raises (type and message)."""
    try:
        return "value", load()
    except Exception as exc:  # the error itself is what is compared
        return "error", type(exc), str(exc)


@pytest.fixture
def make_run(db):
    from django.db.models import JSONField, Value

    from gpu_workers.models import ProbeRun
    from observatory.catalog.models import HubModel, Run

    made = {"n": 0}

    def make(probe, result, *, day=1, config_hash="h", config=None):
        made["n"] += 1
        model = HubModel.objects.create(hub_id=f"made/up-{made['n']}", author="made",
                                        release_date=dt.date(2025, 1, 1))
        run = Run.objects.create(kind="probe", name=probe, status="succeeded",
                                 finished_at=dt.datetime(2025, 1, day, 23, 30, tzinfo=dt.UTC))
        stored = Value(None, JSONField()) if result is JSON_NULL else result
        ProbeRun.objects.create(run=run, model=model, hub_id=model.hub_id, probe=probe, result=stored,
                                config_hash=config_hash, config=config or {"steps": made["n"]},
                                resolved_revision="" if made["n"] % 2 else f"r{made['n']}", revision="main")
    return make


def whole_object_checks() -> dict:
    """The whole-object path: every run loaded with its Run, each made a check by as_check."""
    out: dict = {}
    for probe_run in tooling_checks.finished_public():
        if probe_run.model_id is not None:
            out.setdefault(probe_run.model_id, []).append(tooling_checks.as_check(probe_run))
    return out


def whole_object_finetune():
    """The whole-object path of finetune_runs, as plain dicts: each run's numbers and curve, and
    each config hash's first config."""
    from gpu_workers.models import ProbeRun

    rows, configs = [], {}
    for probe_run in (ProbeRun.objects.select_related("run")
                      .filter(probe="finetune", public=True, run__status="succeeded", result__isnull=False)
                      .order_by("run__finished_at", "pk")):
        metrics = probe_run.result["metrics"]
        steps = metrics.get("steps_to_target") or {}
        reached = [s for s in steps.values() if s is not None]
        number = {k: None if metrics.get(k) is None else float(metrics.get(k))
                  for k in ("initial_loss", "final_loss", "heldout_gain", "forgetting", "lr_sensitivity",
                            "peak_memory_mb", "tokens_per_second", "wall_seconds")}
        rows.append({"model_id": probe_run.model_id, "hub_id": probe_run.hub_id,
                     "config_hash": probe_run.config_hash, "finished_at": probe_run.run.finished_at, **number,
                     "diverged": bool(metrics.get("diverged")),
                     "steps_to_target_mean": sum(reached) / len(reached) if reached else None,
                     "targets_reached": len(reached), "targets_total": len(steps),
                     "curve": probe_frames.mean_curve(metrics)})
        configs.setdefault(probe_run.config_hash, probe_run.config)
    return rows, list(configs.items())


def loaded_finetune():
    runs, curves, configs = probe_frames.finetune_runs()
    rows = runs.to_dicts()
    for row in rows:
        drawn = curves.filter((curves["hub_id"] == row["hub_id"]) & (curves["config_hash"] == row["config_hash"])
                              & (curves["finished_at"] == row["finished_at"]))
        row["curve"] = drawn.sort("step")["loss"].to_list()
    return rows, list(configs.items())


@pytest.mark.parametrize("case", list(TOOLING_RESULTS))
def test_tooling_checks_read_by_field_equal_the_whole_object_path(make_run, case):
    make_run("tooling", GOOD_TOOLING, day=2)
    make_run("tooling", TOOLING_RESULTS[case], day=3)
    make_run("tooling", TOOLING_RESULTS["all passed"], day=4)
    expected = outcome(whole_object_checks)
    assert outcome(tooling_checks.checks_by_model) == expected
    if expected[0] == "value":
        assert [list(v) for v in tooling_checks.checks_by_model().values()] == [list(v) for v in expected[1].values()]


def test_well_formed_tooling_checks_are_read_without_the_whole_object(make_run, django_assert_num_queries):
    for day in (1, 2, 3):
        make_run("tooling", GOOD_TOOLING, day=day)
    with django_assert_num_queries(1):  # one query, no run loaded again one by one
        by_model = tooling_checks.checks_by_model()
    assert [c.failing for checks in by_model.values() for c in checks] == [("chat",)] * 3


@pytest.mark.parametrize("case", list(FINETUNE_RESULTS))
def test_finetune_runs_read_by_field_equal_the_whole_object_path(make_run, case):
    make_run("finetune", {"metrics": GOOD_METRICS}, day=2, config_hash="a")
    make_run("finetune", FINETUNE_RESULTS[case], day=3, config_hash="b")
    make_run("finetune", {"metrics": GOOD_METRICS}, day=4, config_hash="a")
    make_run("finetune", {"metrics": {**GOOD_METRICS, "tasks": {}}}, day=5, config_hash="c")
    assert outcome(loaded_finetune) == outcome(whole_object_finetune)


def test_well_formed_finetune_runs_are_read_in_one_query(make_run, django_assert_num_queries):
    for day, config_hash in ((1, "a"), (2, "b"), (3, "a")):
        make_run("finetune", {"metrics": GOOD_METRICS}, day=day, config_hash=config_hash)
    with django_assert_num_queries(1):  # the runs' fields, their configs with them
        runs, _, configs = probe_frames.finetune_runs()
    assert runs.height == 3 and list(configs) == ["a", "b"]
