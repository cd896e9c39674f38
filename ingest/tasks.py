"""Celery tasks of the file imports: an import, a bootstrap (every dataset), and their reaper.

Tasks take ids, re-read their row, and claim it (Run.objects.claim), so a redelivered message
does nothing the second time. The crawl's tasks are in ingest/hub/tasks.py.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from observatory.catalog.models import Run
from observatory.catalog.runs import finish_run, heartbeating

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 2  # an import or bootstrap whose worker died is re-sent once, then failed


def queue_import(dataset: str, data_dir: str | Path) -> Run:
    """Create the run row and send the task once the row is committed."""
    return Run.objects.queue(kind=Run.Kind.IMPORT, name=f"import:{dataset}",
                             params={"dataset": dataset, "data_dir": str(data_dir)},
                             send=lambda run: import_dataset.delay(run.pk))


@shared_task(bind=True, acks_late=True, ignore_result=True)
def import_dataset(self, run_id: int) -> None:
    from ingest.datasets import run_import

    run = Run.objects.claim(run_id, task_id=self.request.id or "")
    if run is None:
        log.info("import run=%s already claimed or gone", run_id)
        return
    try:
        with heartbeating(run):
            counts = run_import(run.params["dataset"], Path(run.params["data_dir"]), run=run)
    except Exception as exc:  # recorded on the run row; a malformed file is not worth a retry
        log.warning("import failed run=%s error=%s", run_id, exc)
        Run.objects.fail(run.pk, str(exc))
        return
    finish_run(run, counts)


def queue_bootstrap(data_dir: str | Path) -> Run:
    """A bootstrap on a worker: every dataset in dependency order, each its own import run."""
    return Run.objects.queue(kind=Run.Kind.BOOTSTRAP, name="bootstrap", params={"data_dir": str(data_dir)},
                             send=lambda run: bootstrap_datasets.delay(run.pk))


@shared_task(bind=True, acks_late=True, ignore_result=True)
def bootstrap_datasets(self, run_id: int) -> None:
    """Run every importer in order; datasets missing from the directory are skipped and noted.

    Idempotent like the importers themselves: a redelivered message finds the run claimed. Each
    finished dataset is checkpointed on the run (cursor["done"], its counts in counts), so a
    bootstrap re-sent after its worker died continues with the datasets not yet loaded.
    """
    from ingest.datasets import DATASETS, run_import
    from ingest.importing import DataDirMissing

    run = Run.objects.claim(run_id, task_id=self.request.id or "")
    if run is None:
        log.info("bootstrap run=%s already claimed or gone", run_id)
        return
    data_dir = Path(run.params["data_dir"])
    done: list[str] = list(run.cursor.get("done", []))
    counts: dict[str, dict | str] = {name: value for name, value in run.counts.items() if name in done}
    if done:
        log.info("bootstrap run=%s continues after %s", run_id, ", ".join(done))
    try:
        with heartbeating(run):
            if not data_dir.is_dir():
                raise DataDirMissing(f"No data directory: {data_dir} is not a directory")
            for number, dataset in enumerate(DATASETS):
                if dataset.name in done:
                    continue
                Run.objects.progress(run.pk, dataset.name, number / len(DATASETS))
                try:
                    counts[dataset.name] = run_import(dataset.name, path=dataset.locate(data_dir),
                                                      parent_run_id=run.pk)
                except DataDirMissing as exc:
                    counts[dataset.name] = f"skipped: {exc}"
                done.append(dataset.name)
                run.counts, run.cursor = counts, {**run.cursor, "done": done}
                run.save(update_fields=["counts", "cursor"])
    except Exception as exc:  # recorded on the run row; each import keeps its own failed run too
        log.warning("bootstrap failed run=%s error=%s", run_id, exc)
        run.counts = counts
        run.save(update_fields=["counts"])
        Run.objects.fail(run.pk, str(exc))
        return
    finish_run(run, counts)


RESEND = {Run.Kind.IMPORT: "import_dataset", Run.Kind.BOOTSTRAP: "bootstrap_datasets"}


@shared_task(ignore_result=True)
def reap_stale_import_runs() -> dict:
    """Import and bootstrap runs whose heartbeat went stale (their worker or process died).

    A run taken from the broker (it has a task id) is re-sent once, then failed; a bootstrap
    re-sent continues with the datasets it had not finished. A run recorded inside a process
    (an import of a bootstrap, or one from the command line) has no message to re-send: it is
    failed, its data having rolled back; its bootstrap, if re-sent, imports it again. Crawls are
    resumed from their cursor by crawl_resume_stalled, probes reaped by gpu_workers.tasks.
    """
    stale_seconds = settings.IMPORT_HEARTBEAT_STALE_SECONDS
    cutoff = timezone.now() - timezone.timedelta(seconds=stale_seconds)
    counts = {"requeued": 0, "failed": 0}
    stale = Run.objects.filter(kind__in=list(RESEND), status=Run.Status.RUNNING, heartbeat_at__lt=cutoff)
    for run in stale.order_by("pk"):
        since = f"no heartbeat since {run.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC"
        attempts = int(run.cursor.get("attempts", 0))
        with transaction.atomic():
            if run.task_id and attempts < MAX_ATTEMPTS:
                task = globals()[RESEND[run.kind]]
                if Run.objects.requeue(run.pk, f"worker lost ({since})", stale_before=cutoff,
                                       send=lambda task=task, pk=run.pk: task.delay(pk)):
                    counts["requeued"] += 1
                continue
            if run.task_id:
                why = f"worker lost: {since} after {attempts} attempts; not re-sent again"
            elif run.params.get("bootstrap"):
                why = f"worker lost: {since}; its data rolled back, bootstrap run {run.params['bootstrap']} " \
                      "imports it again if it is re-sent"
            else:
                why = f"process lost: {since}; its data rolled back"
            if Run.objects.fail(run.pk, why, step="worker lost", stale_before=cutoff):
                counts["failed"] += 1
    if any(counts.values()):
        log.warning("reaped stale import runs %s", counts)
    return counts
