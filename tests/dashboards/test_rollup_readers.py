"""Readers of the daily-gain rollup while a fold runs: never a half-updated rollup, never an error,
never a wait. Real PostgreSQL, separate connections: a writer thread commits a day of the daily
series for every model that has one and folds it in, while reader threads read the rollup and
the chart endpoint's computation. The day is removed and folded out again at the end, so the
session's shared database is left as it was (its rollup compared cell by cell).
"""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from observatory.analytics import rollups
from observatory.analytics.filters import Filters
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TOTALS_SQL = "SELECT COALESCE(SUM(gain), 0), COALESCE(SUM(rows), 0), COUNT(*) FROM catalog_dailygain WHERE date = %s"


def _in_own_connection(work):
    """Run `work()` in a thread of its own: its own Django connection, autocommit, outside the test's
    transaction (what another process would see); re-raises its error here."""
    out = {}

    def run():
        try:
            out["value"] = work()
        except BaseException as error:  # handed back to the test
            out["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(120)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def _execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def _whole_rollup():
    return sorted(_execute("SELECT date, tracked, region, organization, size_class, pipeline_tag, gain, rows "
                           "FROM catalog_dailygain"), key=repr)


def _write_day(day, per_model: float):
    """One day of the series for every model with one on the day before: what an import of it writes."""
    def work():
        if not _execute("SELECT 1 FROM catalog_downloadsnapshot WHERE date = %s LIMIT 1", [day]):
            _execute("INSERT INTO catalog_downloadsnapshot (model_id, date, downloads_all_time, downloads_day, "
                     "cumulative_kind, source) SELECT model_id, %s, downloads_all_time + %s, %s, cumulative_kind, "
                     "source FROM catalog_downloadsnapshot WHERE date = %s AND source = 'daily-series' "
                     "AND downloads_all_time IS NOT NULL", [day, int(per_model), per_model, day - dt.timedelta(1)])
        else:  # the same day again, with other numbers
            _execute("UPDATE catalog_downloadsnapshot SET downloads_day = %s WHERE date = %s", [per_model, day])
        rollups.refresh()
        return _execute(TOTALS_SQL, [day])[0]
    return work


def test_readers_see_the_old_rollup_or_the_new_one_during_folds_and_never_wait_or_fail(loaded_db):
    newest = _in_own_connection(lambda: rollups.refresh() or _execute(
        "SELECT MAX(date) FROM catalog_downloadsnapshot WHERE source = 'daily-series'")[0][0])
    before = _in_own_connection(_whole_rollup)
    day = newest + dt.timedelta(1)
    n_models = _in_own_connection(lambda: _execute(
        "SELECT COUNT(*) FROM catalog_downloadsnapshot WHERE date = %s AND source = 'daily-series' "
        "AND downloads_all_time IS NOT NULL", [newest])[0][0])
    assert n_models > 100
    params = ChartParams(filters=Filters(scope="all"))
    try:
        old = _in_own_connection(_write_day(day, 5.0))
        new = _in_own_connection(_write_day(day, 7.0))
        # What a count by hand says of the two states: every model's day gains 5, then 7.
        assert (old[0], old[1]) == (5.0 * n_models, n_models) and (new[0], new[1]) == (7.0 * n_models, n_models)
        def chart_after(per_model):
            def work():
                _write_day(day, per_model)()
                return METRICS["cumulative-downloads-by-region"].compute(params).rows
            return work
        charts = [_in_own_connection(chart_after(7.0)), _in_own_connection(chart_after(5.0))]

        seen, errors, stop = [], [], threading.Event()

        def reader():
            try:
                _execute("SET statement_timeout = '10s'")  # a reader kept waiting fails
                while not stop.is_set():
                    totals = _execute(TOTALS_SQL, [day])[0]
                    chart = METRICS["cumulative-downloads-by-region"].compute(params).rows
                    seen.append((totals, any(chart.equals(c) for c in charts)))
            except Exception as error:  # counted: the test fails on any
                errors.append(error)
            finally:
                connection.close()

        readers = [threading.Thread(target=reader) for _ in range(3)]
        for thread in readers:
            thread.start()
        try:
            for per_model in (7.0, 5.0, 7.0, 5.0, 7.0, 5.0):
                _in_own_connection(_write_day(day, per_model))
        finally:
            stop.set()
            for thread in readers:
                thread.join(60)
        assert errors == []
        assert len(seen) >= 6 and {totals for totals, _ in seen} <= {old, new}
        assert all(chart_is_old_or_new for _, chart_is_old_or_new in seen)

        # A fold not yet committed: a reader elsewhere reads the old rollup, whole, without waiting,
        # and may read it (the writes it folds are not committed either).
        def read_elsewhere():
            _execute("SET statement_timeout = '5s'")
            return _execute(TOTALS_SQL, [day])[0], rollups.fresh()

        def fold_held_open():
            with transaction.atomic():
                _execute("UPDATE catalog_downloadsnapshot SET downloads_day = 7 WHERE date = %s", [day])
                rollups.refresh()
                return _execute(TOTALS_SQL, [day])[0], _in_own_connection(read_elsewhere)
        inside, outside = _in_own_connection(fold_held_open)
        assert inside == new and outside == (old, True)
        assert _in_own_connection(lambda: (_execute(TOTALS_SQL, [day])[0], rollups.fresh())) == (new, True)

        # Two folds at once (two bumps ending together): one waits for the other, neither fails,
        # nothing is counted twice.
        _in_own_connection(lambda: _execute("UPDATE catalog_downloadsnapshot SET downloads_day = 5 WHERE date = %s",
                                            [day]))
        together, outcomes = threading.Barrier(2), []

        def fold_with_another():
            try:
                together.wait(30)
                rollups.refresh()
                outcomes.append("folded")
            except Exception as error:  # counted: the test fails on any
                outcomes.append(error)
            finally:
                connection.close()

        folds = [threading.Thread(target=fold_with_another) for _ in range(2)]
        for thread in folds:
            thread.start()
        for thread in folds:
            thread.join(120)
        assert outcomes == ["folded", "folded"]
        assert _in_own_connection(lambda: (_execute(TOTALS_SQL, [day])[0], rollups.fresh())) == (old, True)
    finally:
        def remove_day():
            _execute("DELETE FROM catalog_downloadsnapshot WHERE date = %s", [day])
            rollups.refresh()
            return rollups.fresh()
        assert _in_own_connection(remove_day)
    assert _in_own_connection(_whole_rollup) == before
