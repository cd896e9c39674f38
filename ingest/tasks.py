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


def queue_bootstrap(data_dir: str | Path) -> Run:
    """A bootstrap on a worker: every dataset in dependency order, each its own import run."""
    run = Run.objects.create(kind=Run.Kind.BOOTSTRAP, name="bootstrap", params={"data_dir": str(data_dir)})
    transaction.on_commit(lambda: bootstrap_datasets.delay(run.pk))
    return run


@shared_task(acks_late=True, ignore_result=True)
def bootstrap_datasets(run_id: int) -> None:
    """Run every importer in order; datasets missing from the directory are skipped and noted.
    Idempotent like the importers themselves: a redelivered message finds the run claimed."""
    from ingest.datasets import DATASETS, ImporterUnavailable, run_import
    from ingest.importing import DataDirMissing

    run = claim(run_id)
    if run is None:
        log.info("bootstrap run=%s already claimed or gone", run_id)
        return
    data_dir = Path(run.params["data_dir"])
    counts: dict[str, dict | str] = {}
    try:
        if not data_dir.is_dir():
            raise DataDirMissing(f"No data directory: {data_dir} is not a directory")
        for dataset in DATASETS:
            run.current_step = dataset.name
            run.save(update_fields=["current_step"])
            try:
                counts[dataset.name] = run_import(dataset.name, path=dataset.locate(data_dir))
            except (DataDirMissing, ImporterUnavailable) as exc:
                counts[dataset.name] = f"skipped: {exc}"
    except Exception as exc:  # recorded on the run row; each import keeps its own failed run too
        log.warning("bootstrap failed run=%s error=%s", run_id, exc)
        run.counts = counts
        run.save(update_fields=["counts"])
        fail_run(run, str(exc))
        return
    finish_run(run, counts)


# --- crawl tasks (ingest/hub/) are below ---
import random  # noqa: E402

from celery.signals import worker_ready  # noqa: E402
from django.conf import settings  # noqa: E402

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
