"""The daily-gain rollup on real PostgreSQL, on four hand-written snapshots: what refresh() builds
(cell by cell, against a table written out by hand), what it records (the sequence's number, when,
how long), its log line, and when fresh() says the rollup may be read."""

import datetime as dt
import logging

import pytest
from django.db import connection
from django.utils import timezone

from observatory.analytics import rollups
from observatory.catalog.models import DailyGain, DownloadSnapshot, HubModel, Organization, RollupState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)

# (date, tracked, region, organization, size_class, pipeline_tag, gain, rows), worked out by hand
# from the rows made below: acme/a's first row has no previous one (gain 0), then rises by 50,
# then falls (no download count: 0); solo/b's series row carries its own estimate, 7; the
# hub-stats row and the row without an all-time count are not daily history.
EXPECTED_CELLS = {
    (D1, True, "us", "acme", "7-9B", "text-generation", 0.0, 1),
    (D2, True, "us", "acme", "7-9B", "text-generation", 50.0, 1),
    (D3, True, "us", "acme", "7-9B", "text-generation", 0.0, 1),
    (D2, False, "unknown", "solo", None, "", 7.0, 1),
}


@pytest.fixture
def catalogue():
    acme = Organization.objects.create(namespace="acme", region="us")
    a = HubModel.objects.create(hub_id="acme/a", organization=acme, author="acme", tracked=True,
                                size_class="7-9B", pipeline_tag="text-generation")
    b = HubModel.objects.create(hub_id="solo/b", author="solo", tracked=False)
    DownloadSnapshot.objects.bulk_create([
        DownloadSnapshot(model=a, date=D1, downloads_all_time=100),
        DownloadSnapshot(model=a, date=D2, downloads_all_time=150),
        DownloadSnapshot(model=a, date=D3, downloads_all_time=140),
        DownloadSnapshot(model=b, date=D2, downloads_all_time=10, downloads_day=7.0, source="daily-series"),
        DownloadSnapshot(model=b, date=D1, downloads_all_time=5, source="hub-stats"),
        DownloadSnapshot(model=b, date=D3, downloads_all_time=None, source="crawl"),
    ])
    return a, b


def _last_number() -> int:
    """The number the source tables' trigger took last in this session (currval: not the module's query)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT currval('catalog_rollup_source_seq')")
        return cursor.fetchone()[0]


def _cells() -> set[tuple]:
    return set(DailyGain.objects.values_list("date", "tracked", "region", "organization", "size_class",
                                             "pipeline_tag", "gain", "rows"))


def test_it_builds_one_cell_per_day_and_filter_combination_from_the_daily_rows(catalogue):
    assert rollups.available() is True
    assert rollups.fresh() is False  # never built
    assert rollups.refresh() is not None
    assert _cells() == EXPECTED_CELLS


def test_it_records_the_sequence_number_it_was_built_at_when_and_how_long_it_took(catalogue):
    before = timezone.now()
    seconds = rollups.refresh()
    after = timezone.now()
    state = RollupState.objects.get(name=rollups.NAME)
    assert state.name == "daily-gains"
    assert state.source_version == _last_number()
    assert before <= state.built_at <= after
    assert isinstance(seconds, float) and 0 <= seconds <= (after - before).total_seconds()
    assert state.seconds == seconds


def test_it_logs_the_rebuild_with_its_name_and_seconds(catalogue, caplog):
    with caplog.at_level(logging.INFO, logger="observatory.analytics.rollups"):
        seconds = rollups.refresh()
    messages = [r.getMessage() for r in caplog.records if r.name == "observatory.analytics.rollups"]
    assert messages == [f"rollup rebuilt name=daily-gains seconds={seconds:.2f}"]


def test_it_is_fresh_until_a_source_table_is_written_and_then_stale(catalogue):
    a, _ = catalogue
    rollups.refresh()
    assert rollups.fresh() is True
    assert rollups.refresh() is None  # fresh: nothing done
    DownloadSnapshot.objects.create(model=a, date=dt.date(2024, 1, 4), downloads_all_time=160)
    assert rollups.fresh() is False
    Organization.objects.filter(namespace="acme").update(region="eu")
    assert rollups.fresh() is False


def test_a_second_build_replaces_the_cells_and_the_record_of_the_first(catalogue):
    a, _ = catalogue
    rollups.refresh()
    first = RollupState.objects.get(name=rollups.NAME)
    DownloadSnapshot.objects.filter(model=a, date=D3).update(downloads_all_time=175)
    assert rollups.refresh() is not None
    assert rollups.fresh() is True
    state = RollupState.objects.get(name=rollups.NAME)  # the rollup's one row (folds beside it keep theirs), updated
    assert state.source_version == _last_number() > first.source_version
    assert state.built_at >= first.built_at
    risen = (D3, True, "us", "acme", "7-9B", "text-generation", 25.0, 1)  # 175 - 150
    fallen = (D3, True, "us", "acme", "7-9B", "text-generation", 0.0, 1)
    assert _cells() == (EXPECTED_CELLS - {fallen}) | {risen}


def test_forcing_rebuilds_a_fresh_rollup_and_no_force_is_the_default(catalogue):
    rollups.refresh()
    assert rollups.fresh() is True
    assert rollups.refresh(force=True) is not None
    assert rollups.refresh() is None
    assert _cells() == EXPECTED_CELLS  # rebuilt once more, not added to


def test_a_sequence_never_called_counts_as_version_zero(catalogue):
    with connection.cursor() as cursor:
        # As on a new database: no nextval() yet, and the sequence says 1 (setval is outside
        # transactions: the next write anywhere takes 1, as after a restart of the sequence).
        cursor.execute("SELECT setval('catalog_rollup_source_seq', 1, false)")
    rollups.refresh()
    assert RollupState.objects.get(name=rollups.NAME).source_version == 0
    assert rollups.fresh() is True
