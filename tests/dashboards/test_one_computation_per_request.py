"""A dashboard page computes its metric once per request: the chart and the table beside it are
drawn from one result (issue 13: the page computed it twice, once for each).

Counted through the registry: the metric's real compute function, wrapped by one that counts its
calls and returns what the real one returns. With the cache up the second read was a cache hit;
with the cache's Redis down (the project's own cache settings against a port nothing listens on,
every read a miss) it was a second full computation, which is what this catches.
"""

import dataclasses
import socket

import pytest

from observatory.caching import redis_caches
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db

NAME = "licence-mix"


@pytest.fixture
def computations(monkeypatch):
    calls = []
    metric = METRICS[NAME]

    def counted(params):
        calls.append(params)
        return metric.compute(params)

    monkeypatch.setitem(METRICS, NAME, dataclasses.replace(metric, compute=counted))
    return calls


@pytest.fixture
def cache_down(settings):
    with socket.socket() as s:  # a port that was free a moment ago: nothing answers on it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{port}/0", key_prefix="cache-down", timeout=60)


def test_a_dashboard_page_computes_its_metric_once(loaded_db, client, computations):
    response = client.get(f"/dashboards/{NAME}?scope=all")
    assert response.status_code == 200 and 'id="chart"' in response.content.decode()
    assert len(computations) == 1
    client.get(f"/dashboards/{NAME}?scope=all")  # the page itself is cached now
    assert len(computations) == 1


def test_a_dashboard_page_computes_its_metric_once_while_the_cache_is_down(loaded_db, client, computations,
                                                                          cache_down):
    for expected in (1, 2):  # nothing is kept: each request computes, once
        response = client.get(f"/dashboards/{NAME}?scope=all")
        assert response.status_code == 200 and 'id="chart"' in response.content.decode()
        assert len(computations) == expected
