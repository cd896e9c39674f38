"""The review of the daily-gain fold (issue 17): each kind of write a crawl, an import or the admin
makes that test_rollup_fold_cases does not, folded in, gives exactly a full rebuild, and the
made-up organisation's cells equal a table worked out by hand. On made-up rows in a transaction
rolled back after each test (no real data needed).

The hand tables: a model's gain on a day is its series estimate (downloads_day) where the row has
one, else the rise of its all-time count since its previous row of the same source with a count;
a first row, a fall, or no count gains nothing; a row without an all-time count is no row.
"""

import datetime as dt

import polars as pl
import pytest
from django.db import connection, transaction

from observatory.analytics import rollups
from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from tests.dashboards.rollup_folding import fold as _fold
from tests.dashboards.rollup_folding import rebuilt as _rebuilt
from tests.dashboards.rollup_folding import sorted_rows as _sorted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

D1, D2, D3, D4 = (dt.date(2031, 3, day) for day in (1, 2, 3, 4))
EARLY = dt.date(2031, 1, 30)
NAMES = ("review-a", "review-b", "review-c")


def _cell(tracked=True, region="eu", org="review-a", size="7-9B", tag="text-generation"):
    return (tracked, region, org, size, tag)


@pytest.fixture
def made_up():
    """Organisation review-a (eu) with model a (crawl rows on D1 100, D2 130, D3 160), organisation
    review-b (us) with model b (crawl rows on D1 10, D3 40); folded in and equal to a rebuild."""
    org_a = Organization.objects.create(namespace="review-a", region="eu")
    org_b = Organization.objects.create(namespace="review-b", region="us")
    a = HubModel.objects.create(hub_id="review-a/a", organization=org_a, author="review-a", tracked=True,
                                size_class="7-9B", pipeline_tag="text-generation")
    b = HubModel.objects.create(hub_id="review-b/b", organization=org_b, author="review-b", tracked=True,
                                size_class="1-3B", pipeline_tag="text-generation")
    DownloadSnapshot.objects.bulk_create([
        DownloadSnapshot(model=a, date=D1, downloads_all_time=100), DownloadSnapshot(model=a, date=D2, downloads_all_time=130),
        DownloadSnapshot(model=a, date=D3, downloads_all_time=160),
        DownloadSnapshot(model=b, date=D1, downloads_all_time=10), DownloadSnapshot(model=b, date=D3, downloads_all_time=40)])
    rollups.refresh()
    assert _sorted(rollups.daily_gains()).equals(_rebuilt())
    return a, b


def _cells() -> dict:
    """{(date, *cell): (gain, rows)} of the made-up organisations' cells."""
    frame = rollups.daily_gains().filter(pl.col("organization").is_in(NAMES))
    return {(r["date"], r["tracked"], r["region"], r["organization"], r["size_class"], r["pipeline_tag"]):
            (r["gain"], r["rows"]) for r in frame.iter_rows(named=True)}


def _folded_equals_rebuilt(caplog) -> dict:
    assert _fold(caplog).startswith("rollup folded")
    folded, cells = _sorted(rollups.daily_gains()), _cells()
    assert folded.equals(_rebuilt())
    return cells


B = {(D1, *_cell(region="us", org="review-b", size="1-3B")): (0.0, 1),
     (D3, *_cell(region="us", org="review-b", size="1-3B")): (30.0, 1)}


def test_a_series_estimate_changed_alone_changes_only_its_day(made_up, caplog):
    a, _ = made_up
    DownloadSnapshot.objects.filter(model=a, date=D2).update(downloads_day=7.5)
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (7.5, 1),
                                              (D3, *_cell()): (30.0, 1), **B}


def test_a_row_whose_source_changes_leaves_the_crawl_history_its_rise_rests_on(made_up, caplog):
    a, _ = made_up
    # The daily series takes D2 over: the crawl's D3 now rises from D1.
    DownloadSnapshot.objects.filter(model=a, date=D2).update(source="daily-series", downloads_day=5)
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (5.0, 1),
                                              (D3, *_cell()): (60.0, 1), **B}
    # And to a source no download chart reads: the day has no row.
    DownloadSnapshot.objects.filter(model=a, date=D2).update(source="monthly-archive")
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D3, *_cell()): (60.0, 1), **B}


def test_a_row_moved_to_another_day_gains_from_its_new_neighbours(made_up, caplog):
    a, _ = made_up
    DownloadSnapshot.objects.filter(model=a, date=D2).update(date=D4)  # 130 after 160: a fall
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D3, *_cell()): (60.0, 1),
                                              (D4, *_cell()): (0.0, 1), **B}


def test_a_row_without_a_count_is_no_row_until_its_count_is_set(made_up, caplog):
    a, _ = made_up
    DownloadSnapshot.objects.filter(model=a, date=D2).update(downloads_all_time=None)
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D3, *_cell()): (60.0, 1), **B}
    DownloadSnapshot.objects.filter(model=a, date=D2).update(downloads_all_time=150)
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (50.0, 1),
                                              (D3, *_cell()): (10.0, 1), **B}


def test_a_day_before_the_first_row_makes_the_first_row_rise(made_up, caplog):
    a, _ = made_up
    DownloadSnapshot.objects.create(model=a, date=EARLY, downloads_all_time=40)
    assert _folded_equals_rebuilt(caplog) == {(EARLY, *_cell()): (0.0, 1),
                                              (D1, *_cell()): (60.0, 1), (D2, *_cell()): (30.0, 1),
                                              (D3, *_cell()): (30.0, 1), **B}


def test_as_many_late_days_as_allowed_are_folded_each_with_its_successor(made_up, caplog):
    """MAX_LATE_DATES late days, far apart and each before a row of another day: folded, not rebuilt."""
    a, b = made_up
    late = [dt.date(2031, 1, 1) + dt.timedelta(days=3 * i) for i in range(rollups.MAX_LATE_DATES - 1)]
    DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=a, date=d, downloads_all_time=i)
                                          for i, d in enumerate(late)])
    DownloadSnapshot.objects.create(model=b, date=D2, downloads_all_time=25)  # the seventh
    cells = _folded_equals_rebuilt(caplog)
    assert cells[(D1, *_cell())] == (100.0 - (len(late) - 1), 1)
    assert cells[(D3, *_cell(region="us", org="review-b", size="1-3B"))] == (15.0, 1)


def test_an_organisation_renamed_while_a_model_moves_to_it_in_one_transaction(made_up, caplog):
    a, b = made_up
    with transaction.atomic():  # the rename first, then the move
        Organization.objects.filter(namespace="review-b").update(namespace="review-c")
        HubModel.objects.filter(pk=a.pk).update(organization=b.organization_id, author="review-c")
    c = _cell(region="us", org="review-c")
    assert _folded_equals_rebuilt(caplog) == {(D1, *c): (0.0, 1), (D2, *c): (30.0, 1), (D3, *c): (30.0, 1),
                                              (D1, *c[:3], "1-3B", c[4]): (0.0, 1), (D3, *c[:3], "1-3B", c[4]): (30.0, 1)}
    with transaction.atomic():  # the move first, then the rename and a new region
        HubModel.objects.filter(pk=a.pk).update(organization=Organization.objects.get(namespace="review-a"))
        Organization.objects.filter(namespace="review-a").update(namespace="review-b", region="china")
    moved = _cell(region="china", org="review-b")
    assert _folded_equals_rebuilt(caplog) == {(D1, *moved): (0.0, 1), (D2, *moved): (30.0, 1), (D3, *moved): (30.0, 1),
                                              (D1, *c[:3], "1-3B", c[4]): (0.0, 1), (D3, *c[:3], "1-3B", c[4]): (30.0, 1)}


def test_an_organisation_deleted_leaves_its_models_counted_under_their_author(made_up, caplog):
    a, _ = made_up
    Organization.objects.filter(namespace="review-a").delete()  # SET_NULL on its models
    unknown = _cell(region="unknown")
    assert _folded_equals_rebuilt(caplog) == {(D1, *unknown): (0.0, 1), (D2, *unknown): (30.0, 1),
                                              (D3, *unknown): (30.0, 1), **B}


def test_a_model_deleted_with_its_organisation_renamed_in_one_transaction(made_up, caplog):
    a, _ = made_up
    with transaction.atomic():
        Organization.objects.filter(namespace="review-b").update(namespace="review-c")
        a.delete()
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell(region="us", org="review-c", size="1-3B")): (0.0, 1),
                                              (D3, *_cell(region="us", org="review-c", size="1-3B")): (30.0, 1)}


def test_a_model_and_its_rows_written_before_its_organisation_in_one_transaction(made_up, caplog):
    """The foreign keys are checked at commit: an importer may write the model first, the
    organisation it names after it (deferred constraints)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('catalog_organization', 'id'))")
        (org_id,) = cursor.fetchone()
        model = HubModel.objects.create(hub_id="review-c/new", organization_id=org_id, author="review-c",
                                        tracked=True, size_class="7-9B", pipeline_tag="text-generation")
        DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=model, date=D1, downloads_all_time=5),
                                              DownloadSnapshot(model=model, date=D2, downloads_all_time=9)])
        Organization.objects.create(id=org_id, namespace="review-c", region="china")
    c = _cell(region="china", org="review-c")
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (30.0, 1),
                                              (D3, *_cell()): (30.0, 1), **B, (D1, *c): (0.0, 1), (D2, *c): (4.0, 1)}


# The model's update logs the cell it joined read against no organisation (region unknown, its
# author): only the organisation's insert entry (migration 0013) gets its real cell recounted.
def test_a_model_moved_to_an_organisation_created_after_it_in_one_transaction(made_up, caplog):
    a, _ = made_up
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('catalog_organization', 'id'))")
        (org_id,) = cursor.fetchone()
        HubModel.objects.filter(pk=a.pk).update(organization_id=org_id)
        Organization.objects.create(id=org_id, namespace="review-c", region="china")
    c = _cell(region="china", org="review-c")
    assert _folded_equals_rebuilt(caplog) == {(D1, *c): (0.0, 1), (D2, *c): (30.0, 1), (D3, *c): (30.0, 1), **B}


def test_two_folds_inside_one_callers_transaction_then_one_outside_it(made_up, caplog):
    """Inside a caller's transaction (an import that folds before it commits): the second fold
    sees the first's rows and its own new entries; after the commit the log holds nothing."""
    a, b = made_up
    with transaction.atomic():
        DownloadSnapshot.objects.create(model=a, date=D4, downloads_all_time=200)
        _fold(caplog)
        DownloadSnapshot.objects.filter(model=b, date=D3).update(downloads_all_time=70)
        HubModel.objects.filter(pk=b.pk).update(size_class="")
        cells = _folded_equals_rebuilt(caplog)
    unsized = _cell(region="us", org="review-b", size=None)
    assert cells == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (30.0, 1), (D3, *_cell()): (30.0, 1),
                     (D4, *_cell()): (40.0, 1), (D1, *unsized): (0.0, 1), (D3, *unsized): (60.0, 1)}
    DownloadSnapshot.objects.filter(model=a, date=D4).delete()
    assert _folded_equals_rebuilt(caplog) == {(D1, *_cell()): (0.0, 1), (D2, *_cell()): (30.0, 1),
                                              (D3, *_cell()): (30.0, 1), (D1, *unsized): (0.0, 1),
                                              (D3, *unsized): (60.0, 1)}
