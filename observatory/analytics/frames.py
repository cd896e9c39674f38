"""Read the catalogue into polars frames: only the columns a metric needs, through one cursor."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import connection

SNAPSHOT_SCHEMA = {"model_id": pl.Int64, "date": pl.Date, "downloads_all_time": pl.Int64}
MODEL_SCHEMA = {"model_id": pl.Int64, "hub_id": pl.Utf8, "region": pl.Utf8, "tracked": pl.Boolean}


def _frame(sql: str, params: list, schema: dict) -> pl.DataFrame:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


# The observatory's own daily history (imported series and daily crawls). A one-off bulk
# snapshot such as hub-stats is a different vintage with its own counting, so time series
# charts leave it out unless asked.
DAILY_SOURCES = ("daily-series", "crawl")


def snapshots(start: dt.date | None = None, end: dt.date | None = None,
              sources: tuple[str, ...] | None = DAILY_SOURCES) -> pl.DataFrame:
    """(model_id, date, downloads_all_time) for rows with an all-time count, up to `end`."""
    sql = "SELECT model_id, date, downloads_all_time FROM catalog_downloadsnapshot WHERE downloads_all_time IS NOT NULL"
    params: list = []
    if sources:
        sql += " AND source IN (" + ", ".join(["%s"] * len(sources)) + ")"
        params.extend(sources)
    if end is not None:
        sql += " AND date <= %s"
        params.append(end)
    return _frame(sql, params, SNAPSHOT_SCHEMA)


def models() -> pl.DataFrame:
    """(model_id, hub_id, region, tracked); a model without an organisation is in region 'unknown'."""
    sql = (
        "SELECT m.id, m.hub_id, COALESCE(o.region, 'unknown'), m.tracked FROM catalog_hubmodel m "
        "LEFT JOIN catalog_organization o ON o.id = m.organization_id"
    )
    return _frame(sql, [], MODEL_SCHEMA)
