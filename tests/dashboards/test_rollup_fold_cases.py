"""What a crawl or an import does to a model, folded into the daily-gain rollup, on made-up rows:
a brand-new model, a day arriving late, the same day crawled again with another value (through
the crawl's own upsert), a count that falls, a model moving to another cell, an organisation
moving region or renamed, rows merged into another model, a model deleted, a write that touches
no cell, many late days. After every fold the rollup equals a full rebuild, cell by cell, and the
made-up organisation's cells equal a table worked out by hand. No real data needed (fast enough
for `make mutation`'s postgres tier); on top of the session's real data, it is compared too.
Every test runs in a transaction rolled back after it.
"""

import datetime as dt

import polars as pl
import pytest
from django.core.management import call_command
from django.db import connection

from observatory.analytics import rollups
from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from tests.dashboards.rollup_folding import fold as _fold
from tests.dashboards.rollup_folding import rebuilt as _rebuilt
from tests.dashboards.rollup_folding import sorted_rows as _sorted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


D1, D2, D3, D4 = (dt.date(2031, 3, day) for day in (1, 2, 3, 4))
CELL = (True, "eu", "fold-test", "7-9B", "text-generation")


@pytest.fixture
def made_up():
    """One organisation and one tracked model with crawl rows (the Hub's all-time counts) on D1 and
    D3, folded in; the rollup fresh and equal to a rebuild to start with."""
    org = Organization.objects.create(namespace="fold-test", region="eu")
    model = HubModel.objects.create(hub_id="fold-test/a", organization=org, author="fold-test", tracked=True,
                                    size_class="7-9B", pipeline_tag="text-generation")
    DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=model, date=D1, downloads_all_time=100),
                                          DownloadSnapshot(model=model, date=D3, downloads_all_time=160)])
    rollups.refresh()
    return model


def _cells(cell=None) -> dict:
    """{(date, *cell): (gain, rows)} of the made-up organisation's cells (or of one cell)."""
    frame = rollups.daily_gains().filter(pl.col("organization").is_in(["fold-test", "fold-other"]))
    out = {}
    for row in frame.iter_rows(named=True):
        key = (row["tracked"], row["region"], row["organization"], row["size_class"], row["pipeline_tag"])
        if cell is None or key == cell:
            out[(row["date"], *key)] = (row["gain"], row["rows"])
    return out


def _folded_equals_rebuilt(caplog) -> dict:
    assert _fold(caplog).startswith("rollup folded")
    folded, cells = _sorted(rollups.daily_gains()), _cells()
    assert folded.equals(_rebuilt())
    return cells


def test_a_brand_new_model_gets_its_cells_its_first_row_gaining_nothing(made_up, caplog):
    assert _cells() == {(D1, *CELL): (0.0, 1), (D3, *CELL): (60.0, 1)}
    assert _sorted(rollups.daily_gains()).equals(_rebuilt())


def test_a_day_arriving_late_takes_its_rise_from_the_day_after(made_up, caplog):
    DownloadSnapshot.objects.create(model=made_up, date=D2, downloads_all_time=130)
    assert _folded_equals_rebuilt(caplog) == {(D1, *CELL): (0.0, 1), (D2, *CELL): (30.0, 1), (D3, *CELL): (30.0, 1)}


def test_the_same_day_crawled_again_with_another_count_changes_it_and_the_day_after(made_up, caplog):
    DownloadSnapshot.objects.create(model=made_up, date=D4, downloads_all_time=210)
    _fold(caplog)
    with connection.cursor() as cursor:  # the crawl's upsert (ingest.hub_records.postgres)
        cursor.execute("INSERT INTO catalog_downloadsnapshot (model_id, date, downloads_all_time, cumulative_kind, "
                       "source) VALUES (%s, %s, 200, 'all-time', 'crawl') ON CONFLICT (model_id, date) "
                       "DO UPDATE SET downloads_all_time = EXCLUDED.downloads_all_time", [made_up.pk, D3])
    assert _folded_equals_rebuilt(caplog) == {(D1, *CELL): (0.0, 1), (D3, *CELL): (100.0, 1), (D4, *CELL): (10.0, 1)}


def test_a_count_that_falls_gains_nothing_and_the_next_rise_is_from_the_fallen_count(made_up, caplog):
    DownloadSnapshot.objects.create(model=made_up, date=D4, downloads_all_time=190)
    DownloadSnapshot.objects.filter(model=made_up, date=D3).update(downloads_all_time=90)
    assert _folded_equals_rebuilt(caplog) == {(D1, *CELL): (0.0, 1), (D3, *CELL): (0.0, 1), (D4, *CELL): (100.0, 1)}


def test_a_model_moving_to_another_cell_takes_its_rows_with_it(made_up, caplog):
    HubModel.objects.filter(pk=made_up.pk).update(pipeline_tag="image-to-text", tracked=False)
    moved = (False, "eu", "fold-test", "7-9B", "image-to-text")
    assert _folded_equals_rebuilt(caplog) == {(D1, *moved): (0.0, 1), (D3, *moved): (60.0, 1)}


def test_an_organisation_moving_region_or_renamed_moves_its_models_cells(made_up, caplog):
    Organization.objects.filter(namespace="fold-test").update(region="china")
    assert _folded_equals_rebuilt(caplog) == {(D1, True, "china", "fold-test", "7-9B", "text-generation"): (0.0, 1),
                                              (D3, True, "china", "fold-test", "7-9B", "text-generation"): (60.0, 1)}
    Organization.objects.filter(namespace="fold-test").update(namespace="fold-other")
    assert _folded_equals_rebuilt(caplog) == {(D1, True, "china", "fold-other", "7-9B", "text-generation"): (0.0, 1),
                                              (D3, True, "china", "fold-other", "7-9B", "text-generation"): (60.0, 1)}


def test_rows_merged_into_another_model_count_in_its_cell_and_a_deleted_model_leaves_none(made_up, caplog):
    other = HubModel.objects.create(hub_id="fold-test/b", organization=made_up.organization, author="fold-test",
                                    tracked=True, size_class="1-3B", pipeline_tag="text-generation")
    DownloadSnapshot.objects.create(model=other, date=D1, downloads_all_time=40)
    _fold(caplog)
    DownloadSnapshot.objects.filter(model=made_up, date=D3).update(model=other)  # a merge of duplicates
    small = (True, "eu", "fold-test", "1-3B", "text-generation")
    assert _folded_equals_rebuilt(caplog) == {(D1, *CELL): (0.0, 1), (D1, *small): (0.0, 1), (D3, *small): (120.0, 1)}
    made_up.delete()
    assert _folded_equals_rebuilt(caplog) == {(D1, *small): (0.0, 1), (D3, *small): (120.0, 1)}


def test_a_write_that_touches_no_cell_leaves_the_rollup_as_it_was(made_up, caplog):
    before = _sorted(rollups.daily_gains())
    HubModel.objects.filter(pk=made_up.pk).update(likes=3)
    assert not rollups.fresh()  # any write makes it stale until a fold has seen it
    assert _fold(caplog).endswith("days=0 cells=0 orgs=0 rows=0")
    assert _sorted(rollups.daily_gains()).equals(before)


def test_many_late_days_are_recounted_in_full_and_the_command_rebuilds_too(made_up, caplog, capsys):
    DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=made_up, date=dt.date(2030, 1, 1) + dt.timedelta(i),
                                                           downloads_all_time=i) for i in range(
        rollups.MAX_LATE_DATES + 1)])
    assert _fold(caplog).startswith("rollup rebuilt")
    call_command("rebuild_rollups")
    assert "rebuilt in" in capsys.readouterr().out and rollups.fresh()
