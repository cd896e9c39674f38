"""Celery tasks of the ingest side. Tasks take ids, re-read their row, and claim it atomically,
so a redelivered message does nothing the second time."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from observatory.catalog.models import Run
from observatory.catalog.runs import fail_run, finish_run

log = logging.getLogger(__name__)


def claim(run_id: int, *, from_statuses=(Run.Status.QUEUED,)) -> Run | None:
    """queued → running, exactly once. None if the run is gone or another worker has it."""
    now = timezone.now()
    updated = Run.objects.filter(pk=run_id, status__in=from_statuses).update(
        status=Run.Status.RUNNING, started_at=now, heartbeat_at=now)
    if updated != 1:
        return None
    return Run.objects.get(pk=run_id)


def queue_import(dataset: str, data_dir: str | Path) -> Run:
    """Create the run row and send the task once the row is committed."""
    run = Run.objects.create(kind=Run.Kind.IMPORT, name=f"import:{dataset}",
                             params={"dataset": dataset, "data_dir": str(data_dir)})
    transaction.on_commit(lambda: import_dataset.delay(run.pk))
    return run


@shared_task(acks_late=True, ignore_result=True)
def import_dataset(run_id: int) -> None:
    from ingest.datasets import run_import

    run = claim(run_id)
    if run is None:
        log.info("import run=%s already claimed or gone", run_id)
        return
    try:
        counts = run_import(run.params["dataset"], Path(run.params["data_dir"]), run=run)
    except Exception as exc:  # recorded on the run row; a malformed file is not worth a retry
        log.warning("import failed run=%s error=%s", run_id, exc)
        fail_run(run, str(exc))
        return
    finish_run(run, counts)


# --- crawl tasks (ingest/hub/) are below ---
