"""Read the catalogue into polars frames: only the columns a metric needs, in one round trip.

On PostgreSQL the rows travel through `COPY ... TO STDOUT` as CSV straight into polars (no
Python object per row); on SQLite (the embedded default) through an ordinary cursor.
"""

from __future__ import annotations

import datetime as dt
import io
import threading

import polars as pl
from django.db import connection

SNAPSHOT_SCHEMA = {"model_id": pl.Int64, "date": pl.Date, "downloads_all_time": pl.Int64}
MODEL_SCHEMA = {
    "model_id": pl.Int64, "hub_id": pl.Utf8, "organization": pl.Utf8, "region": pl.Utf8, "tracked": pl.Boolean,
    "size_class": pl.Utf8, "licence_id": pl.Utf8, "licence_class": pl.Utf8, "pipeline_tag": pl.Utf8,
    "release_date": pl.Date, "created_date": pl.Date, "downloads": pl.Int64, "downloads_all_time": pl.Int64,
}
EDGE_SCHEMA = {"child_id": pl.Int64, "parent_id": pl.Int64, "parent_hub_id": pl.Utf8, "relation": pl.Utf8}
ORG_SCHEMA = {"namespace": pl.Utf8, "region": pl.Utf8}
ENTRY_SCHEMA = {
    "model_name": pl.Utf8, "organization": pl.Utf8, "country": pl.Utf8, "open_weights": pl.Boolean,
    "benchmark": pl.Utf8, "score": pl.Float64, "release_date": pl.Date, "snapshot_date": pl.Date,
}


def _inline(sql: str, params: list) -> str:
    """Bind parameters client-side for COPY (which takes no server-side parameters)."""
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params) if params else sql


def _parse(name: str, dtype) -> pl.Expr:
    if dtype == pl.Boolean:
        return pl.col(name) == "t"
    if dtype == pl.Date:
        return pl.col(name).str.to_date("%Y-%m-%d")
    return pl.col(name).cast(dtype)


def _frame(sql: str, params: list, schema: dict) -> pl.DataFrame:
    if connection.vendor == "postgresql":
        if _arrow_allowed():
            return _frame_adbc(_inline(sql, params), schema)
        return _frame_copy(sql, params, schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


def _frame_copy(sql: str, params: list, schema: dict) -> pl.DataFrame:
    """COPY through Django's own connection: sees the current transaction's rows."""
    connection.ensure_connection()
    raw = connection.connection
    buffer = io.BytesIO()
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY ({_inline(sql, params)}) TO STDOUT (FORMAT csv)") as copy:
            for block in copy:
                buffer.write(block)
    if buffer.tell() == 0:
        return pl.DataFrame(schema=schema)
    buffer.seek(0)
    frame = pl.read_csv(buffer, has_header=False, new_columns=list(schema), infer_schema=False)
    return frame.with_columns([_parse(name, dtype) for name, dtype in schema.items()])


# Outside a transaction, an ADBC connection reads the rows as Arrow in C (binary COPY), without
# a Python object or call per row: several times faster than psycopg's COPY at millions of rows.
# Inside one (tests, an atomic view) only Django's connection sees the uncommitted rows.
_adbc = threading.local()
_adbc_open: list = []  # every thread's connection, so close_arrow_connections() reaches them all
_adbc_lock = threading.Lock()


def _arrow_allowed() -> bool:
    return not connection.in_atomic_block and _adbc_available()


def _adbc_available() -> bool:
    try:
        import adbc_driver_postgresql.dbapi  # noqa: F401
    except ImportError:
        return False
    return True


def _adbc_uri() -> str:
    from urllib.parse import quote

    s = connection.settings_dict
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    return f"postgresql://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"


def close_arrow_connections() -> None:
    """Close every thread's ADBC connection (test teardown drops the database; shutdown)."""
    with _adbc_lock:
        while _adbc_open:
            try:
                _adbc_open.pop().close()
            except Exception:  # already broken: nothing left to close
                pass


def _frame_adbc(sql: str, schema: dict) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi as adbc

    uri = _adbc_uri()
    if getattr(_adbc, "uri", None) != uri or getattr(_adbc, "conn", None) not in _adbc_open:
        _adbc.conn, _adbc.uri = adbc.connect(uri, autocommit=True), uri
        with _adbc_lock:
            _adbc_open.append(_adbc.conn)
    # Column aliases on the subquery: unique names whatever the SELECT list says.
    aliased = f"SELECT * FROM ({sql}) AS q({', '.join(schema)})"
    try:
        with _adbc.conn.cursor() as cursor:
            cursor.execute(aliased)
            table = cursor.fetch_arrow_table()
    except Exception:
        _adbc.uri = None  # a broken connection is rebuilt on the next call
        raise
    frame = pl.from_arrow(table)
    return frame.with_columns([pl.col(name).cast(dtype) for name, dtype in schema.items()])


# The observatory's own daily history (imported series and daily crawls). A one-off bulk
# snapshot such as hub-stats is a different vintage with its own counting, so time series
# charts leave it out unless asked.
DAILY_SOURCES = ("daily-series", "crawl")


def snapshots(start: dt.date | None = None, end: dt.date | None = None,
              sources: tuple[str, ...] | None = DAILY_SOURCES) -> pl.DataFrame:
    """(model_id, date, downloads_all_time) for rows with an all-time count, up to `end`.

    `start` is not applied here: a metric needs each model's count at or before the range's
    first day as its baseline.
    """
    sql = "SELECT model_id, date, downloads_all_time FROM catalog_downloadsnapshot WHERE downloads_all_time IS NOT NULL"
    params: list = []
    if sources:
        sql += " AND source IN (" + ", ".join(["%s"] * len(sources)) + ")"
        params.extend(sources)
    if end is not None:
        sql += " AND date <= %s"
        params.append(end)
    return _frame(sql, params, SNAPSHOT_SCHEMA)


MODEL_COLUMNS = {
    "model_id": "m.id", "hub_id": "m.hub_id", "organization": "COALESCE(o.namespace, m.author)",
    "region": "COALESCE(o.region, 'unknown')", "tracked": "m.tracked", "size_class": "NULLIF(m.size_class, '')",
    "licence_id": "m.licence_id", "licence_class": "m.licence_class", "pipeline_tag": "m.pipeline_tag",
    "release_date": "m.release_date", "created_date": "CAST(m.created_at AS DATE)", "downloads": "m.downloads",
    "downloads_all_time": "m.downloads_all_time",
}
# What every filter needs; a metric asks for more by name.
FILTER_COLUMNS = ("model_id", "organization", "region", "tracked", "size_class", "pipeline_tag")


def models(extra: tuple[str, ...] | None = None) -> pl.DataFrame:
    """One row a model; no organisation → region 'unknown'. With `extra`, only the filter columns
    plus those: Hub ids and licence strings are most of the bytes, and most metrics never read them."""
    names = list(MODEL_SCHEMA) if extra is None else [c for c in MODEL_SCHEMA if c in FILTER_COLUMNS or c in extra]
    sql = (f"SELECT {', '.join(MODEL_COLUMNS[c] for c in names)} "
           "FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id")
    return _frame(sql, [], {c: MODEL_SCHEMA[c] for c in names})


def edges() -> pl.DataFrame:
    return _frame("SELECT child_id, parent_id, parent_hub_id, relation FROM catalog_lineageedge", [], EDGE_SCHEMA)


def organizations() -> pl.DataFrame:
    return _frame("SELECT namespace, region FROM catalog_organization", [], ORG_SCHEMA)


def leaderboard(source: str, benchmarks: list[str] | None = None) -> pl.DataFrame:
    sql = ("SELECT model_name, organization, country, open_weights, benchmark, score, release_date, snapshot_date "
           "FROM catalog_leaderboardentry WHERE source = %s")
    params: list = [source]
    if benchmarks:
        sql += " AND benchmark IN (" + ", ".join(["%s"] * len(benchmarks)) + ")"
        params.extend(benchmarks)
    return _frame(sql, params, ENTRY_SCHEMA)
