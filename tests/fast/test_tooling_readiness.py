"""The tooling-readiness dashboard (analytics.tooling_readiness) on made-up releases: each checked
release's readiness at days 0, 7 and 30 with both ends of every day (a release ready exactly on day
N, a release exactly N days old), and the groups' counts, medians and shares, against hand tables."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from observatory.analytics import tooling_readiness
from observatory.analytics.probe_frames import READINESS_SCHEMA
from tests.fast.made_up import models, rows

TODAY = dt.date(2025, 4, 5)
MARCH, APRIL = dt.date(2025, 3, 1), dt.date(2025, 4, 1)


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


# (model_id, hub_id, organization, region, released days before TODAY, checks, days to ready or None)
RELEASES = [
    (1, "acme/day-zero", "acme", "us", 0, 1, 0),  # released today and ready the same day
    (2, "acme/week", "acme", "us", 7, 3, 7),  # ready exactly on day 7, exactly 7 days old
    (3, "zeta/never", "zeta", "china", 30, 6, None),  # exactly 30 days old, never ready
    (4, "beta/young", "beta", "us", 6, 2, None),  # 6 days old: not yet due at day 7
    (5, "zeta/late", "zeta", "china", 29, 5, 8),  # ready on day 8: one day past day 7
    (8, "acme/quick", "acme", "us", 29, 4, 1),  # released the same day as zeta/late
    (9, "beta/newest", "beta", "eu", 1, 1, None),
]
CATALOGUE = models(
    *[{"model_id": i, "hub_id": h, "organization": o, "region": r, "release_date": ago(age)}
      for i, h, o, r, age, _, _ in RELEASES],
    {"model_id": 6, "hub_id": "acme/undated", "organization": "acme", "release_date": None},  # checked, no date
    {"model_id": 7, "hub_id": "acme/unchecked", "organization": "acme", "release_date": ago(3)},  # never checked
)
READINESS = pl.DataFrame(
    [{"model_id": i, "checks": c, "first_check": ago(age),
      "ready_on": None if d is None else ago(age) + dt.timedelta(days=d), "days_to_ready": d}
     for i, _, _, _, age, c, d in RELEASES]
    + [{"model_id": 6, "checks": 2, "first_check": ago(2), "ready_on": ago(2), "days_to_ready": None}],
    schema=READINESS_SCHEMA)

COLUMNS = ["hub_id", "organization", "region", "release_date", "release_month", "checks", "ready_on",
           "days_to_ready", "ready_day_0", "ready_day_0_of", "ready_day_7", "ready_day_7_of", "ready_day_30",
           "ready_day_30_of"]


def test_it_tells_each_checked_release_ready_or_due_at_days_0_7_and_30_newest_first():
    table = tooling_readiness.per_model(CATALOGUE, READINESS, today=TODAY)
    assert table.columns == COLUMNS
    # (hub_id, release_month, days_to_ready, ready_0, of_0, ready_7, of_7, ready_30, of_30): "of" is
    # ready by then, or at least N days old at TODAY.
    assert rows(table, "hub_id", "release_month", "days_to_ready", *COLUMNS[8:]) == [
        ("acme/day-zero", APRIL, 0, True, True, True, True, True, True),
        ("beta/newest", APRIL, None, False, True, False, False, False, False),
        ("beta/young", MARCH, None, False, True, False, False, False, False),
        ("acme/week", MARCH, 7, False, True, True, True, True, True),
        ("acme/quick", MARCH, 1, False, True, True, True, True, True),  # same day: Hub id order
        ("zeta/late", MARCH, 8, False, True, False, True, True, True),
        ("zeta/never", MARCH, None, False, True, False, True, False, True),
    ]
    week = table.row(3, named=True)
    assert (week["organization"], week["region"], week["release_date"], week["checks"], week["ready_on"]) == (
        "acme", "us", ago(7), 3, TODAY)


def test_a_release_of_today_counts_at_day_0_only():
    released_today = models({"model_id": 1, "release_date": TODAY}, {"model_id": 2, "release_date": TODAY})
    readiness = pl.DataFrame([(1, 1, TODAY, None, None), (2, 1, TODAY, TODAY, 0)], schema=READINESS_SCHEMA,
                             orient="row")
    table = tooling_readiness.per_model(released_today, readiness, today=TODAY)
    assert rows(table, "hub_id", *COLUMNS[8:]) == [
        ("org1/m1", False, True, False, False, False, False),
        ("org2/m2", True, True, True, True, True, True),
    ]


def test_no_checks_make_an_empty_table_and_empty_groups():
    table = tooling_readiness.per_model(CATALOGUE, READINESS.clear(), today=TODAY)
    assert table.is_empty() and table.columns == COLUMNS
    groups = tooling_readiness.by_group(table, by="region")
    assert groups.is_empty()
    assert groups.columns == GROUP_COLUMNS


GROUP_COLUMNS = ["group", "release_month", "releases", "ready", "median_days_to_ready", "ready_day_0",
                 "ready_day_0_of", "ready_day_7", "ready_day_7_of", "ready_day_30", "ready_day_30_of",
                 "share_ready_day_0", "share_ready_day_7", "share_ready_day_30"]


def test_it_counts_and_shares_readiness_by_region_and_month():
    groups = tooling_readiness.by_group(tooling_readiness.per_model(CATALOGUE, READINESS, today=TODAY), by="region")
    assert groups.columns == GROUP_COLUMNS
    assert groups.schema["releases"] == pl.Int64 and groups.schema["ready_day_7_of"] == pl.Int64
    assert groups.schema["ready"] == pl.Int64 and groups.schema["ready_day_30"] == pl.Int64
    # A share's denominator of zero (nobody due yet, nobody ready) leaves the share empty, not 0.
    assert rows(groups) == [
        ("china", MARCH, 2, 1, 8.0, 0, 2, 0, 2, 1, 2, 0.0, 0.0, 0.5),
        ("eu", APRIL, 1, 0, None, 0, 1, 0, 0, 0, 0, 0.0, None, None),
        ("us", MARCH, 3, 2, 4.0, 0, 3, 2, 2, 2, 2, 0.0, 1.0, 1.0),
        ("us", APRIL, 1, 1, 0.0, 1, 1, 1, 1, 1, 1, 1.0, 1.0, 1.0),
    ]


def test_it_counts_and_shares_readiness_by_organisation_and_month():
    groups = tooling_readiness.by_group(tooling_readiness.per_model(CATALOGUE, READINESS, today=TODAY),
                                        by="organization")
    assert rows(groups) == [
        ("acme", MARCH, 2, 2, 4.0, 0, 2, 2, 2, 2, 2, 0.0, 1.0, 1.0),
        ("acme", APRIL, 1, 1, 0.0, 1, 1, 1, 1, 1, 1, 1.0, 1.0, 1.0),
        ("beta", MARCH, 1, 0, None, 0, 1, 0, 0, 0, 0, 0.0, None, None),
        ("beta", APRIL, 1, 0, None, 0, 1, 0, 0, 0, 0, 0.0, None, None),
        ("zeta", MARCH, 2, 1, 8.0, 0, 2, 0, 2, 1, 2, 0.0, 0.0, 0.5),
    ]


@pytest.mark.parametrize("by", ["licence_class", "Region", ""])
def test_it_refuses_to_group_by_anything_but_region_or_organisation(by):
    table = tooling_readiness.per_model(CATALOGUE, READINESS, today=TODAY)
    with pytest.raises(ValueError, match=r"^by must be region or organization$"):
        tooling_readiness.by_group(table, by=by)
