"""The probe results as frames (analytics.probe_frames) over probe runs stored in the embedded
default's SQLite: only public runs that succeeded with a result, each number as the run stored it,
the mean loss curve over a config's tasks, each config once (its first run's), readiness by the one
rule, the profiled models' filter columns, and today's date in UTC. Expected rows are written out
by hand from the runs made below."""

from __future__ import annotations

import datetime as dt
import time

import polars as pl
import pytest

from observatory.analytics import probe_frames


def utc(month, day, hour=12, year=2025):
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


@pytest.fixture
def stored(db):
    from gpu_workers.models import ProbeRun
    from observatory.catalog.models import HubModel, Organization, Run

    acme = Organization.objects.create(namespace="acme", region="eu")
    a = HubModel.objects.create(hub_id="acme/a", organization=acme, author="acme", size_class="7-9B",
                                licence_class="permissive", release_date=dt.date(2025, 1, 10))
    b = HubModel.objects.create(hub_id="solo/b", author="solo", licence_class="unknown",
                                created_at=dt.datetime(2025, 2, 1, 23, 0, tzinfo=dt.UTC))
    c = HubModel.objects.create(hub_id="lone/c", author="lone", licence_class="copyleft")
    d = HubModel.objects.create(hub_id="lone/d", author="lone", licence_class="permissive")

    def probe(model, kind, finished, result, *, public=True, status="succeeded", config_hash="", config=None,
              revision=""):
        run = Run.objects.create(kind="probe", name=kind, status=status, finished_at=finished)
        return ProbeRun.objects.create(run=run, model=model, hub_id=model.hub_id, probe=kind, result=result,
                                       public=public, config_hash=config_hash, config=config or {},
                                       resolved_revision=revision)

    full = {"metrics": {"initial_loss": 2.5, "final_loss": 1.5, "heldout_gain": 0.25, "forgetting": 0.1,
                        "lr_sensitivity": 0.5, "peak_memory_mb": 900, "tokens_per_second": 120, "wall_seconds": 60,
                        "diverged": False, "steps_to_target": {"t1": 10, "t2": 20, "t3": None},
                        "tasks": {"x": {"loss_curve": [3.0, 2.0, 1.0]}, "y": {"loss_curve": [1.0, 1.0]},
                                  "z": {"loss_curve": []}}}}
    sparse = {"metrics": {"initial_loss": 3, "final_loss": None, "diverged": True}}
    probe(a, "finetune", utc(3, 1), full, config_hash="h1", config={"lr": 0.0001})
    probe(b, "finetune", utc(2, 1), sparse, config_hash="h2", config={"lr": 0.0002})
    probe(a, "finetune", utc(3, 5), {"metrics": {"steps_to_target": {"t1": None}}}, config_hash="h1",
          config={"lr": 9})
    probe(a, "finetune", utc(3, 2), full, public=False, config_hash="hidden")  # a lab's private run
    probe(a, "finetune", utc(3, 3), full, status="failed", config_hash="failed")
    probe(a, "finetune", utc(3, 4), None, config_hash="empty")  # succeeded without a result
    probe(a, "tooling", utc(3, 6), {"metrics": {"checks_passed": 1, "checks_total": 1}}, config_hash="tool")

    def tooling(model, finished, passed, total, **kwargs):
        probe(model, "tooling", finished, {"metrics": {"checks_passed": passed, "checks_total": total},
                                           "checks": [{"name": "n", "passed": passed == total}]}, **kwargs)

    tooling(a, utc(1, 12), 3, 4, revision="r1")
    tooling(a, utc(1, 11), 4, 4, public=False)  # private: not the ready day
    tooling(a, utc(1, 15), 4, 4, revision="r2")
    tooling(b, utc(2, 3), 2, 2)  # no release date: counted from its creation day, 1 February (UTC)
    tooling(c, utc(2, 4), 1, 2)  # neither: no day to count from, and not ready
    tooling(d, utc(2, 5), 3, 3)  # ready, but no day to count its days from
    return a.pk, b.pk, c.pk, d.pk


def test_it_reads_each_public_succeeded_finetune_run_in_finishing_order(stored):
    a, b, _, _ = stored
    runs, _, _ = probe_frames.finetune_runs()
    assert runs.schema == probe_frames.FINETUNE_SCHEMA
    nothing = dict.fromkeys(["initial_loss", "final_loss", "heldout_gain", "forgetting", "lr_sensitivity",
                             "peak_memory_mb", "tokens_per_second", "wall_seconds"])
    assert runs.to_dicts() == [
        {"model_id": b, "hub_id": "solo/b", "config_hash": "h2", "finished_at": utc(2, 1),
         **nothing, "initial_loss": 3.0, "diverged": True, "steps_to_target_mean": None, "targets_reached": 0,
         "targets_total": 0},
        {"model_id": a, "hub_id": "acme/a", "config_hash": "h1", "finished_at": utc(3, 1), "initial_loss": 2.5,
         "final_loss": 1.5, "heldout_gain": 0.25, "forgetting": 0.1, "lr_sensitivity": 0.5, "peak_memory_mb": 900.0,
         "tokens_per_second": 120.0, "wall_seconds": 60.0, "diverged": False, "steps_to_target_mean": 15.0,
         "targets_reached": 2, "targets_total": 3},
        {"model_id": a, "hub_id": "acme/a", "config_hash": "h1", "finished_at": utc(3, 5), **nothing,
         "diverged": False, "steps_to_target_mean": None, "targets_reached": 0, "targets_total": 1},
    ]


def test_it_averages_the_loss_per_step_over_the_tasks_that_have_a_curve(stored):
    _, curves, _ = probe_frames.finetune_runs()
    # x: 3, 2, 1 and y: 1, 1 (z has none): over the two steps both trained, (3+1)/2 and (2+1)/2.
    assert curves.to_dicts() == [
        {"hub_id": "acme/a", "config_hash": "h1", "step": 1, "loss": 2.0, "finished_at": utc(3, 1)},
        {"hub_id": "acme/a", "config_hash": "h1", "step": 2, "loss": 1.5, "finished_at": utc(3, 1)},
    ]
    assert probe_frames.mean_curve({}) == [] and probe_frames.mean_curve({"tasks": None}) == []
    assert probe_frames.mean_curve({"tasks": {"x": {"loss_curve": [4.0]}, "y": {}}}) == [4.0]


def test_it_keeps_each_config_once_as_its_first_run_had_it(stored):
    _, _, configs = probe_frames.finetune_runs()
    assert configs == {"h2": {"lr": 0.0002}, "h1": {"lr": 0.0001}}


def test_it_reads_every_run_with_its_run_row_in_one_query(stored, django_assert_num_queries):
    with django_assert_num_queries(1):  # the Run rows joined, not fetched one run at a time
        runs, _, _ = probe_frames.finetune_runs()
    assert runs.height == 3


def test_it_gives_no_rows_but_the_schemas_without_runs(db):
    runs, curves, configs = probe_frames.finetune_runs()
    assert runs.is_empty() and runs.schema == probe_frames.FINETUNE_SCHEMA
    assert curves.is_empty() and curves.schema == {**probe_frames.CURVE_SCHEMA, "finished_at": pl.Datetime("us", "UTC")}
    assert configs == {}
    ready = probe_frames.readiness_by_model()
    assert ready.is_empty() and ready.schema == probe_frames.READINESS_SCHEMA
    profiled = probe_frames.models_of([])
    assert profiled.is_empty() and profiled.schema == probe_frames.MODEL_SCHEMA


def test_it_gives_each_checked_models_readiness_by_the_public_checks(stored):
    a, b, c, d = stored
    got = probe_frames.readiness_by_model()
    assert got.schema == probe_frames.READINESS_SCHEMA
    assert sorted(got.rows()) == sorted([
        # released 10 January; public checks on 12 January, 15 January (all passed) and 6 March
        (a, 3, dt.date(2025, 1, 12), dt.date(2025, 1, 15), 5),
        (b, 1, dt.date(2025, 2, 3), dt.date(2025, 2, 3), 2),
        (c, 1, dt.date(2025, 2, 4), None, None),
        (d, 1, dt.date(2025, 2, 5), dt.date(2025, 2, 5), None),
    ])


def test_it_gives_the_profiled_models_filter_columns(stored):
    a, b, c, _ = stored
    got = probe_frames.models_of([a, b, c, 10_000])
    assert got.schema == probe_frames.MODEL_SCHEMA
    assert sorted(got.rows()) == [(a, "acme", "eu", "7-9B", "permissive"), (b, "solo", "unknown", None, "unknown"),
                                  (c, "lone", "unknown", None, "copyleft")]


@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])  # UTC+14 and UTC-12: one is on another day
def test_today_is_the_utc_date_whatever_the_process_time_zone(zone, monkeypatch):
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        before = dt.datetime.now(dt.UTC).date()
        today = probe_frames.utc_today()
        assert today in (before, dt.datetime.now(dt.UTC).date())
    finally:
        monkeypatch.undo()
        time.tzset()
