"""The data-quality ledger: what each download source got wrong or left out, with model, date
and reason, and which charted points it concerns.

Two kinds of entries:
- found when a source is converted (ingest.download_measures): leading placeholders read as
  missing, implausible jumps, gaps, falls of a running sum; stored as DataQualityIssue rows;
- found across sources, read from the snapshots as they are now: a later all-time count below an
  earlier cumulative count (a contradiction: the later point is not drawn), and days between
  two crawls of a model (gaps in the crawled history).

Finding the second kind runs a window over every snapshot (tens of seconds at the Hub's size),
so on PostgreSQL they are kept (catalog.quality_aggregates) and folded in with the daily-gain
rollup (`fold`, registered with analytics.rollups): a new day is checked against each model's
kept state (its peak all-time count, its last crawl), the models whose rows changed otherwise
are recomputed from their own rows. The ledger's readers read the kept entries while they are
fresh (`kept()`), and compute them from the raw rows as above otherwise: the same entries.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import polars as pl
from django.db import connection

from ingest.download_measures import SOURCES
from observatory.analytics import frames, rollups

log = logging.getLogger(__name__)

ISSUE_SCHEMA = {
    "source": pl.Utf8, "model_id": pl.Int64, "hub_id": pl.Utf8, "kind": pl.Utf8, "date": pl.Date,
    "end_date": pl.Date, "days": pl.Int64, "detail": pl.Utf8,
}
# Kinds that concern points a chart still draws (a jump is kept as counted; a gap is filled by
# the estimator). Placeholders are not drawn at all, contradictions are left off.
DRAWN_KINDS = ("implausible-jump", "gap")


# What a chart counts in its flags (flagged_in_view): the drawn kinds and the missing leading days.
FLAGGED_KINDS = DRAWN_KINDS + ("leading-placeholder",)


def stored_issues(sources: tuple[str, ...] | None = None, kinds: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The stored entries, of the given sources and kinds only where given."""
    where, params = [], []
    for column, chosen in (("source", sources), ("kind", kinds)):
        if chosen is not None:
            # IN (NULL) for an empty choice: it matches no row, where PostgreSQL refuses IN ().
            where.append(f"{column} IN ({', '.join(['%s'] * len(chosen)) or 'NULL'})")
            params.extend(chosen)
    return frames.read(
        "SELECT source, model_id, hub_id, kind, date, end_date, days, detail FROM catalog_dataqualityissue"
        + (f" WHERE {' AND '.join(where)}" if where else ""), params, ISSUE_SCHEMA)


def contradictions() -> pl.DataFrame:
    """Snapshots whose Hub all-time count is below a cumulative count the model had earlier."""
    rows = frames.read(
        """SELECT q.source, q.model_id, m.hub_id, q.date, q.downloads_all_time, q.earlier
           FROM (SELECT s.source, s.model_id, s.date, s.downloads_all_time, s.cumulative_kind,
                        MAX(s.downloads_all_time) OVER (PARTITION BY s.model_id ORDER BY s.date
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS earlier
                 FROM catalog_downloadsnapshot s WHERE s.downloads_all_time IS NOT NULL) q
           JOIN catalog_hubmodel m ON m.id = q.model_id
           WHERE q.cumulative_kind = 'all-time' AND q.downloads_all_time < q.earlier""",
        [], {"source": pl.Utf8, "model_id": pl.Int64, "hub_id": pl.Utf8, "date": pl.Date,
             "count": pl.Int64, "earlier": pl.Int64})
    return rows.select(
        "source", "model_id", "hub_id", pl.lit("contradiction").alias("kind"), "date",
        pl.col("date").alias("end_date"), pl.lit(1, dtype=pl.Int64).alias("days"),
        pl.format("the all-time count {} is below the cumulative count {} the model already had: "
                  "a contradiction, not drawn", pl.col("count"), pl.col("earlier")).alias("detail"),
    )


def crawl_gaps() -> pl.DataFrame:
    """Runs of days between two crawls of a model (the crawled daily history has a hole)."""
    later = "julianday(q.date) - julianday(q.previous)" if connection.vendor == "sqlite" else "q.date - q.previous"
    rows = frames.read(
        f"""SELECT q.model_id, m.hub_id, q.previous, q.date, CAST({later} AS INTEGER) - 1 AS missing
            FROM (SELECT s.model_id, s.date, LAG(s.date) OVER (PARTITION BY s.model_id ORDER BY s.date) AS previous
                  FROM catalog_downloadsnapshot s WHERE s.source = 'crawl') q
            JOIN catalog_hubmodel m ON m.id = q.model_id
            WHERE q.previous IS NOT NULL AND {later} > 1""",
        [], {"model_id": pl.Int64, "hub_id": pl.Utf8, "previous": pl.Date, "date": pl.Date, "days": pl.Int64})
    return rows.select(
        pl.lit("crawl").alias("source"), "model_id", "hub_id", pl.lit("gap").alias("kind"),
        (pl.col("previous") + pl.duration(days=1)).alias("date"), (pl.col("date") - pl.duration(days=1)).alias("end_date"),
        "days",
        pl.format("{} days without a crawl: the rise since the previous crawl lands on {}", pl.col("days"),
                  pl.col("date").cast(pl.Utf8)).alias("detail"),
    )


# The ledger's total order (entries tie on the first four only where a source stored two alike).
ORDER = ["source", "hub_id", "date", "kind", "end_date", "days", "detail"]


def derived(sources: tuple[str, ...] | None = None, kinds: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The cross-source entries (contradictions, crawl gaps) of the given sources and kinds: the
    kept ones while they are fresh, else found in the raw rows (only the kinds asked for)."""
    if kept():
        return kept_entries(sources, kinds)
    parts = [pl.DataFrame(schema=ISSUE_SCHEMA)]
    if kinds is None or "contradiction" in kinds:
        found = contradictions()
        parts.append(found if sources is None else found.filter(pl.col("source").is_in(sources)))
    if (kinds is None or "gap" in kinds) and (sources is None or "crawl" in sources):
        parts.append(crawl_gaps())
    return pl.concat(parts)


def all_issues() -> pl.DataFrame:
    """Every ledger entry, in its total order (ORDER)."""
    return pl.concat([stored_issues(), derived()], how="vertical_relaxed").sort(ORDER, nulls_last=True)


def issues_of(sources: tuple[str, ...] = frames.DAILY_SOURCES, kinds: tuple[str, ...] = FLAGGED_KINDS) -> pl.DataFrame:
    """The entries of all_issues() of the given sources and kinds, in its order, reading only what
    they can come from: a chart's flags count no contradiction, and finding those runs a window
    over every snapshot (seconds at a twentieth of the Hub's size), so a chart does not pay for it."""
    # Each part has ISSUE_SCHEMA's dtypes exactly (the tests assert each one's): a plain concat.
    return pl.concat([stored_issues(sources, kinds), derived(sources, kinds)]).sort(ORDER, nulls_last=True)


def coverage() -> pl.DataFrame:
    """(source, models, rows, first_date, last_date) of the stored snapshots."""
    return frames.read(
        "SELECT source, COUNT(DISTINCT model_id), COUNT(*), MIN(date), MAX(date) FROM catalog_downloadsnapshot "
        "GROUP BY source", [],
        {"source": pl.Utf8, "models": pl.Int64, "rows": pl.Int64, "first_date": pl.Date, "last_date": pl.Date})


COUNT_SCHEMA = {"source": pl.Utf8, "kind": pl.Utf8, "n": pl.Int64, "days": pl.Int64}


def summary(issues: pl.DataFrame, covered: pl.DataFrame) -> list[dict]:
    """One entry per source: what it measures, its estimator, its coverage and its issues by kind."""
    return summary_of_counts(issues.group_by("source", "kind").agg(pl.len().alias("n"), pl.col("days").sum()), covered)


def summary_of_counts(counts: pl.DataFrame, covered: pl.DataFrame) -> list[dict]:
    """summary() from the entries' counts by (source, kind) (COUNT_SCHEMA) rather than the entries."""
    by_source = {row["source"]: row for row in covered.to_dicts()}
    out = []
    for name, measure in SOURCES.items():
        cov = by_source.get(name, {})
        mine = counts.filter(pl.col("source") == name).sort("kind")
        out.append({
            "name": name, "measures": measure.measures, "estimator": measure.estimator, "converts": measure.converts,
            "coverage": {"models": cov.get("models", 0), "rows": cov.get("rows", 0),
                         "first_date": cov["first_date"].isoformat() if cov.get("first_date") else None,
                         "last_date": cov["last_date"].isoformat() if cov.get("last_date") else None},
            "issues": {row["kind"]: {"entries": row["n"], "days": row["days"]} for row in mine.to_dicts()},
        })
    return out


def flagged_in_view(issues: pl.DataFrame, model_ids: pl.Series | None, *, start: dt.date | None,
                    end: dt.date | None, sources: tuple[str, ...] = frames.DAILY_SOURCES,
                    kinds: tuple[str, ...] = FLAGGED_KINDS) -> dict[str, int]:
    """How many model-days of the given models in [start, end] the ledger flags, by kind (a run
    of flagged days counts each day it overlaps the range)."""
    drawn = issues.filter(pl.col("kind").is_in(kinds) & pl.col("source").is_in(sources))
    if model_ids is not None:
        drawn = drawn.filter(pl.col("model_id").is_in(model_ids.implode()))
    lo = pl.lit(start) if start else pl.col("date")
    hi = pl.lit(end) if end else pl.col("end_date")
    clipped = drawn.with_columns(
        ((pl.min_horizontal(pl.col("end_date"), hi) - pl.max_horizontal(pl.col("date"), lo)).dt.total_days() + 1)
        .alias("overlap"))
    counts = clipped.filter(pl.col("overlap") > 0).group_by("kind").agg(pl.col("overlap").sum())
    return {row["kind"]: int(row["overlap"]) for row in counts.sort("kind").to_dicts()}


def flag_note(flagged: dict[str, int]) -> str | None:
    """The line a chart prints when it draws flagged points."""
    lines = []
    drawn = {kind: n for kind, n in flagged.items() if kind in DRAWN_KINDS}
    if drawn:
        parts = ", ".join(f"{n:,} model-days with an {kind.replace('-', ' ')}" if kind.startswith("i")
                          else f"{n:,} model-days in a {kind}" for kind, n in drawn.items())
        lines.append(f"Draws points the data-quality ledger flags ({parts})")
    if flagged.get("leading-placeholder"):
        lines.append(f"{flagged['leading-placeholder']:,} model-days not sampled yet are missing, not zero")
    return "; ".join(lines) + ": see /data-quality" if lines else None


# --- the kept entries (PostgreSQL) ------------------------------------------------------------

NAME = "data-quality"  # its row in catalog_rollupstate, written by each fold
# More models than this to recompute from their rows (a day crawled again, a source re-imported):
# one full recount is cheaper than a lookup per model.
MAX_DIRTY_MODELS = 200_000
_ENTRY = "INSERT INTO catalog_qualityentry (source, model_id, hub_id, kind, date, end_date, days, detail) "
_CONTRADICTION = ("format('the all-time count %%s is below the cumulative count %%s the model already had: "
                  "a contradiction, not drawn', q.downloads_all_time, q.earlier)")
_GAP = ("format('%%s days without a crawl: the rise since the previous crawl lands on %%s', q.date - q.previous - 1, "
        "to_char(q.date, 'YYYY-MM-DD'))")
_EARLIER = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
_SOME_MODELS = " AND s.model_id IN (SELECT model_id FROM _quality_models)"


def _recount_sql(where: str) -> list[str]:
    """contradictions() and crawl_gaps() as entries, and the state they leave, over the rows `where` picks."""
    return [
        f"""{_ENTRY} SELECT q.source, q.model_id, m.hub_id, 'contradiction', q.date, q.date, 1, {_CONTRADICTION}
            FROM (SELECT s.source, s.model_id, s.date, s.downloads_all_time, s.cumulative_kind,
                         MAX(s.downloads_all_time) OVER (PARTITION BY s.model_id ORDER BY s.date {_EARLIER}) AS earlier
                  FROM catalog_downloadsnapshot s WHERE s.downloads_all_time IS NOT NULL{where}) q
            JOIN catalog_hubmodel m ON m.id = q.model_id
            WHERE q.cumulative_kind = 'all-time' AND q.downloads_all_time < q.earlier""",
        f"""{_ENTRY} SELECT 'crawl', q.model_id, m.hub_id, 'gap', q.previous + 1, q.date - 1, q.date - q.previous - 1, {_GAP}
            FROM (SELECT s.model_id, s.date, LAG(s.date) OVER (PARTITION BY s.model_id ORDER BY s.date) AS previous
                  FROM catalog_downloadsnapshot s WHERE s.source = 'crawl'{where}) q
            JOIN catalog_hubmodel m ON m.id = q.model_id
            WHERE q.previous IS NOT NULL AND q.date - q.previous > 1""",
        f"""INSERT INTO catalog_qualitystate (model_id, source, rows, first_date, last_date, peak)
            SELECT s.model_id, s.source, COUNT(*), MIN(s.date), MAX(s.date), MAX(s.downloads_all_time)
            FROM catalog_downloadsnapshot s WHERE TRUE{where} GROUP BY 1, 2""",
    ]


_NEW_STATE = ("SELECT model_id, source, COUNT(*) AS rows, MIN(date) AS first_date, MAX(date) AS last_date, "
              "MAX(downloads_all_time) AS peak FROM _quality_new GROUP BY 1, 2")
# A new day's rows of a model are all after its kept history: checked against its kept state (the
# highest all-time count of any source, the last crawl) and the new rows before them.
_APPEND_SQL = [
    f"""{_ENTRY} SELECT q.source, q.model_id, m.hub_id, 'contradiction', q.date, q.date, 1, {_CONTRADICTION}
        FROM (SELECT n.source, n.model_id, n.date, n.downloads_all_time, n.cumulative_kind,
                     GREATEST(p.peak, MAX(n.downloads_all_time) OVER (PARTITION BY n.model_id ORDER BY n.date
                                                                      {_EARLIER})) AS earlier
              FROM _quality_new n
              LEFT JOIN (SELECT st.model_id, MAX(st.peak) AS peak FROM catalog_qualitystate st
                         WHERE st.model_id IN (SELECT model_id FROM _quality_new) GROUP BY 1) p ON p.model_id = n.model_id
              WHERE n.downloads_all_time IS NOT NULL) q
        JOIN catalog_hubmodel m ON m.id = q.model_id
        WHERE q.cumulative_kind = 'all-time' AND q.downloads_all_time < q.earlier""",
    f"""{_ENTRY} SELECT 'crawl', q.model_id, m.hub_id, 'gap', q.previous + 1, q.date - 1, q.date - q.previous - 1, {_GAP}
        FROM (SELECT n.model_id, n.date,
                     COALESCE(LAG(n.date) OVER (PARTITION BY n.model_id ORDER BY n.date), st.last_date) AS previous
              FROM _quality_new n
              LEFT JOIN catalog_qualitystate st ON st.model_id = n.model_id AND st.source = 'crawl'
              WHERE n.source = 'crawl') q
        JOIN catalog_hubmodel m ON m.id = q.model_id
        WHERE q.previous IS NOT NULL AND q.date - q.previous > 1""",
    # A hash join, then the new (model, source) pairs: faster than ON CONFLICT's probe per row; the
    # table's free space per page (fillfactor, migration 0012) makes these updates HOT.
    f"""UPDATE catalog_qualitystate st SET rows = st.rows + n.rows, first_date = LEAST(st.first_date, n.first_date),
            last_date = GREATEST(st.last_date, n.last_date), peak = GREATEST(st.peak, n.peak)
        FROM ({_NEW_STATE}) n WHERE st.model_id = n.model_id AND st.source = n.source""",
    f"""INSERT INTO catalog_qualitystate (model_id, source, rows, first_date, last_date, peak)
        SELECT n.model_id, n.source, n.rows, n.first_date, n.last_date, n.peak FROM ({_NEW_STATE}) n
        WHERE NOT EXISTS (SELECT 1 FROM catalog_qualitystate st WHERE st.model_id = n.model_id AND st.source = n.source)""",
]
# The rows of the changed days after their model's kept history, of models not recomputed whole.
# (A row on or before it was written since the last fold only if its model is dirty: migration 0012.)
_NEW_ROWS = """
    CREATE TEMPORARY TABLE _quality_new ON COMMIT DROP AS
    SELECT s.model_id, s.source, s.date, s.downloads_all_time, s.cumulative_kind FROM catalog_downloadsnapshot s
    WHERE s.date = ANY(%s)
      AND NOT EXISTS (SELECT 1 FROM catalog_qualitystate st WHERE st.model_id = s.model_id AND st.last_date >= s.date)
      AND NOT EXISTS (SELECT 1 FROM _quality_models r WHERE r.model_id = s.model_id)"""
_TOTALS_SQL = [
    "DELETE FROM catalog_qualitycoverage",
    """INSERT INTO catalog_qualitycoverage (source, model_count, rows, first_date, last_date)
       SELECT source, COUNT(*), SUM(rows), MIN(first_date), MAX(last_date) FROM catalog_qualitystate GROUP BY 1""",
    "DELETE FROM catalog_qualitycount",
    """INSERT INTO catalog_qualitycount (source, kind, entries, days)
       SELECT source, kind, COUNT(*), SUM(days) FROM catalog_qualityentry GROUP BY 1, 2""",
]
# Both rows are written by the same fold transaction, so they carry the same xmin: a fold that ran
# without this one registered (a process that never imported it) leaves them apart.
_IN_STEP = ("EXISTS (SELECT 1 FROM catalog_rollupstate g JOIN catalog_rollupstate q ON q.xmin = g.xmin "
            f"WHERE g.name = '{rollups.NAME}' AND q.name = '{NAME}')")


def _execute(cursor, statements: list[str], params=()) -> None:
    for sql in statements:
        cursor.execute(sql, params)


def fold(cursor, changes: rollups.Changes, full: bool) -> None:
    """Fold the writes since the last fold into the kept entries (rollups.register_fold): inside
    the rollup's fold transaction and snapshot, so pages see both before it or both after it."""
    started = time.perf_counter()
    cursor.execute(f"SELECT {_IN_STEP}")
    full = full or not cursor.fetchone()[0]
    cursor.execute("CREATE TEMPORARY TABLE _quality_models (model_id bigint PRIMARY KEY) ON COMMIT DROP")
    # Exactly the dirty models this snapshot sees, consumed in the same statement.
    cursor.execute("WITH gone AS (DELETE FROM catalog_qualitydirty RETURNING model_id) "
                   "INSERT INTO _quality_models SELECT DISTINCT model_id FROM gone")
    dirty = cursor.rowcount
    full = full or dirty > MAX_DIRTY_MODELS
    if full:
        cursor.execute("DELETE FROM catalog_qualityentry")  # not TRUNCATE: readers keep reading the old rows
        cursor.execute("DELETE FROM catalog_qualitystate")
        _execute(cursor, _recount_sql(""), [])
    else:
        if dirty:
            cursor.execute("DELETE FROM catalog_qualityentry WHERE model_id IN (SELECT model_id FROM _quality_models)")
            cursor.execute("DELETE FROM catalog_qualitystate WHERE model_id IN (SELECT model_id FROM _quality_models)")
            _execute(cursor, _recount_sql(_SOME_MODELS), [])
        if changes.dates:
            cursor.execute(_NEW_ROWS, [sorted(changes.dates)])
            cursor.execute("ANALYZE _quality_new")
            _execute(cursor, _APPEND_SQL, [])
            cursor.execute("DROP TABLE _quality_new")
    cursor.execute("DROP TABLE _quality_models")
    _execute(cursor, _TOTALS_SQL)
    cursor.execute("INSERT INTO catalog_rollupstate (name, source_version, built_at, seconds) VALUES (%s, 0, now(), %s) "
                   "ON CONFLICT (name) DO UPDATE SET built_at = EXCLUDED.built_at, seconds = EXCLUDED.seconds",
                   [NAME, time.perf_counter() - started])
    log.info("data-quality fold full=%s dirty_models=%d days=%d seconds=%.2f", full, dirty, len(changes.dates),
             time.perf_counter() - started)


rollups.register_fold(NAME, fold)


def kept() -> bool:
    """True when the kept entries hold every write this transaction can see (read them, not the raw rows)."""
    if not rollups.available():
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT NOT EXISTS (SELECT 1 FROM catalog_rollupchange) AND {_IN_STEP}")
        return cursor.fetchone()[0]


def _chosen(column: str, chosen: tuple[str, ...] | None, where: list[str], params: list) -> None:
    if chosen is not None:
        # IN (NULL) for an empty choice: it matches no row, where PostgreSQL refuses IN ().
        where.append(f"{column} IN ({', '.join(['%s'] * len(chosen)) or 'NULL'})")
        params.extend(chosen)


def kept_entries(sources: tuple[str, ...] | None = None, kinds: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The kept cross-source entries of the given sources and kinds (what derived() finds)."""
    where, params = [], []
    _chosen("source", sources, where, params)
    _chosen("kind", kinds, where, params)
    return frames.read(
        "SELECT source, model_id, hub_id, kind, date, end_date, days, detail FROM catalog_qualityentry"
        + (f" WHERE {' AND '.join(where)}" if where else ""), params, ISSUE_SCHEMA)


def kept_coverage() -> pl.DataFrame:
    """coverage(), as of the last fold."""
    return frames.read("SELECT source, model_count, rows, first_date, last_date FROM catalog_qualitycoverage", [],
                       {"source": pl.Utf8, "models": pl.Int64, "rows": pl.Int64, "first_date": pl.Date,
                        "last_date": pl.Date})


def kept_counts() -> pl.DataFrame:
    """Every entry's count and days by (source, kind) (COUNT_SCHEMA): the stored ones counted, the
    kept ones' counts read."""
    return frames.read(
        "SELECT source, kind, SUM(n)::bigint, SUM(days)::bigint FROM ("
        "SELECT source, kind, COUNT(*) AS n, SUM(days) AS days FROM catalog_dataqualityissue GROUP BY 1, 2 "
        "UNION ALL SELECT source, kind, entries, days FROM catalog_qualitycount) c GROUP BY 1, 2", [], COUNT_SCHEMA)


# The stored entries and the kept ones, in the ledger's order (bytewise text, as polars sorts). Each
# part gives its first offset + limit rows, the kept ones read off their index (a model's kept
# entries differ in date or kind, and models in hub_id: its four columns order them totally).
_LEDGER = """
    SELECT source, model_id, hub_id, kind, date, end_date, days, detail FROM (
        (SELECT source COLLATE "C" AS source, model_id, hub_id COLLATE "C" AS hub_id, kind COLLATE "C" AS kind,
                date, end_date, days::bigint AS days, detail COLLATE "C" AS detail
         FROM catalog_dataqualityissue i WHERE {stored}
         ORDER BY 1, 3, 5, 4, 6, 7, 8 LIMIT %(first)s)
        UNION ALL
        (SELECT source, model_id, hub_id, kind, date, end_date, days, detail FROM catalog_qualityentry e WHERE {kept}
         ORDER BY source, hub_id, date, kind LIMIT %(first)s)
    ) ledger ORDER BY source, hub_id, date, kind, end_date, days, detail LIMIT %(limit)s OFFSET %(offset)s"""


def kept_ledger(source: str | None, kind: str | None, model: str | None, limit: int,
                offset: int) -> tuple[int, pl.DataFrame]:
    """(how many entries, `limit` of them from `offset` in the ledger's order) of the given source,
    kind and model (a Hub id, any case): all_issues() filtered and sliced, read from the kept entries."""
    stored, kept_, params = ["TRUE"], ["TRUE"], {"source": source, "kind": kind, "model": model}
    for column, value in (("source", source), ("kind", kind)):
        if value is not None:
            stored.append(f"i.{column} = %({column})s")
            kept_.append(f"e.{column} = %({column})s")
    if model is not None:
        stored.append("lower(i.hub_id) = lower(%(model)s)")
        # By the model's id (its case-insensitive index), not by scanning every entry's hub_id.
        kept_.append("e.model_id IN (SELECT id FROM catalog_hubmodel WHERE lower(hub_id) = lower(%(model)s))")
    if model is None:
        counts = kept_counts()
        for column, value in (("source", source), ("kind", kind)):
            if value is not None:
                counts = counts.filter(pl.col(column) == value)
        count = int(counts["n"].sum())
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT (SELECT COUNT(*) FROM catalog_dataqualityissue i WHERE {' AND '.join(stored)}) + "
                           f"(SELECT COUNT(*) FROM catalog_qualityentry e WHERE {' AND '.join(kept_)})", params)
            count = cursor.fetchone()[0]
    if offset >= count:
        return count, pl.DataFrame(schema=ISSUE_SCHEMA)
    rows = frames.read(_LEDGER.format(stored=" AND ".join(stored), kept=" AND ".join(kept_)),
                       {**params, "first": offset + limit, "limit": limit, "offset": offset}, ISSUE_SCHEMA)
    return count, rows
