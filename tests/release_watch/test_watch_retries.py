"""A watched run that failed for a transient reason (the Hub's download failed, its worker was
lost) is asked again by a later watch, an hour after the failure, then two, at most three runs in
all; a refused model (pickle-only weights, a config asking for custom code) never is; a key with a
succeeded run is never asked again. The failures are real: the probe task runs in this process
against a Hub that does not answer, or a replay Hub serving the hostile repos over HTTP."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gpu_workers import services, watch
from gpu_workers.models import ProbeRun
from gpu_workers.tasks import reap_stale_runs, run_probe
from ingest.hub.replay import ReplayHub
from ingest.hub.replay_repos import CUSTOM_CODE_ID, PICKLE_ONLY_ID, RepoStore, hostile_repo
from observatory.catalog.models import HubModel, Run

pytestmark = [pytest.mark.django_db, pytest.mark.probes]
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def policy(settings, tmp_path):
    settings.WATCH_PROBES, settings.WATCH_PROBE_CONFIG, settings.WATCH_PUBLIC_SETS = ["tooling"], {}, {}
    settings.WATCH_MAX_PER_DAY, settings.WATCH_MAX_PARAMS_B, settings.WATCH_MAX_AGE_DAYS = 10, 8.0, 30
    settings.WATCH_PRIORITY = "downloads"
    settings.WATCH_RETRY_MAX_ATTEMPTS, settings.WATCH_RETRY_BACKOFF_MINUTES = 3, 60
    settings.PROBE_LOCAL_SOURCES = {}
    settings.HF_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there: every download fails
    settings.HF_HOME = str(tmp_path / "hf-home")
    return settings


def _release(hub_id: str, sha: str = "ef" * 20) -> HubModel:
    return HubModel.objects.create(hub_id=hub_id, tracked=True, tracked_reason="atom-list:models", sha=sha,
                                   created_at=timezone.now() - dt.timedelta(days=2), total_params=135_000_000)


def _work(probe_run: ProbeRun) -> Run:
    """The gpu worker's task, run here: it claims the run, fails or finishes it, and records why."""
    run_probe.apply(args=[probe_run.pk])
    return Run.objects.get(pk=probe_run.run_id)


def _watch_at(now: dt.datetime) -> int:
    """A watch at `now` (the clock moved on): how many runs it queued."""
    return watch.queue(watch.plan(now=now), trigger="test", now=now).counts["queued"]


def _line(model: HubModel, now: dt.datetime) -> watch.PlanItem:
    return next(i for i in watch.plan(now=now) if i.model == model)


def test_a_hub_download_error_is_retried_with_backoff_up_to_the_bound(policy):
    model = _release("acme/flaky-chat")
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 1
    first = ProbeRun.objects.get(model=model)
    failed = _work(first)
    assert (failed.status, failed.current_step) == ("failed", "download failed")
    assert "the Hub's trouble" in failed.error

    # The first retry waits an hour after the failure.
    soon = _line(model, failed.finished_at + 59 * MINUTE)
    assert soon.probes == [] and "tooling retried after" in soon.why and "download failed" in soon.why
    assert _watch_at(failed.finished_at + 59 * MINUTE) == 0
    later = failed.finished_at + 61 * MINUTE
    item = _line(model, later)
    assert item.probes == ["tooling"] and "retry tooling (attempt 2 of 3: the last one download failed)" in item.why
    assert _watch_at(later) == 1
    second = ProbeRun.objects.filter(model=model).order_by("-pk").first()
    assert (second.config_hash, second.resolved_revision) == (first.config_hash, first.resolved_revision)
    assert second.run.params["watch"]["attempt"] == 2

    # The second retry waits two hours after the second failure; the third run is the last.
    failed_again = _work(second)
    assert failed_again.current_step == "download failed"
    assert _line(model, failed_again.finished_at + 119 * MINUTE).probes == []
    assert _watch_at(failed_again.finished_at + 121 * MINUTE) == 1
    third = ProbeRun.objects.filter(model=model).order_by("-pk").first()
    assert third.run.params["watch"]["attempt"] == 3
    last = _work(third)
    much_later = last.finished_at + 30 * 24 * HOUR
    gave_up = _line(model, much_later)
    assert gave_up.probes == [] and "tooling given up after 3 attempts (the last download failed)" in gave_up.why
    assert _watch_at(much_later) == 0
    assert ProbeRun.objects.filter(model=model).count() == 3


def test_a_plan_made_before_another_watch_retried_queues_nothing_twice(policy):
    model = _release("acme/flaky-chat")
    watch.queue(watch.plan(), trigger="test")
    failed = _work(ProbeRun.objects.get(model=model))
    later = failed.finished_at + 2 * HOUR
    stale_plan, fresh_plan = watch.plan(now=later), watch.plan(now=later)
    assert watch.queue(fresh_plan, trigger="test", now=later).counts["queued"] == 1
    assert watch.queue(stale_plan, trigger="test", now=later).counts["queued"] == 0
    assert ProbeRun.objects.filter(model=model).count() == 2


def test_a_lost_worker_is_retried_and_a_succeeded_run_of_the_key_never_is(policy):
    lost = _release("acme/lost-chat", sha="aa" * 20)
    done = _release("acme/done-chat", sha="bb" * 20)
    watch.queue(watch.plan(), trigger="test")
    # lost-chat's worker died mid-run on its last attempt: the reaper fails it, "worker lost".
    victim = ProbeRun.objects.get(model=lost)
    Run.objects.claim(victim.run_id, count_attempt=False)
    ProbeRun.objects.filter(pk=victim.pk).update(attempts=2)
    Run.objects.filter(pk=victim.run_id).update(heartbeat_at=timezone.now() - 2 * HOUR)
    assert reap_stale_runs()["failed"] == 1
    assert Run.objects.get(pk=victim.run_id).current_step == "worker lost"
    # done-chat's download failed, then the same run asked again by hand (the admin's "run again") succeeded.
    failed = _work(ProbeRun.objects.get(model=done))
    again = ProbeRun.objects.get(model=done)
    rerun = services.create_probe_run("acme/done-chat", "tooling", revision=again.resolved_revision, config=again.config)
    assert rerun.config_hash == again.config_hash
    assert Run.objects.claim(rerun.run_id) is not None and Run.objects.finish(rerun.run_id)

    later = max(failed.finished_at, timezone.now()) + 2 * HOUR
    assert _line(lost, later).probes == ["tooling"]
    assert _line(done, later).probes == []
    assert _watch_at(later) == 1
    assert ProbeRun.objects.filter(model=done).count() == 2 and ProbeRun.objects.filter(model=lost).count() == 2


@pytest.mark.parametrize("hub_id, kind, reason", [(PICKLE_ONLY_ID, "pickle-only", "only pickle checkpoints"),
                                                  (CUSTOM_CODE_ID, "custom-code", "asks for custom code")])
def test_a_refused_model_is_never_retried(policy, tmp_path, hub_id, kind, reason):
    store = RepoStore(tmp_path / "repos", builders={hub_id: lambda: hostile_repo(tmp_path / "repos", kind)})
    hub = ReplayHub(tmp_path, records=[], repos=store)
    hub.start()
    try:
        policy.HF_ENDPOINT = hub.url
        model = _release(hub_id, sha=store.find(hub_id).main)
        watch.queue(watch.plan(), trigger="test")
        refused = _work(ProbeRun.objects.get(model=model))
    finally:
        hub.stop()
    assert (refused.status, refused.current_step) == ("failed", "refused") and reason in refused.error
    for days in (1, 30):
        later = refused.finished_at + days * 24 * HOUR
        assert _watch_at(later) == 0
    assert ProbeRun.objects.filter(model=model).count() == 1
