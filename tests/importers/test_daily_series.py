"""The daily series importer: each series read as a running sum of the Hub's 30-day count and
stored in the canonical measures, placeholders and gaps in the ledger, other sources' snapshots
kept, the newest count on the model, and nothing written the second time."""

import datetime as dt

import pytest

from ingest.datasets import run_import
from observatory.catalog.models import DataQualityIssue, DownloadSnapshot, HubModel

pytestmark = pytest.mark.django_db

SERIES = (
    "model,2024-07-02 00:00:00,2024-07-03 00:00:00,2024-07-04 00:00:00,created_at\n"
    "acme-lab/Chat-7B,100,,250.0,2024-06-01 10:00:00+00:00\n"
    "acme-lab/Chat-1B,,,,2024-06-02 10:00:00+00:00\n"
    "acme-lab/Old-8B,5,6,7,\n"
    "acme-lab/Late-7B,0,0,30,2024-07-03 09:00:00+00:00\n"
)


def _points(hub_id):
    return list(DownloadSnapshot.objects.filter(model__hub_id=hub_id).order_by("date").values_list(
        "date", "raw_value", "downloads_day", "downloads_all_time", "cumulative_kind", "source"))


def test_it_converts_each_series_to_the_canonical_measures_and_keeps_other_sources(loaded_db, tmp_path):
    old = HubModel.objects.create(hub_id="acme-lab/Old-8B", author="acme-lab", downloads_all_time=999)
    DownloadSnapshot.objects.create(model=old, date=dt.date(2024, 7, 3), downloads=40, downloads_all_time=None,
                                    likes=2, source="crawl")
    DownloadSnapshot.objects.create(model=old, date=dt.date(2024, 7, 4), downloads=41, downloads_all_time=999,
                                    likes=3, source="crawl")
    path = tmp_path / "Acme.csv"
    path.write_text(SERIES, encoding="utf-8")

    counts = run_import("daily_downloads", path=path)

    d = dt.date
    # Chat-7B: 30-day counts 100, then the rise of 150 shared over the unsampled day; sampling
    # began 31 days after release, so its cumulative count is a lower bound.
    assert _points("acme-lab/Chat-7B") == [
        (d(2024, 7, 2), 100, pytest.approx(100 / 30, abs=1 / 64), 100, "lower-bound", "daily-series"),
        (d(2024, 7, 3), None, pytest.approx(75 / 30, abs=1 / 64), 100, "lower-bound", "daily-series"),
        (d(2024, 7, 4), 250, pytest.approx(75 / 30, abs=1 / 64), 100, "lower-bound", "daily-series")]
    chat = HubModel.objects.get(hub_id="acme-lab/Chat-7B")
    assert chat.downloads_all_time == 100  # the newest snapshot's canonical count
    assert chat.created_at == dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)
    assert chat.release_date == dt.date(2024, 6, 1) and chat.organization.namespace == "acme-lab"
    assert chat.total_params == 7_000_000_000 and chat.size_class == "7-9B"
    # Late-7B: the two zeros are placeholders, not zero-download days; sampled a day after release.
    assert _points("acme-lab/Late-7B") == [(d(2024, 7, 4), 30, pytest.approx(1.0), 30, "estimated", "daily-series")]
    assert not HubModel.objects.filter(hub_id="acme-lab/Chat-1B").exists()  # an all-empty row says nothing
    # The crawl's snapshots stay the crawl's: the Hub's own counts beat an estimate.
    assert _points("acme-lab/Old-8B") == [
        (d(2024, 7, 2), 5, pytest.approx(5 / 30, abs=1 / 64), 5, "lower-bound", "daily-series"),
        (d(2024, 7, 3), None, None, None, "all-time", "crawl"), (d(2024, 7, 4), None, None, 999, "all-time", "crawl")]
    old.refresh_from_db()
    assert old.downloads_all_time == 999
    ledger = set(DataQualityIssue.objects.filter(hub_id__startswith="acme-lab/").values_list(
        "hub_id", "kind", "date", "days"))
    assert ledger == {("acme-lab/Chat-7B", "gap", d(2024, 7, 3), 1),
                      ("acme-lab/Chat-1B", "no-samples", d(2024, 7, 2), 3),
                      ("acme-lab/Late-7B", "leading-placeholder", d(2024, 7, 2), 2)}
    assert counts["snapshots"] == 7 and counts["changed"] == 5 and counts["quality_issues"] == 3

    again = run_import("daily_downloads", path=path)
    assert again["snapshots"] == 7 and again["changed"] == 0
    assert DataQualityIssue.objects.filter(hub_id__startswith="acme-lab/").count() == 3  # replaced, not added twice


def test_it_refuses_a_running_sum_that_is_not_a_whole_count(loaded_db, tmp_path):
    from ingest.importing import ImportFileError

    path = tmp_path / "Bad.csv"
    path.write_text("model,2024-07-02,2024-07-03\nacme-lab/X-1B,1,2.5\n", encoding="utf-8")
    before = DownloadSnapshot.objects.count()
    with pytest.raises(ImportFileError, match="whole count"):
        run_import("daily_downloads", path=path)
    assert DownloadSnapshot.objects.count() == before
