"""Concurrent submissions against the real PostgreSQL: the daily quota holds exactly, because it
is counted under the lab's row lock, not before it."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client

from observatory.labs.models import Submission

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
CAP = 5


def test_it_lets_exactly_the_daily_cap_through_when_eight_submit_at_once(tokens, labs, replay_hub, settings):
    from tests.conftest import require_postgres

    require_postgres()
    settings.LABS_SUBMISSIONS_PER_DAY = CAP
    settings.LABS_SUBMISSIONS_PER_MINUTE = 1000  # only the daily quota may refuse here
    settings.LABS_MAX_ACTIVE_RUNS = 1000
    start = threading.Barrier(THREADS)
    statuses: list[int] = []
    bodies: list[dict] = []
    lock = threading.Lock()

    def submit(limit: int) -> None:
        try:
            # Distinct configs: none is a duplicate of another, each would be a new submission.
            body = {"hub_id": "openai-community/gpt2", "probes": ["benchmark"], "config": {"benchmark": {"limit": limit}}}
            client = Client()
            start.wait(timeout=30)
            response = client.post("/api/submissions", json.dumps(body), content_type="application/json",
                                   HTTP_AUTHORIZATION=f"Bearer {tokens['a']}")
            with lock:
                statuses.append(response.status_code)
                bodies.append(response.json())
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=submit, args=(limit,)) for limit in range(1, THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [201] * CAP + [429] * (THREADS - CAP), bodies
    assert Submission.objects.filter(lab=labs["a"]).count() == CAP
    refusals = [body["error"] for body in bodies if "error" in body]
    assert len(refusals) == THREADS - CAP and all(f"at most {CAP} submissions per lab per day" in r for r in refusals)
