"""A worker SIGKILLed in the middle of a probe: the reaper requeues the run once, then fails it; it
is never left `running`."""

from __future__ import annotations

import os
import signal

import pytest
from django.utils import timezone

from gpu_workers import services
from gpu_workers.models import ProbeRun
from gpu_workers.tasks import reap_stale_runs, send
from observatory.catalog.models import Run
from probes.offline_models import SMOLLM2_ID
from tests.conftest import wait_for
from tests.probes.conftest import GPU_WORKER_ARGS, worker_env

pytestmark = [pytest.mark.probes, pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def queued_messages(app) -> int:
    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen("gpu")


def _worker_scoring_a_benchmark(celery_worker_factory, local_sources_env):
    """A real gpu worker, and a benchmark run it has got as far as scoring (so it is mid-probe)."""
    worker = celery_worker_factory(queues="gpu", env=worker_env(local_sources_env), extra_args=GPU_WORKER_ARGS)
    probe_run = services.create_probe_run(SMOLLM2_ID, "benchmark", budget_seconds=600)
    send(probe_run.pk, probe_run.budget_seconds)

    def scoring() -> bool:
        run = Run.objects.get(pk=probe_run.run_id)
        return run.status == "running" and run.current_step.startswith("scoring choices")

    wait_for(scoring, timeout=300, interval=0.5, message=f"scoring to start\n{worker.logs()[-3000:]}")
    return worker, probe_run


def test_it_reaps_a_run_whose_worker_was_killed_mid_probe(celery_worker_factory, broker_mode, settings,
                                                           local_sources_env):
    worker, probe_run = _worker_scoring_a_benchmark(celery_worker_factory, local_sources_env)
    worker.kill()  # SIGKILL to the whole worker process group, mid-probe
    run = Run.objects.get(pk=probe_run.run_id)
    assert run.status == "running"  # nobody is left to say otherwise: the reaper's job

    settings.PROBE_HEARTBEAT_STALE_SECONDS = 3600
    assert reap_stale_runs() == {"requeued": 0, "failed": 0}  # a fresh heartbeat is left alone

    settings.PROBE_HEARTBEAT_STALE_SECONDS = 5
    Run.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timezone.timedelta(seconds=30))
    assert reap_stale_runs() == {"requeued": 1, "failed": 0}
    run.refresh_from_db()
    probe_run.refresh_from_db()
    assert run.status == "queued" and run.current_step.startswith("requeued: worker lost")
    assert probe_run.attempts == 1
    assert queued_messages(broker_mode) >= 1  # sent again for the next worker

    # The second attempt dies too: this time the run is failed, with the reason.
    Run.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now() - timezone.timedelta(seconds=30))
    ProbeRun.objects.filter(pk=probe_run.pk).update(attempts=2)
    assert reap_stale_runs() == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert run.status == "failed" and "worker lost" in run.error and run.finished_at is not None
    assert reap_stale_runs() == {"requeued": 0, "failed": 0}  # idempotent


def test_it_requeues_its_run_and_exits_cleanly_on_sigterm(celery_worker_factory, broker_mode, local_sources_env):
    worker, probe_run = _worker_scoring_a_benchmark(celery_worker_factory, local_sources_env)
    # SIGTERM to the worker's process group, as systemd or `docker stop` would send. The probe
    # stops at its next step (one scoring batch: seconds on a quiet runner, longer on a busy one).
    os.killpg(worker.proc.pid, signal.SIGTERM)
    assert worker.proc.wait(timeout=240) == 0, worker.logs()[-3000:]
    assert "probe interrupted" in worker.logs()
    run = Run.objects.get(pk=probe_run.run_id)
    assert run.status == "queued" and run.current_step == "requeued: worker shut down", run.current_step
    assert queued_messages(broker_mode) == 1  # ready for the next worker; nothing was lost
