"""The public queue lists public runs only, in order, with a start estimated from median durations."""

import datetime as dt

import pytest

from observatory.labs.queue import QueueRow, estimate

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def row(pk, status, probe="tooling", created=0, progress=0.0, started=None, public=True):
    return QueueRow(probe_run_id=pk, hub_id=f"acme/m{pk}", probe=probe, status=status, public=public,
                    created_at=T0 + dt.timedelta(seconds=created), started_at=started, progress=progress,
                    current_step="")


def test_it_estimates_starts_from_the_running_runs_remaining_time_and_the_medians_ahead():
    rows = estimate([row(3, "queued", "benchmark", created=30), row(1, "running", progress=0.25, started=T0),
                     row(2, "queued", created=10)], {"tooling": 100.0, "benchmark": 400.0}, now=T0)
    by_id = {r.probe_run_id: r for r in rows}
    assert [r.probe_run_id for r in rows] == [1, 2, 3]
    assert by_id[2].position == 1 and by_id[2].estimated_start == T0 + dt.timedelta(seconds=75)
    assert by_id[3].position == 2 and by_id[3].estimated_start == T0 + dt.timedelta(seconds=175)


def test_it_says_unknown_once_a_probe_has_no_finished_runs_to_go_by():
    rows = estimate([row(1, "running", "finetune", started=T0), row(2, "queued", created=5)], {"tooling": 60.0}, T0)
    assert rows[1].position == 1 and rows[1].estimated_start is None


def test_it_shares_the_wait_between_several_workers():
    rows = estimate([row(1, "queued"), row(2, "queued", created=1), row(3, "queued", created=2)],
                    {"tooling": 60.0}, now=T0, workers=2)
    assert [r.estimated_start for r in rows] == [T0, T0, T0 + dt.timedelta(seconds=60)]


@pytest.mark.django_db
def test_it_lists_public_runs_with_positions_counting_private_ones(client, labs, make_submission):
    make_submission(labs["a"], hub_id="acme/finished", status="succeeded", started_ago=500, took=120, public=True)
    make_submission(labs["a"], hub_id="acme/running-public", status="running", progress=0.5, started_ago=30,
                    public=True)
    make_submission(labs["b"], hub_id="secret/private-one", status="queued")
    make_submission(labs["b"], hub_id="acme/waiting-public", status="queued", public=True)
    page = client.get("/queue/").content.decode()
    assert "acme/running-public" in page and "acme/waiting-public" in page
    assert "secret/private-one" not in page and "acme/finished" not in page
    assert "1 private run also holds" in page
    body = client.get("/queue.json").json()
    assert [r["hub_id"] for r in body["running"]] == ["acme/running-public"]
    waiting = body["waiting"][0]
    assert waiting["hub_id"] == "acme/waiting-public" and waiting["position"] == 2  # behind the private one
    # median of the one finished tooling run (120 s): running needs 60 s more, then 120 s for the private one
    start = dt.datetime.fromisoformat(waiting["estimated_start"])
    now = dt.datetime.now(dt.UTC)
    assert 170 <= (start - now).total_seconds() <= 181
