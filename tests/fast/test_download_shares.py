"""Download shares by organisation (analytics.shares, and analytics.gains over filter cells) on
made-up snapshots, against hand-computed monthly tables."""

from __future__ import annotations

import polars as pl
import pytest

from observatory.analytics import gains, shares
from tests.fast.made_up import day, models, rows, snapshots

CATALOGUE = models({"model_id": 1, "organization": "a"}, {"model_id": 2, "organization": "b"},
                   {"model_id": 3, "organization": "c"}, {"model_id": 4, "organization": "d"})
SNAPSHOTS = snapshots(
    (1, day(1, 10), 10.0), (1, day(2, 5), 30.0),
    (2, day(1, 31), 20.0), (2, day(2, 1), 2.6),  # 2.6 rounds to 3 downloads, not 2
    (3, day(1, 15), 5.0),
    (4, day(2, 20), None),  # no figure that day: adds nothing
    (9, day(1, 10), 1000.0),  # a model outside the catalogue given: not counted
)
# Totals over the range: a 40, b 22.6, c 5, d 0 → with top_n=2, a and b by name, c and d as 'other'.
EXPECTED = [
    (day(1, 1), "b", 20, 20 / 35), (day(1, 1), "a", 10, 10 / 35), (day(1, 1), "other", 5, 5 / 35),
    (day(2, 1), "a", 30, 30 / 33), (day(2, 1), "b", 3, 3 / 33), (day(2, 1), "other", 0, 0.0),
]


def _approx(table):
    return [(*r[:3], pytest.approx(r[3])) for r in table]


def test_it_splits_each_months_downloads_between_the_top_organisations_and_other():
    got = shares.download_share_by_org(SNAPSHOTS, CATALOGUE, top_n=2)
    assert got.columns == ["month", "organization", "downloads", "share"]
    assert rows(got) == _approx(EXPECTED)


def test_it_counts_both_ends_of_the_window():
    assert rows(shares.download_share_by_org(SNAPSHOTS, CATALOGUE, start=day(2, 1), top_n=2)) == _approx(
        [(day(2, 1), "a", 30, 30 / 33), (day(2, 1), "b", 3, 3 / 33), (day(2, 1), "other", 0, 0.0)])
    # Ending on Jan 31 keeps b's 20 from that day; the top two are then b (20) and a (10).
    assert rows(shares.download_share_by_org(SNAPSHOTS, CATALOGUE, end=day(1, 31), top_n=2)) == _approx(
        EXPECTED[:3])


def test_it_gives_an_empty_table_with_the_columns_for_a_window_without_snapshots():
    got = shares.download_share_by_org(SNAPSHOTS, CATALOGUE, start=day(3, 1))
    assert got.is_empty() and got.schema == pl.Schema(shares.EMPTY_SHARES)


def test_it_breaks_a_tie_for_the_last_top_place_by_name():
    tie = snapshots((2, day(1, 3), 5.0), (1, day(1, 3), 5.0))
    got = shares.download_share_by_org(tie, CATALOGUE, top_n=1)
    assert rows(got) == [(day(1, 1), "a", 5, 0.5), (day(1, 1), "other", 5, 0.5)]


def test_it_gives_share_zero_not_nan_in_a_month_where_nobody_gained():
    got = shares.download_share_by_org(snapshots((1, day(3, 2), 0.0), (2, day(3, 2), 0.0)), CATALOGUE)
    assert rows(got) == [(day(3, 1), "a", 0, 0.0), (day(3, 1), "b", 0, 0.0)]


def test_it_names_eight_organisations_by_default():
    many = models(*({"model_id": i, "organization": f"o{i}"} for i in range(1, 11)))
    snaps = snapshots(*((i, day(1, 1), float(100 - i)) for i in range(1, 11)))
    got = shares.download_share_by_org(snaps, many)
    # o9 (91) and o10 (90) make 'other' (181), the largest row of the month.
    assert rows(got, "organization", "downloads") == [("other", 181)] + [(f"o{i}", 100 - i) for i in range(1, 9)]


# Filter cells: (date, tracked, region, organization, size_class, pipeline_tag) sums.
CELL_MODELS = models(
    {"model_id": 1, "organization": "a", "region": "us"}, {"model_id": 2, "organization": "a", "region": "us"},
    {"model_id": 3, "organization": "b", "region": "eu", "size_class": None},
)


def test_it_sums_each_days_gain_over_the_models_of_a_cell_and_counts_their_rows():
    snaps = snapshots((1, day(1, 1), 4.0), (2, day(1, 1), None), (3, day(1, 1), 2.0), (1, day(1, 2), 1.5),
                      (7, day(1, 1), 50.0))
    got = gains.daily_gains(snaps, CELL_MODELS)
    assert got.columns == ["date", *gains.CELL, "gain", "rows"]
    assert rows(got) == [
        (day(1, 1), True, "eu", "b", None, "text-generation", 2.0, 1),
        (day(1, 1), True, "us", "a", "1-5B", "text-generation", 4.0, 2),
        (day(1, 2), True, "us", "a", "1-5B", "text-generation", 1.5, 1),
    ]


def test_it_orders_cells_by_date_then_each_filter_column_with_no_size_class_last():
    catalogue = models(*({"model_id": i, "organization": org, "region": region, "size_class": size}
                         for i, (org, region, size) in enumerate([
                             ("b", "us", "7-9B"), ("a", "us", None), ("a", "us", "1-5B"), ("a", "eu", None),
                             ("c", "china", "1-5B"), ("a", "us", "<1B"), ("b", "china", None)])))
    snaps = snapshots(*((i, day(1, 1), 1.0) for i in range(7)), *((i, day(1, 2), 2.0) for i in range(7)))
    expected = [("china", "b", None), ("china", "c", "1-5B"), ("eu", "a", None), ("us", "a", "1-5B"),
                ("us", "a", "<1B"), ("us", "a", None), ("us", "b", "7-9B")]
    got = rows(gains.daily_gains(snaps, catalogue), "date", "region", "organization", "size_class")
    assert got == [(day(1, 1), *e) for e in expected] + [(day(1, 2), *e) for e in expected]


def test_it_names_eight_organisations_by_default_from_cells():
    many = models(*({"model_id": i, "organization": f"o{i}"} for i in range(1, 11)))
    cells = gains.daily_gains(snapshots(*((i, day(1, 1), float(100 - i)) for i in range(1, 11))), many)
    assert rows(gains.download_share_by_org(cells), "organization", "downloads") == [("other", 181)] + [
        (f"o{i}", 100 - i) for i in range(1, 9)]


def _cells():
    snaps = snapshots((1, day(1, 31), 2.6), (2, day(2, 1), 10.0), (3, day(1, 31), 1.0), (3, day(2, 2), 4.0))
    return gains.daily_gains(snaps, CELL_MODELS)


def test_it_accumulates_cells_by_region_from_the_first_day_of_the_window():
    got = gains.cumulative_downloads_by_region(_cells())
    assert rows(got) == [(day(1, 31), "eu", 1), (day(1, 31), "us", 3), (day(2, 1), "eu", 1), (day(2, 1), "us", 13),
                         (day(2, 2), "eu", 5), (day(2, 2), "us", 13)]
    assert rows(gains.cumulative_downloads_by_region(_cells(), start=day(2, 1), end=day(2, 1))) == [
        (day(2, 1), "us", 10)]
    assert rows(gains.cumulative_downloads_by_region(_cells(), end=day(1, 31))) == [
        (day(1, 31), "eu", 1), (day(1, 31), "us", 3)]


def test_it_gives_an_empty_region_table_for_cells_outside_the_window():
    got = gains.cumulative_downloads_by_region(_cells(), end=day(1, 30))
    assert got.is_empty() and got.columns == ["date", "region", "cumulative_downloads"]


def test_it_shares_cell_downloads_by_organisation_within_the_window():
    got = gains.download_share_by_org(_cells(), top_n=1)
    # a: 2.6 + 10, b: 5 → a named, b as 'other'.
    assert rows(got) == [(day(1, 1), "a", 3, pytest.approx(3 / 4)), (day(1, 1), "other", 1, pytest.approx(1 / 4)),
                         (day(2, 1), "a", 10, pytest.approx(10 / 14)), (day(2, 1), "other", 4, pytest.approx(4 / 14))]
    assert rows(gains.download_share_by_org(_cells(), start=day(2, 2), top_n=1)) == [(day(2, 1), "b", 4, 1.0)]
    assert rows(gains.download_share_by_org(_cells(), end=day(1, 31), top_n=1)) == [
        (day(1, 1), "a", 3, pytest.approx(3 / 4)), (day(1, 1), "other", 1, pytest.approx(1 / 4))]
    empty = gains.download_share_by_org(_cells(), start=day(3, 1))
    assert empty.is_empty() and empty.schema == pl.Schema(shares.EMPTY_SHARES)
