"""New fine-tunes per month by their base's origin (analytics.finetunes) on made-up monthly
counts: steps only between observed consecutive months, the partial last month left out, each
filter and grouping, and the window's ends, against hand-computed tables."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from observatory.analytics import finetunes
from observatory.analytics.frames import FINETUNE_SCHEMA
from tests.fast.made_up import organizations, rows


def d(year, month, day_):
    return dt.date(year, month, day_)


def _counts(*series):
    """(base, created, tracked, [count at month 0, 1, ...]) with None for a month not observed."""
    out = [{"base_hub_id": base, "months_since_creation": n, "cumulative_count": c, "created_date": created,
            "tracked": tracked} for base, created, tracked, counts in series for n, c in enumerate(counts)]
    return pl.DataFrame(out, schema=FINETUNE_SCHEMA)


COUNTS = _counts(
    ("meta/a", d(2024, 1, 31), True, [0, 5, 12, 12, 20]),  # read Jan 31, Feb 29, Mar 31, Apr 30, May 31
    ("qwen/b", d(2024, 2, 10), True, [0, 3, None, 10]),  # month 2 unobserved: no step at months 2 or 3
    ("x/c", d(2024, 3, 15), False, [1, 4]),
    ("mistral/d", d(2024, 1, 1), True, [0, 2, 6]),
)
ORGS = organizations(("meta", "us"), ("qwen", "china"), ("mistral", "eu"))
FEB, MAR, APR, MAY = d(2024, 2, 1), d(2024, 3, 1), d(2024, 4, 1), d(2024, 5, 1)


def test_it_steps_only_between_consecutive_observed_months_placed_in_the_reading_month():
    got = finetunes.monthly_steps(COUNTS)
    assert got.columns == ["base_hub_id", "month", "new_finetunes"]
    assert sorted(rows(got)) == sorted([
        ("meta/a", FEB, 5), ("meta/a", MAR, 7), ("meta/a", APR, 0), ("meta/a", MAY, 8),
        ("qwen/b", MAR, 3), ("x/c", APR, 3), ("mistral/d", FEB, 2), ("mistral/d", MAR, 4)])


def test_it_reads_only_the_columns_a_step_needs():
    counts = COUNTS.with_columns(pl.lit(None, dtype=pl.Boolean).alias("tracked"))
    assert sorted(rows(finetunes.monthly_steps(counts))) == sorted(rows(finetunes.monthly_steps(COUNTS)))


def test_it_gives_a_single_new_fine_tune_the_whole_share():
    one = _counts(("meta/a", d(2024, 1, 1), True, [0, 1, 1]))
    assert _origin_of(one) == [(FEB, "us", 1, 1.0)]  # March holds the last reading: left out


def _origin_of(counts):
    return rows(finetunes.finetunes_by_origin(counts, ORGS))


def test_it_ends_the_window_on_the_last_reading_and_names_the_partial_month():
    assert finetunes.observation_end(COUNTS) == d(2024, 5, 31)  # Jan 31 + 4 months, clipped to the month's end
    assert finetunes.partial_month(COUNTS) == MAY
    empty = COUNTS.head(0)
    assert finetunes.observation_end(empty) is None and finetunes.partial_month(empty) is None


def _origin(**kwargs):
    return rows(finetunes.finetunes_by_origin(COUNTS, ORGS, **kwargs))


def test_it_counts_new_fine_tunes_by_region_of_tracked_bases_without_the_partial_month():
    got = finetunes.finetunes_by_origin(COUNTS, ORGS)
    assert got.columns == ["month", "region", "new_finetunes", "share"]
    assert rows(got) == [
        (FEB, "eu", 2, pytest.approx(2 / 7)), (FEB, "us", 5, pytest.approx(5 / 7)),
        (MAR, "china", 3, pytest.approx(3 / 14)), (MAR, "eu", 4, pytest.approx(4 / 14)), (MAR, "us", 7, 0.5),
        (APR, "us", 0, None),  # nobody gained: no share rather than 0/0
    ]


def test_it_counts_untracked_bases_in_the_all_scope_with_unknown_region():
    assert _origin(scope="all")[-2:] == [(APR, "unknown", 3, 1.0), (APR, "us", 0, 0.0)]


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"regions": ("us",)}, [(FEB, "us", 5, 1.0), (MAR, "us", 7, 1.0), (APR, "us", 0, None)]),
    ({"regions": ("china", "eu")}, [(FEB, "eu", 2, 1.0), (MAR, "china", 3, 3 / 7), (MAR, "eu", 4, 4 / 7)]),
    ({"organization": "qwen"}, [(MAR, "china", 3, 1.0)]),
    ({"start": d(2024, 3, 31)}, [(MAR, "china", 3, 3 / 14), (MAR, "eu", 4, 4 / 14), (MAR, "us", 7, 0.5),
                                 (APR, "us", 0, None)]),
    ({"end": d(2024, 2, 1)}, [(FEB, "eu", 2, 2 / 7), (FEB, "us", 5, 5 / 7)]),
    ({"start": d(2024, 4, 30), "end": d(2024, 4, 1)}, [(APR, "us", 0, None)]),  # both in April: April
    ({"start": d(2024, 5, 1)}, []),  # the partial month stays out even when asked for
])
def test_it_filters_bases_and_months(kwargs, expected):
    assert _origin(**kwargs) == [(*r[:3], None if r[3] is None else pytest.approx(r[3])) for r in expected]


def test_it_splits_regions_into_the_top_organisations():
    got = finetunes.finetunes_by_origin(COUNTS, ORGS, by="organization", top_n=2)
    assert got.columns == ["month", "region", "organization", "new_finetunes", "share"]
    assert rows(got, "month", "region", "organization", "new_finetunes") == [
        (FEB, "eu", "mistral", 2), (FEB, "us", "meta", 5),
        (MAR, "china", "other", 3), (MAR, "eu", "mistral", 4), (MAR, "us", "meta", 7),
        (APR, "us", "meta", 0),
    ]


def test_it_splits_regions_into_the_top_bases_naming_pooled_ones_other():
    got = finetunes.finetunes_by_origin(COUNTS, ORGS, by="base", top_n=1)
    assert got.columns == ["month", "region", "organization", "base_model", "new_finetunes", "share"]
    assert rows(got, "month", "region", "organization", "base_model", "new_finetunes") == [
        (FEB, "eu", "other", "other", 2), (FEB, "us", "meta", "meta/a", 5),
        (MAR, "china", "other", "other", 3), (MAR, "eu", "other", "other", 4), (MAR, "us", "meta", "meta/a", 7),
        (APR, "us", "meta", "meta/a", 0),
    ]


def test_it_breaks_a_ranking_tie_by_name_and_names_eight_by_default():
    tied = _counts(*((f"org{i}/m", d(2024, 1, 1), True, [0, 4, 4]) for i in (3, 1, 2, 9, 8, 7, 6, 5, 4)))
    one = finetunes.finetunes_by_origin(tied, ORGS, by="organization", top_n=1)
    assert rows(one, "organization", "new_finetunes") == [("org1", 4), ("other", 32)]
    eight = finetunes.finetunes_by_origin(tied, ORGS, by="base")
    assert rows(eight, "base_model") == [(f"org{i}/m",) for i in range(1, 9)] + [("other",)]


def test_it_refuses_an_unknown_grouping_or_scope():
    with pytest.raises(ValueError, match="by must be one of region, organization, base"):
        finetunes.finetunes_by_origin(COUNTS, ORGS, by="country")
    with pytest.raises(ValueError, match=r"^scope must be 'tracked' or 'all'$"):
        finetunes.finetunes_by_origin(COUNTS, ORGS, scope="some")
