"""The review of the daily-gain fold (issue 17): a fold inside a caller's transaction racing one
outside any. Real PostgreSQL, separate connections (threads), rows committed; the tables are
flushed after the test.

The fold outside takes its lock before its snapshot: it waits for the caller's transaction to
commit, then sees that fold's rows and its consumed log entries, and folds only what is left
(a write committed meanwhile). Taken after, it would count from a snapshot without them.
"""

import datetime as dt
import threading

import polars as pl
import pytest
from django.db import connection, transaction

from observatory.analytics import rollups
from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from tests.dashboards.rollup_folding import sorted_rows as _sorted

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D1, D2, D3 = (dt.date(2031, 3, day) for day in (1, 2, 3))


def _thread(work, errors: list) -> threading.Thread:
    def run():
        try:
            work()
        except BaseException as error:  # handed back to the test
            errors.append(error)
        finally:
            connection.close()
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _waiting_on_the_fold_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))")
        return cursor.fetchone()[0]


def test_a_fold_outside_waits_for_a_callers_transaction_that_folded_and_counts_after_it():
    org = Organization.objects.create(namespace="race-review", region="eu")
    model = HubModel.objects.create(hub_id="race-review/a", organization=org, author="race-review", tracked=True,
                                    size_class="7-9B", pipeline_tag="text-generation")
    DownloadSnapshot.objects.create(model=model, date=D1, downloads_all_time=100)
    rollups.refresh(force=True)
    folded_inside, commit, errors = threading.Event(), threading.Event(), []

    def import_that_folds_before_it_commits():
        with transaction.atomic():
            DownloadSnapshot.objects.create(model=model, date=D2, downloads_all_time=130)
            rollups.refresh()
            folded_inside.set()
            assert commit.wait(30)

    importer = _thread(import_that_folds_before_it_commits, errors)
    assert folded_inside.wait(30), errors
    DownloadSnapshot.objects.create(model=model, date=D3, downloads_all_time=190)  # a crawl page meanwhile
    bump = _thread(rollups.refresh, errors)
    for _ in range(200):
        if _waiting_on_the_fold_lock():
            break
        threading.Event().wait(0.05)
    else:
        pytest.fail(f"the fold outside did not wait for the caller's: {errors}")
    commit.set()
    importer.join(60)
    bump.join(60)
    assert errors == []
    assert rollups.fresh()
    cells = rollups.daily_gains().filter(pl.col("organization") == "race-review")
    assert sorted(cells.select("date", "gain", "rows").iter_rows()) == [(D1, 0.0, 1), (D2, 30.0, 1), (D3, 60.0, 1)]
    folded = _sorted(rollups.daily_gains())
    rollups.refresh(force=True)
    assert folded.equals(_sorted(rollups.daily_gains()))
