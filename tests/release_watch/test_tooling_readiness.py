"""Tooling readiness over time: what is due (days 0, 1, 3, 7, 14, 30 and new revisions, a missed
stretch caught up once), beat's scheduling on the database with the clock moved, the model
card's dated timeline and days to ready, and the dashboard's groups and shares."""

from __future__ import annotations

import datetime as dt

import pytest

from gpu_workers import readiness
from gpu_workers.models import ProbeRun
from gpu_workers.tooling_schedule import due_checks, queue_due_checks
from observatory.analytics.filters import Filters
from observatory.catalog.models import HubModel, Organization, Run
from observatory.dashboards.params import ChartParams
from observatory.dashboards.probe_metrics import tooling_readiness_parts
from tests.probe_rows import at, finished_run, tooling_checks

D = dt.date(2025, 3, 1)
REV = "b" * 40


def day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


# (today's day, days already asked, current revision) → due reason: a hand-written table.
@pytest.mark.parametrize("today, asked, revision, expected", [
    (0, [], "", "day 0 after release"),
    (0, [0], "", None),
    (1, [0], "", "day 1 after release"),
    (2, [0, 1], "", None),
    (10, [0], "", "day 7 after release"),  # days 1, 3 and 7 missed: one check, for the latest
    (10, [0, 10], "", None),  # caught up: nothing more that day, nor for the missed days
    (13, [0, 10], "", None),
    (14, [0, 10], "", "day 14 after release"),
    (45, [0, 1, 3, 7, 14, 30], "", None),  # past day 30: nothing by the calendar
    (45, [0, 1, 3, 7, 14, 30], "new", "new revision new"),
    (-2, [], "", None),  # not released yet
])
def test_what_is_due(today, asked, revision, expected):
    made = [(day(n), REV) for n in asked]
    assert readiness.due(D, made, today=day(today), current_revision=revision) == expected


def test_days_to_ready_is_the_first_check_with_every_check_passing():
    checks = [readiness.Check(day(0), REV, 6, 8), readiness.Check(day(3), REV, 8, 8), readiness.Check(day(7), REV, 7, 8)]
    assert readiness.days_to_ready(D, checks) == 3
    assert [(r["day"], r["ready"], r["first_ready"]) for r in readiness.timeline(D, checks)] == [
        (0, False, False), (3, True, True), (7, False, False)]
    assert readiness.days_to_ready(D, checks[:1]) is None


@pytest.fixture
def watched(db):
    org = Organization.objects.create(namespace="acme", region="us")
    other = Organization.objects.create(namespace="zeta-ai", region="china")
    model = HubModel.objects.create(hub_id="acme/fresh", organization=org, tracked=True, release_date=D,
                                    size_class="<1B", licence_class="permissive")
    finished_run(model, "tooling", finished=at(day(0)), revision=REV,
                 checks=tooling_checks(("chat_template_present", "chat_template_renders")))
    late = HubModel.objects.create(hub_id="zeta-ai/late", organization=other, tracked=True, release_date=D,
                                   size_class="<1B", licence_class="permissive")
    finished_run(late, "tooling", finished=at(day(0)), revision=REV, checks=tooling_checks(("generation_sane",)))
    return model, late


def test_beat_queues_one_check_per_model_and_day_then_nothing(watched):
    model, late = watched
    assert [(d.model.hub_id, d.reason) for d in due_checks(today=day(10))] == [
        ("acme/fresh", "day 7 after release"), ("zeta-ai/late", "day 7 after release")]
    queued = queue_due_checks(today=day(10))
    assert len(queued) == 2
    assert ProbeRun.objects.filter(probe="tooling", run__status="queued").count() == 2
    # The queued runs were asked today; a second beat (the clock moved to the same day) queues nothing.
    Run.objects.filter(status="queued").update(created_at=at(day(10)))
    assert queue_due_checks(today=day(10)) == []
    assert ProbeRun.objects.filter(probe="tooling").count() == 4


def test_a_new_revision_is_checked_whatever_the_day(watched):
    model, _late = watched
    finished_run(model, "benchmark", finished=at(day(40)), revision="c" * 40,
                 metrics={"accuracy": 0.4, "accuracy_norm": 0.4, "items": 40, "item_set_hash": "f" * 64})
    due = [d for d in due_checks(today=day(40)) if d.model == model]
    assert [(d.reason, d.revision) for d in due] == [(f"new revision {'c' * 12}", "c" * 40)]


def test_the_card_shows_a_dated_timeline_and_days_to_ready(watched, client):
    model, _late = watched
    finished_run(model, "tooling", finished=at(day(3)), revision=REV, checks=tooling_checks())
    page = client.get("/models/acme/fresh").content.decode()
    section = page[page.index('id="tooling-timeline"'):]
    section = section[:section.index("</section>")]
    assert "Ready 3 days after release (every check passed on 2025-03-04)" in section
    assert section.count("<tr") == 3  # the header and two dated checks
    assert "2025-03-01" in section and "2025-03-04" in section
    assert "chat_template_present, chat_template_renders" in section


def test_the_dashboard_counts_days_to_ready_and_shares_of_releases_old_enough(watched, client):
    model, late = watched
    finished_run(model, "tooling", finished=at(day(3)), revision=REV, checks=tooling_checks())

    def table(today):
        rows, _as_of, _extra, info = tooling_readiness_parts(ChartParams(filters=Filters()), today=today)
        assert info["by"] == "region"
        return {(r["group"], r["release_month"]): (r["releases"], r["ready"], r["median_days_to_ready"],
                                                  (r["ready_day_0"], r["ready_day_0_of"]),
                                                  (r["ready_day_7"], r["ready_day_7_of"]),
                                                  (r["ready_day_30"], r["ready_day_30_of"])) for r in rows.to_dicts()}

    month = dt.date(2025, 3, 1)
    # On day 8 (the clock moved): fresh was ready at day 3; late is not ready, 8 days old, so it
    # counts against day 0 and day 7 but not yet against day 30. By hand:
    assert table(day(8)) == {("china", month): (1, 0, None, (0, 1), (0, 1), (0, 0)),
                             ("us", month): (1, 1, 3.0, (0, 1), (1, 1), (1, 1))}
    # late becomes ready on day 9; on day 31 every share counts both.
    finished_run(late, "tooling", finished=at(day(9)), revision=REV, checks=tooling_checks())
    assert table(day(31)) == {("china", month): (1, 1, 9.0, (0, 1), (0, 1), (1, 1)),
                              ("us", month): (1, 1, 3.0, (0, 1), (1, 1), (1, 1))}
    body = client.get("/api/metrics/tooling-readiness?by=organization").json()
    assert sorted((r["group"], r["median_days_to_ready"]) for r in body["rows"]) == [("acme", 3.0), ("zeta-ai", 9.0)]
    assert {m["hub_id"]: m["days_to_ready"] for m in body["models"]} == {"acme/fresh": 3, "zeta-ai/late": 9}
    page = client.get("/dashboards/tooling-readiness")
    assert page.status_code == 200 and "acme/fresh" in page.content.decode()
    csv_text = client.get("/api/metrics/tooling-readiness?by=organization&format=csv").content.decode()
    assert "# methodology: metric=tooling-readiness/v1" in csv_text and "\nzeta-ai,2025-03-01," in csv_text
