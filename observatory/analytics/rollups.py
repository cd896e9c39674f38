"""The daily-gain rollup: kept in PostgreSQL as the data changes, read by the download metrics.

Thirty million daily rows are too many to move into polars on every cold request, but the
download charts only ever group models by the dashboard filters (tracked, region, organization,
size class, pipeline tag). Summed per day over each combination of those, the per-model
canonical downloads per day (analytics.frames.DAY_SQL) are a few hundred thousand rows at
full scale, and every download metric follows from them exactly (analytics.gains).

Keeping it: statement-level triggers on the source tables (snapshots, models, organisations) log
what every write touched into catalog_rollupchange, in the writer's transaction (migration 0007,
catalog.models.RollupChange). `refresh()`, which every data-version bump runs (catalog.runs),
folds the logged changes in: it recounts only the rollup rows they can have changed (the days a
snapshot was written on and the days after them whose gain rests on it, the filter cells a model
or an organisation left or joined) from the raw rows, and swaps them in with the log entries it
consumed, in one transaction. Readers (MVCC) see the old rollup or the new one, never a part, and
never wait; writers are not blocked either (no table lock), and what they commit meanwhile stays
in the log for the next fold. `rebuild()` (`manage.py rebuild_rollups`) recounts everything the
same way. `fresh()` is true while the log is empty: any write since (an import, a crawl page, a
test's rolled-back rows while they last) makes the loaders read the raw rows until the next fold.
Correct numbers never depend on the rollup being up to date; only speed does.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
CELL = ("tracked", "region", "organization", "size_class", "pipeline_tag")
# Folds take this PostgreSQL advisory lock: two at once would each delete the rows they recount
# before the other's inserts are visible, and both would insert.
FOLD_LOCK = 0x0B5_0011
# More days than this whose successors need finding (snapshots written before the newest day,
# an import of a whole history): one full recount is cheaper than a lookup per row.
MAX_LATE_DATES = 7

_CELL_SQL = ", ".join(f"{frames.MODEL_COLUMNS[c]} AS {c}" for c in CELL)
_DAILY = "s.source IN (" + ", ".join(f"'{s}'" for s in frames.DAILY_SOURCES) + ")"
_FROM_MODELS = ("JOIN catalog_hubmodel m ON m.id = s.model_id "
                "LEFT JOIN catalog_organization o ON o.id = m.organization_id")

# The same columns as frames.models() (the filters compare against those), the same rows as
# frames.snapshots() (daily sources, an all-time count).
BUILD_SQL = f"""
    INSERT INTO catalog_dailygain (date, tracked, region, organization, size_class, pipeline_tag, gain, rows)
    SELECT s.date, m.tracked, {frames.MODEL_COLUMNS['region']}, {frames.MODEL_COLUMNS['organization']},
           {frames.MODEL_COLUMNS['size_class']}, m.pipeline_tag, SUM(s.gain), COUNT(*)
    FROM (SELECT s.model_id, s.date, COALESCE({frames.DAY_SQL}, 0) AS gain
          FROM catalog_downloadsnapshot s
          WHERE s.downloads_all_time IS NOT NULL AND {_DAILY}) s
    JOIN catalog_hubmodel m ON m.id = s.model_id
    LEFT JOIN catalog_organization o ON o.id = m.organization_id
    GROUP BY 1, 2, 3, 4, 5, 6"""

# A row's gain on its own, for the rows of a few days: DAY_SQL's LAG is the model's previous
# row of the same source with an all-time count, found here by the (model, date) index (the
# scalar subquery runs only where the row carries no estimate of its own).
_PREVIOUS = ("SELECT p.downloads_all_time FROM catalog_downloadsnapshot p WHERE p.model_id = s.model_id "
             "AND p.source = s.source AND p.date < s.date AND p.downloads_all_time IS NOT NULL "
             "ORDER BY p.date DESC LIMIT 1")
_DAY_GAIN = (f"COALESCE(s.downloads_day, (SELECT CASE WHEN s.downloads_all_time - prev.downloads_all_time >= 0 "
             f"THEN s.downloads_all_time - prev.downloads_all_time END FROM ({_PREVIOUS}) prev), 0)")
# The day of each row's successor (the next row of its model and source with an all-time count):
# its gain rests on the row before it.
_SUCCESSOR_DATES = (
    "SELECT DISTINCT (SELECT n.date FROM catalog_downloadsnapshot n WHERE n.model_id = s.model_id "
    "AND n.source = s.source AND n.date > s.date AND n.downloads_all_time IS NOT NULL ORDER BY n.date LIMIT 1) "
    f"FROM catalog_downloadsnapshot s WHERE s.date = ANY(%s) AND {_DAILY}")

# Which rollup rows a fold recounts: every cell on the days in %(dates)s, and every day of the
# cells in _rollup_cells and of the (organization, region) pairs in _rollup_orgs.
_CELL_MATCH = ("EXISTS (SELECT 1 FROM _rollup_cells k WHERE k.tracked = {t} AND k.region = {r} "
               "AND k.organization = {o} AND k.size_class IS NOT DISTINCT FROM {s} AND k.pipeline_tag = {p}) "
               "OR EXISTS (SELECT 1 FROM _rollup_orgs q WHERE q.organization = {o} AND q.region = {r})")
_ROLLUP_MATCH = _CELL_MATCH.format(t="g.tracked", r="g.region", o="g.organization", s="g.size_class",
                                   p="g.pipeline_tag")
_MODEL_MATCH = _CELL_MATCH.format(t="m.tracked", r=frames.MODEL_COLUMNS["region"],
                                  o=frames.MODEL_COLUMNS["organization"], s=frames.MODEL_COLUMNS["size_class"],
                                  p="m.pipeline_tag")
# The rows of the changed days, and every row of the models in a recounted cell on the other
# days (DAY_SQL's window sees each such model's whole history).
_DAY_ROWS_TABLE = f"""
    CREATE TEMPORARY TABLE _rollup_day_rows ON COMMIT DROP AS
    SELECT s.model_id, s.date, s.source, s.downloads_all_time, s.downloads_day FROM catalog_downloadsnapshot s
    WHERE s.date = ANY(%(dates)s) AND s.downloads_all_time IS NOT NULL AND {_DAILY}"""
_DAY_ROWS = f"""
    SELECT s.date, {_CELL_SQL}, {_DAY_GAIN} AS gain
    FROM _rollup_day_rows s {_FROM_MODELS}"""
_CELL_ROWS = f"""
    SELECT date, tracked, region, organization, size_class, pipeline_tag, gain FROM (
        SELECT s.date, {_CELL_SQL}, COALESCE({frames.DAY_SQL}, 0) AS gain
        FROM catalog_downloadsnapshot s {_FROM_MODELS}
        WHERE ({_MODEL_MATCH}) AND s.downloads_all_time IS NOT NULL AND {_DAILY}) cell_rows
    WHERE date <> ALL(%(dates)s)"""


def _recount_sql(days: bool, cells: bool) -> str:
    """Only the parts with something to recount: an empty part would still be planned as a scan."""
    parts = [part for part, wanted in ((_DAY_ROWS, days), (_CELL_ROWS, cells)) if wanted]
    return ("INSERT INTO _rollup_new (date, tracked, region, organization, size_class, pipeline_tag, gain, rows) "
            "SELECT date, tracked, region, organization, size_class, pipeline_tag, SUM(gain), COUNT(*) FROM ("
            + " UNION ALL ".join(parts) + ") recounted GROUP BY 1, 2, 3, 4, 5, 6")


@dataclass
class Changes:
    """What the consumed log entries ask to recount (see catalog.models.RollupChange)."""

    ids: list[int] = field(default_factory=list)
    full: bool = False
    dates: set[dt.date] = field(default_factory=set)
    cells: set[tuple] = field(default_factory=set)
    orgs: set[tuple[str, str]] = field(default_factory=set)
    # Entries of the kinds a registered fold logs itself (see register_fold): kind -> rows of
    # (date, tracked, region, organization, size_class, pipeline_tag).
    other: dict[str, list[tuple]] = field(default_factory=dict)


# Aggregates kept beside the daily-gain rollup (e.g. per-model latest counts, per-month model and
# edge counts) register a fold here. Each is called inside the same fold transaction and snapshot,
# after the daily gains, with the consumed changes and whether this is a full recount: readers see
# every aggregate before the fold or every one after it, and `fresh()` covers them all.
FoldFunction = Callable[[object, "Changes", bool], None]
_FOLDS: dict[str, FoldFunction] = {}


def register_fold(name: str, fold: FoldFunction) -> None:
    """Fold `fold(cursor, changes, full)` in with every refresh (idempotent per name)."""
    _FOLDS[name] = fold


def available() -> bool:
    return connection.vendor == "postgresql"


def _source_version(cursor) -> int:
    """The number the sources' statement trigger took last (migration 0002); recorded with each
    fold for the operator, freshness is the change log's."""
    cursor.execute("SELECT last_value, is_called FROM catalog_rollup_source_seq")
    value, called = cursor.fetchone()
    return value if called else 0  # a new sequence says 1 before its first nextval() too


def fresh() -> bool:
    """True when the rollup has folded in every write to its sources this transaction can see."""
    if not available():
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s) "
                       "AND NOT EXISTS (SELECT 1 FROM catalog_rollupchange)", [NAME])
        return cursor.fetchone()[0]


def _read_changes(cursor) -> Changes:
    cursor.execute("SELECT id, kind, date, tracked, region, organization, size_class, pipeline_tag "
                   "FROM catalog_rollupchange")
    changes = Changes()
    for id_, kind, date, *cell in cursor.fetchall():
        changes.ids.append(id_)
        if kind == "full":
            changes.full = True
        elif kind == "date":
            changes.dates.add(date)
        elif kind == "cell":
            changes.cells.add(tuple(cell))
        elif kind == "org":
            changes.orgs.add((cell[2], cell[1]))  # (organization, region)
        elif kind != "write":
            changes.other.setdefault(kind, []).append((date, *cell))
    return changes


def _add_successor_days(cursor, changes: Changes) -> bool:
    """Add the days whose gain rests on a row of a changed day; False when there are too many
    such days to look up row by row (a full recount then)."""
    if not changes.dates:
        return True
    cursor.execute("SELECT MAX(date) FROM catalog_downloadsnapshot")
    newest = cursor.fetchone()[0]
    late = sorted(d for d in changes.dates if newest is not None and d < newest)
    if len(late) > MAX_LATE_DATES:
        return False
    if late:
        cursor.execute(_SUCCESSOR_DATES, [late])
        changes.dates.update(d for (d,) in cursor.fetchall() if d is not None)
    return True


def _recount(cursor, changes: Changes) -> int:
    """Replace the rollup rows the changes touch by their recount; returns how many rows it wrote."""
    cursor.execute("CREATE TEMPORARY TABLE _rollup_cells (tracked boolean, region text, organization text, "
                   "size_class text, pipeline_tag text) ON COMMIT DROP")
    cursor.execute("CREATE TEMPORARY TABLE _rollup_orgs (organization text, region text) ON COMMIT DROP")
    cursor.execute("CREATE TEMPORARY TABLE _rollup_new (date date, tracked boolean, region text, organization text, "
                   "size_class text, pipeline_tag text, gain double precision, rows bigint) ON COMMIT DROP")
    if changes.cells:
        cursor.executemany("INSERT INTO _rollup_cells VALUES (%s, %s, %s, %s, %s)", sorted(changes.cells, key=str))
    if changes.orgs:
        cursor.executemany("INSERT INTO _rollup_orgs VALUES (%s, %s)", sorted(changes.orgs))
    dates = sorted(changes.dates)
    # The changed days' rows apart first: the planner then knows how many there are (a day just
    # written is past the table's statistics, and would be planned as a handful of rows).
    cursor.execute(_DAY_ROWS_TABLE, {"dates": dates})
    cursor.execute("ANALYZE _rollup_day_rows, _rollup_cells, _rollup_orgs")
    cells = bool(changes.cells or changes.orgs)
    if dates or cells:
        # The recount first, into the temporary table: the rollup's rows are touched only by
        # the two short statements below.
        cursor.execute(_recount_sql(bool(dates), cells), {"dates": dates})
    cursor.execute("DELETE FROM catalog_dailygain g WHERE g.date = ANY(%s)" + (f" OR {_ROLLUP_MATCH}" if cells else ""),
                   [dates])
    cursor.execute("INSERT INTO catalog_dailygain (date, tracked, region, organization, size_class, pipeline_tag, "
                   "gain, rows) SELECT date, tracked, region, organization, size_class, pipeline_tag, gain, rows "
                   "FROM _rollup_new")
    rows = cursor.rowcount
    # ON COMMIT DROP drops them when the fold commits on its own; inside a caller's transaction
    # the next fold of that transaction would find them still there.
    cursor.execute("DROP TABLE _rollup_day_rows, _rollup_cells, _rollup_orgs, _rollup_new")
    return rows


def _record(cursor, changes: Changes, seconds: float) -> None:
    cursor.execute("DELETE FROM catalog_rollupchange WHERE id = ANY(%s)", [changes.ids])
    cursor.execute(
        "INSERT INTO catalog_rollupstate (name, source_version, built_at, seconds) VALUES (%s, %s, %s, %s) "
        "ON CONFLICT (name) DO UPDATE SET source_version = EXCLUDED.source_version, "
        "built_at = EXCLUDED.built_at, seconds = EXCLUDED.seconds",
        [NAME, _source_version(cursor), timezone.now(), seconds])


def refresh(*, force: bool = False) -> float | None:
    """Fold the logged changes into the rollup (recount it all when `force`, when it was never
    built, or after a TRUNCATE); returns the seconds it took (None: fresh, nothing done)."""
    if not available() or (not force and fresh()):
        return None
    started = time.perf_counter()
    outermost = not connection.in_atomic_block
    if outermost:
        # Held from before the fold's snapshot is taken until after it commits: the next fold's
        # snapshot then sees this one's rows.
        with connection.cursor() as locking:
            locking.execute("SELECT pg_advisory_lock(%s)", [FOLD_LOCK])
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if outermost:
                # One snapshot for the log and the rows: the fold consumes exactly the entries
                # whose writes it counted (a writer committing meanwhile stays logged).
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            else:
                # Inside a caller's transaction its rows commit with it: hold the lock as long.
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FOLD_LOCK])
            # One sort of every daily row by model and day: in memory rather than spilled in 4 MB runs.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            changes = _read_changes(cursor)
            cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s)", [NAME])
            full = force or changes.full or not cursor.fetchone()[0] or not _add_successor_days(cursor, changes)
            if full:
                cursor.execute("DELETE FROM catalog_dailygain")  # not TRUNCATE: readers keep reading the old rows
                cursor.execute(BUILD_SQL)
                rows = cursor.rowcount
            else:
                # A fold is index lookups and hashing: compiling its expressions costs more than it
                # saves (half a second of a two-second recount, measured at scale 0.1).
                cursor.execute("SET LOCAL jit = off")
                rows = _recount(cursor, changes)
            for name, fold in _FOLDS.items():
                started_fold = time.perf_counter()
                fold(cursor, changes, full)
                log.debug("rollup fold name=%s seconds=%.2f", name, time.perf_counter() - started_fold)
            seconds = time.perf_counter() - started
            _record(cursor, changes, seconds)
    finally:
        if outermost:
            with connection.cursor() as locking:
                locking.execute("SELECT pg_advisory_unlock(%s)", [FOLD_LOCK])
    if full:
        log.info("rollup rebuilt name=%s seconds=%.2f", NAME, seconds)
    else:
        log.info("rollup folded name=%s seconds=%.2f days=%d cells=%d orgs=%d rows=%d", NAME, seconds,
                 len(changes.dates), len(changes.cells), len(changes.orgs), rows)
    return seconds


def rebuild() -> float | None:
    """Recount the whole rollup from the raw rows (manage.py rebuild_rollups), without blocking
    readers or writers; None where there is no rollup (SQLite)."""
    return refresh(force=True)


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
