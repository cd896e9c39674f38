"""The release watch's plan against a catalogue written by hand and a replay Hub over HTTP: which
tracked releases get probes and why, the caps, the daily limit and its priority, pinning to the
Hub's sha, no second queueing, and a new revision re-queueing the tooling probe alone."""

from __future__ import annotations

import datetime as dt

import httpx2 as httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from gpu_workers import watch
from gpu_workers.models import ProbeRun, ReleaseWatch
from ingest.hub.replay import ReplayHub
from ingest.hub.replay_repos import RepoStore, hostile_repo
from observatory.catalog.models import HubModel, Run

pytestmark = [pytest.mark.django_db]
SERVED = ("acme/small-chat", "acme/popular-chat")


@pytest.fixture
def hub(shared_data, tmp_path, settings):
    # Tiny repos under the catalogue's ids: the watch asks only for their sha (model_info).
    store = RepoStore(tmp_path / "repos", builders={h: (lambda: hostile_repo(tmp_path / "repos", "custom-code"))
                                                   for h in SERVED})
    hub = ReplayHub(shared_data, records=[], repos=store)
    hub.start()
    settings.HF_ENDPOINT = hub.url
    settings.WATCH_PROBES = ["benchmark", "tooling", "finetune"]
    settings.WATCH_MAX_PER_DAY, settings.WATCH_MAX_PARAMS_B, settings.WATCH_MAX_AGE_DAYS = 1, 8.0, 30
    settings.WATCH_PRIORITY, settings.WATCH_PROBE_CONFIG = "downloads", {"benchmark.limit": "4"}
    settings.WATCH_PUBLIC_SETS = {}  # the public sets' runs have tests of their own (test_watch_public_sets)
    yield hub
    hub.stop()


def _model(hub_id, *, days_old=3, params=135e6, tracked=True, downloads=100):
    return HubModel.objects.create(hub_id=hub_id, tracked=tracked, tracked_reason="atom-list:models" if tracked else "",
                                   created_at=timezone.now() - dt.timedelta(days=days_old),
                                   total_params=None if params is None else int(params), downloads_all_time=downloads)


def _catalogue():
    _model("acme/small-chat", downloads=100)
    _model("acme/popular-chat", downloads=5000, params=1.2e9)
    _model("acme/huge-chat", params=70e9)
    _model("acme/mystery-chat", params=None)
    _model("acme/old-chat", days_old=90)
    _model("acme/untracked-chat", tracked=False)


def _sha(hub, hub_id):
    return httpx.get(f"{hub.url}/api/models/{hub_id}").json()["sha"]


def test_it_plans_new_tracked_releases_within_the_caps_the_most_downloaded_first(hub):
    _catalogue()
    items = {i.model.hub_id: i for i in watch.plan()}
    assert set(items) == {"acme/small-chat", "acme/popular-chat", "acme/huge-chat", "acme/mystery-chat"}
    popular = items["acme/popular-chat"]
    assert popular.probes == ["benchmark", "tooling", "finetune"] and popular.revision == _sha(hub, "acme/popular-chat")
    assert popular.why.startswith("new tracked release (atom-list:models")
    assert items["acme/small-chat"].probes == [] and "WATCH_MAX_PER_DAY=1" in items["acme/small-chat"].why
    assert items["acme/huge-chat"].probes == [] and "70.0B parameters is over the 8B cap" in items["acme/huge-chat"].why
    assert items["acme/mystery-chat"].probes == [] and "parameter count unknown" in items["acme/mystery-chat"].why
    line = popular.line().split("\t")
    assert line[:3] == ["acme/popular-chat", popular.revision, "benchmark,tooling,finetune"]


def test_size_class_priority_puts_the_smallest_first(hub, settings):
    _catalogue()
    HubModel.objects.filter(hub_id="acme/small-chat").update(size_class="<1B")
    HubModel.objects.filter(hub_id="acme/popular-chat").update(size_class="1-5B")
    settings.WATCH_PRIORITY = "size_class"
    items = {i.model.hub_id: i for i in watch.plan()}
    assert items["acme/small-chat"].probes == ["benchmark", "tooling", "finetune"]
    assert items["acme/popular-chat"].probes == []


def test_queued_once_pinned_to_the_sha_and_a_new_revision_requeues_tooling(hub, django_capture_on_commit_callbacks):
    _catalogue()
    with django_capture_on_commit_callbacks() as sent:
        first = watch.queue(watch.plan(), trigger="test")
    sha = _sha(hub, "acme/popular-chat")
    runs = ProbeRun.objects.filter(model__hub_id="acme/popular-chat")
    assert sorted(runs.values_list("probe", "resolved_revision")) == [
        ("benchmark", sha), ("finetune", sha), ("tooling", sha)]
    assert runs.get(probe="benchmark").config["limit"] == 4  # WATCH_PROBE_CONFIG
    assert all(r.run.params["watch"]["id"] == first.pk for r in runs) and len(sent) == 3  # sent after commit
    assert first.counts["queued"] == 3

    # The next crawl's watch: nothing new (the daily cap keeps small-chat out today, too).
    again = watch.queue(watch.plan(), trigger="test")
    assert again.counts["queued"] == 0 and ProbeRun.objects.count() == 3

    second_sha = hub.repos.commit("acme/popular-chat", "README.md", b"# a new revision\n")
    third = watch.queue(watch.plan(), trigger="test")
    requeued = ProbeRun.objects.filter(model__hub_id="acme/popular-chat", resolved_revision=second_sha)
    assert list(requeued.values_list("probe", flat=True)) == ["tooling"] and third.counts["queued"] == 1
    assert requeued.get().run.params["watch"]["new"] is False
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 0


def test_an_explicit_since_lists_every_tracked_release_since_the_date_once(hub):
    _catalogue()
    items = watch.plan(since=timezone.now() - dt.timedelta(days=120), resolve=None)
    ids = [i.model.hub_id for i in items]
    assert sorted(ids) == ["acme/huge-chat", "acme/mystery-chat", "acme/old-chat", "acme/popular-chat",
                           "acme/small-chat"]
    assert "revision not resolved" in next(i for i in items if i.probes).why


def test_an_unreachable_hub_leaves_the_release_for_the_next_watch(hub, settings):
    _model("acme/popular-chat")
    settings.HF_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there
    done = watch.queue(watch.plan(), trigger="test")
    assert done.counts["unresolved"] == ["acme/popular-chat"] and not ProbeRun.objects.exists()
    settings.HF_ENDPOINT = hub.url
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 3


@pytest.mark.parametrize("name, value, fragment", [
    ("WATCH_PROBES", ["benchmark", "nonsense"], "unknown probe(s) nonsense"),
    ("WATCH_PRIORITY", "alphabetical", "WATCH_PRIORITY: must be one of"),
    ("WATCH_PROBE_CONFIG", {"benchmark.no_such_key": "1"}, "no_such_key"),
    ("WATCH_PROBE_CONFIG", {"limit": "1"}, "is not probe.key"),
])
def test_a_wrong_setting_names_itself(settings, name, value, fragment):
    setattr(settings, name, value)
    with pytest.raises(ImproperlyConfigured, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        watch.watch_config()


def test_a_finished_crawl_or_hubstats_import_calls_for_a_watch_and_a_probe_result_does_not(settings):
    # From a watch that has just started: the session's bootstrap (committed, in the same database)
    # finished before it, so it calls for nothing.
    ReleaseWatch.objects.create(trigger="test")
    assert not watch.needs_watch()
    Run.objects.create(kind=Run.Kind.PROBE, name="probe:x", status=Run.Status.SUCCEEDED, finished_at=timezone.now())
    assert not watch.needs_watch()
    Run.objects.create(kind=Run.Kind.IMPORT, name="import:hubstats", status=Run.Status.SUCCEEDED,
                       finished_at=timezone.now())
    assert watch.needs_watch()
    with transaction.atomic():
        ReleaseWatch.objects.create(trigger="test")
    assert not watch.needs_watch()
    Run.objects.create(kind=Run.Kind.CRAWL, name="crawl", status=Run.Status.SUCCEEDED, finished_at=timezone.now())
    assert watch.needs_watch()


@pytest.mark.parametrize("args, fragment", [
    (["--since", "last tuesday"], "--since must be a date (YYYY-MM-DD), got 'last tuesday'"),
    (["--since", "2026-02-30"], "--since must be a date"),
    (["--since", "2026-01-01\x00"], "--since must be a date"),
    (["--offline"], "add --dry-run"),
])
def test_the_command_refuses_a_bad_option_with_a_clear_error_and_queues_nothing(args, fragment):
    from django.core.management import CommandError, call_command

    _catalogue()
    with pytest.raises(CommandError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        call_command("watch_releases", *args)
    assert not ProbeRun.objects.exists() and not ReleaseWatch.objects.exists()


def test_the_command_prints_each_release_since_the_date_once_on_a_dry_run_and_queues_nothing(hub):
    import io

    from django.core.management import call_command

    _catalogue()
    out = io.StringIO()
    since = (timezone.now() - dt.timedelta(days=120)).date().isoformat()
    call_command("watch_releases", "--since", since, "--dry-run", "--offline", stdout=out)
    lines = out.getvalue().splitlines()
    listed = [line.split()[0] for line in lines[:-1]]
    assert sorted(listed) == ["acme/huge-chat", "acme/mystery-chat", "acme/old-chat", "acme/popular-chat",
                              "acme/small-chat"]
    assert lines[-1].startswith("dry run: 5 release(s) considered")
    assert not ProbeRun.objects.exists() and not ReleaseWatch.objects.exists()
