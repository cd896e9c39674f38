"""Issue 14's done-when, end to end: a crawl of the replay Hub sees SmolLM2-135M-Instruct as a new
tracked release, the release watch (run by the worker after the crawl commits) queues its plan,
a real `gpu` Celery worker downloads the model through snapshot_download over HTTP (no
PROBE_LOCAL_SOURCES), the three probes run (the benchmark also on a public set's subset, issue 18),
and the model card shows the profile. A second crawl's watch queues nothing. Small probe configs
come through WATCH_PROBE_CONFIG, and one small public subset through WATCH_PUBLIC_SETS."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from gpu_workers.models import ProbeRun, ReleaseWatch
from ingest.hub.crawl import start_crawl
from ingest.hub.replay import ReplayHub, load_records
from observatory.catalog.models import HubModel, Run, TrackedListEntry
from probes.offline_models import SMOLLM2_ID
from tests.conftest import wait_for
from tests.replay_repo_store import session_repo_store

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.probes, pytest.mark.slow]
# Small but real configs: a handful of benchmark items, a two-step LoRA on one task, short generations.
PROBE_CONFIG = ('benchmark.limit=2;benchmark.batch_size=8;finetune.tasks=["addition"];finetune.steps=2;'
                "finetune.train_examples=12;finetune.heldout_examples=4;finetune.lr_sweep=[0.002,0.008];"
                "tooling.generation_tokens=4")
# The default plan's public sets, cut to one set of two items here (the defaults are CPU-sized
# subsets of all three: test_watch_public_sets); MMLU-Redux scores letters, the quickest of the three.
PUBLIC_SETS = "mmlu-redux=2"
LABELS = ["benchmark", "benchmark:mmlu-redux", "finetune", "tooling"]


def _crawl(name: str) -> Run:
    with transaction.atomic():
        return start_crawl([{"kind": "lookup", "ids": [SMOLLM2_ID]}], name=name)


def test_a_crawled_release_is_watched_downloaded_profiled_and_shown_and_a_second_crawl_queues_nothing(
        celery_worker_factory, broker_mode, shared_data, tmp_path_factory, tmp_path, client):
    records = load_records(shared_data)
    store = session_repo_store(tmp_path_factory, records)
    sha = store.find(SMOLLM2_ID).main  # built before the clock starts (once per session)
    hub = ReplayHub(shared_data, records=records, repos=store, log_path=tmp_path / "hub.jsonl")
    hub.start()
    try:
        TrackedListEntry.objects.create(hub_id=SMOLLM2_ID, list_name="models", org="HuggingFaceTB")
        began = time.monotonic()
        # One worker takes the crawl, the watch (default queue) and the probes (gpu), two jobs at a
        # time, a fresh process per job, as the gpu worker runs in production.
        worker = celery_worker_factory(
            queues="crawl,default,gpu", concurrency=2,
            extra_args=["--max-tasks-per-child", "1", "--prefetch-multiplier", "1"],
            env={"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf-home"), "PROBE_LOCAL_SOURCES": "",
                 "PROBE_TORCH_THREADS": "1", "CRAWL_HTTP_TIMEOUT": "30", "WATCH_MAX_AGE_DAYS": "3650",
                 "WATCH_PROBE_CONFIG": PROBE_CONFIG, "PROBE_HEARTBEAT_STALE_SECONDS": "60",
                 "WATCH_PUBLIC_SETS": PUBLIC_SETS, "OBSERVATORY_BENCHMARKS_DIR": str(shared_data / "benchmarks")})
        started_worker = time.monotonic()
        first = _crawl("first crawl")
        watched = wait_for(lambda: list(ProbeRun.objects.filter(hub_id=SMOLLM2_ID)) if
                           ProbeRun.objects.filter(hub_id=SMOLLM2_ID).count() == len(LABELS) else None, timeout=180,
                           message=f"the watch to queue SmolLM2's plan\n{worker.logs()[-4000:]}")
        assert Run.objects.get(pk=first.pk).status == "succeeded"
        planned = time.monotonic() - started_worker
        model = HubModel.objects.get(hub_id=SMOLLM2_ID)
        assert model.tracked and model.tracked_reason == "atom-list:models"
        assert sorted(p.run.params["watch"]["label"] for p in watched) == LABELS
        assert {p.resolved_revision for p in watched} == {sha} and all(p.model_id == model.pk for p in watched)
        assert {p.run.params["watch"]["new"] for p in watched} == {True}
        seen_in_queue: set[str] = set()

        def finished():
            body = client.get("/queue.json").json()
            seen_in_queue.update(f"{r['hub_id']}:{r['probe']}" for r in body["running"] + body["waiting"])
            statuses = set(Run.objects.filter(probe_run__in=watched).values_list("status", flat=True))
            return statuses <= {"succeeded", "failed", "cancelled"} and statuses

        statuses = wait_for(finished, timeout=900, interval=1.0,
                            message=f"the watched probes to finish\n{worker.logs()[-6000:]}")
        runs = {p.run.params["watch"]["label"]: p
                for p in ProbeRun.objects.select_related("run").filter(pk__in=[p.pk for p in watched])}
        assert statuses == {"succeeded"}, {k: v.run.error[:800] for k, v in runs.items()}
        profiled = time.monotonic() - began
        assert seen_in_queue & {f"{SMOLLM2_ID}:{p.probe}" for p in runs.values()}  # the watched runs showed in /queue/
        for probe_run in runs.values():
            assert probe_run.result["model"]["origin"] == "hub" and probe_run.result["model"]["revision"] == sha
        # limit=2 takes two items of each of the item set's four kinds/formats
        assert runs["benchmark"].result["metrics"]["items"] == 8 and runs["benchmark"].config["limit"] == 2
        public = runs["benchmark:mmlu-redux"]
        assert (public.config["item_set"], public.config["limit"], public.result["metrics"]["items"]) == ("mmlu-redux", 2, 2)
        assert public.config_hash != runs["benchmark"].config_hash and public.result["metrics"]["item_set_hash"]
        assert runs["tooling"].result["metrics"]["checks_passed"] == runs["tooling"].result["metrics"]["checks_total"]
        # Downloaded over HTTP: the weights came from the CDN behind the resolve redirect.
        assert any(e.get("cdn") and e["file"] == "model.safetensors" for e in hub.log)

        card = client.get(f"/models/{SMOLLM2_ID}").content.decode()
        assert "Fine-tunability" in card and "Tooling readiness" in card and "Held-out gain" in card
        accuracy = runs["benchmark"].result["metrics"]["accuracy"]
        assert f"{100 * accuracy:.1f} %" in card

        second = _crawl("second crawl")
        wait_for(lambda: ReleaseWatch.objects.count() == 2, timeout=120,
                 message=f"the second crawl's watch\n{worker.logs()[-3000:]}")
        assert Run.objects.get(pk=second.pk).status == "succeeded"
        latest = ReleaseWatch.objects.order_by("-started_at").first()
        assert latest.counts["queued"] == 0 and ProbeRun.objects.filter(hub_id=SMOLLM2_ID).count() == len(LABELS)
        print(f"\nrelease watch end to end: worker ready in {started_worker - began:.0f}s, crawl → plan queued in "
              f"{planned:.0f}s, worker start → profiled in {profiled:.0f}s; wall s / peak RSS MB per probe: "
              f"{ {k: (v.result['wall_seconds'], v.result['peak_memory_mb']) for k, v in runs.items()} }")
        print(f"release watch end to end: crawl → profiled in {profiled:.0f}s; peak RSS per probe (MB): "
              f"{ {k: v.result['peak_memory_mb'] for k, v in runs.items()} }")
    finally:
        hub.stop()
