"""The home page shows the real counts and a real chart; /api/stats returns the same counts."""

import datetime as dt

import polars as pl
import pytest

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


def test_it_accumulates_each_days_downloads_from_the_first_day_of_the_range_on():
    # The canonical rows: downloads on each day (None: no figure that day, e.g. a first crawl).
    snapshots = pl.DataFrame({
        "model_id": [1, 1, 1, 2, 2],
        "date": [dt.date(2025, 1, d) for d in (1, 2, 4)] + [dt.date(2025, 1, 2), dt.date(2025, 1, 3)],
        "downloads_all_time": [100, 110, 130, 50, 70],
        "downloads_day": [5.0, 10.0, 20.0, None, 20.0],
        "cumulative_kind": ["all-time"] * 5,
    })
    models = pl.DataFrame({"model_id": [1, 2], "hub_id": ["a/x", "b/y"], "region": ["us", "us"], "tracked": [True, True]})
    frame = cumulative_downloads_by_region(snapshots, models, start=dt.date(2025, 1, 1))
    got = dict(zip(frame["date"].to_list(), frame["cumulative_downloads"].to_list()))
    # day 1: +5 (the range's first day counts); day 2: +10 (model 2's first crawl adds nothing);
    # day 3: +20; day 4: +20
    assert got == {dt.date(2025, 1, 1): 5, dt.date(2025, 1, 2): 15, dt.date(2025, 1, 3): 35, dt.date(2025, 1, 4): 55}
    later = cumulative_downloads_by_region(snapshots, models, start=dt.date(2025, 1, 3))
    assert dict(zip(later["date"].to_list(), later["cumulative_downloads"].to_list())) == {
        dt.date(2025, 1, 3): 20, dt.date(2025, 1, 4): 40}


def test_it_rejects_an_unknown_scope():
    with pytest.raises(ValueError, match="scope"):
        cumulative_downloads_by_region(pl.DataFrame(), pl.DataFrame(), scope="everything")
