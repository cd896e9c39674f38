"""Rate limits and quotas, counted in the `limits` cache (Redis in any real deployment).

Fixed one-minute windows: the first request in a window creates the counter with a TTL, the
rest increment it atomically (Redis INCR), so concurrent web processes share one count. The
labs' caps and the dashboards' per-client limits on uncached work both count here.

With Redis unreachable a count is impossible: `hit` raises Unavailable (the submission API
answers 503), or with `degrade=True` counts in this process's memory instead, so read-only
pages stay up and still bounded while the cache is down.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db.models import Q
from django.utils import timezone
from redis.exceptions import RedisError

from observatory.catalog.models import Run


class LimitExceeded(Exception):
    def __init__(self, message: str, retry_after: int):
        self.retry_after = retry_after
        super().__init__(message)


class Unavailable(Exception):
    """The counters' store is unreachable; try again after `retry_after` seconds."""

    retry_after = 30


# Counts of this process alone, used only while the shared store is down (degrade=True).
_local = LocMemCache("observatory-local-limits", {"TIMEOUT": 120, "OPTIONS": {"MAX_ENTRIES": 10_000}})


def _count(store, key: str, window: int) -> int:
    if store.add(key, 1, window + 5):
        return 1
    try:
        return store.incr(key)
    except ValueError:  # expired between add and incr
        store.add(key, 1, window + 5)
        return 1


def hit(bucket: str, limit: int, window: int = 60, *, degrade: bool = False) -> None:
    """Count one request in `bucket`; raise LimitExceeded past `limit` per `window` seconds."""
    now = int(time.time())
    start = now - now % window
    key = f"labs:rate:{bucket}:{start}"
    try:
        count = _count(caches["limits"], key, window)
    except RedisError as exc:
        if not degrade:
            raise Unavailable(f"the rate-limit store is unreachable: {exc.__class__.__name__}") from exc
        count = _count(_local, key, window)
    if count > limit:
        raise LimitExceeded(f"rate limit: at most {limit} per {window}s here; try again shortly",
                            retry_after=start + window - now)


def check_submission_allowed(lab) -> None:
    """Rate limit then quota for one new submission by `lab`; raise LimitExceeded if over.

    The quota here is only an early refusal that saves the Hub call of pinning; the binding
    check is check_daily_quota, made again under the lab's row lock.
    """
    hit(f"submit:lab:{lab.pk}", settings.LABS_SUBMISSIONS_PER_MINUTE)
    check_daily_quota(lab)


def check_daily_quota(lab) -> None:
    """At most LABS_SUBMISSIONS_PER_DAY submissions by `lab` in the last 24 h.

    Binding only when called with the lab row locked (submitting.submit holds select_for_update
    on it): concurrent submissions then count each other's committed rows instead of all seeing
    the same count and all passing.
    """
    from observatory.labs.models import Submission

    since = timezone.now() - timezone.timedelta(days=1)
    today = Submission.objects.filter(lab=lab, created_at__gte=since).count()
    if today >= settings.LABS_SUBMISSIONS_PER_DAY:
        raise LimitExceeded(f"quota: at most {settings.LABS_SUBMISSIONS_PER_DAY} submissions per lab per day",
                            retry_after=3600)


def check_active_runs(lab, adding: int) -> None:
    from gpu_workers.models import ProbeRun

    active = (
        ProbeRun.objects.filter(submissions__lab=lab)
        .filter(Q(run__status=Run.Status.QUEUED) | Q(run__status=Run.Status.RUNNING))
        .distinct()
        .count()
    )
    if active + adding > settings.LABS_MAX_ACTIVE_RUNS:
        raise LimitExceeded(
            f"quota: a lab may have at most {settings.LABS_MAX_ACTIVE_RUNS} queued or running probe runs "
            f"({active} now, this submission adds {adding}); wait for some to finish",
            retry_after=60,
        )
