"""End to end: a real Celery worker crawls the replay Hub over real HTTP into PostgreSQL.

Every model of the replay set arrives with exact counts, lineage and licences; injected faults
and SIGKILLed workers change nothing in the result.
"""

import math
import random
import time

import polars as pl
import pytest
from django.db import transaction

from ingest.hub.crawl import start_crawl
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge, Run
from tests.conftest import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


# Each licence id in the replay set and its class, written out by hand (never from ingest.licences):
# custom terms with use or commercial limits are restricted, research-only and NC terms non-commercial.
LICENCE_CLASSES = {
    **dict.fromkeys(["apache-2.0", "mit", "cc-by-4.0", "modified-mit", "wtfpl", "afl-3.0", "apple-ascl",
                     "bsd-3-clause-clear"], "permissive"),
    **dict.fromkeys(["gpl-3.0", "gpl", "cc-by-sa-4.0", "osl-3.0"], "copyleft"),
    **dict.fromkeys(["cc-by-nc-4.0", "cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", "qwen-research", "tongyi-qianwen-research",
                     "mrl", "exaone", "microsoft-research-license", "flux-1-dev-non-commercial-license",
                     "katanemo-research", "mnpl", "msrla"], "non-commercial"),
    **dict.fromkeys(["llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4", "llama", "llama-3", "gemma",
                     "gemma-terms-of-use", "tongyi-qianwen", "tongyi-qianwen-license-agreement", "qwen", "qwen2",
                     "quwen", "falcon-llm-license", "falcon-mamba-7b-license", "nvidia-open-model-license",
                     "nvidia-nemotron-open-model-license", "deepseek", "deepseek-license", "creativeml-openrail-m",
                     "bigscience-bloom-rail-1.0", "bigscience-openrail-m", "bigcode-openrail-m", "openrail",
                     "helpingai", "glm-4", "eva-llama3.3", "seallms", "ai2-impact-license-low-risk", "yi-license",
                     "stabilityai-ai-community", "lfm1.0", "baichuan2-community-license", "ghost-open-llms",
                     "health-ai-developer-foundations", "cogvlm2"], "restricted"),
    **dict.fromkeys(["other", "unknown"], "unknown"),
}


def _licence_id(card: dict) -> str | None:
    """The card's licence id by the Hub's convention: `license` (a one-item list unwrapped), or
    `license_name` where `license` is missing or "other"."""
    raw, name = card.get("license"), card.get("license_name")
    if isinstance(raw, list):
        raw = raw[0] if len(raw) == 1 else raw
    raw = raw.strip().lower() if isinstance(raw, str) and raw.strip() else None
    name = name.strip().lower() if isinstance(name, str) and name.strip() else None
    if raw in (None, "other") and name and name != "license":
        return name
    return raw


def _expected(shared_data):
    """Independently from the parquet: ids, Hub-stated lineage, and licence classes."""
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    import json

    lineage, licence = {}, {}
    for row in frame.select("id", "baseModels", "cardData").to_dicts():
        for parent in (row["baseModels"] or {}).get("models") or []:
            if parent and parent["id"] != row["id"]:
                lineage[(row["id"], parent["id"])] = row["baseModels"]["relation"]
        card = json.loads(row["cardData"]) if row["cardData"] else {}
        licence_id = _licence_id(card)
        if licence_id is not None:
            licence[row["id"]] = LICENCE_CLASSES[licence_id]
    return set(frame["id"].to_list()), lineage, licence


def _result():
    """What a crawl left in the database, in a comparable form."""
    return {
        "models": sorted(HubModel.objects.values_list("hub_id", "downloads", "downloads_all_time", "likes",
                                                      "licence_id", "licence_class", "tracked")),
        "snapshots": sorted(DownloadSnapshot.objects.values_list("model__hub_id", "date", "downloads_all_time")),
        "edges": sorted(LineageEdge.objects.values_list("child__hub_id", "parent_hub_id", "relation", "source")),
    }


def _crawl(worker_factory, hub, hub_env, *, page_size=1000, workers_env=None):
    env = hub_env(hub, CRAWL_PAGE_SIZE=page_size, **(workers_env or {}))
    worker = worker_factory(queues="crawl,default", env=env)
    with transaction.atomic():
        run = start_crawl([{"kind": "all"}], name="test crawl")
    return run, worker


def _wait_done(run, worker, timeout=240):
    return wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
                    timeout=timeout, message=f"crawl {run.pk} to finish\n{worker.logs()[-3000:]}")


def test_it_ingests_every_replay_model_with_exact_counts_lineage_and_licences(
        celery_worker_factory, broker_mode, replay_hub, hub_env, shared_data, empty_catalog):
    hub = replay_hub()
    run, worker = _crawl(celery_worker_factory, hub, hub_env)
    done = _wait_done(run, worker)
    assert done.status == "succeeded", done.error
    ids, lineage, licence = _expected(shared_data)
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == ids
    assert DownloadSnapshot.objects.filter(source="crawl").count() == len(ids) == done.counts["models"]
    stored = {(c, p): r for c, p, r in LineageEdge.objects.filter(source="baseModels")
              .values_list("child__hub_id", "parent_hub_id", "relation")}
    assert stored == lineage
    classes = dict(HubModel.objects.values_list("hub_id", "licence_class"))
    assert len(licence) > 2900  # most cards name a licence: the comparison below is not vacuous
    assert {h: classes[h] for h in licence} == licence
    # Listing N models takes ceil(N / page size) list requests: the fewest possible.
    list_requests = [e for e in hub.log if e["list"] and e["status"] == 200]
    assert len(list_requests) == math.ceil(len(ids) / 1000)
    assert len(list_requests) <= 1.05 * len(ids) / 1000 + 1
    # The worker's huggingface_hub asked the replay Hub (HF_ENDPOINT), not the internet, for its
    # agent registry, got the 404 the replay answers, and cached that under the private HF_HOME.
    assert [e["status"] for e in hub.log if e["path"] == "/api/agent-harnesses"] == [404]


def test_it_completes_with_exact_counts_under_ten_percent_injected_faults(
        celery_worker_factory, broker_mode, replay_hub, hub_env, shared_data, empty_catalog):
    hub = replay_hub(fault_rate=0.10, seed=7, slow_seconds=1.5, retry_after=1)
    began = time.monotonic()
    run, worker = _crawl(celery_worker_factory, hub, hub_env, page_size=100,
                         workers_env={"CRAWL_MAX_RETRIES": 12})
    done = _wait_done(run, worker)
    assert done.status == "succeeded", done.error
    faults = {e["fault"] for e in hub.log if e["fault"]}
    assert {"429", "500", "truncated", "slow"} <= faults, faults
    ids, _, _ = _expected(shared_data)
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == ids
    assert DownloadSnapshot.objects.count() == len(ids)
    assert done.counts["pages"] == math.ceil(len(ids) / 100)
    list_requests = [e for e in hub.log if e["list"]]
    assert 0.05 < sum(1 for e in list_requests if e["fault"]) / len(list_requests) < 0.2
    # Every 429's Retry-After was honoured: no request came back early, and the waits add up.
    assert [e for e in hub.log if e["early"]] == []
    assert time.monotonic() - began >= sum(e["retry_after"] for e in hub.log if e["status"] == 429)


def test_it_equals_an_uninterrupted_crawl_after_workers_are_killed_at_random_points(
        celery_worker_factory, broker_mode, replay_hub, hub_env, shared_data, empty_catalog):
    hub = replay_hub()
    run, worker = _crawl(celery_worker_factory, hub, hub_env, page_size=100)
    rng = random.Random(11)
    kills = 0
    while kills < 4:
        time.sleep(rng.uniform(0.3, 1.5))
        if Run.objects.get(pk=run.pk).status != "running" and kills:
            break
        worker.kill()  # SIGKILL: mid-fetch, mid-transaction or between pages
        kills += 1
        worker.start()  # a fresh worker resumes stalled crawls at start-up
    done = _wait_done(run, worker)
    assert done.status == "succeeded", done.error
    assert kills >= 3
    interrupted = _result()
    pages_applied = done.counts["pages"]
    assert pages_applied == math.ceil(4167 / 100)  # each page applied exactly once

    # The same crawl without interruption, into an emptied database.
    HubModel.objects.all().delete()
    run2 = None
    with transaction.atomic():
        run2 = start_crawl([{"kind": "all"}], name="uninterrupted")
    done2 = _wait_done(run2, worker)
    assert done2.status == "succeeded"
    assert _result() == interrupted
