"""The daily-gain rollup's reader and guards (analytics.rollups) over stored cells. The rollup is
built in PostgreSQL only; on the embedded default's SQLite it is never fresh and never built, and
the metrics read the raw rows."""

from __future__ import annotations

import polars as pl
import pytest
from django.db import connection

from observatory.analytics import rollups
from observatory.analytics.filters import Filters
from tests.fast.made_up import day, rows


@pytest.fixture
def cells(db):
    from observatory.catalog.models import DailyGain

    for date, tracked, region, org, size, tag, gain, n in [
        (day(1, 1), True, "us", "meta", "1-5B", "text-generation", 10.0, 2),
        (day(1, 2), True, "us", "meta", "1-5B", "text-generation", 5.5, 2),
        (day(1, 2), False, "china", "qwen", None, "image-to-text", 3.0, 1),
        (day(1, 3), True, "eu", "mistral", "7-9B", "text-generation", 1.0, 1),
    ]:
        DailyGain.objects.create(date=date, tracked=tracked, region=region, organization=org, size_class=size,
                                 pipeline_tag=tag, gain=gain, rows=n)


def _read(**kwargs):
    got = rollups.daily_gains(**kwargs)
    assert got.schema == pl.Schema(rollups.GAIN_SCHEMA)
    return sorted(rows(got), key=str)


def test_it_reads_every_cell_without_filters(cells):
    assert _read() == sorted([
        (day(1, 1), True, "us", "meta", "1-5B", "text-generation", 10.0, 2),
        (day(1, 2), True, "us", "meta", "1-5B", "text-generation", 5.5, 2),
        (day(1, 2), False, "china", "qwen", None, "image-to-text", 3.0, 1),
        (day(1, 3), True, "eu", "mistral", "7-9B", "text-generation", 1.0, 1)], key=str)


@pytest.mark.parametrize(("kwargs", "dates_and_orgs"), [
    ({"filters": Filters()}, [(day(1, 1), "meta"), (day(1, 2), "meta"), (day(1, 3), "mistral")]),
    ({"filters": Filters(scope="all", regions=("china",))}, [(day(1, 2), "qwen")]),
    ({"filters": Filters(organization="mistral")}, [(day(1, 3), "mistral")]),
    ({"filters": Filters(size_class="1-5B")}, [(day(1, 1), "meta"), (day(1, 2), "meta")]),
    ({"filters": Filters(scope="all", pipeline_tag="image-to-text")}, [(day(1, 2), "qwen")]),
    ({"end": day(1, 2)}, [(day(1, 1), "meta"), (day(1, 2), "meta"), (day(1, 2), "qwen")]),
    ({"filters": Filters(), "end": day(1, 1)}, [(day(1, 1), "meta")]),
])
def test_it_reads_the_cells_the_filters_select_up_to_the_end(cells, kwargs, dates_and_orgs):
    assert sorted((r[0], r[3]) for r in _read(**kwargs)) == dates_and_orgs


def test_it_is_built_and_read_only_on_postgresql(db):
    on_postgres = connection.vendor == "postgresql"
    assert rollups.available() is on_postgres
    if not on_postgres:
        assert rollups.fresh() is False
        assert rollups.refresh() is None and rollups.refresh(force=True) is None
