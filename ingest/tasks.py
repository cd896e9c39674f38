"""Celery tasks of the ingest side. Tasks take ids, re-read their row, and claim it atomically,
so a redelivered message does nothing the second time."""

from __future__ import annotations

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from observatory.catalog.models import Run
from observatory.catalog.runs import fail_run, finish_run, heartbeating

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 2  # an import or bootstrap whose worker died is re-sent once, then failed


def claim(run_id: int, *, from_statuses=(Run.Status.QUEUED,), task_id: str = "") -> Run | None:
    """queued → running, exactly once. None if the run is gone or another worker has it.

    Counts the attempt in the run's cursor, which the reaper reads to re-send a killed run once.
    """
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id, status__in=from_statuses).first()
        if run is None:
            return None
        run.cursor = {**run.cursor, "attempts": int(run.cursor.get("attempts", 0)) + 1}
        run.status, run.started_at, run.heartbeat_at, run.error = Run.Status.RUNNING, now, now, ""
        run.task_id = task_id[:64]
        run.save(update_fields=["status", "started_at", "heartbeat_at", "error", "cursor", "task_id"])
    return run


def queue_import(dataset: str, data_dir: str | Path) -> Run:
    """Create the run row and send the task once the row is committed."""
    run = Run.objects.create(kind=Run.Kind.IMPORT, name=f"import:{dataset}",
                             params={"dataset": dataset, "data_dir": str(data_dir)})
    transaction.on_commit(lambda: import_dataset.delay(run.pk))
    return run


@shared_task(bind=True, acks_late=True, ignore_result=True)
def import_dataset(self, run_id: int) -> None:
    from ingest.datasets import run_import

    run = claim(run_id, task_id=self.request.id or "")
    if run is None:
        log.info("import run=%s already claimed or gone", run_id)
        return
    try:
        with heartbeating(run):
            counts = run_import(run.params["dataset"], Path(run.params["data_dir"]), run=run)
    except Exception as exc:  # recorded on the run row; a malformed file is not worth a retry
        log.warning("import failed run=%s error=%s", run_id, exc)
        fail_run(run, str(exc))
        return
    finish_run(run, counts)


def queue_bootstrap(data_dir: str | Path) -> Run:
    """A bootstrap on a worker: every dataset in dependency order, each its own import run."""
    run = Run.objects.create(kind=Run.Kind.BOOTSTRAP, name="bootstrap", params={"data_dir": str(data_dir)})
    transaction.on_commit(lambda: bootstrap_datasets.delay(run.pk))
    return run


@shared_task(bind=True, acks_late=True, ignore_result=True)
def bootstrap_datasets(self, run_id: int) -> None:
    """Run every importer in order; datasets missing from the directory are skipped and noted.

    Idempotent like the importers themselves: a redelivered message finds the run claimed. Each
    finished dataset is checkpointed on the run (cursor["done"], its counts in counts), so a
    bootstrap re-sent after its worker died continues with the datasets not yet loaded.
    """
    from ingest.datasets import DATASETS, run_import
    from ingest.importing import DataDirMissing

    run = claim(run_id, task_id=self.request.id or "")
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
                Run.objects.filter(pk=run.pk).update(current_step=dataset.name, progress=number / len(DATASETS))
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
        fail_run(run, str(exc))
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
                if Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).update(
                        status=Run.Status.QUEUED, current_step=f"requeued: worker lost ({since})"[:200]) == 1:
                    task = globals()[RESEND[run.kind]]
                    transaction.on_commit(lambda task=task, pk=run.pk: task.delay(pk))
                    counts["requeued"] += 1
                continue
            if run.task_id:
                why = f"worker lost: {since} after {attempts} attempts; not re-sent again"
            elif run.params.get("bootstrap"):
                why = f"worker lost: {since}; its data rolled back, bootstrap run {run.params['bootstrap']} " \
                      "imports it again if it is re-sent"
            else:
                why = f"process lost: {since}; its data rolled back"
            if Run.objects.filter(pk=run.pk, status=Run.Status.RUNNING, heartbeat_at__lt=cutoff).update(
                    status=Run.Status.FAILED, finished_at=timezone.now(), current_step="worker lost",
                    error=why) == 1:
                counts["failed"] += 1
    if any(counts.values()):
        log.warning("reaped stale import runs %s", counts)
    return counts


# --- crawl tasks (ingest/hub/) are below ---
import random  # noqa: E402

from celery.signals import worker_ready  # noqa: E402

from ingest.hub.client import HubPermanentError, HubRateLimited, HubTransientError  # noqa: E402


def _backoff(retries: int) -> float:
    """Exponential backoff with full jitter, so a fleet of workers does not retry in step."""
    base = settings.CRAWL_RETRY_BASE_SECONDS * (2 ** retries)
    return min(300.0, base) * (0.5 + random.random() / 2)


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def crawl_page(self, run_id: int, step: int) -> None:
    from ingest.hub.crawl import process_page

    try:
        next_step = process_page(run_id, step)
    except HubTransientError as exc:
        if self.request.retries >= settings.CRAWL_MAX_RETRIES:
            _fail_crawl(run_id, f"gave up after {self.request.retries} retries: {exc}")
            return
        countdown = exc.retry_after if isinstance(exc, HubRateLimited) else _backoff(self.request.retries)
        log.info("crawl page retry run=%s step=%s in=%.1fs error=%s", run_id, step, countdown, exc)
        raise self.retry(exc=exc, countdown=countdown) from None
    except HubPermanentError as exc:
        _fail_crawl(run_id, str(exc))
        return
    if next_step is not None:
        crawl_page.delay(run_id, next_step)


def _fail_crawl(run_id: int, error: str) -> None:
    run = Run.objects.filter(pk=run_id).first()
    if run is not None and run.status in (Run.Status.QUEUED, Run.Status.RUNNING):
        fail_run(run, error)


@shared_task(ignore_result=True)
def crawl_start_scheduled() -> int:
    """Beat's daily crawl with the default plan."""
    from ingest.hub.crawl import default_plan, start_crawl

    with transaction.atomic():
        return start_crawl(default_plan(), name="daily crawl").pk


@shared_task(ignore_result=True)
def crawl_resume_stalled() -> list[int]:
    from ingest.hub.crawl import resume_stalled

    return resume_stalled()


@worker_ready.connect
def _resume_crawls_on_start(sender=None, **kwargs) -> None:
    """A worker that starts (say, after a crash) picks up crawls nobody is advancing."""
    try:
        crawl_resume_stalled.delay()
    except Exception as exc:  # the broker may be down: the beat entry will do it later
        log.warning("could not schedule crawl resume at start: %s", exc)
