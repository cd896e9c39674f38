"""The daily series importer: one snapshot per non-empty cell, other sources' snapshots kept,
the newest count on the model, and nothing written the second time."""

import datetime as dt

import pytest

from ingest.datasets import run_import
from observatory.catalog.models import DownloadSnapshot, HubModel

pytestmark = pytest.mark.django_db

SERIES = (
    "model,2024-07-02 00:00:00,2024-07-03 00:00:00,2024-07-04 00:00:00,created_at\n"
    "acme-lab/Chat-7B,100,,250.0,2024-06-01 10:00:00+00:00\n"
    "acme-lab/Chat-1B,,,,2024-06-02 10:00:00+00:00\n"
    "acme-lab/Old-8B,5,6,7,\n"
)


def test_it_writes_one_snapshot_per_non_empty_cell_and_keeps_other_sources(loaded_db, tmp_path):
    old = HubModel.objects.create(hub_id="acme-lab/Old-8B", author="acme-lab", downloads_all_time=999)
    DownloadSnapshot.objects.create(model=old, date=dt.date(2024, 7, 3), downloads=40, downloads_all_time=None,
                                    likes=2, source="crawl")
    DownloadSnapshot.objects.create(model=old, date=dt.date(2024, 7, 4), downloads=41, downloads_all_time=999,
                                    likes=3, source="crawl")
    path = tmp_path / "Acme.csv"
    path.write_text(SERIES, encoding="utf-8")

    counts = run_import("daily_downloads", path=path)

    assert counts["snapshots"] == 5  # 2 + 0 + 3 non-empty cells
    chat = HubModel.objects.get(hub_id="acme-lab/Chat-7B")
    assert list(chat.snapshots.order_by("date").values_list("date", "downloads_all_time", "source")) == [
        (dt.date(2024, 7, 2), 100, "daily-series"), (dt.date(2024, 7, 4), 250, "daily-series")]
    assert chat.downloads_all_time == 250  # the newest snapshot's count
    assert chat.created_at == dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)
    assert chat.release_date == dt.date(2024, 6, 1) and chat.organization.namespace == "acme-lab"
    assert chat.total_params == 7_000_000_000 and chat.size_class == "7-9B"
    assert not HubModel.objects.filter(hub_id="acme-lab/Chat-1B").exists()  # an all-empty row says nothing
    # The crawl's snapshots stay the crawl's: the series only fills a missing all-time count.
    assert list(old.snapshots.order_by("date").values_list("date", "downloads", "downloads_all_time", "source")) == [
        (dt.date(2024, 7, 2), None, 5, "daily-series"), (dt.date(2024, 7, 3), 40, 6, "crawl"),
        (dt.date(2024, 7, 4), 41, 999, "crawl")]
    old.refresh_from_db()
    assert old.downloads_all_time == 999

    again = run_import("daily_downloads", path=path)
    assert again["snapshots"] == 5 and again["changed"] == 0
