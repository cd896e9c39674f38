"""The relative-adoption aggregates (analytics.ram_aggregates) give exactly the raw path's RAM.

On the real shared data: the table and the reference curves from the aggregates against the
ones computed from every raw row, under the 12 filter sets of test_rollups; the chart's drawn
curves; the last days held back and folded in (the newest as a crawl brings it, the older ones
late) against a full rebuild. On made-up rows on top of them: ties at 10th place, fewer than 10
models, a model changing size class, organisation or release date, a day arriving late, a day
crawled again, a row deleted; after every fold the aggregates equal a rebuild and the made-up
organisation's numbers equal the raw path's and a count by hand. Every test runs in a
transaction rolled back after it.
"""

import datetime as dt

import polars as pl
import pytest
from django.db import connection

from observatory.analytics import adoption, frames, ram_aggregates, rollups
from observatory.analytics.filters import Filters, filter_models
from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS
from tests.dashboards.rollup_folding import fold as _fold
from tests.dashboards.rollup_folding import sorted_rows as _sorted
from tests.dashboards.test_rollups import FILTERS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# An `end` inside the data cuts each model's curve at its own t: the aggregates cannot, raw rows serve it.
INSIDE = [f for f in FILTERS if f.end == dt.date(2024, 12, 31)]
SERVED = [f for f in FILTERS if f not in INSIDE]


def _raw(f: Filters) -> tuple[pl.DataFrame, pl.DataFrame]:
    models = filter_models(frames.models(("hub_id", "release_date", "downloads_all_time"), f), f)
    snaps = frames.snapshots(end=f.end, filters=f, since_release=True)
    reference = adoption.reference_curves(adoption.adoption_curves(snaps, models, end=f.end))
    return adoption.relative_adoption(snaps, models, end=f.end), reference


def _aggregated(f: Filters) -> tuple[pl.DataFrame, pl.DataFrame]:
    served = ram_aggregates.served(f)
    assert served is not None, f.key()
    latest, places = served
    models = filter_models(frames.models(("hub_id", "release_date", "downloads_all_time"), f), f)
    reference = adoption.monotone_reference(places)
    return adoption.ram_table(models.filter(pl.col("size_class").is_not_null()), latest, reference), reference


def _same_as_raw(f: Filters) -> pl.DataFrame:
    table, reference = _aggregated(f)
    raw_table, raw_reference = _raw(f)
    assert table.equals(raw_table), f.key()
    assert reference.equals(raw_reference), f.key()
    return table


def _aggregates() -> tuple[pl.DataFrame, pl.DataFrame]:
    latest = frames.read("SELECT model_id, tracked, region, organization, size_class, pipeline_tag, release_date, "
                         "date, cumulative FROM catalog_ramlatest", [],
                         {"model_id": pl.Int64, "tracked": pl.Boolean, "region": pl.Utf8, "organization": pl.Utf8,
                          "size_class": pl.Utf8, "pipeline_tag": pl.Utf8, "release_date": pl.Date, "date": pl.Date,
                          "cumulative": pl.Int64})
    places = frames.read("SELECT tracked, region, organization, size_class, pipeline_tag, days, rank, cumulative, "
                         "points FROM catalog_ramplace", [],
                         {"tracked": pl.Boolean, "region": pl.Utf8, "organization": pl.Utf8, "size_class": pl.Utf8,
                          "pipeline_tag": pl.Utf8, "days": pl.Int64, "rank": pl.Int64, "cumulative": pl.Int64,
                          "points": pl.Int64})
    return _sorted(latest), _sorted(places)


def _folded_equals_rebuilt(caplog) -> None:
    assert _fold(caplog).startswith("rollup folded")
    folded = _aggregates()
    rollups.refresh(force=True)
    rebuilt = _aggregates()
    assert folded[0].equals(rebuilt[0]) and folded[1].equals(rebuilt[1])


@pytest.mark.parametrize("filters", SERVED, ids=lambda f: f.key())
def test_the_aggregates_give_the_raw_paths_table_and_reference_under_every_filter(loaded_db, filters):
    rollups.refresh(force=True)
    table = _same_as_raw(filters)
    if filters == Filters():
        assert table["ram_v2"].drop_nulls().len() > 10 and table["reference_10th"].drop_nulls().len() > 10


def test_an_end_inside_the_data_is_served_from_the_raw_rows(loaded_db):
    rollups.refresh(force=True)
    assert all(ram_aggregates.served(f) is None for f in INSIDE)
    assert ram_aggregates.served(Filters()) is not None


def test_the_chart_draws_the_raw_paths_curves_and_reference(loaded_db):
    rollups.refresh(force=True)
    for f in (Filters(), Filters(size_class="1-5B", scope="all")):
        p = ChartParams(filters=f)
        computed = METRICS["relative-adoption"].compute(p)
        size_class = computed.info["size_class"]
        models = filter_models(frames.models(("hub_id", "release_date", "downloads_all_time"), f), f)
        raw_table, raw_reference = _raw(f)
        chosen = (raw_table.filter((pl.col("size_class") == size_class) & pl.col("days_since_release").is_not_null())
                  .head(p.top)["hub_id"].to_list())
        curves = adoption.adoption_curves(frames.snapshots(filters=f, since_release=True),
                                          models.filter(pl.col("size_class") == size_class))
        assert computed.rows.equals(raw_table)
        assert computed.extra["reference"].equals(raw_reference.filter(pl.col("size_class") == size_class))
        drawn = computed.extra["curves"]
        assert drawn["hub_id"].n_unique() == len(chosen) > 0
        assert _sorted(drawn).equals(_sorted(curves.filter(pl.col("hub_id").is_in(chosen))))


def test_folding_held_back_days_in_gives_a_rebuilds_aggregates_and_the_raw_numbers(loaded_db, caplog):
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT date FROM catalog_downloadsnapshot WHERE source IN ('daily-series', 'crawl') "
                       "ORDER BY date DESC LIMIT 4")
        days = [d for (d,) in cursor.fetchall()]
        cursor.execute("CREATE TEMPORARY TABLE held ON COMMIT DROP AS "
                       "SELECT * FROM catalog_downloadsnapshot WHERE date = ANY(%s)", [days])
        cursor.execute("DELETE FROM catalog_downloadsnapshot WHERE date = ANY(%s)", [days])
        assert cursor.rowcount > 1000
    rollups.refresh(force=True)
    newest, *older = days
    for day in [newest, *reversed(older)]:
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO catalog_downloadsnapshot SELECT * FROM held WHERE date = %s", [day])
        _folded_equals_rebuilt(caplog)
    for f in SERVED:
        _same_as_raw(f)


# --- made-up rows -----------------------------------------------------------------------------

RELEASE = dt.date(2031, 1, 1)
MINE = Filters(organization="ram-test", scope="all")


def day(t: int) -> dt.date:
    return RELEASE + dt.timedelta(days=t)


@pytest.fixture
def made_up(loaded_db):
    """Twelve sized models of one organisation, released on one day, with counts at t = 5 that tie
    at 9th to 11th place, and nine of them at t = 6; folded in, the aggregates fresh."""
    rollups.refresh(force=True)
    org = Organization.objects.create(namespace="ram-test", region="eu")
    Organization.objects.create(namespace="ram-other", region="us")
    models = [HubModel.objects.create(hub_id=f"ram-test/m{i:02d}", organization=org, author="ram-test", tracked=True,
                                      size_class="7-9B", pipeline_tag="text-generation", release_date=RELEASE)
              for i in range(12)]
    at_5 = [1200, 1100, 1000, 900, 800, 700, 600, 500, 300, 300, 300, 100]
    rows = [DownloadSnapshot(model=m, date=day(5), downloads_all_time=n) for m, n in zip(models, at_5)]
    rows += [DownloadSnapshot(model=m, date=day(6), downloads_all_time=n + 50) for m, n in zip(models[:9], at_5)]
    DownloadSnapshot.objects.bulk_create(rows)
    return models


def _mine(caplog) -> dict:
    """Fold, check against a rebuild and the raw path; {hub_id: (days, reference_10th, ram_v2)}."""
    _folded_equals_rebuilt(caplog)
    table = _same_as_raw(MINE)
    _same_as_raw(Filters())
    return {r["hub_id"]: (r["days_since_release"], r["reference_10th"], r["ram_v2"])
            for r in table.iter_rows(named=True)}


def test_ties_at_10th_place_and_fewer_than_10_models(made_up, caplog):
    got = _mine(caplog)
    # At t = 5 the 10th-highest of 12 counts is 300 (9th to 11th tie); at t = 6 nine models: no reference.
    assert got["ram-test/m11"] == (5, 300, pytest.approx(100 / 300))
    assert got["ram-test/m09"] == (5, 300, 1.0) and got["ram-test/m10"] == (5, 300, 1.0)
    assert got["ram-test/m00"] == (6, None, None)


def test_a_model_changing_size_class_organisation_or_release_date(made_up, caplog):
    _mine(caplog)
    HubModel.objects.filter(hub_id="ram-test/m11").update(size_class="1-5B")
    got = _mine(caplog)
    assert "ram-test/m11" in got and got["ram-test/m10"] == (5, 300, 1.0)  # still 11 models at t = 5
    HubModel.objects.filter(hub_id="ram-test/m10").update(organization=Organization.objects.get(namespace="ram-other"))
    got = _mine(caplog)
    assert "ram-test/m10" not in got and got["ram-test/m09"] == (5, 300, 1.0)  # ten 7-9B models left at t = 5
    HubModel.objects.filter(hub_id="ram-test/m10").update(organization=Organization.objects.get(namespace="ram-test"))
    HubModel.objects.filter(hub_id="ram-test/m11").update(size_class="7-9B")
    HubModel.objects.filter(hub_id="ram-test/m03").update(release_date=day(-1))  # its points move to t = 6 and 7
    got = _mine(caplog)
    assert got["ram-test/m03"] == (7, None, None) and got["ram-test/m11"] == (5, 300, pytest.approx(100 / 300))
    Organization.objects.filter(namespace="ram-test").update(region="china")
    got = _mine(caplog)
    assert got["ram-test/m11"] == (5, 300, pytest.approx(100 / 300))


def test_a_late_day_a_day_crawled_again_and_a_row_deleted(made_up, caplog):
    _mine(caplog)
    m11 = HubModel.objects.get(hub_id="ram-test/m11")
    DownloadSnapshot.objects.create(model=m11, date=day(7), downloads_all_time=2000)  # a new day: a new point
    got = _mine(caplog)
    assert got["ram-test/m11"] == (7, None, None) and got["ram-test/m10"] == (5, 300, 1.0)
    DownloadSnapshot.objects.create(model=m11, date=day(4), downloads_all_time=90)  # late: before its latest
    _mine(caplog)
    DownloadSnapshot.objects.filter(model__hub_id="ram-test/m09", date=day(5)).update(downloads_all_time=1500)
    got = _mine(caplog)
    assert got["ram-test/m10"] == (5, 300, 1.0) and got["ram-test/m09"] == (5, 300, 5.0)
    DownloadSnapshot.objects.filter(model__hub_id="ram-test/m09", date=day(5)).update(downloads_all_time=200)
    got = _mine(caplog)  # it fell below the tie: the 10th place is one of the two 300s still
    assert got["ram-test/m09"] == (5, 300, pytest.approx(200 / 300))
    DownloadSnapshot.objects.filter(model__hub_id="ram-test/m08", date=day(5)).delete()
    got = _mine(caplog)  # eleven points at t = 5 now: 1200 … 500, 300, 200, 100
    assert got["ram-test/m10"] == (5, 200, 1.5)
    DownloadSnapshot.objects.filter(model__hub_id="ram-test/m07", date=day(5)).update(cumulative_kind="lower-bound")
    got = _mine(caplog)  # a lower bound is no point: ten left at t = 5, the 10th is m11's 100
    assert got["ram-test/m10"] == (5, 100, 3.0) and got["ram-test/m07"] == (6, None, None)
