"""Issue 18 in the release watch's default plan: the benchmark probe once more per public set
(hellaswag, mmlu-redux, gsm8k) on its documented CPU subset, the whole sets on a CUDA fleet
(WATCH_GPU_HOSTS), each run its own config hash, deduplicated like every other run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gpu_workers import watch
from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel

pytestmark = [pytest.mark.django_db]
# The README's documented CPU subsets (WATCH_PUBLIC_SETS' default), written out by hand.
CPU_SUBSETS = {"hellaswag": 100, "mmlu-redux": 100, "gsm8k": 10}
SHA = "cd" * 20


@pytest.fixture
def release(settings):
    settings.WATCH_PROBES, settings.WATCH_PROBE_CONFIG = ["benchmark", "tooling"], {"benchmark.limit": "5"}
    settings.WATCH_MAX_PER_DAY, settings.WATCH_MAX_PARAMS_B, settings.WATCH_MAX_AGE_DAYS = 5, 8.0, 30
    settings.WATCH_PRIORITY = "downloads"
    return HubModel.objects.create(hub_id="acme/new-chat", tracked=True, tracked_reason="atom-list:models", sha=SHA,
                                   created_at=timezone.now() - dt.timedelta(days=2), total_params=135_000_000)


def _read_settings(**env) -> dict:
    """The settings module as a fresh process reads it under `env` (None: unset)."""
    import json
    import os
    import subprocess
    import sys

    environ = {k: v for k, v in os.environ.items() if k not in env}
    environ.update({k: v for k, v in env.items() if v is not None})
    out = subprocess.run([sys.executable, "-c", "import json, observatory.settings as s; "
                          "print(json.dumps([s.WATCH_PUBLIC_SETS, s.WATCH_GPU_HOSTS]))"],
                         env=environ, capture_output=True, text=True, check=True, cwd=settings_root())
    sets, gpu = json.loads(out.stdout.strip().splitlines()[-1])
    return {"sets": sets, "gpu": gpu}


def settings_root():
    from pathlib import Path

    return Path(__file__).resolve().parents[2]


def test_the_default_setting_is_the_documented_cpu_subset_of_each_set():
    assert _read_settings(WATCH_PUBLIC_SETS=None, WATCH_GPU_HOSTS=None) == {
        "sets": {name: str(n) for name, n in CPU_SUBSETS.items()}, "gpu": False}
    assert _read_settings(WATCH_PUBLIC_SETS="none", WATCH_GPU_HOSTS="1") == {"sets": {}, "gpu": True}
    assert _read_settings(WATCH_PUBLIC_SETS="gsm8k=full")["sets"] == {"gsm8k": "full"}


def test_a_new_release_gets_the_benchmark_once_per_public_set_on_its_cpu_subset(release, settings):
    settings.WATCH_PUBLIC_SETS = {name: str(n) for name, n in CPU_SUBSETS.items()}
    settings.WATCH_GPU_HOSTS = False
    item = next(i for i in watch.plan() if i.model == release)
    assert item.probes == ["benchmark", "benchmark:hellaswag", "benchmark:mmlu-redux", "benchmark:gsm8k", "tooling"]
    done = watch.queue([item], trigger="test")
    assert done.counts["queued"] == 5
    runs = ProbeRun.objects.filter(model=release, probe="benchmark")
    assert sorted((r.config["item_set"], r.config["limit"]) for r in runs) == sorted(
        [("benchmark-v1", 5), *CPU_SUBSETS.items()])
    assert len({r.config_hash for r in runs}) == 4
    # Every run's other options are the watch's (WATCH_PROBE_CONFIG's batch size etc. stay the registry's).
    assert {r.config["batch_size"] for r in runs} == {32}
    # The next watch: all asked already, nothing new.
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 0


def test_on_a_cuda_fleet_the_sets_run_whole_under_another_config_hash(release, settings):
    settings.WATCH_PUBLIC_SETS = {"hellaswag": "100", "gsm8k": "full"}
    settings.WATCH_GPU_HOSTS = False
    watch.queue(watch.plan(), trigger="test")
    cpu = {r.config["item_set"]: r for r in ProbeRun.objects.filter(model=release, probe="benchmark")}
    assert (cpu["hellaswag"].config["limit"], cpu["gsm8k"].config["limit"]) == (100, None)

    # The fleet gains CUDA workers: the next release gets every set whole, a measurement of its
    # own (another config hash); the release already watched is not planned again.
    settings.WATCH_GPU_HOSTS = True
    later = HubModel.objects.create(hub_id="acme/newer-chat", tracked=True, sha=SHA, total_params=135_000_000,
                                    created_at=timezone.now() - dt.timedelta(days=1))
    items = {i.model.hub_id: i for i in watch.plan()}
    assert items["acme/new-chat"].probes == []
    assert items["acme/newer-chat"].probes == ["benchmark", "benchmark:hellaswag", "benchmark:gsm8k", "tooling"]
    watch.queue(list(items.values()), trigger="test")
    whole = {r.config["item_set"]: r for r in ProbeRun.objects.filter(model=later, probe="benchmark")}
    assert (whole["hellaswag"].config["limit"], whole["gsm8k"].config["limit"]) == (None, None)
    assert whole["hellaswag"].config_hash != cpu["hellaswag"].config_hash
    assert whole["gsm8k"].config_hash == cpu["gsm8k"].config_hash  # whole on both: one measurement


def test_a_wrong_public_set_setting_names_itself(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.WATCH_PUBLIC_SETS = {"hellaswag": "lots"}
    with pytest.raises(ImproperlyConfigured, match="WATCH_PUBLIC_SETS: hellaswag: a positive number of items"):
        watch.watch_config()
    settings.WATCH_PUBLIC_SETS = {"squad": "10"}
    with pytest.raises(ImproperlyConfigured, match="WATCH_PUBLIC_SETS: unknown public set 'squad'"):
        watch.watch_config()
