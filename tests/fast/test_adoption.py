"""Adoption metrics (analytics.adoption) on made-up snapshots: cumulative downloads by region at
the window's ends, the adoption curves, ATOM's reference curve and RAM v1/v2, against hand tables."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.analytics import adoption
from tests.fast.made_up import day, models, rows, snapshots

CATALOGUE = models({"model_id": 1, "region": "us"}, {"model_id": 2, "region": "china"},
                   {"model_id": 3, "region": "us", "tracked": False})
SNAPSHOTS = snapshots(
    (1, day(1, 1), 10.0), (1, day(1, 2), 5.0), (1, day(1, 3), None),
    (2, day(1, 2), 2.6), (2, day(1, 3), 0.7),  # running 2.6 → 3, then 3.3 → 3: rounded, not cut
    (3, day(1, 1), 100.0),
    (8, day(1, 1), 7.0),  # not in the catalogue
)


def _cumulative(**kwargs):
    return rows(adoption.cumulative_downloads_by_region(SNAPSHOTS, CATALOGUE, **kwargs))


def test_it_accumulates_tracked_models_by_region_carrying_each_total_forward():
    # Every region present gets a value on every date (the stacked areas need each cell).
    assert _cumulative() == [
        (day(1, 1), "china", 0), (day(1, 1), "us", 10),
        (day(1, 2), "china", 3), (day(1, 2), "us", 15),
        (day(1, 3), "china", 3), (day(1, 3), "us", 15),
    ]


def test_it_counts_untracked_models_in_the_all_scope():
    assert _cumulative(scope="all")[:2] == [(day(1, 1), "china", 0), (day(1, 1), "us", 110)]


def test_it_counts_the_first_and_last_days_of_the_window():
    assert _cumulative(start=day(1, 2)) == [(day(1, 2), "china", 3), (day(1, 2), "us", 5),
                                            (day(1, 3), "china", 3), (day(1, 3), "us", 5)]
    assert _cumulative(end=day(1, 2)) == [(day(1, 1), "china", 0), (day(1, 1), "us", 10),
                                          (day(1, 2), "china", 3), (day(1, 2), "us", 15)]
    assert _cumulative(start=day(1, 3), end=day(1, 3)) == [(day(1, 3), "china", 1), (day(1, 3), "us", 0)]


def test_it_gives_an_empty_table_for_an_empty_window_and_refuses_an_unknown_scope():
    empty = adoption.cumulative_downloads_by_region(SNAPSHOTS, CATALOGUE, start=day(2, 1))
    assert empty.is_empty()
    assert empty.schema == pl.Schema({"date": pl.Date, "region": pl.Utf8, "cumulative_downloads": pl.Int64})
    with pytest.raises(ValueError, match=r"^scope must be 'tracked' or 'all'$"):
        adoption.cumulative_downloads_by_region(SNAPSHOTS, CATALOGUE, scope="everything")


def test_it_orders_regions_by_the_fixed_region_list_when_building_the_grid():
    # eu and unknown only: both carried on both dates, in date then name order.
    increments = pl.DataFrame({"date": [day(1, 1), day(1, 2)], "region": ["unknown", "eu"],
                               "increment": [1.0, 2.0]})
    assert rows(adoption.accumulate_by_region(increments)) == [
        (day(1, 1), "eu", 0), (day(1, 1), "unknown", 1), (day(1, 2), "eu", 2), (day(1, 2), "unknown", 1)]


def test_it_leaves_out_a_region_outside_the_vocabulary():
    increments = pl.DataFrame({"date": [day(1, 1)], "region": ["atlantis"], "increment": [1.0]})
    got = adoption.accumulate_by_region(increments)
    assert got.is_empty()
    assert got.schema == pl.Schema({"date": pl.Date, "region": pl.Utf8, "cumulative_downloads": pl.Int64})


def test_it_gives_daily_increments_within_the_window_with_missing_figures_as_zero():
    got = adoption.daily_increments(SNAPSHOTS, start=day(1, 2), end=day(1, 3))
    assert got.columns == ["model_id", "date", "increment"]
    assert sorted(rows(got)) == [(1, day(1, 2), 5.0), (1, day(1, 3), 0.0), (2, day(1, 2), 2.6), (2, day(1, 3), 0.7)]


# RAM with rank 2: class A (three models and one never counted), class B (one model), class C
# (two models at zero).
RAM_MODELS = models(
    {"model_id": 1, "hub_id": "a/one", "size_class": "1-5B", "release_date": day(1, 1)},
    {"model_id": 2, "hub_id": "a/two", "size_class": "1-5B", "release_date": day(1, 1)},
    {"model_id": 3, "hub_id": "a/three", "size_class": "1-5B", "release_date": day(1, 1)},
    {"model_id": 6, "hub_id": "a/six", "size_class": "1-5B", "release_date": day(1, 2)},
    {"model_id": 4, "hub_id": "b/four", "size_class": "7-9B", "release_date": day(1, 1)},
    {"model_id": 5, "hub_id": "c/five", "size_class": "10-50B", "release_date": day(1, 1)},
    {"model_id": 7, "hub_id": "c/seven", "size_class": "10-50B", "release_date": day(1, 1)},
    {"model_id": 8, "hub_id": "x/unsized", "size_class": None, "release_date": day(1, 1)},
    {"model_id": 10, "hub_id": "d/alone", "size_class": "50-100B", "release_date": day(1, 1)},  # no counts at all
    {"model_id": 9, "hub_id": "x/undated", "size_class": "1-5B", "release_date": None},
)
RAM_SNAPSHOTS = snapshots(
    (1, day(1, 1), None, 10), (1, day(1, 3), None, 50),
    (2, day(1, 1), None, 20, "estimated"), (2, day(1, 3), None, 30),
    (3, day(1, 1), None, 5), (3, day(1, 2), None, 999, "lower-bound"),  # not a count since release
    (3, day(1, 3), None, None),  # no count that day
    (4, day(1, 1), None, 7), (4, day(12, 31, 2024), None, 1),  # before its release: no curve point
    (5, day(1, 1), None, 0), (7, day(1, 1), None, 0),
    (8, day(1, 1), None, 70), (9, day(1, 1), None, 80),
)


def test_it_draws_curves_from_counts_since_release_only():
    got = adoption.adoption_curves(RAM_SNAPSHOTS, RAM_MODELS)
    assert got.columns == ["model_id", "hub_id", "size_class", "days", "cumulative"]
    assert sorted(rows(got, "model_id", "days", "cumulative")) == [
        (1, 0, 10), (1, 2, 50), (2, 0, 20), (2, 2, 30), (3, 0, 5), (4, 0, 7), (5, 0, 0), (7, 0, 0)]
    assert sorted(rows(adoption.adoption_curves(RAM_SNAPSHOTS, RAM_MODELS, end=day(1, 2)), "model_id", "days")) == [
        (1, 0), (2, 0), (3, 0), (4, 0), (5, 0), (7, 0)]
    on_the_end = adoption.adoption_curves(RAM_SNAPSHOTS, RAM_MODELS, end=day(1, 3))
    assert sorted(rows(on_the_end.filter(pl.col("days") == 2), "model_id")) == [(1,), (2,)]


def test_it_takes_the_rank_th_place_made_monotone_and_null_where_too_few_models_have_data():
    curves = pl.DataFrame({
        "size_class": ["A"] * 8 + ["B"] * 2,
        "days": [0, 0, 0, 1, 1, 2, 3, 3, 0, 0],
        "cumulative": [10, 30, 20, 5, 8, 100, 50, 40, 1, 1],
    })
    got = adoption.reference_curves(curves, rank=2)
    assert got.columns == ["size_class", "days", "reference", "models_at_t"]
    assert rows(got) == [("A", 0, 20, 3), ("A", 1, 20, 2), ("A", 2, None, 1), ("A", 3, 40, 2), ("B", 0, 1, 2)]


def test_it_uses_the_tenth_place_by_default():
    curves = pl.DataFrame({"size_class": ["A"] * 11, "days": [0] * 11, "cumulative": list(range(1, 12))})
    assert rows(adoption.reference_curves(curves)) == [("A", 0, 2, 11)]
    assert rows(adoption.reference_curves(curves.head(9))) == [("A", 0, None, 9)]


COLUMNS = ["hub_id", "size_class", "top10_median_downloads", "days_since_release", "cumulative_downloads",
           "reference_10th", "models_at_t", "ram_v1", "ram_v2", "ram_note"]
NO_COUNT = "no cumulative count since release (no daily history, or sampling began after the first 30 days)"


def test_it_gives_ram_v1_and_v2_with_the_reason_for_each_missing_value():
    got = adoption.relative_adoption(RAM_SNAPSHOTS, RAM_MODELS, rank=2)
    assert got.columns == ["hub_id", "organization", "region", "size_class", "release_date", "top10_median_downloads",
                           "days_since_release", "cumulative_downloads", "reference_10th", "models_at_t",
                           "ram_v1", "ram_v2", "ram_note"]
    # Class 1-5B: latest counts 50 (day 2), 30 (day 2), 5 (day 0); top-2 median 40; reference at day 0
    # is the 2nd of (10, 20, 5) = 10, at day 2 the 2nd of (50, 30) = 30.
    assert rows(got, *COLUMNS) == [
        ("a/one", "1-5B", 40.0, 2, 50, 30, 2, 50 / 40, pytest.approx(50 / 30), None),
        ("a/two", "1-5B", 40.0, 2, 30, 30, 2, 30 / 40, 1.0, None),
        ("a/three", "1-5B", 40.0, 0, 5, 10, 3, 5 / 40, 0.5, None),
        ("a/six", "1-5B", 40.0, None, None, None, None, None, None, NO_COUNT),
        ("x/undated", "1-5B", 40.0, None, None, None, None, None, None, NO_COUNT),
        ("c/five", "10-50B", 0.0, 0, 0, 0, 2, None, None, "the class's 10th place has no downloads yet at this day"),
        ("c/seven", "10-50B", 0.0, 0, 0, 0, 2, None, None, "the class's 10th place has no downloads yet at this day"),
        ("d/alone", "50-100B", None, None, None, None, None, None, None, NO_COUNT),
        ("b/four", "7-9B", 7.0, 0, 7, None, 1, 1.0, None, "fewer than 2 models of the class have data at day 0"),
    ]


def test_it_reads_ram_up_to_the_end_day():
    got = adoption.relative_adoption(RAM_SNAPSHOTS, RAM_MODELS, rank=2, end=day(1, 2))
    # Only day 0 is left: latest counts 10, 20, 5; top-2 median 15; reference 10.
    assert rows(got.filter(pl.col("size_class") == "1-5B"), "hub_id", "ram_v1", "ram_v2")[:3] == [
        ("a/two", 20 / 15, 2.0), ("a/one", 10 / 15, 1.0), ("a/three", 5 / 15, 0.5)]


def test_it_defaults_to_rank_ten():
    many = models(*({"model_id": i, "hub_id": f"o/m{i:02d}", "size_class": "1-5B", "release_date": day(1, 1)}
                    for i in range(1, 12)))
    snaps = snapshots(*((i, day(1, 1), None, 10 * i) for i in range(1, 12)))
    got = adoption.relative_adoption(snaps, many)
    # Top ten of 10..110 are 20..110: median 65; the 10th place is 20.
    assert rows(got.head(1), "hub_id", "ram_v1", "ram_v2") == [("o/m11", pytest.approx(110 / 65), 110 / 20)]


@settings(max_examples=30, deadline=None)
@given(counts=st.lists(st.integers(1, 10_000), min_size=3, max_size=8), scale=st.integers(2, 1000))
def test_ram_does_not_change_when_every_count_is_scaled_alike(counts, scale):
    catalogue = models(*({"model_id": i, "hub_id": f"o/m{i}", "size_class": "1-5B", "release_date": day(1, 1)}
                         for i in range(len(counts))))

    def ram(k):
        snaps = snapshots(*((i, day(1, 5), None, c * k) for i, c in enumerate(counts)))
        got = adoption.relative_adoption(snaps, catalogue, rank=3).sort("hub_id")
        return got["ram_v1"].to_list(), got["ram_v2"].to_list()

    (v1, v2), (w1, w2) = ram(1), ram(scale)
    assert w1 == pytest.approx(v1) and w2 == pytest.approx(v2)
