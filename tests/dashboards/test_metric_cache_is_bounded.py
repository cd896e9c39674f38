"""A flood of distinct query strings cannot fill the cache (issue 12, defect 3).

Counted in the real cache Redis (CACHE_REDIS_URL): its keys and their TTLs.
"""

import datetime as dt
import os
import time

import pytest
import redis

pytestmark = [pytest.mark.django_db, pytest.mark.redis]

METRIC = "licence-mix"


def _cache_redis() -> redis.Redis:
    url = os.environ.get("CACHE_REDIS_URL") or os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("this test needs the real cache Redis: set CACHE_REDIS_URL (the README's test command does)")
    return redis.Redis.from_url(url)


def _metric_keys(name: str) -> dict[str, int]:
    """Every cached entry of metric `name` (frames, JSON, pages, images) → its TTL in seconds."""
    store = _cache_redis()
    return {key.decode(): store.ttl(key) for key in store.scan_iter(f"*metric:*:{name}:v*", count=1000)}


def _dates(first: dt.date, n: int, every: int = 1) -> list[str]:
    return [(first + dt.timedelta(days=i * every)).isoformat() for i in range(n)]


def _fresh_window(seconds_needed: int = 20) -> None:
    """The limits count in fixed minutes: start where the whole test fits in one."""
    left = 60 - int(time.time()) % 60
    if left < seconds_needed:
        time.sleep(left + 0.5)


# Distinct views a flood sends, each computed and kept: what bounds them is their short lifetime,
# whatever their number, so a few dozen prove it (the per-client limit is tested below).
FLOOD = 40


@pytest.mark.slow
def test_it_keeps_views_with_a_date_range_only_briefly(loaded_db, client, settings):
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 100_000  # this test is about the cache, not the limit
    # Shorter than the default (300 s): the TTLs must come from the setting, not a constant.
    settings.METRIC_CACHE_SHORT_SECONDS = 120
    ends = _dates(dt.date(2023, 1, 2), FLOOD, every=6)  # within the data: every end is another view
    bodies = set()
    for end in ends:
        response = client.get(f"/api/metrics/{METRIC}?scope=all&end={end}")
        assert response.status_code == 200
        bodies.add(response.content)
    assert len(bodies) > FLOOD // 2  # distinct results: views the cache had to keep apart
    ttls = _metric_keys(METRIC)
    assert len(ttls) >= FLOOD  # they were cached ...
    long_lived = [key for key, ttl in ttls.items() if not 0 < ttl <= settings.METRIC_CACHE_SHORT_SECONDS]
    assert long_lived == []  # ... but none for long


def test_it_keeps_the_default_view_for_a_day(loaded_db, client, settings):
    settings.METRIC_CACHE_SHORT_SECONDS, settings.METRIC_CACHE_SECONDS = 300, 24 * 3600
    client.get(f"/api/metrics/{METRIC}")
    ttls = _metric_keys(METRIC)
    assert ttls and all(300 < ttl <= 24 * 3600 for ttl in ttls.values())


def test_it_writes_no_key_without_a_ttl(loaded_db, client):
    """So the cache Redis can evict under volatile-lru too, and nothing outlives its use."""
    for url in ("/", "/api/stats", f"/dashboards/{METRIC}", f"/api/metrics/{METRIC}?format=csv",
                f"/embed/{METRIC}?scope=all", "/models/meta-llama/Llama-3.1-8B", "/api/submissions"):
        client.get(url)
    client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    store = _cache_redis()
    keys = list(store.scan_iter("*", count=1000))
    assert len(keys) >= 5
    assert [k.decode() for k in keys if store.ttl(k) == -1] == []


@pytest.mark.parametrize("name, asked", [
    # FLOOD dates 97 days apart: a decade of ends after all the data, of starts before it.
    ("end", _dates(dt.date.today() + dt.timedelta(days=1), FLOOD, every=97)),  # every end after all the data
    ("start", _dates(dt.date(1800, 1, 1), FLOOD, every=97)),  # every start before all the data
])
def test_it_collapses_dates_outside_the_data_into_one_entry(loaded_db, client, settings, name, asked):
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 100_000
    metric = "cumulative-downloads-by-region"
    first = client.get(f"/api/metrics/{metric}?{name}={asked[0]}").json()
    entries = len(_metric_keys(metric))
    for value in asked[1:]:
        assert client.get(f"/api/metrics/{metric}?{name}={value}").json()["rows"] == first["rows"]
    assert len(_metric_keys(metric)) == entries  # no new entry: all of them are one view
    if name == "end":  # an end after all the data is all the data
        assert first["rows"] == client.get(f"/api/metrics/{metric}").json()["rows"]


def test_it_refuses_uncached_computations_past_the_per_client_limit(loaded_db, client, settings):
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 5
    _fresh_window()
    views = [f"/api/metrics/{METRIC}?scope=all&end={end}" for end in _dates(dt.date(2024, 3, 1), 6)]
    assert [client.get(url).status_code for url in views[:5]] == [200] * 5
    refused = client.get(views[5])
    assert refused.status_code == 429 and "rate limit" in refused.json()["error"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client.get(views[0]).status_code == 200  # a cached view costs nothing and is still served
    page = client.get(f"/dashboards/{METRIC}?scope=all&end=2024-04-01")
    assert page.status_code == 429 and page["Retry-After"]  # the page computes too: same budget
    assert client.get(views[5], REMOTE_ADDR="10.1.2.3").status_code == 200  # the limit is per client
