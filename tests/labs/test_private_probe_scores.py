"""A lab's private benchmark score feeds nothing public (the gap's probe source, its CSV and page,
the model card's leaderboard table) until the lab publishes; publishing feeds it exactly once, and
a private run never overwrites a public score."""

import datetime as dt

import pytest

from gpu_workers.models import ProbeRun
from gpu_workers.tasks import store_result
from observatory.catalog.models import HubModel, LeaderboardEntry, Organization
from observatory.catalog.runs import data_version

pytestmark = pytest.mark.django_db
HUB_ID = "acme/model-1"
NAME = "model-1"  # what every view shows of it (the page's chart JSON writes the slash as \u002f)


def benchmark_result(accuracy_norm: float) -> dict:
    """A HellaSwag-subset benchmark result record, as the probe library writes it (the gap draws
    a public set's headline score: HellaSwag's acc_norm)."""
    return {"probe": "benchmark", "seed": 1234, "wall_seconds": 12.5,
            "config": {"item_set": "hellaswag", "limit": 100}, "model": {"hub_id": HUB_ID, "revision": "a" * 40},
            "metrics": {"accuracy": accuracy_norm - 0.1, "accuracy_norm": accuracy_norm, "exact_match": None,
                        "items": 100, "item_set": "hellaswag[limit=100]", "item_set_hash": "f" * 64},
            "device": {"type": "cpu", "dtype": "float32"}}


@pytest.fixture
def model(db):
    org = Organization.objects.create(namespace="acme", region="us")
    return HubModel.objects.create(hub_id=HUB_ID, organization=org, author="acme", release_date=dt.date(2025, 3, 1))


def finish(submission, accuracy: float) -> ProbeRun:
    """What the gpu worker does when the benchmark ends: store_result on the running probe run."""
    probe_run = submission.probe_runs.get()
    probe_run.run.started_at = probe_run.run.created_at
    probe_run.run.save(update_fields=["started_at"])
    store_result(ProbeRun.objects.select_related("run").get(pk=probe_run.pk), benchmark_result(accuracy))
    return probe_run


def public_views(client) -> dict[str, str]:
    return {
        "gap json": client.get("/api/metrics/open-closed-gap?source=probe").content.decode(),
        "gap csv": client.get("/api/metrics/open-closed-gap?source=probe&format=csv").content.decode(),
        "gap page": client.get("/dashboards/open-closed-gap?source=probe").content.decode(),
        "model card table": _entries_table(client.get(f"/models/{HUB_ID}").content.decode()),
    }


def _entries_table(page: str) -> str:
    start = page.find('<table id="entries">')
    return page[start:page.index("</table>", start)] if start >= 0 else ""


def test_it_keeps_a_private_score_off_every_public_view_until_published(client, api_a, labs, make_submission, model):
    submission = make_submission(labs["a"], hub_id=HUB_ID, status="running", probes=("benchmark",))
    finish(submission, 0.8123)
    assert ProbeRun.objects.get(submissions=submission).run.status == "succeeded"
    for view, text in public_views(client).items():
        assert NAME not in text and "0.8123" not in text and "0.81<" not in text, view
    assert not LeaderboardEntry.objects.filter(source="probe").exists()

    version = data_version()
    assert api_a.post(f"/api/submissions/{submission.pk}/publish").status_code == 200
    assert data_version() > version  # cached public metrics move on
    views = public_views(client)
    for view in ("gap json", "gap csv", "gap page"):
        assert NAME in views[view] and "0.8123" in views[view], view
    assert "hellaswag[limit=100]" in views["model card table"] and "0.81" in views["model card table"]


def test_it_feeds_a_published_score_exactly_once(client, api_a, labs, make_submission, model):
    submission = make_submission(labs["a"], hub_id=HUB_ID, status="running", probes=("benchmark",))
    probe_run = finish(submission, 0.8123)
    assert api_a.post(f"/api/submissions/{submission.pk}/publish").status_code == 200
    entry = LeaderboardEntry.objects.get(source="probe")
    version = data_version()
    assert api_a.post(f"/api/submissions/{submission.pk}/publish").status_code == 200  # again: nothing changes
    assert list(LeaderboardEntry.objects.filter(source="probe").values_list("pk", "score")) == [(entry.pk, 0.8123)]
    assert entry.extra["probe_run_id"] == probe_run.pk
    assert data_version() == version
    assert client.get("/api/metrics/open-closed-gap?source=probe").content.decode().count(f'"{HUB_ID}"') >= 1


def test_it_never_lets_a_private_run_overwrite_a_public_score(client, labs, make_submission, model):
    public = make_submission(labs["b"], hub_id=HUB_ID, status="running", probes=("benchmark",), public=True)
    finish(public, 0.5)
    assert LeaderboardEntry.objects.get(source="probe").score == 0.5
    private = make_submission(labs["a"], hub_id=HUB_ID, status="running", probes=("benchmark",))
    finish(private, 0.9)
    assert list(LeaderboardEntry.objects.filter(source="probe").values_list("score", flat=True)) == [0.5]
    card = _entries_table(client.get(f"/models/{HUB_ID}").content.decode())
    assert "0.50" in card and "0.90" not in card


def test_it_keeps_the_newer_public_score_when_an_older_private_run_is_published(
        client, api_a, labs, make_submission, model):
    older = make_submission(labs["a"], hub_id=HUB_ID, status="running", probes=("benchmark",))
    finish(older, 0.9)
    newer = make_submission(labs["b"], hub_id=HUB_ID, status="running", probes=("benchmark",), public=True)
    finish(newer, 0.5)
    assert api_a.post(f"/api/submissions/{older.pk}/publish").status_code == 200
    assert list(LeaderboardEntry.objects.filter(source="probe").values_list("score", flat=True)) == [0.5]


def test_it_feeds_a_run_published_while_running_when_it_ends(client, api_a, labs, make_submission, model):
    submission = make_submission(labs["a"], hub_id=HUB_ID, status="running", probes=("benchmark",))
    assert api_a.post(f"/api/submissions/{submission.pk}/publish").status_code == 200
    assert not LeaderboardEntry.objects.filter(source="probe").exists()
    finish(submission, 0.7)
    assert list(LeaderboardEntry.objects.filter(source="probe").values_list("score", flat=True)) == [0.7]
    assert HUB_ID in client.get("/api/metrics/open-closed-gap?source=probe").content.decode()
