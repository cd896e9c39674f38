"""Run records: every import, crawl and probe leaves one row the pages and the admin can show."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

from django.core.cache import cache
from django.utils import timezone

from observatory.catalog.models import Run

DATA_VERSION_KEY = "observatory:data-version"


def start_run(kind: str, name: str, params: dict | None = None, *, task_id: str = "") -> Run:
    now = timezone.now()
    return Run.objects.create(
        kind=kind,
        name=name,
        params=params or {},
        status=Run.Status.RUNNING,
        started_at=now,
        heartbeat_at=now,
        task_id=task_id,
    )


def finish_run(run: Run, counts: dict | None = None) -> None:
    run.status = Run.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.progress = 1.0
    if counts is not None:
        run.counts = counts
    run.save(update_fields=["status", "finished_at", "progress", "counts"])
    if run.kind in (Run.Kind.IMPORT, Run.Kind.CRAWL, Run.Kind.BOOTSTRAP, Run.Kind.PROBE):
        bump_data_version()


def fail_run(run: Run, error: str) -> None:
    run.status = Run.Status.FAILED
    run.finished_at = timezone.now()
    run.error = error[:20_000]
    run.save(update_fields=["status", "finished_at", "error"])


@contextlib.contextmanager
def recorded_run(kind: str, name: str, params: dict | None = None) -> Iterator[Run]:
    """Open a run row, yield it, and close it as succeeded or failed (re-raising the error).

    The run row is written outside the caller's data transaction, so a failed import still
    leaves its failure visible while its data changes roll back.
    """
    run = start_run(kind, name, params)
    try:
        yield run
    except BaseException as exc:
        message = str(exc) or exc.__class__.__name__
        if not isinstance(exc, (ValueError, KeyboardInterrupt)):
            message = f"{message}\n\n{traceback.format_exc(limit=8)}"
        fail_run(run, message)
        raise
    else:
        finish_run(run, run.counts)


def data_version() -> int:
    """A number that changes whenever imported or crawled data changes; cache keys include it."""
    version = cache.get(DATA_VERSION_KEY)
    if version is None:
        latest = (
            Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-finished_at").values_list("pk", flat=True).first()
        )
        version = latest or 0
        cache.set(DATA_VERSION_KEY, version, None)
    return int(version)


def bump_data_version() -> int:
    """Imports, crawls and probes call this when their data is in: rebuild what is derived from
    it (the analytics rollups, when their sources changed), then move the cache keys on."""
    from observatory.analytics import rollups  # analytics imports catalog, not the other way round

    rollups.refresh()
    latest = Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-finished_at").values_list("pk", flat=True).first()
    version = (latest or 0) + 0
    current = cache.get(DATA_VERSION_KEY) or 0
    version = max(version, int(current) + 1)
    cache.set(DATA_VERSION_KEY, version, None)
    return version
