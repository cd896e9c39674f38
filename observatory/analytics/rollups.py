"""The daily-gain rollup: built in PostgreSQL when the data changes, read by the download metrics.

Thirty million daily rows are too many to move into polars on every cold request, but the
download charts only ever group models by the dashboard filters (tracked, region, organisation,
size class, pipeline tag). Summed per day over each combination of those, the per-model
canonical downloads per day (analytics.frames.DAY_SQL) are a few hundred thousand rows at
full scale, and every download metric follows from them exactly (analytics.gains).

Freshness: a statement-level trigger on the source tables (snapshots, models, organisations)
takes a number from a sequence on every write (migration 0002). The rollup records the number
it was built at; `fresh()` compares. Any write since (an import, a crawl page, a test's rolled
back rows) makes it stale, and the loaders read the raw rows until `refresh()` runs again, which
every data-version bump does (catalog.runs). Correct numbers never depend on the rollup being
up to date; only speed does.
"""

from __future__ import annotations

import logging
import time

import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from observatory.analytics import frames

log = logging.getLogger(__name__)

NAME = "daily-gains"
SOURCE_TABLES = ("catalog_downloadsnapshot", "catalog_hubmodel", "catalog_organization")
GAIN_SCHEMA = {
    "date": pl.Date, "tracked": pl.Boolean, "region": pl.Utf8, "organization": pl.Utf8, "size_class": pl.Utf8,
    "pipeline_tag": pl.Utf8, "gain": pl.Float64, "rows": pl.Int64,
}

# The same columns as frames.models() (the filters compare against those), the same rows as
# frames.snapshots() (daily sources, an all-time count).
BUILD_SQL = f"""
    INSERT INTO catalog_dailygain (date, tracked, region, organization, size_class, pipeline_tag, gain, rows)
    SELECT s.date, m.tracked, {frames.MODEL_COLUMNS['region']}, {frames.MODEL_COLUMNS['organization']},
           {frames.MODEL_COLUMNS['size_class']}, m.pipeline_tag, SUM(s.gain), COUNT(*)
    FROM (SELECT s.model_id, s.date, COALESCE({frames.DAY_SQL}, 0) AS gain
          FROM catalog_downloadsnapshot s
          WHERE s.downloads_all_time IS NOT NULL
            AND s.source IN ({', '.join(f"'{s}'" for s in frames.DAILY_SOURCES)})) s
    JOIN catalog_hubmodel m ON m.id = s.model_id
    LEFT JOIN catalog_organization o ON o.id = m.organization_id
    GROUP BY 1, 2, 3, 4, 5, 6"""


def available() -> bool:
    return connection.vendor == "postgresql"


def _source_version(cursor) -> int:
    cursor.execute("SELECT last_value, is_called FROM catalog_rollup_source_seq")
    value, called = cursor.fetchone()
    return value if called else 0  # a new sequence says 1 before its first nextval() too


def fresh() -> bool:
    """True when the rollup was built from the source tables as they are now."""
    if not available():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT source_version FROM catalog_rollupstate WHERE name = %s", [NAME])
        row = cursor.fetchone()
        return row is not None and row[0] == _source_version(cursor)


def refresh(*, force: bool = False) -> float | None:
    """Rebuild the rollup unless it is fresh; returns the seconds it took (None: nothing done).

    SHARE locks on the sources wait for writers in flight and hold new ones off until the
    rebuild commits, so the version recorded is exactly the data the rollup summed.
    """
    if not available() or (not force and fresh()):
        return None
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {', '.join(SOURCE_TABLES)} IN SHARE MODE")
        # One sort of every daily row by model and day: in memory rather than spilled in 4 MB runs.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        version = _source_version(cursor)
        cursor.execute("DELETE FROM catalog_dailygain")  # not TRUNCATE: readers keep reading the old rows
        cursor.execute(BUILD_SQL)
        seconds = time.perf_counter() - started
        cursor.execute(
            "INSERT INTO catalog_rollupstate (name, source_version, built_at, seconds) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET source_version = EXCLUDED.source_version, "
            "built_at = EXCLUDED.built_at, seconds = EXCLUDED.seconds",
            [NAME, version, timezone.now(), seconds])
    log.info("rollup rebuilt name=%s seconds=%.2f", NAME, seconds)
    return seconds


def daily_gains(filters=None, *, end=None) -> pl.DataFrame:
    """The rollup's cells for the models the filters select, up to `end` (see GAIN_SCHEMA)."""
    where, params = frames.model_conditions(filters, {
        "tracked": "tracked", "region": "region", "organization": "organization", "size_class": "size_class",
        "pipeline_tag": "pipeline_tag"})
    if end is not None:
        where.append("date <= %s")
        params.append(end)
    sql = f"SELECT {', '.join(GAIN_SCHEMA)} FROM catalog_dailygain"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return frames.read(sql, params, GAIN_SCHEMA)
