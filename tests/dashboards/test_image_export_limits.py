"""Image exports are cached, limited per client and bounded per process (issue 12, defect 4)."""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.browser]

METRIC = "licence-mix"


def _fresh_window(seconds_needed: int = 30) -> None:
    """The limits count in fixed minutes: start where the whole test fits in one."""
    left = 60 - int(time.time()) % 60
    if left < seconds_needed:
        time.sleep(left + 0.5)


def test_it_serves_a_rendered_image_again_without_charging_for_it(loaded_db, client, settings):
    settings.EXPORT_RENDERS_PER_MINUTE = 1
    _fresh_window()
    first = client.get(f"/charts/{METRIC}.png?scope=all")
    assert first.status_code == 200 and first.content.startswith(b"\x89PNG")
    again = client.get(f"/charts/{METRIC}.png?scope=all")
    assert again.status_code == 200 and again.content == first.content  # from the cache: not a render
    refused = client.get(f"/charts/{METRIC}.svg?scope=all")  # a new render: over the limit of one
    assert refused.status_code == 429 and "rate limit" in refused.json()["error"]
    assert 1 <= int(refused["Retry-After"]) <= 60
    other = client.get(f"/charts/{METRIC}.svg?scope=all", REMOTE_ADDR="10.9.8.7")  # the limit is per client
    assert other.status_code == 200 and b"<svg" in other.content[:500]


def test_it_answers_503_instead_of_queueing_renders_past_the_process_bound(loaded_db, client, settings):
    settings.EXPORT_MAX_CONCURRENT = 1
    settings.EXPORT_RENDERS_PER_MINUTE = 1000
    settings.METRIC_COMPUTATIONS_PER_MINUTE = 1000
    client.get(f"/charts/{METRIC}.svg")  # the browser started, so the renders below overlap only each other
    views = [f"/charts/{METRIC}.png?scope=all&organization=org{i}" for i in range(6)]
    for url in views:  # their rows computed: the threads below only render
        client.get(url.replace(f"/charts/{METRIC}.png", f"/api/metrics/{METRIC}"))
    start = threading.Barrier(len(views))
    answers: list = [None] * len(views)

    def fetch(i: int) -> None:
        try:
            start.wait()
            answers[i] = Client().get(views[i])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(views))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    statuses = sorted(a.status_code for a in answers)
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}
    busy = next(a for a in answers if a.status_code == 503)
    assert "busy" in busy.json()["error"] and int(busy["Retry-After"]) >= 1
    # Once the renders are done, a refused view renders on a retry.
    retry = next(views[i] for i, a in enumerate(answers) if a.status_code == 503)
    assert client.get(retry).status_code == 200
