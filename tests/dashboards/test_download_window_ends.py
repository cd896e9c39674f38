"""Download metrics at the ends of their window, on made-up snapshots.

The real snapshots start and end on dates no filter lands on by chance, so these cases are made up:
the window's first day counts its downloads, its last day too, a window holding no snapshot gives
an empty table, and (as properties over random snapshots) cumulative lines never fall, end at the
plain sum of the day's downloads in the window, and a month's shares add up to 1.
Expected values are plain sums over the made-up rows.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory.analytics import adoption, shares
from observatory.analytics.frames import MODEL_SCHEMA, SNAPSHOT_SCHEMA

D1, D2, D3, D4 = dt.date(2025, 1, 30), dt.date(2025, 1, 31), dt.date(2025, 2, 1), dt.date(2025, 2, 2)
MODELS = pl.DataFrame([
    {"model_id": 1, "hub_id": "us-lab/a", "organization": "us-lab", "region": "us", "tracked": True},
    {"model_id": 2, "hub_id": "cn-lab/b", "organization": "cn-lab", "region": "china", "tracked": True},
    {"model_id": 3, "hub_id": "eu-lab/c", "organization": "eu-lab", "region": "eu", "tracked": False},
], schema=MODEL_SCHEMA)
# (model, date, downloads that day); None is a day with no figure (a crawl's first row).
DAYS = [(1, D1, 10.0), (1, D2, 20.0), (1, D3, 30.0), (1, D4, 40.0),
        (2, D1, None), (2, D2, 5.0), (2, D3, 7.0), (2, D4, 9.0),
        (3, D2, 100.0), (3, D3, 100.0)]


def _snapshots(days=DAYS) -> pl.DataFrame:
    return pl.DataFrame([{"model_id": m, "date": d, "downloads_day": n, "cumulative_kind": "all-time"}
                         for m, d, n in days], schema=SNAPSHOT_SCHEMA)


def _cumulative(**window) -> dict:
    frame = adoption.cumulative_downloads_by_region(_snapshots(), MODELS, **window)
    return {(row["date"], row["region"]): row["cumulative_downloads"] for row in frame.iter_rows(named=True)}


def test_it_counts_the_first_days_downloads_when_the_window_starts_on_it():
    got = _cumulative(start=D2)
    assert got[(D2, "us")] == 20 and got[(D2, "china")] == 5
    assert got[(D4, "us")] == 20 + 30 + 40 and got[(D4, "china")] == 5 + 7 + 9
    assert min(day for day, _ in got) == D2


def test_it_counts_the_last_days_downloads_when_the_window_ends_on_it():
    got = _cumulative(start=D1, end=D3)
    assert got[(D3, "us")] == 10 + 20 + 30 and got[(D3, "china")] == 0 + 5 + 7
    assert max(day for day, _ in got) == D3


def test_it_gives_a_one_day_window_that_days_downloads():
    assert _cumulative(start=D3, end=D3) == {(D3, "us"): 30, (D3, "china"): 7}


@pytest.mark.parametrize("window", [{"start": dt.date(2025, 3, 1)}, {"end": dt.date(2025, 1, 1)},
                                    {"start": D4, "end": D1}], ids=["after", "before", "reversed"])
def test_it_gives_an_empty_table_for_a_window_holding_no_snapshot(window):
    cumulative = adoption.cumulative_downloads_by_region(_snapshots(), MODELS, **window)
    assert cumulative.is_empty() and cumulative.columns == ["date", "region", "cumulative_downloads"]
    share = shares.download_share_by_org(_snapshots(), MODELS, **window)
    assert share.is_empty() and share.schema == pl.Schema(shares.EMPTY_SHARES)


def test_it_splits_shares_at_the_month_boundary_inside_the_window():
    got = shares.download_share_by_org(_snapshots(), MODELS.filter(pl.col("tracked")), start=D2, end=D3)
    # January holds only D2 (20 + 5), February only D3 (30 + 7).
    assert got.rows() == [(dt.date(2025, 1, 1), "us-lab", 20, 20 / 25), (dt.date(2025, 1, 1), "cn-lab", 5, 5 / 25),
                          (D3, "us-lab", 30, 30 / 37), (D3, "cn-lab", 7, 7 / 37)]


def test_it_counts_untracked_models_only_in_the_all_scope():
    assert (D3, "eu") not in _cumulative(start=D1)
    frame = adoption.cumulative_downloads_by_region(_snapshots(), MODELS, start=D1, scope="all")
    assert frame.filter((pl.col("date") == D3) & (pl.col("region") == "eu"))["cumulative_downloads"].to_list() == [200]


# --- properties over random snapshots -------------------------------------------------------------

FIRST = dt.date(2025, 1, 1)
day_rows = st.lists(
    st.tuples(st.sampled_from([1, 2, 3]), st.integers(0, 75),
              st.one_of(st.none(), st.integers(0, 10_000).map(float))),
    min_size=1, max_size=40, unique_by=lambda row: (row[0], row[1]))
windows = st.tuples(st.integers(0, 75), st.integers(0, 75))


def _random_snapshots(rows):
    return _snapshots([(m, FIRST + dt.timedelta(days=offset), n) for m, offset, n in rows])


@settings(max_examples=60, deadline=None)
@given(rows=day_rows, window=windows)
def test_it_never_lets_a_cumulative_line_fall_and_ends_it_at_the_plain_sum(rows, window):
    start, end = (FIRST + dt.timedelta(days=w) for w in sorted(window))
    frame = adoption.cumulative_downloads_by_region(_random_snapshots(rows), MODELS, start=start, end=end,
                                                    scope="all")
    region_of = {1: "us", 2: "china", 3: "eu"}
    expected = {}
    for model, offset, downloads in rows:
        if start <= FIRST + dt.timedelta(days=offset) <= end:
            expected[region_of[model]] = expected.get(region_of[model], 0) + (downloads or 0)
    got = {}
    for region, line in frame.sort("date").group_by("region", maintain_order=True):
        values = line["cumulative_downloads"].to_list()
        assert all(a <= b for a, b in zip(values, values[1:])), (region, values)
        got[region[0]] = values[-1]
    assert got == {region: round(total) for region, total in expected.items()}


@settings(max_examples=60, deadline=None)
@given(rows=day_rows, window=windows, top_n=st.integers(1, 3))
def test_it_makes_each_months_shares_add_up_to_one(rows, window, top_n):
    start, end = (FIRST + dt.timedelta(days=w) for w in sorted(window))
    frame = shares.download_share_by_org(_random_snapshots(rows), MODELS, start=start, end=end, top_n=top_n)
    for (month,), part in frame.group_by("month"):
        if part["downloads"].sum() > 0:
            assert part["share"].sum() == pytest.approx(1.0), month
        else:  # a month of zeros shares nothing, rather than dividing by zero
            assert part["share"].to_list() == [0.0] * part.height
