"""Fixtures for the probe tests: the real offline models, and one real `gpu` worker that runs
every probe once for the whole module (loading and probing a model is the expensive part)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from probes.offline_models import GEMMA3_ID, SMOLLM2_ID, gemma3_gguf, smollm2_gguf


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    return smollm2_gguf()


@pytest.fixture(scope="session")
def gemma_path(tmp_path_factory) -> Path:
    return gemma3_gguf(tmp_path_factory.mktemp("gemma-cache"))


@pytest.fixture(scope="session")
def local_sources_env(smollm2_path, gemma_path) -> str:
    return f"{SMOLLM2_ID}={smollm2_path};{GEMMA3_ID}={gemma_path}"


def worker_env(local_sources: str, **extra: str) -> dict[str, str]:
    return {"PROBE_LOCAL_SOURCES": local_sources, "PROBE_HEARTBEAT_STALE_SECONDS": "20", **extra}


GPU_WORKER_ARGS = ["--max-tasks-per-child", "1", "--prefetch-multiplier", "1"]

# The module's worker runs two probes at a time, one torch thread each: on a 2-core runner the
# serial parts of a job (the process start, imports, reading a GGUF's vocabulary in Python, the
# tokenising and the generation loop's overhead) then overlap with the other job's arithmetic
# instead of leaving a core idle. Still a fresh process per job (peak memory is the job's own).
MODULE_WORKER_CONCURRENCY = 2


def db_url_for_workers() -> str:
    from django.db import connection

    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgresql://{s['USER'] or ''}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def snapshot(probe_run_ids: list[int]) -> dict[int, dict]:
    from gpu_workers.models import ProbeRun

    out = {}
    for pr in ProbeRun.objects.select_related("run").filter(pk__in=probe_run_ids):
        out[pr.pk] = {"hub_id": pr.hub_id, "probe": pr.probe, "status": pr.run.status, "progress": pr.run.progress,
                      "current_step": pr.run.current_step, "error": pr.run.error, "result": pr.result,
                      "attempts": pr.attempts, "config": pr.config, "config_hash": pr.config_hash,
                      "heartbeat_at": pr.run.heartbeat_at, "started_at": pr.run.started_at,
                      "finished_at": pr.run.finished_at, "run_id": pr.run_id}
    return out


@pytest.fixture(scope="module")
def worker_outcome(django_db_setup, django_db_blocker, local_sources_env, tmp_path_factory):
    """Queue benchmark, finetune and tooling on SmolLM2-135M, benchmark and tooling on
    Gemma-3-270M, through the broker; one real `celery worker -Q gpu` (fresh process per job, two at a time) runs
    them all. The rows are
    committed to the test database (the worker is another process) and removed afterwards."""
    import redis
    from django.db import connection

    from gpu_workers import services
    from gpu_workers.models import ProbeRun
    from gpu_workers.tasks import send
    from observatory.catalog.models import LeaderboardEntry, Run
    from observatory.celery import app
    from tests.conftest import WorkerProcess, require_postgres, require_redis_url

    redis_url = require_redis_url()
    with django_db_blocker.unblock():
        require_postgres()
        redis.Redis.from_url(redis_url).flushdb()
        previous_eager = app.conf.task_always_eager
        app.conf.task_always_eager = False
        env = {**os.environ, "DATABASE_URL": db_url_for_workers(), "REDIS_URL": redis_url, "EMBEDDED_TASKS": "0",
               "PYTHONUNBUFFERED": "1", **worker_env(local_sources_env, PROBE_TORCH_THREADS="1")}
        log = tmp_path_factory.mktemp("gpu-worker") / "worker.log"
        worker = WorkerProcess("gpu", env, log, MODULE_WORKER_CONCURRENCY, GPU_WORKER_ARGS)
        worker.start()
        ids, observed = [], []
        try:
            try:
                # Both models through the same path with the same configs; the model card compares
                # them. Gemma's fine-tune (about 2 minutes more here) is left to the CLI and the
                # bench so the suite stays well under 20 minutes on a 2-core runner.
                # Longest first, so the two lanes finish together: Gemma's benchmark (its first load
                # also converts the GGUF, kept for its tooling probe) beside SmolLM2's fine-tune.
                plan = [(GEMMA3_ID, "benchmark"), (SMOLLM2_ID, "finetune"), (SMOLLM2_ID, "benchmark"),
                        (GEMMA3_ID, "tooling"), (SMOLLM2_ID, "tooling")]
                for hub_id, probe in plan:
                    probe_run = services.create_probe_run(hub_id, probe, budget_seconds=1800)
                    ids.append(probe_run.pk)
                    send(probe_run.pk, probe_run.budget_seconds)  # committed already (autocommit)
                deadline = time.monotonic() + 2400  # minutes on a quiet 2-core runner; generous for a busy one
                while time.monotonic() < deadline:
                    rows = snapshot(ids)
                    observed.extend((pk, r["status"], r["progress"], r["current_step"]) for pk, r in rows.items())
                    if all(r["status"] in ("succeeded", "failed", "cancelled") for r in rows.values()):
                        break
                    time.sleep(1.0)
                else:
                    pytest.fail(f"probe runs did not finish in time:\n{worker.logs()}")
            finally:
                worker.stop()
                app.conf.task_always_eager = previous_eager
            yield {"runs": snapshot(ids), "ids": ids, "observed": observed, "logs": worker.logs(),
                   "leaderboard": list(LeaderboardEntry.objects.filter(source="probe").values())}
        finally:
            LeaderboardEntry.objects.filter(source="probe").delete()
            run_ids = list(ProbeRun.objects.filter(pk__in=ids).values_list("run_id", flat=True))
            Run.objects.filter(pk__in=run_ids).delete()
            connection.close()


def by_probe(outcome: dict, hub_id: str, probe: str) -> dict:
    return next(r for r in outcome["runs"].values() if r["hub_id"] == hub_id and r["probe"] == probe)
