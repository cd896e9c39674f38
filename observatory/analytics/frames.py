"""Read the catalogue into polars frames: only the columns a metric needs, in one round trip.

On PostgreSQL the rows travel through `COPY ... TO STDOUT` as CSV straight into polars (no
Python object per row); on SQLite (the embedded default) through an ordinary cursor.
"""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
from django.db import connection

SNAPSHOT_SCHEMA = {"model_id": pl.Int64, "date": pl.Date, "downloads_all_time": pl.Int64,
                   "downloads_day": pl.Float64, "cumulative_kind": pl.Utf8}
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
    "ci_lower": pl.Float64, "ci_upper": pl.Float64,
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
    # SQLite hands an expression's date (DATE(created_at)) back as ISO text; only columns it
    # declares as dates come back as datetime.date. Parse the text, never let polars read a
    # number as days since 1970.
    date_columns = [i for i, dtype in enumerate(schema.values()) if dtype == pl.Date]
    if date_columns and rows:
        rows = [list(row) for row in rows]
        for row in rows:
            for i in date_columns:
                if isinstance(row[i], str):
                    row[i] = dt.date.fromisoformat(row[i][:10])
    return pl.DataFrame(rows, schema=schema, orient="row")


def read(sql: str, params: list, schema: dict) -> pl.DataFrame:
    """Any query's rows as a frame with `schema` (the rollup loaders use this too)."""
    return _frame(sql, params, schema)


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
# Inside one (tests, an atomic view) only Django's connection sees the uncommitted rows. The ADBC
# connections come from a small bounded pool shared by the process's threads (arrow_pool says why).
ARROW_APPLICATION_NAME = "observatory-arrow"  # how they show in pg_stat_activity


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
    # A UTC session, like Django's: DATE(created_at) must not depend on the server's time zone.
    return (f"postgresql://{auth}@{s.get('HOST') or '127.0.0.1'}:{s.get('PORT') or 5432}/{s['NAME']}"
            f"?options=-c%20TimeZone%3DUTC&application_name={ARROW_APPLICATION_NAME}")


def close_arrow_connections() -> None:
    """Close the pool's idle ADBC connections (test teardown drops the database; shutdown)."""
    from observatory.analytics import arrow_pool

    arrow_pool.pool().close_all()


def _frame_adbc(sql: str, schema: dict) -> pl.DataFrame:
    from adbc_driver_manager import OperationalError

    from observatory.analytics import arrow_pool

    # Column aliases on the subquery: unique names whatever the SELECT list says.
    aliased = f"SELECT * FROM ({sql}) AS q({', '.join(schema)})"

    def query(conn):
        with conn.cursor() as cursor:
            cursor.execute(aliased)
            return cursor.fetch_arrow_table()

    # OperationalError on a reused connection: the server restarted or the backend was terminated.
    table = arrow_pool.pool().run(_adbc_uri(), query, retry_on=(OperationalError,))
    frame = pl.from_arrow(table)
    return frame.with_columns([pl.col(name).cast(dtype) for name, dtype in schema.items()])


# The observatory's own daily history (imported series and daily crawls). A one-off bulk
# snapshot such as hub-stats is a different vintage with its own counting, so time series
# charts leave it out unless asked.
DAILY_SOURCES = ("daily-series", "crawl")

# Downloads on a snapshot's day: stored for the series (its estimator's), else the rise of the
# Hub's all-time count since the model's previous row of the same source (the window runs over
# the rows the query keeps, which only ever drops later rows or whole models). A fall is no
# download count: NULL, and the data-quality ledger lists it as a contradiction.
_RISE = "s.downloads_all_time - LAG(s.downloads_all_time) OVER (PARTITION BY s.model_id, s.source ORDER BY s.date)"
DAY_SQL = f"COALESCE(s.downloads_day, CASE WHEN {_RISE} >= 0 THEN {_RISE} END)"


def snapshots(start: dt.date | None = None, end: dt.date | None = None,
              sources: tuple[str, ...] | None = DAILY_SOURCES, filters=None,
              since_release: bool = False) -> pl.DataFrame:
    """(model_id, date, downloads_all_time, downloads_day, cumulative_kind) up to `end`, in the
    canonical measures: cumulative downloads at the date, downloads on the day (the series'
    estimate, or for the Hub's all-time counts the rise since the model's previous row of the same
    source: NULL on its first, and where the count fell, which the ledger records), and how far
    the cumulative count is an all-time count (catalog.models.CumulativeKind).

    `start` is not applied here: a metric needs each model's count at or before the range's
    first day as its baseline. With `filters`, only the rows of the models they select (the
    metrics join snapshots to the filtered models anyway; PostgreSQL drops the rest before they
    travel). `since_release`: only models with a size class and a release date, from that date
    on (what the adoption curves keep).
    """
    where, params = model_conditions(filters)
    if since_release:
        where += ["m.size_class <> ''", "m.release_date IS NOT NULL", "s.date >= m.release_date"]
    sql = f"SELECT s.model_id, s.date, s.downloads_all_time, {DAY_SQL}, s.cumulative_kind FROM catalog_downloadsnapshot s"
    if where:
        sql += (" JOIN catalog_hubmodel m ON m.id = s.model_id"
                " LEFT JOIN catalog_organization o ON o.id = m.organization_id")
    where.append("s.downloads_all_time IS NOT NULL")
    if sources:
        where.append("s.source IN (" + ", ".join(["%s"] * len(sources)) + ")")
        params.extend(sources)
    if end is not None:
        where.append("s.date <= %s")
        params.append(end)
    return _frame(f"{sql} WHERE {' AND '.join(where)}", params, SNAPSHOT_SCHEMA)


def latest_snapshot_date(end: dt.date | None = None,
                         sources: tuple[str, ...] | None = DAILY_SOURCES) -> dt.date | None:
    """The newest snapshot date up to `end`, whatever the filters (charts say "as of" it)."""
    sql = "SELECT MAX(date) FROM catalog_downloadsnapshot WHERE downloads_all_time IS NOT NULL"
    params: list = []
    if sources:
        sql += " AND source IN (" + ", ".join(["%s"] * len(sources)) + ")"
        params.extend(sources)
    if end is not None:
        sql += " AND date <= %s"
        params.append(end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        value = cursor.fetchone()[0]
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


MODEL_COLUMNS = {
    "model_id": "m.id", "hub_id": "m.hub_id", "organization": "COALESCE(o.namespace, m.author)",
    "region": "COALESCE(o.region, 'unknown')", "tracked": "m.tracked", "size_class": "NULLIF(m.size_class, '')",
    "licence_id": "m.licence_id", "licence_class": "m.licence_class", "pipeline_tag": "m.pipeline_tag",
    "release_date": "m.release_date", "created_date": "DATE(m.created_at)", "downloads": "m.downloads",
    "downloads_all_time": "m.downloads_all_time",
}
# What every filter needs; a metric asks for more by name.
FILTER_COLUMNS = ("model_id", "organization", "region", "tracked", "size_class", "pipeline_tag")


def model_conditions(filters, columns: dict[str, str] | None = None) -> tuple[list[str], list]:
    """SQL conditions selecting what analytics.filters.filter_models keeps, over `columns`
    (filter column → SQL expression; by default the model loader's own, aliases m and o)."""
    if filters is None:
        return [], []
    col = columns or MODEL_COLUMNS
    where: list[str] = []
    params: list = []
    if filters.scope == "tracked":
        where.append(col["tracked"])
    if filters.regions:
        where.append(f"{col['region']} IN ({', '.join(['%s'] * len(filters.regions))})")
        params.extend(filters.regions)
    for name in ("organization", "size_class", "pipeline_tag", "licence_class"):
        if getattr(filters, name):
            where.append(f"{col[name]} = %s")
            params.append(getattr(filters, name))
    return where, params


def _model_sql(names: list[str], filters) -> tuple[str, list]:
    where, params = model_conditions(filters)
    sql = (f"SELECT {', '.join(MODEL_COLUMNS[c] for c in names)} "
           "FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    return sql, params


def models(extra: tuple[str, ...] | None = None, filters=None, *, parents_of_edges: bool = False) -> pl.DataFrame:
    """One row a model; no organisation → region 'unknown'. With `extra`, only the filter columns
    plus those: Hub ids and licence strings are most of the bytes, and most metrics never read them.

    With `filters`, only the models filter_models would keep (PostgreSQL filters, fewer rows
    travel). `parents_of_edges` adds the resolved parents of those models' lineage edges (what a
    licence conflict compares with).
    """
    names = list(MODEL_SCHEMA) if extra is None else [c for c in MODEL_SCHEMA if c in FILTER_COLUMNS or c in extra]
    schema = {c: MODEL_SCHEMA[c] for c in names}
    sql, params = _model_sql(names, filters)
    frame = _frame(sql, params, schema)
    if parents_of_edges and filters is not None:
        # A second query rather than a UNION (which sorts every wide row to drop duplicates).
        scope, scope_params = _model_sql(["model_id"], filters)
        parents = _frame(
            f"SELECT {', '.join(MODEL_COLUMNS[c] for c in names)} FROM catalog_hubmodel m "
            "LEFT JOIN catalog_organization o ON o.id = m.organization_id WHERE m.id IN "
            f"(SELECT e.parent_id FROM catalog_lineageedge e WHERE e.child_id IN ({scope}))", scope_params, schema)
        frame = pl.concat([frame, parents.join(frame.select("model_id"), on="model_id", how="anti")])
    return frame


# Ids a query names at most (SQLite allows 32,766 parameters a statement).
_IDS_PER_QUERY = 10_000


def models_among(ids: pl.Series, filters=None, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """models(extra, filters), of the models `ids` names only: for a few models out of the whole
    catalogue (what a chart's data-quality flags need), without loading the catalogue."""
    names = [c for c in MODEL_SCHEMA if c in FILTER_COLUMNS or c in extra]
    schema = {c: MODEL_SCHEMA[c] for c in names}
    chosen = ids.drop_nulls().unique().sort().to_list()
    parts = [pl.DataFrame(schema=schema)]
    for at in range(0, len(chosen), _IDS_PER_QUERY):
        batch = chosen[at:at + _IDS_PER_QUERY]
        sql, params = _model_sql(names, filters)
        sql += (" AND " if " WHERE " in sql else " WHERE ") + f"m.id IN ({', '.join(['%s'] * len(batch))})"
        parts.append(_frame(sql, params + batch, schema))
    return pl.concat(parts)


def latest_created_date() -> dt.date | None:
    """The newest model creation date in the catalogue, whatever the filters."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MAX(created_at) FROM catalog_hubmodel")
        value = cursor.fetchone()[0]
    if isinstance(value, str):  # SQLite
        return dt.date.fromisoformat(value[:10])
    # The loaders' DATE(created_at) runs in a UTC session (Django's and the ADBC one): the UTC date.
    return value.astimezone(dt.UTC).date() if value is not None else None


def edges(filters=None, *, touching: bool = False) -> pl.DataFrame:
    """Lineage edges; with `filters`, only those whose child the filters select (and, with
    `touching`, also those whose resolved parent they select)."""
    sql = "SELECT e.child_id, e.parent_id, e.parent_hub_id, e.relation FROM catalog_lineageedge e"
    params: list = []
    if filters is not None:
        scope, params = _model_sql(["model_id"], filters)
        if touching:
            # The scope read once, then two hash joins, not "IN (...) OR IN (...)": PostgreSQL plans
            # that OR as a subplan re-run per edge once the ids outgrow work_mem (minutes at 2.5M edges).
            sql = (f"WITH s(id) AS MATERIALIZED ({scope}) {sql} LEFT JOIN s c ON c.id = e.child_id "
                   "LEFT JOIN s p ON p.id = e.parent_id WHERE c.id IS NOT NULL OR p.id IS NOT NULL")
        else:
            sql += f" WHERE e.child_id IN ({scope})"
    return _frame(sql, params, EDGE_SCHEMA)


def organizations() -> pl.DataFrame:
    return _frame("SELECT namespace, region FROM catalog_organization", [], ORG_SCHEMA)


def leaderboard(source: str, benchmarks: list[str] | None = None) -> pl.DataFrame:
    sql = ("SELECT model_name, organization, country, open_weights, benchmark, score, release_date, snapshot_date, "
           "ci_lower, ci_upper FROM catalog_leaderboardentry WHERE source = %s")
    params: list = [source]
    if benchmarks:
        sql += " AND benchmark IN (" + ", ".join(["%s"] * len(benchmarks)) + ")"
        params.extend(benchmarks)
    return _frame(sql, params, ENTRY_SCHEMA)


FINETUNE_SCHEMA = {"base_hub_id": pl.Utf8, "months_since_creation": pl.Int64, "cumulative_count": pl.Int64,
                   "created_date": pl.Date, "tracked": pl.Boolean}


def finetune_counts(*, tracked_only: bool = False) -> pl.DataFrame:
    """Every monthly fine-tune count with its base's creation date (the series' own, UTC) and
    whether the base is a tracked model (bases with no HubModel row are not). `tracked_only`:
    only the tracked bases' (the chart's default scope: a few percent of the rows at the Hub's size)."""
    return _frame(
        "SELECT f.base_hub_id, f.months_since_creation, f.cumulative_count, DATE(f.base_created_at), "
        "COALESCE(m.tracked, FALSE) FROM catalog_monthlyfinetunecount f "
        "LEFT JOIN catalog_hubmodel m ON m.id = f.model_id" + (" WHERE m.tracked" if tracked_only else ""),
        [], FINETUNE_SCHEMA)


def finetune_readings() -> pl.DataFrame:
    """(created_date, months_since_creation): per base creation date, the most months after it at
    which any base created that day has a count. What the series' observation window is read from
    (analytics.finetunes.observation_end), in a few thousand rows rather than every count."""
    return _frame(
        "SELECT DATE(f.base_created_at), MAX(f.months_since_creation) FROM catalog_monthlyfinetunecount f "
        "WHERE f.cumulative_count IS NOT NULL AND f.base_created_at IS NOT NULL GROUP BY 1", [],
        {"created_date": pl.Date, "months_since_creation": pl.Int64})
