"""Celery tasks of the Hub crawl: one page a task, retried with backoff, resumed after a crash.

Their names stay `ingest.tasks.crawl_*` (where they used to live): the beat schedule, the
`crawl` queue's route (settings.CELERY_TASK_ROUTES) and messages already queued name them so.
ingest.apps registers this module in every process, and crawl.py sends pages by that name, so
crawl.py needs no import of this module (which imports it).
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings
from django.db import transaction

from ingest.hub.client import HubPermanentError, HubRateLimited, HubTransientError
from ingest.hub.crawl import PAGE_TASK, default_plan, process_page, resume_stalled, start_crawl
from observatory.catalog.models import Run

log = logging.getLogger(__name__)


def _backoff(retries: int) -> float:
    """Exponential backoff with full jitter, so a fleet of workers does not retry in step."""
    base = settings.CRAWL_RETRY_BASE_SECONDS * (2 ** retries)
    return min(300.0, base) * (0.5 + random.random() / 2)


@shared_task(name=PAGE_TASK, bind=True, acks_late=True, ignore_result=True, max_retries=None)
def crawl_page(self, run_id: int, step: int) -> None:
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
    Run.objects.fail(run_id, error, from_statuses=(Run.Status.QUEUED, Run.Status.RUNNING))


@shared_task(name="ingest.tasks.crawl_start_scheduled", ignore_result=True)
def crawl_start_scheduled() -> int:
    """Beat's daily crawl with the default plan."""
    with transaction.atomic():
        return start_crawl(default_plan(), name="daily crawl").pk


@shared_task(name="ingest.tasks.crawl_resume_stalled", ignore_result=True)
def crawl_resume_stalled() -> list[int]:
    return resume_stalled()


@worker_ready.connect
def _resume_crawls_on_start(sender=None, **kwargs) -> None:
    """A worker that starts (say, after a crash) picks up crawls nobody is advancing."""
    try:
        crawl_resume_stalled.delay()
    except Exception as exc:  # the broker may be down: the beat entry will do it later
        log.warning("could not schedule crawl resume at start: %s", exc)
