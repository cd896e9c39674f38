"""The home page shows the real counts and a real chart; /api/stats returns the same counts."""

import csv
import datetime as dt

import polars as pl
import pytest

from observatory.analytics import frames
from observatory.analytics.adoption import cumulative_downloads_by_region
from observatory.catalog.models import DownloadSnapshot, HubModel, LeaderboardEntry, LineageEdge, Organization

pytestmark = pytest.mark.django_db


def test_it_returns_the_catalogue_counts_as_json(loaded_db, client):
    body = client.get("/api/stats").json()
    assert body == {
        "models": HubModel.objects.count(),
        "organizations": Organization.objects.count(),
        "snapshots": DownloadSnapshot.objects.count(),
        "lineage_edges": LineageEdge.objects.count(),
        "leaderboard_entries": LeaderboardEntry.objects.count(),
    }
    assert body["models"] >= 4167


def test_it_counts_once_per_data_version_and_recounts_when_the_data_moves_on(loaded_db, client):
    from observatory.catalog.runs import bump_data_version

    before = client.get("/api/stats").json()
    HubModel.objects.create(hub_id="counted-later/new-model", author="counted-later")
    assert client.get("/api/stats").json() == before  # the same data version: the cached count
    bump_data_version()  # what every import, crawl and probe run does when its data is in
    after = client.get("/api/stats").json()
    assert after == {**before, "models": before["models"] + 1}
    assert f"{after['models']:,}" in client.get("/").content.decode()


def test_it_renders_the_counts_and_a_local_plotly_chart_on_the_home_page(loaded_db, client):
    page = client.get("/").content.decode()
    assert f"{HubModel.objects.count():,}" in page
    assert 'id="chart-cumulative-downloads"' in page
    assert "cdn.plot.ly" not in page and "/static-js/plotly.min.js" in page
    assert "Data as of 2025-02-18" in page  # the chart's own as-of date: the last day of the series
    assert "The ATOM Project" in page
    js = client.get("/static-js/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000


def test_it_says_plainly_when_the_observatory_is_empty(db, client):
    DownloadSnapshot.objects.all().delete()  # rolled back after the test
    HubModel.objects.all().delete()
    page = client.get("/").content.decode()
    assert "The observatory is empty" in page


def _independent_cumulative(shared_data, tracked_ids, regions):
    """Straightforward loops over the CSVs: per date, per region, sum(value(t) - value(first date))."""
    series = {}
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row["model"] not in tracked_ids:
                    continue
                for column, value in row.items():
                    if column not in ("model", "created_at") and value.strip():
                        series.setdefault(row["model"], {})[dt.date.fromisoformat(column[:10])] = int(float(value))
    dates = sorted({d for values in series.values() for d in values})
    first = dates[0]
    totals = {}
    for model, values in series.items():
        region = regions.get(model.split("/")[0], "unknown")
        baseline = values.get(first, 0)
        last = None
        for day in dates:
            if day in values:
                last = values[day]
            if last is None:
                continue
            totals[(day, region)] = totals.get((day, region), 0) + last - baseline
    return totals


def test_it_computes_cumulative_downloads_like_a_plain_loop_does(loaded_db):
    tracked = set(HubModel.objects.filter(tracked=True).values_list("hub_id", flat=True))
    regions = dict(Organization.objects.values_list("namespace", "region"))
    expected = _independent_cumulative(loaded_db, tracked, regions)
    frame = cumulative_downloads_by_region(frames.snapshots(), frames.models(), scope="tracked")
    got = {(row["date"], row["region"]): row["cumulative_downloads"] for row in frame.to_dicts()}
    for key, value in expected.items():
        assert got.get(key, 0) == value, key
    assert all(value == expected.get(key, 0) for key, value in got.items())


def test_it_counts_a_model_first_seen_inside_the_range_from_zero():
    snapshots = pl.DataFrame({
        "model_id": [1, 1, 1, 2, 2],
        "date": [dt.date(2025, 1, d) for d in (1, 2, 4)] + [dt.date(2025, 1, 2), dt.date(2025, 1, 3)],
        "downloads_all_time": [100, 110, 130, 50, 70],
    })
    models = pl.DataFrame({"model_id": [1, 2], "hub_id": ["a/x", "b/y"], "region": ["us", "us"], "tracked": [True, True]})
    frame = cumulative_downloads_by_region(snapshots, models, start=dt.date(2025, 1, 1))
    got = dict(zip(frame["date"].to_list(), frame["cumulative_downloads"].to_list()))
    # day 2: model 1 +10, model 2 counts from zero: +50; day 3: model 2 +20; day 4: model 1 +20
    assert got == {dt.date(2025, 1, 1): 0, dt.date(2025, 1, 2): 60, dt.date(2025, 1, 3): 80, dt.date(2025, 1, 4): 100}


def test_it_rejects_an_unknown_scope():
    with pytest.raises(ValueError, match="scope"):
        cumulative_downloads_by_region(pl.DataFrame(), pl.DataFrame(), scope="everything")
