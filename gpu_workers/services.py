"""Creating, enqueueing and cancelling probe runs: what the labs app, the admin and the CLI call."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Run
from probes.result import config_hash, full_config


def create_probe_run(hub_id: str, probe: str, *, revision: str = "", config: dict | None = None, public: bool = True,
                     budget_seconds: int | None = None) -> ProbeRun:
    """A queued catalog Run (kind=probe) and its ProbeRun; the stored config is the full merged one.

    Raises ValueError for an unknown probe or config key, so a bad request never reaches a worker.
    """
    full = full_config(probe, config)
    budget = min(int(budget_seconds or settings.PROBE_MAX_SECONDS), int(settings.PROBE_MAX_SECONDS))
    with transaction.atomic():
        run = Run.objects.create(kind=Run.Kind.PROBE, name=f"probe:{probe}:{hub_id}"[:200], status=Run.Status.QUEUED,
                                 params={"hub_id": hub_id, "probe": probe, "revision": revision})
        return ProbeRun.objects.create(
            run=run, hub_id=hub_id, revision=revision, probe=probe, config=full, config_hash=config_hash(probe, full),
            budget_seconds=budget, public=public, model=HubModel.objects.filter(hub_id=hub_id).first(),
        )


def send(probe_run_id: int, budget_seconds: int) -> None:
    from gpu_workers.tasks import run_probe

    # When it was sent: a run still queued long after, with no message in the broker, lost it
    # (gpu_workers.lost_messages).
    ProbeRun.objects.filter(pk=probe_run_id).update(sent_at=timezone.now())
    # Soft limit at the budget so the task can free the device and record the failure; hard at 1.2×.
    run_probe.apply_async(args=[probe_run_id], soft_time_limit=budget_seconds,
                          time_limit=int(budget_seconds * 1.2) + 1)


def enqueue(probe_run: ProbeRun) -> None:
    """Send the task once the rows are committed (a worker must be able to read them)."""
    pk, budget = probe_run.pk, probe_run.budget_seconds
    transaction.on_commit(lambda: send(pk, budget))


def cancel(probe_run: ProbeRun) -> bool:
    """Queued or running → cancelled. A running worker sees it at its next progress report and stops."""
    updated = Run.objects.filter(pk=probe_run.run_id, status__in=(Run.Status.QUEUED, Run.Status.RUNNING)).update(
        status=Run.Status.CANCELLED, finished_at=timezone.now(), current_step="cancelled")
    return updated == 1
