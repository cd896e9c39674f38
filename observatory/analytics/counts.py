"""The count aggregates: models, releases and lineage edges per filter cell, kept in PostgreSQL
beside the daily-gain rollup and read by licence-mix, derivatives-by-base and releases-by-region.

At full scale those charts read two million models and two and a half million edges into polars
on every cold request, only to count them by a filter cell (tracked, region, organization, size
class, pipeline tag) and one more key: the licence class, a creation or release day, a base's
namespace and relation. Counted that way (catalog.count_aggregates) they are a few thousand rows,
and the metrics follow from them exactly (the functions below give what analytics.licences,
.derivatives and .releases give over the raw rows; tests/dashboards/test_count_aggregates.py
compares them under every filter set).

Keeping them: statement triggers on models, organisations and edges (migration 0011) log each
write's signed contribution to catalog_countchange; the rollup's fold (analytics.rollups.refresh,
the same transaction and snapshot) adds the logged deltas into the cells they touch, and rechecks
the edges a write touched for licence conflicts. `rebuild` recounts everything from the raw rows
(also what `manage.py rebuild_rollups` runs). Readers take the aggregates only while the rollup
is fresh (every logged write folded); otherwise the raw path.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import polars as pl
from django.db import connection
from django.utils import timezone

from observatory.analytics import frames, rollups
from observatory.analytics.filters import Filters, filter_models
from observatory.analytics.licences import CLASSES
from observatory.vocab import LICENCE_CONFLICT_PAIRS

log = logging.getLogger(__name__)

NAME = "counts"
CELL = ("tracked", "region", "organization", "size_class", "pipeline_tag")
_CELL_COLUMNS = ", ".join(CELL)
_CELL_SQL = ", ".join(frames.MODEL_COLUMNS[c] for c in CELL)
# DATE(created_at) as the loaders read it (a UTC session), whatever the fold's session says.
_CREATED_SQL = "(m.created_at AT TIME ZONE 'UTC')::date"
_CELL_SCHEMA = {"tracked": pl.Boolean, "region": pl.Utf8, "organization": pl.Utf8, "size_class": pl.Utf8,
                "pipeline_tag": pl.Utf8}
LICENCE_SCHEMA = {**_CELL_SCHEMA, "licence_class": pl.Utf8, "models": pl.Int64, "downloads_all_time": pl.Int64,
                  "derivatives": pl.Int64}
DAY_SCHEMA = {**_CELL_SCHEMA, "date": pl.Date, "models": pl.Int64}
DERIVATIVE_SCHEMA = {**_CELL_SCHEMA, "created": pl.Date, "base_namespace": pl.Utf8, "relation": pl.Utf8,
                     "derivatives": pl.Int64, "finetunes": pl.Int64}
CONFLICT_COLUMNS = ("derivative", "derivative_licence", "derivative_class", "relation", "base", "base_licence",
                    "base_class")
CONFLICT_SCHEMA = {**_CELL_SCHEMA, **{c: pl.Utf8 for c in CONFLICT_COLUMNS}}
TABLES = ("catalog_licencecount", "catalog_modeldaycount", "catalog_derivativecount", "catalog_licenceconflict")

_MODELS = "catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id"
_LICENCE_BUILD = f"""
    INSERT INTO catalog_licencecount ({_CELL_COLUMNS}, licence_class, model_count, downloads_all_time, derivatives)
    SELECT {_CELL_SQL}, m.licence_class, COUNT(*), COALESCE(SUM(m.downloads_all_time), 0), COALESCE(SUM(d.k), 0)
    FROM {_MODELS} LEFT JOIN (SELECT parent_id, COUNT(*) AS k FROM catalog_lineageedge
                              WHERE parent_id IS NOT NULL GROUP BY parent_id) d ON d.parent_id = m.id
    GROUP BY 1, 2, 3, 4, 5, 6"""
_DAY_BUILD = f"""
    INSERT INTO catalog_modeldaycount ({_CELL_COLUMNS}, field, date, model_count)
    SELECT {_CELL_SQL}, 'created', {_CREATED_SQL}, COUNT(*) FROM {_MODELS} WHERE m.created_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 7
    UNION ALL
    SELECT {_CELL_SQL}, 'released', m.release_date, COUNT(*) FROM {_MODELS} WHERE m.release_date IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 7"""
# derivatives.ancestors at depth 1: each (child, base) once, a base being its stored row or its
# case-folded id; of two spellings of one base the smallest is kept (the raw path sorts so).
# Byte order ("C"): a sort by the database's collation costs several times as much, and equality is the same.
_BASE_KEY = "(CASE WHEN e.parent_id IS NOT NULL THEN '#' || e.parent_id ELSE lower(e.parent_hub_id) END) COLLATE \"C\""
_PAIRS = (f"SELECT DISTINCT ON (e.child_id, {_BASE_KEY}) e.child_id, split_part(e.parent_hub_id, '/', 1) AS ns, "
          "e.relation FROM catalog_lineageedge e {where} ORDER BY e.child_id, " + _BASE_KEY
          + ', e.parent_hub_id COLLATE "C"')
_DERIVATIVE_BUILD = f"""
    INSERT INTO catalog_derivativecount ({_CELL_COLUMNS}, created, base_namespace, relation, derivatives, finetunes)
    SELECT {_CELL_COLUMNS}, created, ns, relation, SUM(n), SUM(f) FROM (
        SELECT {_CELL_SQL}, {_CREATED_SQL}, p.ns, p.relation, 1, 0
        FROM {_MODELS} JOIN ({_PAIRS.format(where="")}) p ON p.child_id = m.id WHERE m.created_at IS NOT NULL
        UNION ALL
        SELECT {_CELL_SQL}, {_CREATED_SQL}, p.ns, p.relation, 0, 1
        FROM {_MODELS} JOIN ({_PAIRS.format(where="WHERE e.relation = 'finetune'")}) p ON p.child_id = m.id
        WHERE m.created_at IS NOT NULL
    ) pairs ({_CELL_COLUMNS}, created, ns, relation, n, f)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8"""
# The rule's pairs (vocab.LICENCE_CONFLICT_PAIRS) as rows: a change to the rule takes a rebuild.
_PAIRS_VALUES = ", ".join(f"('{child}', '{parent}')" for child, parent in sorted(LICENCE_CONFLICT_PAIRS))
_CONFLICT_BUILD = f"""
    INSERT INTO catalog_licenceconflict ({_CELL_COLUMNS}, edge_id, derivative, derivative_licence, derivative_class,
                                         relation, base, base_licence, base_class)
    SELECT {_CELL_SQL}, e.id, m.hub_id, m.licence_id, m.licence_class, e.relation, p.hub_id, p.licence_id,
           p.licence_class
    FROM catalog_lineageedge e JOIN {_MODELS} ON m.id = e.child_id JOIN catalog_hubmodel p ON p.id = e.parent_id
    JOIN (VALUES {_PAIRS_VALUES}) k (child, parent) ON k.child = m.licence_class AND k.parent = p.licence_class"""

# The logged deltas summed per key and added in; a cell counted down to nothing goes.
_KEYS = {
    "catalog_licencecount": ("licence", "licencecount_key", "licence_class", ("model_count", "downloads_all_time",
                                                                              "derivatives")),
    "catalog_modeldaycount": ("day", "modeldaycount_key", "field, date", ("model_count",)),
    "catalog_derivativecount": ("deriv", "derivativecount_key", "created, relation, base_namespace",
                                ("derivatives", "finetunes")),
}
_LOG_KEYS = {"licence_class": "key", "field, date": "key, date", "created, relation, base_namespace":
             "date, key, namespace"}


def _apply_sql(table: str) -> tuple[str, str]:
    kind, constraint, keys, counts = _KEYS[table]
    sums = ", ".join(f"SUM(n{i + 1})" for i in range(len(counts)))
    updates = ", ".join(f"{c} = t.{c} + EXCLUDED.{c}" for c in counts)
    upsert = (f"INSERT INTO {table} AS t ({_CELL_COLUMNS}, {keys}, {', '.join(counts)}) "
              f"SELECT {_CELL_COLUMNS}, {_LOG_KEYS[keys]}, {sums} FROM _count_log WHERE kind = '{kind}' "
              f"GROUP BY {_CELL_COLUMNS}, {_LOG_KEYS[keys]} ON CONFLICT ON CONSTRAINT {constraint} DO UPDATE SET {updates}")
    emptied = f"DELETE FROM {table} WHERE " + " AND ".join(f"{c} = 0" for c in counts)
    return upsert, emptied


def built() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s)", [NAME])
        return cursor.fetchone()[0]


def _rebuild(cursor) -> None:
    cursor.execute("DELETE FROM catalog_countchange")  # the snapshot's entries: the recount counts their writes
    for table in TABLES:
        cursor.execute(f"DELETE FROM {table}")  # not TRUNCATE: readers keep reading the old rows
    for sql in (_LICENCE_BUILD, _DAY_BUILD, _DERIVATIVE_BUILD, _CONFLICT_BUILD):
        cursor.execute(sql)


def _fold_logged(cursor) -> int:
    """Add the logged deltas in and recheck the logged edges; returns how many log rows it consumed."""
    cursor.execute("CREATE TEMPORARY TABLE _count_log ON COMMIT DROP AS SELECT * FROM catalog_countchange")
    consumed = cursor.rowcount
    if consumed:
        cursor.execute("DELETE FROM catalog_countchange WHERE id IN (SELECT id FROM _count_log)")
        for table in _KEYS:
            for sql in _apply_sql(table):
                cursor.execute(sql)
        cursor.execute("CREATE TEMPORARY TABLE _count_edges ON COMMIT DROP AS "
                       "SELECT DISTINCT edge_id AS id FROM _count_log WHERE kind = 'conflict'")
        cursor.execute("DELETE FROM catalog_licenceconflict WHERE edge_id IN (SELECT id FROM _count_edges)")
        cursor.execute(_CONFLICT_BUILD + " WHERE e.id IN (SELECT id FROM _count_edges)")
        cursor.execute("DROP TABLE _count_edges")
    cursor.execute("DROP TABLE _count_log")  # the next fold of a caller's transaction makes it anew
    return consumed


def fold(cursor, changes: rollups.Changes, full: bool) -> None:
    """rollups.register_fold's fold: a full recount with the rollup's (or when never built), else
    the logged deltas."""
    started = time.perf_counter()
    cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s)", [NAME])
    rebuild = full or not cursor.fetchone()[0]
    if rebuild:
        _rebuild(cursor)
        consumed = 0
    else:
        consumed = _fold_logged(cursor)
    seconds = time.perf_counter() - started
    cursor.execute(
        "INSERT INTO catalog_rollupstate (name, source_version, built_at, seconds) VALUES (%s, 0, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET built_at = EXCLUDED.built_at, seconds = EXCLUDED.seconds",
        [NAME, timezone.now(), seconds])
    log.info("counts %s seconds=%.2f changes=%d", "rebuilt" if rebuild else "folded", seconds, consumed)


# --- readers ---------------------------------------------------------------------------------------

def readable(filters: Filters) -> bool:
    """True when the aggregates hold every write and can answer for `filters` (none has a
    licence-class cell: the three charts do not filter on it)."""
    return not filters.licence_class and rollups.fresh() and built()


def _read(table: str, columns: str, filters: Filters, schema: dict, extra: str = "") -> pl.DataFrame:
    where, params = frames.model_conditions(filters, {c: c for c in CELL})
    if extra:
        where.append(extra)
    sql = f"SELECT {_CELL_COLUMNS}, {columns} FROM {table}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    # The loader already selects by the filters in SQL; filtering again here is what defines them.
    return filter_models(frames.read(sql, params, schema), filters)


def licence_counts(filters: Filters) -> pl.DataFrame:
    return _read("catalog_licencecount", "licence_class, model_count, downloads_all_time, derivatives", filters,
                 LICENCE_SCHEMA)


def day_counts(filters: Filters, field: str) -> pl.DataFrame:
    """Models of the cells per creation ("created") or release ("released") day."""
    return _read("catalog_modeldaycount", "date, model_count", filters, DAY_SCHEMA, extra=f"field = '{field}'")


def derivative_counts(filters: Filters) -> pl.DataFrame:
    return _read("catalog_derivativecount", "created, base_namespace, relation, derivatives, finetunes", filters,
                 DERIVATIVE_SCHEMA)


def conflicts(filters: Filters) -> pl.DataFrame:
    """licences.licence_conflicts of the models the filters select."""
    rows = _read("catalog_licenceconflict", ", ".join(CONFLICT_COLUMNS), filters, CONFLICT_SCHEMA)
    return rows.select(CONFLICT_COLUMNS).sort(["base", "derivative"])


# --- the metrics from the counts (each equal to its raw-row function) ---------------------------

def licence_mix(counts: pl.DataFrame) -> pl.DataFrame:
    """licences.licence_mix from licence_counts."""
    sums = counts.group_by("licence_class").agg(pl.col("models", "downloads_all_time", "derivatives").sum())
    order = pl.DataFrame({"licence_class": CLASSES, "order": list(range(len(CLASSES)))})
    return (
        order.join(sums, on="licence_class", how="left")
        .with_columns(pl.col("models", "downloads_all_time", "derivatives").fill_null(0).cast(pl.Int64))
        .sort("order").drop("order")
    )


def latest(days: pl.DataFrame) -> dt.date | None:
    """The newest day with a model (the charts' "as of")."""
    return None if days.is_empty() else days["date"].max()


def _in_range(frame: pl.DataFrame, column: str, start: dt.date | None, end: dt.date | None) -> pl.DataFrame:
    if start is not None:
        frame = frame.filter(pl.col(column) >= start)
    if end is not None:
        frame = frame.filter(pl.col(column) <= end)
    return frame


def releases_by_region(days: pl.DataFrame, *, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """releases.releases_by_region from day_counts(…, "released")."""
    return (
        _in_range(days, "date", start, end).with_columns(pl.col("date").dt.truncate("1q").alias("quarter"))
        .group_by(["quarter", "region"]).agg(pl.col("models").sum().cast(pl.Int64).alias("releases"))
        .with_columns(pl.lit("observatory").alias("source")).sort(["quarter", "region"])
    )


def _base_months(counts: pl.DataFrame, weight: str, organizations: pl.DataFrame, start, end) -> pl.DataFrame:
    regions = organizations.rename({"namespace": "base_namespace", "region": "base_region"})
    return (
        _in_range(counts.filter(pl.col(weight) > 0), "created", start, end)
        .join(regions, on="base_namespace", how="left").with_columns(pl.col("base_region").fill_null("unknown"))
        .with_columns(pl.col("created").dt.truncate("1mo").alias("month"), pl.col(weight).alias("n"))
    )


def derivatives_by_base(counts: pl.DataFrame, organizations: pl.DataFrame, *, by: str = "region",
                        start: dt.date | None = None, end: dt.date | None = None, top_n: int = 10) -> pl.DataFrame:
    """derivatives.derivatives_by_base at depth "direct" from derivative_counts, by region or organization."""
    column = {"region": "base_region", "organization": "base_namespace"}.get(by)
    if column is None:
        raise ValueError("the counts group by the base's region or organization")
    pairs = _base_months(counts, "derivatives", organizations, start, end).with_columns(pl.col(column).alias("base"))
    if by != "region" and not pairs.is_empty():
        top = (pairs.group_by("base").agg(pl.col("n").sum().alias("len"))
               .sort(["len", "base"], descending=[True, False]).head(top_n)["base"].to_list())
        pairs = pairs.with_columns(
            pl.when(pl.col("base").is_in(top)).then(pl.col("base")).otherwise(pl.lit("other")).alias("base"))
    return (
        pairs.group_by(["month", "base", "relation"]).agg(pl.col("n").sum().cast(pl.Int64).alias("new_derivatives"))
        .sort(["month", "base", "relation"])
    )


def finetune_share_by_base_region(counts: pl.DataFrame, organizations: pl.DataFrame, *,
                                  start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """derivatives.finetune_share_by_base_region from derivative_counts."""
    return (
        _base_months(counts, "finetunes", organizations, start, end)
        .group_by(["month", "base_region"]).agg(pl.col("n").sum().cast(pl.Int64).alias("finetunes"))
        .with_columns((pl.col("finetunes") / pl.col("finetunes").sum().over("month")).alias("share"))
        .sort(["month", "base_region"])
    )
