"""Folding new data into the daily-gain rollup gives the rollup a full rebuild gives, on the real
shared data: the rollup rebuilt without its last days, those days folded back in one by one (the
newest first, then the older ones arriving late), against a rebuild, cell by cell and under the
12 filter sets of test_rollups (test_rollup_fold_cases has what a crawl or an import does to one
model, on made-up rows). The test runs in a transaction rolled back after it, so the session's
shared database is left as it was.
"""


import polars as pl
import pytest
from django.db import connection

from observatory.analytics import frames, gains, rollups
from observatory.analytics.filters import filter_models
from tests.dashboards.rollup_folding import fold as _fold
from tests.dashboards.rollup_folding import rebuilt as _rebuilt
from tests.dashboards.rollup_folding import sorted_rows as _sorted
from tests.dashboards.test_rollups import FILTERS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

HELD_DAYS = 4


def test_folding_the_last_days_back_in_gives_a_full_rebuilds_cells_under_every_filter(loaded_db, caplog):
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT date FROM catalog_downloadsnapshot WHERE source IN ('daily-series', 'crawl') "
                       "ORDER BY date DESC LIMIT %s", [HELD_DAYS])
        days = [d for (d,) in cursor.fetchall()]
        cursor.execute("CREATE TEMPORARY TABLE held ON COMMIT DROP AS "
                       "SELECT * FROM catalog_downloadsnapshot WHERE date = ANY(%s)", [days])
        cursor.execute("DELETE FROM catalog_downloadsnapshot WHERE date = ANY(%s)", [days])
        assert cursor.rowcount > 1000
    rollups.refresh(force=True)  # the rollup of the data up to D-k
    assert rollups.daily_gains().filter(pl.col("date").is_in(days)).is_empty()

    newest, *older = days  # the newest day as a crawl brings it, then the older ones late, oldest first
    for day in [newest, *reversed(older)]:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO catalog_downloadsnapshot SELECT * FROM held WHERE date = %s", [day])
        assert _fold(caplog).startswith("rollup folded")

    folded = {f.key(): filter_models(rollups.daily_gains(f, end=f.end), f) for f in FILTERS}
    everything = _sorted(rollups.daily_gains())
    assert everything.filter(pl.col("date").is_in(days))["rows"].sum() > 1000
    assert everything.equals(_rebuilt())
    expected = gains.daily_gains(frames.snapshots(), frames.models())  # the same cells from the raw rows, in polars
    assert everything.equals(_sorted(expected.select(everything.columns)))
    for f in FILTERS:
        rebuilt = filter_models(rollups.daily_gains(f, end=f.end), f)
        assert _sorted(folded[f.key()]).equals(_sorted(rebuilt)), f.key()
        assert gains.cumulative_downloads_by_region(folded[f.key()], start=f.start, end=f.end).equals(
            gains.cumulative_downloads_by_region(rebuilt, start=f.start, end=f.end)), f.key()
