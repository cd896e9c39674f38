"""A crawl under 429s waits as long as each Retry-After says, and no longer than it must.

The replay Hub enforces Retry-After: a request repeated before the announced time gets another 429
and is logged as early. A crawler that backs off on its own schedule instead (the test settings make
that schedule 0.05 s) shows up as early retries and as a crawl faster than the waits it was given.
"""

import math
import time

import pytest
from django.db import transaction

from ingest.hub.crawl import start_crawl
from observatory.catalog.models import HubModel, Run
from tests.conftest import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]
PAGE_SIZE = 500
RETRY_AFTER = 1  # seconds: small, so the test stays short


def test_it_retries_each_rate_limited_page_no_sooner_than_its_retry_after(
        celery_worker_factory, broker_mode, replay_hub, hub_env, replay_records, empty_catalog):
    hub = replay_hub(fault_rate=0.3, kinds=("429",), retry_after=RETRY_AFTER, seed=5)
    env = hub_env(hub, CRAWL_PAGE_SIZE=PAGE_SIZE, CRAWL_MAX_RETRIES=20)
    worker = celery_worker_factory(queues="crawl,default", env=env)
    began = time.monotonic()
    with transaction.atomic():
        run = start_crawl([{"kind": "all"}], name="rate-limited crawl")
    done = wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
                    timeout=240, message=f"crawl {run.pk} to finish\n{worker.logs()[-3000:]}")
    took = time.monotonic() - began
    assert done.status == "succeeded", done.error
    assert HubModel.objects.count() == len(replay_records)
    assert done.counts["pages"] == math.ceil(len(replay_records) / PAGE_SIZE)

    announced = [e for e in hub.log if e["status"] == 429 and not e["early"]]
    early = [e for e in hub.log if e["early"]]
    assert len(announced) >= 3, "too few 429s drawn to time the waits"
    assert early == []
    # Pages are fetched one after another, so the waits add up.
    assert took >= sum(e["retry_after"] for e in announced)
    # And each retry came after its own wait: the next request for the same page.
    for refused in announced:
        retry = next(e for e in hub.log if e["t"] > refused["t"] and e["query"] == refused["query"]
                     and e["path"] == refused["path"])
        assert retry["t"] - refused["t"] >= refused["retry_after"]
