"""HubModel.sha: the crawl stores the commit the Hub reports for each model (the list's `sha`,
asked for with expand[]=sha, and model_info's), through the replay Hub over HTTP; a hub-stats row,
which has none, leaves it; a malformed one is quarantined. When a crawl finds a watched model's
sha moved, the tooling probe is due again (tooling_schedule) and the release watch asks for it
at the new commit, once."""

from __future__ import annotations

import datetime as dt

import httpx2 as httpx
import pytest
from django.utils import timezone

from gpu_workers import tooling_schedule, watch
from gpu_workers.models import ProbeRun
from ingest.hub.crawl import process_page, start_crawl
from ingest.hub.replay import ReplayHub, load_records
from ingest.hub.replay_repos import RepoStore, hostile_repo
from ingest.hub_records import upsert_hub_records
from observatory.catalog.models import HubModel, Run, TrackedListEntry

pytestmark = [pytest.mark.django_db]
WATCHED = "acme-labs/watched-chat"
RECORD = {"_id": "0000acme0001", "id": WATCHED, "author": "acme-labs", "createdAt": "2026-11-20T00:00:00.000Z",
          "lastModified": "2026-11-21T00:00:00.000Z", "downloads": 5, "downloadsAllTime": 5, "likes": 0,
          "tags": ["transformers", "text-generation", "license:apache-2.0"], "pipeline_tag": "text-generation",
          "library_name": "transformers", "safetensors": {"parameters": {"BF16": 135_000_000}, "total": 135_000_000}}


@pytest.fixture
def hub(shared_data, tmp_path, settings):
    records = [*load_records(shared_data), RECORD]
    # The watched repo is a tiny one (its files are never loaded here); the commits are what matter.
    store = RepoStore(tmp_path / "repos", records=records,
                      builders={WATCHED: lambda: hostile_repo(tmp_path / "repos", "custom-code")})
    started = ReplayHub(shared_data, records=records, repos=store)
    started.start()
    settings.HF_ENDPOINT, settings.CRAWL_PAGE_SIZE = started.url, 100
    settings.WATCH_PROBES, settings.WATCH_PROBE_CONFIG, settings.WATCH_PUBLIC_SETS = ["benchmark", "tooling"], {}, {}
    settings.WATCH_MAX_PER_DAY, settings.WATCH_MAX_PARAMS_B, settings.WATCH_MAX_AGE_DAYS = 5, 8.0, 3650
    settings.WATCH_PRIORITY = "downloads"
    yield started
    started.stop()


def _crawl(*segments: dict) -> Run:
    run = start_crawl(list(segments))
    step = 0
    while step is not None:
        step = process_page(run.pk, step)
    return Run.objects.get(pk=run.pk)


def _hub_sha(hub, hub_id: str) -> str:
    return httpx.get(f"{hub.url}/api/models/{hub_id}").json()["sha"]


def test_the_crawl_stores_the_sha_the_hub_reports_and_an_import_without_one_keeps_it(hub):
    assert _crawl({"kind": "org", "author": "Qwen"}).status == "succeeded"
    stored = dict(HubModel.objects.values_list("hub_id", "sha"))
    assert len(stored) > 10 and all(sha and len(sha) == 40 for sha in stored.values())
    for hub_id in sorted(stored)[:5]:
        assert stored[hub_id] == _hub_sha(hub, hub_id)
    # A hub-stats row states no sha: the crawled one stays; a row that states one replaces it.
    first = sorted(stored)[0]
    upsert_hub_records([{"id": first, "downloads": 7}], snapshot_date=timezone.now().date(), source="hubstats")
    assert HubModel.objects.get(hub_id=first).sha == stored[first]
    upsert_hub_records([{"id": first, "sha": "0" * 40}], snapshot_date=timezone.now().date(), source="crawl")
    assert HubModel.objects.get(hub_id=first).sha == "0" * 40


def test_a_malformed_sha_is_quarantined_with_its_reason_and_the_stored_one_kept(hub):
    from observatory.catalog.models import QuarantinedRecord

    HubModel.objects.create(hub_id="acme-labs/kept", sha="1" * 40)
    counts = upsert_hub_records([{"id": "acme-labs/kept", "sha": "../../etc/passwd"}],
                                snapshot_date=timezone.now().date(), source="crawl")
    assert counts["quarantined"] == 1
    assert "sha: not a commit id (40 hex digits)" in QuarantinedRecord.objects.get().reason
    assert HubModel.objects.get(hub_id="acme-labs/kept").sha == "1" * 40


def test_a_moved_sha_found_by_the_crawl_requeues_tooling_alone_at_the_new_commit(hub):
    TrackedListEntry.objects.create(hub_id=WATCHED, list_name="models", org="acme-labs")
    _crawl({"kind": "org", "author": "acme-labs"})
    model = HubModel.objects.get(hub_id=WATCHED)
    first_sha = _hub_sha(hub, WATCHED)
    assert model.tracked and model.sha == first_sha
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 2  # pinned to the stored sha
    assert set(ProbeRun.objects.filter(model=model).values_list("resolved_revision", flat=True)) == {first_sha}

    second_sha = hub.repos.commit(WATCHED, "README.md", b"# a new revision\n")
    # Until a crawl sees it, the stored sha has not moved: nothing is due.
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 0
    _crawl({"kind": "org", "author": "acme-labs"})
    assert HubModel.objects.get(hub_id=WATCHED).sha == second_sha == _hub_sha(hub, WATCHED)
    due = tooling_schedule.due_checks(today=timezone.now().date())
    assert [(d.model.hub_id, d.revision, d.reason) for d in due] == [
        (WATCHED, second_sha, f"new revision {second_sha[:12]}")]

    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 1
    requeued = ProbeRun.objects.filter(model=model, resolved_revision=second_sha)
    assert list(requeued.values_list("probe", flat=True)) == ["tooling"]
    assert tooling_schedule.due_checks(today=timezone.now().date()) == []  # the watch's run counts
    assert watch.queue(watch.plan(), trigger="test").counts["queued"] == 0
    # An offline dry run reads the stored sha too: the plan names the commit without asking the Hub.
    offline = next(i for i in watch.plan(since=timezone.now() - dt.timedelta(days=3650), resolve=None)
                   if i.model == model)
    assert offline.revision == second_sha
