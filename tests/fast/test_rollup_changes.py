"""What a fold makes of the rollup's change log (analytics.rollups._read_changes), on log rows
written by hand as the triggers of migration 0007 write them, and the full-rebuild command where
there is no rollup (the embedded default's SQLite)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from observatory.analytics import rollups
from tests.fast.made_up import day

CELL = {"tracked": True, "region": "us", "organization": "meta", "size_class": "7-9B", "pipeline_tag": "text-generation"}


def test_it_reads_each_kind_of_change_into_what_to_recount(db):
    from observatory.catalog.models import RollupChange

    RollupChange.objects.all().delete()  # whatever was logged before (rolled back with the test)
    logged = [
        RollupChange.objects.create(kind="date", date=day(1, 2)),
        RollupChange.objects.create(kind="date", date=day(1, 2)),  # two statements on the same day
        RollupChange.objects.create(kind="date", date=day(1, 5)),
        RollupChange.objects.create(kind="cell", **CELL),
        RollupChange.objects.create(kind="cell", **{**CELL, "size_class": None, "tracked": False}),
        RollupChange.objects.create(kind="org", region="china", organization="qwen"),
        RollupChange.objects.create(kind="write"),
    ]
    with connection.cursor() as cursor:
        changes = rollups._read_changes(cursor)
    assert sorted(changes.ids) == sorted(change.pk for change in logged)
    assert changes.full is False
    assert changes.dates == {day(1, 2), day(1, 5)}
    assert changes.cells == {(True, "us", "meta", "7-9B", "text-generation"),
                             (False, "us", "meta", None, "text-generation")}
    assert changes.orgs == {("qwen", "china")}  # (organization, region): what the rollup's rows say


def test_a_truncate_asks_for_everything_and_an_empty_log_for_nothing(db):
    from observatory.catalog.models import RollupChange

    RollupChange.objects.all().delete()
    with connection.cursor() as cursor:
        nothing = rollups._read_changes(cursor)
        RollupChange.objects.create(kind="full")
        everything = rollups._read_changes(cursor)
    assert (nothing.ids, nothing.full, nothing.dates, nothing.cells, nothing.orgs) == ([], False, set(), set(), set())
    assert everything.full is True and len(everything.ids) == 1


def test_the_rebuild_command_says_there_is_no_rollup_without_postgresql(db):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL has the rollup: tests/dashboards/test_rollup_folds.py runs the command")
    assert rollups.rebuild() is None
    with pytest.raises(CommandError, match="no rollup on this database"):
        call_command("rebuild_rollups")
