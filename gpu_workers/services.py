"""Creating, enqueueing and cancelling probe runs: what the labs app, the admin and the CLI call."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from gpu_workers.models import ProbeRun
from gpu_workers.tasks import sender
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
        # Sent later, by enqueue: the caller may add to the run (a lab's access token) first.
        run = Run.objects.queue(kind=Run.Kind.PROBE, name=f"probe:{probe}:{hub_id}"[:200],
                                params={"hub_id": hub_id, "probe": probe, "revision": revision})
        return ProbeRun.objects.create(
            run=run, hub_id=hub_id, revision=revision, probe=probe, config=full, config_hash=config_hash(probe, full),
            budget_seconds=budget, public=public, model=HubModel.objects.filter(hub_id=hub_id).first(),
        )


def enqueue(probe_run: ProbeRun) -> None:
    """Send the task once the rows are committed (a worker must be able to read them)."""
    transaction.on_commit(sender(probe_run))


def cancel(probe_run: ProbeRun) -> bool:
    """Queued or running → cancelled. A running worker sees it at its next progress report and stops."""
    return Run.objects.cancel(probe_run.run_id)
