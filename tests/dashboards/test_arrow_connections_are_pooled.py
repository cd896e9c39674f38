"""Uncached metric requests under a thread-per-request server (`runserver`, as the README runs it)
share a bounded pool of Arrow connections: 200 of them leave at most the pool's size of PostgreSQL
sessions, not one per request thread, and idle ones are closed."""

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from observatory.analytics.frames import ARROW_APPLICATION_NAME
from observatory.catalog.models import HubModel
from tests.conftest import require_postgres
from tests.web_server_process import WebServer, backends, only_this_tests_sessions, own_backend_pid

# A real web server process on the real PostgreSQL.
pytestmark = [pytest.mark.postgres]

POOL_SIZE = 3
REQUESTS = 200
DAY0 = dt.date(2023, 1, 1)


@pytest.fixture
def models_created_daily(transactional_db):
    """One model a day over the requests' range, so every `end` is a different result (committed:
    the server is another process)."""
    require_postgres()
    HubModel.objects.bulk_create([
        HubModel(hub_id=f"acme/model-{i}", author="acme", licence_id="apache-2.0", licence_class="permissive",
                 created_at=dt.datetime.combine(DAY0 + dt.timedelta(days=i), dt.time(12), tzinfo=dt.UTC),
                 tracked=True) for i in range(REQUESTS + 10)])


@pytest.fixture
def runserver(models_created_daily, tmp_path):
    only_this_tests_sessions()
    server = WebServer("runserver", tmp_path / "runserver.log", env={
        "ARROW_POOL_SIZE": str(POOL_SIZE), "ARROW_POOL_IDLE_SECONDS": "3",
        # Every request here must reach the loaders: no per-client cap on computations.
        "METRIC_COMPUTATIONS_PER_MINUTE": "1000000"})
    yield server
    server.stop()


def test_it_serves_200_uncached_requests_from_a_bounded_pool_and_closes_idle_connections(runserver):
    database, mine = connection.settings_dict["NAME"], {own_backend_pid()}
    urls = [f"/api/metrics/licence-mix?scope=all&end={DAY0 + dt.timedelta(days=i)}" for i in range(REQUESTS)]
    peak = 0

    def fetch(url):
        nonlocal peak
        status, body = runserver.get(url)
        peak = max(peak, len(backends(database, but=mine)))
        return status, body

    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent, as clients are
        answers = list(pool.map(fetch, urls))
    assert [status for status, _ in answers] == [200] * REQUESTS, runserver.logs()
    assert len({body for _, body in answers}) == REQUESTS  # distinct results: none came from the cache

    left = backends(database, but=mine)
    assert len(left) <= POOL_SIZE, left
    assert {b[1] for b in left} <= {ARROW_APPLICATION_NAME}  # Django closes its own after each request (DATABASE_CONN_MAX_AGE 0)
    # While they ran: the pool plus at most one Django connection per concurrent request thread.
    assert peak <= POOL_SIZE + 8, peak

    time.sleep(3.5)  # past ARROW_POOL_IDLE_SECONDS: the next use closes the idle ones
    assert runserver.get(f"/api/metrics/licence-mix?scope=all&end={DAY0 + dt.timedelta(days=REQUESTS)}")[0] == 200
    assert len([b for b in backends(database, but=mine) if b[1] == ARROW_APPLICATION_NAME]) == 1
