"""Run records: every import, crawl and probe leaves one row the pages and the admin can show."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import threading
import time
import traceback
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.dispatch import Signal

from observatory.catalog.models import Run

DATA_VERSION_KEY = "observatory:data-version"  # the version pages read (published)
# The newest bumped version and when it was bumped ("version:unix seconds"), not yet read by
# pages while the cache is warmed for it (dashboards.warming).
PENDING_VERSION_KEY = "observatory:data-version-pending"
# Like every key, the version carries a TTL (a cache under allkeys-lru or volatile-lru stays
# bounded). Longer than any entry keyed by it lives (a day), so when it lapses and is read
# back from the runs table, no entry written under an older number is still there.
DATA_VERSION_SECONDS = 7 * 24 * 3600
log = logging.getLogger(__name__)
# Sent by bump_data_version before the version moves. The catalog imports nothing above it, so
# the layers that derive tables from the data connect here (observatory.dashboards.apps).
data_changed = Signal()
# Sent by bump_data_version with the new `version` once the data is in. A receiver answering True
# takes on publishing it (publish_data_version) when it has warmed the cache; with none, or with
# every receiver answering otherwise, it is published at once.
version_pending = Signal()
# Inside reading_version(): the version this thread reads and writes cache entries under.
_reading: contextvars.ContextVar[int | None] = contextvars.ContextVar("reading_version", default=None)


def finish_run(run: Run, counts: dict | None = None) -> None:
    """running → succeeded (Run.objects.finish), then announce the data it brought in."""
    if Run.objects.finish(run.pk, counts=counts):
        run.status, run.progress = Run.Status.SUCCEEDED, 1.0
        if counts is not None:
            run.counts = counts
    # Its data is committed whether or not a reaper moved the row meanwhile: caches move on either way.
    bump_data_version()


class Heartbeat(threading.Thread):
    """Writes heartbeat_at (and the latest progress report) on a running run every few seconds.

    A thread with its own database connection, because the import it watches runs inside one
    long transaction: a heartbeat written there would be invisible to the reaper until the
    commit, and rolled back with the data if the worker died. The reaper (ingest.tasks) takes a
    run whose heartbeat is older than IMPORT_HEARTBEAT_STALE_SECONDS for one whose worker died.
    """

    def __init__(self, run_id: int, interval: float | None = None):
        super().__init__(daemon=True, name=f"run-heartbeat-{run_id}")
        stale = float(settings.IMPORT_HEARTBEAT_STALE_SECONDS)
        self.run_id = run_id
        self.interval = interval if interval is not None else max(1.0, min(30.0, stale / 4))
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.reported: dict | None = None  # the newest progress report, written with the next beat

    def report(self, step: str, fraction: float | None = None) -> None:
        with self.lock:
            self.reported = {"current_step": step[:200], **({"progress": fraction} if fraction is not None else {})}

    def beat(self) -> None:
        with self.lock:
            fields, self.reported = dict(self.reported or {}), None
        Run.objects.heartbeat(self.run_id, **fields)

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    self.beat()
                except Exception as exc:  # a database hiccup must not end the import it watches
                    log.warning("heartbeat of run=%s not written: %s", self.run_id, exc)
        finally:
            connection.close()  # this thread's own connection

    def stop(self) -> None:
        self.stopped.set()
        if self.is_alive():
            self.join(timeout=10)


_current_heartbeat: contextvars.ContextVar[Heartbeat | None] = contextvars.ContextVar("run_heartbeat", default=None)


@contextlib.contextmanager
def heartbeating(run: Run) -> Iterator[Heartbeat | None]:
    """Heartbeat `run` while the block runs; report_progress() inside it lands on this run's row.

    Not on SQLite (the embedded default): it allows one writer, so a second connection's
    heartbeat would wait on the import's transaction, and that mode has no beat process to reap.
    """
    if connection.vendor == "sqlite":
        yield None
        return
    heartbeat = Heartbeat(run.pk)
    token = _current_heartbeat.set(heartbeat)
    heartbeat.start()
    try:
        yield heartbeat
    finally:
        _current_heartbeat.reset(token)
        heartbeat.stop()


def report_progress(step: str, fraction: float | None = None) -> None:
    """What an importer calls per batch: shown on the innermost heartbeating run at its next beat."""
    heartbeat = _current_heartbeat.get()
    if heartbeat is not None:
        heartbeat.report(step, fraction)


@contextlib.contextmanager
def recorded_run(kind: str, name: str, params: dict | None = None) -> Iterator[Run]:
    """Open a run row, yield it, and close it as succeeded or failed (re-raising the error).

    The run row is written outside the caller's data transaction, so a failed import still
    leaves its failure visible while its data changes roll back. It heartbeats meanwhile, so a
    killed process leaves a stale run the reaper fails instead of one `running` forever.
    """
    run = Run.objects.start(kind=kind, name=name, params=params or {})
    try:
        with heartbeating(run):
            yield run
    except BaseException as exc:
        message = str(exc) or exc.__class__.__name__
        if not isinstance(exc, (ValueError, KeyboardInterrupt)):
            message = f"{message}\n\n{traceback.format_exc(limit=8)}"
        Run.objects.fail(run.pk, message)
        raise
    else:
        finish_run(run, run.counts)


def _pending(raw=None) -> tuple[int, float] | None:
    raw = cache.get(PENDING_VERSION_KEY) if raw is None else raw
    if not raw:
        return None
    version, since = str(raw).split(":", 1)
    return int(version), float(since)


def data_version() -> int:
    """A number that changes whenever imported or crawled data changes; cache keys include it.

    The published version: a bumped one is read once it is published (after the cache is warmed
    for it), or once it has waited DATA_VERSION_PUBLISH_DEADLINE_SECONDS, so a warm that never
    runs (no worker on its queue) delays new data by that much and no more."""
    override = _reading.get()
    if override is not None:
        return override
    stored = cache.get_many([DATA_VERSION_KEY, PENDING_VERSION_KEY])
    version = stored.get(DATA_VERSION_KEY)
    if stored.get(PENDING_VERSION_KEY):
        pending, since = _pending(stored[PENDING_VERSION_KEY])
        if pending > int(version or 0) and time.time() - since >= settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS:
            log.warning("data version %s published unwarmed: its warm did not finish in %ss", pending,
                        settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS)
            publish_data_version(pending)
            return pending
    if version is None:
        latest = (
            Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-finished_at").values_list("pk", flat=True).first()
        )
        # add, not set: the cache degrades, so a miss may be a read that timed out, and the run's
        # id can be below the published version (bumps without a run of their own): written over
        # it, pages would go back to an older version's entries.
        if not cache.add(DATA_VERSION_KEY, latest or 0, DATA_VERSION_SECONDS):
            version = cache.get(DATA_VERSION_KEY)  # there after all (None: unreadable, this call only)
        if version is None:
            version = latest or 0
    return int(version)


@contextlib.contextmanager
def reading_version(version: int) -> Iterator[None]:
    """Read and write cache entries under `version` in this block (what a warm fills before
    publishing it), whatever version the pages read meanwhile."""
    token = _reading.set(int(version))
    try:
        yield
    finally:
        _reading.reset(token)


def pending_data_version() -> int | None:
    """The newest bumped version when it is not published yet, else None."""
    pending = _pending()
    published = cache.get(DATA_VERSION_KEY)
    if pending is None or pending[0] <= int(published or 0):
        return None
    return pending[0]


def publish_data_version(version: int) -> bool:
    """Make `version` the one pages read, unless a newer one is read already (a slower warm of an
    older version finishing last must not take pages back). True when it moved."""
    # Read-then-write, not atomic: two warms finishing within the same instant may publish out of
    # order, and the next bump's publication puts it right.
    current = cache.get(DATA_VERSION_KEY)
    if current is None:
        # Unset, or a read that timed out (the cache degrades): add never writes over a version there.
        if cache.add(DATA_VERSION_KEY, int(version), DATA_VERSION_SECONDS):
            return True
        current = cache.get(DATA_VERSION_KEY)
    if current is None or int(current) >= version:
        return False
    cache.set(DATA_VERSION_KEY, int(version), DATA_VERSION_SECONDS)
    return True


def bump_data_version() -> int:
    """Imports, crawls and probes call this when their data is in: `data_changed` first, so what
    is derived from the data is rebuilt (the dashboards app connects the analytics rollups), then
    the new version is pending: `version_pending`'s receiver warms the cache for it and publishes
    it (with DATA_VERSION_WARM), else it is published at once. A receiver's error propagates: the
    old keys stay until it is fixed."""
    data_changed.send(sender=Run)
    # The published version first (read back from the runs table when its key lapsed), so the new
    # one is above it even when the newest run's id is what it was read back as.
    published = data_version()
    latest = Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-finished_at").values_list("pk", flat=True).first()
    pending = _pending()
    unpublished = pending is not None and pending[0] > published
    current = max(published, pending[0] if pending else 0)
    version = max(latest or 0, current + 1)
    # The deadline counts from the oldest bump not yet read: bumps more frequent than it (probe
    # results, say, with no worker warming) must not put new data off for ever.
    since = pending[1] if unpublished else time.time()
    cache.set(PENDING_VERSION_KEY, f"{version}:{since}", DATA_VERSION_SECONDS)
    answers = version_pending.send(sender=Run, version=version) if settings.DATA_VERSION_WARM else []
    if not any(answer is True for _receiver, answer in answers):
        publish_data_version(version)
    return version
