"""The release watch's rules as pure functions: which failed runs are retried and when
(gpu_workers.watch_retries.decide), and what a policy may say (gpu_workers.watch_policy's checks
and its asks), against hand-written tables."""

from __future__ import annotations

import datetime as dt

import pytest

from gpu_workers.watch_policy import WatchConfig, check_probe_config, check_public_sets, parse_env_public_sets
from gpu_workers.watch_retries import decide

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def _failed(step: str, at: dt.datetime) -> tuple:
    return ("failed", step, at)


# (runs of one key, minutes after T0 the watch looks, expected action, failures, due after T0 in minutes)
CASES = [
    ([], 0, "done", 0, None),
    ([("succeeded", "done", T0)], 600, "done", 0, None),
    ([_failed("download failed", T0), ("queued", "", None)], 600, "done", 0, None),
    ([_failed("download failed", T0), ("succeeded", "done", T0 + H)], 600, "done", 0, None),
    ([("cancelled", "cancelled", T0)], 600, "done", 0, None),
    ([_failed("refused", T0)], 60 * 24 * 365, "never", 1, None),
    ([_failed("failed", T0)], 60 * 24 * 365, "never", 1, None),
    ([_failed("download failed", T0), _failed("refused", T0 + H)], 60 * 24, "never", 2, None),
    ([_failed("download failed", T0)], 59, "wait", 1, 60),
    ([_failed("download failed", T0)], 60, "retry", 1, 60),
    ([_failed("worker lost", T0)], 61, "retry", 1, 60),
    ([_failed("timed out", T0)], 61, "retry", 1, 60),
    ([_failed("lost in the queue", T0)], 61, "retry", 1, 60),
    ([_failed("interrupted", T0)], 61, "retry", 1, 60),
    # the second retry waits twice as long after the later failure
    ([_failed("timed out", T0), _failed("download failed", T0 + 2 * H)], 2 * 60 + 119, "wait", 2, 2 * 60 + 120),
    ([_failed("timed out", T0), _failed("download failed", T0 + 2 * H)], 2 * 60 + 120, "retry", 2, 2 * 60 + 120),
    ([_failed("worker lost", T0), _failed("worker lost", T0 + H), _failed("worker lost", T0 + 4 * H)], 60 * 24 * 30,
     "gave up", 3, None),
]


@pytest.mark.parametrize("runs, minutes, action, failures, due", CASES)
def test_which_failed_runs_are_retried_and_when(runs, minutes, action, failures, due):
    verdict = decide(runs, now=T0 + dt.timedelta(minutes=minutes), max_attempts=3, backoff_minutes=60)
    assert (verdict.action, verdict.failures) == (action, failures)
    if due is not None:
        assert verdict.due_at == T0 + dt.timedelta(minutes=due)


def test_the_step_named_is_the_latest_failures():
    verdict = decide([_failed("timed out", T0), _failed("download failed", T0 + H)], now=T0 + 9 * H,
                     max_attempts=3, backoff_minutes=60)
    assert verdict.step == "download failed"


def test_the_benchmark_is_asked_once_per_public_set_whole_on_a_cuda_fleet():
    policy = dict(probes=("tooling", "benchmark"), overrides={"benchmark": {"batch_size": 8}},
                  public_sets={"gsm8k": 10, "hellaswag": None}, max_per_day=1, max_params_b=1.0, max_age_days=1,
                  priority="downloads")
    cpu = WatchConfig(**policy).asks()
    assert [(a.label, a.overrides) for a in cpu] == [
        ("tooling", {}), ("benchmark", {"batch_size": 8}),
        ("benchmark:gsm8k", {"batch_size": 8, "item_set": "gsm8k", "limit": 10}),
        ("benchmark:hellaswag", {"batch_size": 8, "item_set": "hellaswag", "limit": None})]
    gpu = WatchConfig(**policy, gpu_hosts=True).asks()
    assert [a.overrides.get("limit") for a in gpu] == [None, None, None, None]
    assert len({a.hash() for a in cpu}) == 4 and cpu[2].hash() != gpu[2].hash() and cpu[3].hash() == gpu[3].hash()


@pytest.mark.parametrize("value, fragment", [
    ({"tooling": {"generation_tokens": True}}, "tooling.generation_tokens must be an integer"),
    ({"finetune": {"learning_rate": "fast"}}, "finetune.learning_rate must be a number"),
    ({"finetune": {"tasks": "addition"}}, "finetune.tasks must be a list"),
    ({"benchmark": {"limit": 0}}, "benchmark.limit must be a positive integer or null"),
    ({"benchmark": []}, "the config of benchmark must be an object"),
])
def test_a_probe_config_of_the_wrong_kind_is_refused(value, fragment):
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        check_probe_config(value)


def test_a_probe_config_of_the_right_kinds_passes():
    value = {"finetune": {"learning_rate": 1, "tasks": ["addition"], "steps": 4}, "benchmark": {"limit": None}}
    assert check_probe_config(value) == value


def test_the_public_sets_setting_reads_full_as_the_whole_set():
    assert check_public_sets(parse_env_public_sets({"gsm8k": "full", "hellaswag": "30"})) == {"gsm8k": None,
                                                                                              "hellaswag": 30}
