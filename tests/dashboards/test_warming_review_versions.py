"""The review of warm-before-switching (issue 17): the data version pages read while Redis stalls.

The cache degrades (caching.py: IGNORE_EXCEPTIONS), so a read that times out is a miss. The
version a miss reads back from the runs table (the newest finished run's id) can be older than
the one published: bumps without a run of their own (a lab publishing its results), or a long
crawl finishing after newer runs, put the version above it. A miss must then never be written
over the version that is there: pages would go back to an older version, whose entries (a day
long) may still be cached, and serve its data until the next bump.

A real stall of the test's own Redis server (CLIENT PAUSE, longer than the socket timeout).
"""

import time

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_redis import get_redis_connection

from observatory.caching import SOCKET_TIMEOUT
from observatory.catalog.models import Run
from observatory.catalog.runs import DATA_VERSION_KEY, DATA_VERSION_SECONDS, data_version, publish_data_version

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

STALL_MS = int((SOCKET_TIMEOUT + 0.6) * 1000)


@pytest.fixture
def published_above_the_newest_run():
    run = Run.objects.create(kind=Run.Kind.IMPORT, name="import:review", status=Run.Status.SUCCEEDED,
                             finished_at=timezone.now())
    published = run.pk + 5  # five bumps since without a run of their own
    cache.set(DATA_VERSION_KEY, published, DATA_VERSION_SECONDS)
    assert data_version() == published
    return published


def _during_a_stall(work):
    """`work()` while Redis answers nothing for longer than the socket timeout; its value."""
    get_redis_connection("default").execute_command("CLIENT", "PAUSE", STALL_MS, "ALL")
    started = time.monotonic()
    value = work()
    assert time.monotonic() - started >= SOCKET_TIMEOUT  # it did wait for the stalled read
    time.sleep(max(0.0, STALL_MS / 1000 - (time.monotonic() - started)) + 0.1)
    return value


def test_a_version_read_that_times_out_is_never_written_over_the_published_one(published_above_the_newest_run):
    _during_a_stall(data_version)
    assert cache.get(DATA_VERSION_KEY) == published_above_the_newest_run
    assert data_version() == published_above_the_newest_run


def test_a_publication_whose_read_times_out_never_takes_pages_back(published_above_the_newest_run):
    older = published_above_the_newest_run - 1  # a slower warm of an older version finishing last
    assert not _during_a_stall(lambda: publish_data_version(older))
    assert data_version() == published_above_the_newest_run
    assert publish_data_version(published_above_the_newest_run + 1)  # once Redis answers, as before
    assert data_version() == published_above_the_newest_run + 1


def test_with_the_version_gone_it_is_read_back_from_the_runs_table_and_kept(published_above_the_newest_run):
    cache.delete(DATA_VERSION_KEY)  # lapsed after a week without a bump
    newest = Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-finished_at").first().pk
    assert data_version() == newest and cache.get(DATA_VERSION_KEY) == newest
    cache.delete(DATA_VERSION_KEY)
    assert publish_data_version(newest + 2) and data_version() == newest + 2

