"""The crawl's pieces over real HTTP, step by step in this process: cursor, segments, errors, renames, API."""

import io
import math

import pytest
from django.core.management import call_command

from ingest.hub.client import HubPermanentError, HubRateLimited, HubTransientError, get_json, list_url
from ingest.hub.crawl import process_page, refresh_model, start_crawl
from observatory.catalog.models import HubModel, ModelAlias, Run


@pytest.fixture
def hub(replay_hub, settings):
    started = replay_hub()
    settings.HF_ENDPOINT = started.url
    settings.CRAWL_PAGE_SIZE = 50
    return started


def _drive(run_id: int) -> int:
    step, steps = 0, 0
    while step is not None:
        step = process_page(run_id, step)
        steps += 1
    return steps


def test_it_walks_an_organisation_page_by_page_applying_each_page_once(db, hub, replay_records):
    expected = {r["id"] for r in replay_records if r["id"].startswith("Qwen/")}
    run = start_crawl([{"kind": "org", "author": "Qwen"}])
    assert process_page(run.pk, 0) == 1
    assert process_page(run.pk, 0) is None  # a redelivered first page: already applied, not fetched again
    run.refresh_from_db()
    assert run.cursor["step"] == 1 and "cursor=" in run.cursor["url"] and run.counts["pages"] == 1
    _drive_from = run.cursor["step"]
    step = _drive_from
    while step is not None:
        step = process_page(run.pk, step)
    run.refresh_from_db()
    assert run.status == "succeeded"
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == expected
    assert run.counts["pages"] == math.ceil(len(expected) / 50) == len([e for e in hub.log if e["list"]])
    assert run.counts["models"] == len(expected)


def test_it_stops_the_top_segment_at_n_models_by_downloads(db, hub, replay_records):
    run = start_crawl([{"kind": "top", "limit": 120}])
    _drive(run.pk)
    top = sorted(replay_records, key=lambda r: (r["downloads"] is not None, r["downloads"] or 0, r["id"]),
                 reverse=True)[:120]
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == {r["id"] for r in top}
    assert len([e for e in hub.log if e["list"]]) == 3


def test_it_stops_the_new_segment_at_models_older_than_the_last_crawl(db, hub, replay_records):
    since = "2026-03-01T00:00:00+00:00"
    run = start_crawl([{"kind": "new", "since": since}])
    _drive(run.pk)
    newer = {r["id"] for r in replay_records if r["createdAt"] and r["createdAt"] >= "2026-03-01"}
    assert 0 < len(newer) < 1000
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == newer


def test_it_plans_tracked_orgs_top_n_and_what_is_new_since_the_last_crawl(db, settings):
    from django.utils import timezone

    from ingest.hub.crawl import default_plan
    from observatory.catalog.models import Organization

    settings.CRAWL_TOP_N = 500
    Organization.objects.create(namespace="Qwen", region="china", region_source="atom")
    Organization.objects.create(namespace="stranger", region="unknown", region_source="default")
    # Last, the parents the pages name but the catalogue does not hold (ids taken when it starts).
    assert default_plan() == [{"kind": "org", "author": "Qwen"}, {"kind": "top", "limit": 500},
                              {"kind": "parents", "limit": 1000}]
    started = timezone.now()
    Run.objects.create(kind="crawl", name="earlier", status="succeeded", started_at=started)
    assert default_plan()[-2] == {"kind": "new", "since": started.isoformat()}


@pytest.mark.parametrize("kind, error", [("429", HubRateLimited), ("500", HubTransientError),
                                         ("truncated", HubTransientError)])
def test_it_sorts_injected_faults_into_retryable_errors(replay_hub, kind, error):
    hub = replay_hub(fault_rate=1.0, kinds=(kind,), retry_after=3)
    with pytest.raises(error) as raised:
        get_json(list_url(hub.url, limit=100), timeout=5)
    if kind == "429":
        assert raised.value.retry_after == 3


def test_it_treats_a_slow_answer_past_the_timeout_as_retryable(replay_hub):
    hub = replay_hub(fault_rate=1.0, kinds=("slow",), slow_seconds=2)
    with pytest.raises(HubTransientError):
        get_json(list_url(hub.url, limit=10), timeout=0.5)


def test_it_does_not_retry_a_missing_page_and_fails_the_crawl_saying_why(db, hub, settings):
    from ingest.hub.tasks import crawl_page

    with pytest.raises(HubPermanentError):
        get_json(f"{hub.url}/api/models/nobody/nothing", timeout=5)
    settings.HF_ENDPOINT = f"{hub.url}/not-the-api"
    run = start_crawl([{"kind": "all"}])
    crawl_page.apply(args=(run.pk, 0))
    run.refresh_from_db()
    assert run.status == "failed" and "404" in run.error


def test_it_records_a_renamed_repo_as_an_alias_of_one_model(db, hub, client):
    assert refresh_model("meta-llama/Meta-Llama-3.1-8B-Instruct") == "meta-llama/Llama-3.1-8B-Instruct"
    model = HubModel.objects.get()
    assert model.hub_id == "meta-llama/Llama-3.1-8B-Instruct"
    assert ModelAlias.objects.get().old_hub_id == "meta-llama/Meta-Llama-3.1-8B-Instruct"
    document = client.get("/api/models/meta-llama/Meta-Llama-3.1-8B-Instruct").json()
    assert document["id"] == "meta-llama/Llama-3.1-8B-Instruct"
    assert document["aliases"] == ["meta-llama/Meta-Llama-3.1-8B-Instruct"]


def test_it_answers_the_model_api_with_region_licence_lineage_and_the_latest_snapshot(db, hub, client):
    from observatory.catalog.models import Organization

    Organization.objects.create(namespace="meta-llama", region="us", region_source="atom")
    run = start_crawl([{"kind": "org", "author": "meta-llama"}, {"kind": "top", "limit": 400}])
    _drive(run.pk)
    model = HubModel.objects.filter(hub_id__startswith="meta-llama/", child_edges__isnull=False).first()
    document = client.get(f"/api/models/{model.hub_id}").json()
    assert document["id"] == model.hub_id and document["region"] == "us"
    assert document["licence"] == {"raw": model.licence_raw, "id": model.licence_id or None,
                                   "class": model.licence_class}
    assert document["children_count"] == model.child_edges.count() > 0
    assert document["tracked"] == model.tracked and document["tracked_reason"] == model.tracked_reason
    assert document["latest_snapshot"]["downloads_all_time"] == model.downloads_all_time
    child = model.child_edges.first().child
    parents = client.get(f"/api/models/{child.hub_id}").json()["parents"]
    assert {"id": model.hub_id, "relation": model.child_edges.first().relation} in parents


def test_it_answers_unknown_and_hostile_model_ids_with_json_errors(db, client):
    missing = client.get("/api/models/nobody/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "model not found"
    hostile = client.get("/api/models/a/%3Cscript%3E")
    assert hostile.status_code == 400 and "error" in hostile.json()


def test_it_shows_crawl_runs_and_quarantined_records_on_the_status_page(db, replay_hub, replay_records, settings,
                                                                        client):
    garbage = {**replay_records[0], "id": "<script>alert(1)</script>", "downloads": -1}
    hub = replay_hub(records=[garbage, *replay_records[:59]])
    settings.HF_ENDPOINT = hub.url
    run = start_crawl([{"kind": "all"}], name="status page crawl")
    _drive(run.pk)
    run.refresh_from_db()
    assert (run.status, run.counts["models"], run.counts["quarantined"]) == ("succeeded", 59, 1)
    page = client.get("/status/").content.decode()
    assert "status page crawl" in page and "succeeded" in page and "models=59" in page
    assert "not a Hub repo id" in page and "<script>alert" not in page


def test_it_crawls_from_the_command_line_with_a_progress_bar(transactional_db, hub, settings, replay_records):
    from observatory.celery import app

    app.conf.task_always_eager = True  # the embedded mode: page tasks run in this process
    try:
        out, err = io.StringIO(), io.StringIO()
        call_command("crawl", "--org", "google", "--top", "30", stdout=out, stderr=err)
    finally:
        app.conf.task_always_eager = settings.EMBEDDED_TASKS
    run = Run.objects.get(kind="crawl")
    assert run.status == "succeeded" and f"models={run.counts['models']:,}" in out.getvalue()
    top = sorted(replay_records, key=lambda r: (r["downloads"] is not None, r["downloads"] or 0, r["id"]),
                 reverse=True)[:30]
    expected = {r["id"] for r in replay_records if r["id"].startswith("google/")} | {r["id"] for r in top}
    assert set(HubModel.objects.values_list("hub_id", flat=True)) == expected


def test_it_looks_up_tracked_ids_the_lists_missed_recording_renames_and_gone_repos(db, hub, settings):
    from ingest.hub.crawl import default_plan
    from observatory.catalog.models import TrackedListEntry

    settings.CRAWL_TOP_N = 0
    settings.CRAWL_LOOKUP_PAGE = 2
    for hub_id in ("meta-llama/Meta-Llama-3.1-8B-Instruct", "bert-base-uncased", "gone/model", "google/gemma-2b"):
        TrackedListEntry.objects.create(hub_id=hub_id, list_name="models")
    HubModel.objects.create(hub_id="google/gemma-2b")  # already in the catalogue: not looked up
    plan = default_plan()
    assert plan == [{"kind": "lookup", "ids": ["bert-base-uncased", "gone/model",
                                               "meta-llama/Meta-Llama-3.1-8B-Instruct"]}, {"kind": "parents", "limit": 1000}]
    run = start_crawl(plan)
    assert _drive(run.pk) == 3  # two lookup pages, then the parents page (none to follow)
    run.refresh_from_db()
    assert run.status == "succeeded"
    # Three models: the two renamed repos, and the Llama base the Instruct model names, which the
    # parents segment brought in.
    assert (run.counts["renames"], run.counts["missing"], run.counts["models"]) == (2, 1, 3)
    assert dict(ModelAlias.objects.values_list("old_hub_id", "hub_id")) == {
        "bert-base-uncased": "google-bert/bert-base-uncased",
        "meta-llama/Meta-Llama-3.1-8B-Instruct": "meta-llama/Llama-3.1-8B-Instruct",
    }
    assert [e["path"] for e in hub.log if not e["list"]].count("/api/models/gone/model") == 1
    # Renamed ids now have a name in the catalogue; only the gone repo is asked about again next time.
    assert default_plan()[-2] == {"kind": "lookup", "ids": ["gone/model"]}


def test_it_follows_the_crawl_plan_set_in_the_admin(db, settings, admin_client):
    from ingest.hub.crawl import default_plan
    from ingest.models import CrawlPlan
    from observatory.catalog.models import Organization

    Organization.objects.create(namespace="Qwen", region="china", region_source="atom")
    response = admin_client.post("/admin/ingest/crawlplan/add/", {
        "name": "small", "enabled": "on", "extra_orgs": '["google"]', "top_n": "50",
        "lookup_unseen_tracked": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert default_plan() == [{"kind": "org", "author": "google"}, {"kind": "top", "limit": 50},
                              {"kind": "parents", "limit": 1000}]
    refused = admin_client.post("/admin/ingest/crawlplan/add/", {
        "name": "bad", "enabled": "on", "extra_orgs": '["../etc", 3]', "top_n": "5", "lookup_unseen_tracked": "0"})
    assert refused.status_code == 200 and CrawlPlan.objects.count() == 1
    CrawlPlan.objects.update(enabled=False)
    settings.CRAWL_TOP_N = 7
    assert default_plan() == [{"kind": "org", "author": "Qwen"}, {"kind": "top", "limit": 7}, {"kind": "parents", "limit": 1000}]
