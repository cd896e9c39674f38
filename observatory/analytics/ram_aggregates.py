"""The relative-adoption aggregates: kept in PostgreSQL beside the daily-gain rollup, read by RAM.

RAM (adoption.relative_adoption) needs two things from the curve points of the models in scope
(daily rows with a count since release, of sized models with a release date, from that date on):
each model's latest point, and per size class and day t the 10th-highest point and how many
points there are. The filters select unions of cells (rollups.CELL), and the 10th place of a union
is the 10th-highest of the cells' own top tens, so per cell and t the top ten and the count
(catalog.RamPlace) serve every filter exactly; per model the latest qualifying row (RamLatest)
serves the table. Both are a few percent of the daily rows.

Keeping them: the fold here runs inside the rollup's fold transaction (rollups.register_fold), so
readers see the aggregates before or after a fold, never half of one, and rollups.fresh() covers
them. Migration 0010's triggers log each snapshot row written (RamWrite). A logged row dated after
its model's latest counted row is a new point: it is merged into its cell's top ten at its t, which
is exact (a new point only adds). Anything else — a row rewritten or arriving late, rows deleted,
a model that moved cell or changed its release date (RamLatest says where it was counted), an
organisation changed — makes its cells dirty: they are recounted from the raw rows. A full
rebuild (manage.py rebuild_rollups, or a TRUNCATE) recounts everything.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import connection

from observatory.analytics import frames, rollups

NAME = "relative-adoption"
RANK = 10
CELL = rollups.CELL
LATEST_SCHEMA = {"model_id": pl.Int64, "days": pl.Int64, "cumulative": pl.Int64}
PLACE_SCHEMA = {"size_class": pl.Utf8, "days": pl.Int64, "rank": pl.Int64, "cumulative": pl.Int64,
                "points": pl.Int64}
CURVE_ROW_SCHEMA = {"model_id": pl.Int64, "date": pl.Date, "downloads_all_time": pl.Int64, "cumulative_kind": pl.Utf8}

_KINDS = "('all-time', 'estimated')"  # adoption.SINCE_RELEASE_KINDS (not imported: it pulls in polars metrics)
_DAILY = "(" + ", ".join(f"'{s}'" for s in frames.DAILY_SOURCES) + ")"
# A row that can be a curve point's, whatever its model (the triggers log these).
_QUALIFIES = f"s.source IN {_DAILY} AND s.downloads_all_time IS NOT NULL AND s.cumulative_kind IN {_KINDS}"
_CUR = {c: frames.MODEL_COLUMNS[c] for c in CELL}  # a model's cell now (aliases m, o)
_CUR_SQL = ", ".join(f"{_CUR[c]} AS {c}" for c in CELL)
_CELL_COLS = ", ".join(CELL)
_FROM = ("catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id "
         "LEFT JOIN catalog_organization o ON o.id = m.organization_id")
_POINT = f"{_QUALIFIES} AND m.size_class <> '' AND m.release_date IS NOT NULL AND s.date >= m.release_date"

# Which cells a fold recounts: those in _ram_cells, and every cell of a pair in _ram_orgs.
_MATCH = ("(EXISTS (SELECT 1 FROM _ram_cells k WHERE k.tracked = {t} AND k.region = {r} AND k.organization = {o} "
          "AND k.size_class IS NOT DISTINCT FROM {s} AND k.pipeline_tag = {p}) "
          "OR EXISTS (SELECT 1 FROM _ram_orgs q WHERE q.organization = {o} AND q.region = {r}))")
_MATCH_MODEL = _MATCH.format(t=_CUR["tracked"], r=_CUR["region"], o=_CUR["organization"], s=_CUR["size_class"],
                             p=_CUR["pipeline_tag"])


def _match(alias: str) -> str:
    """_MATCH over a table that stores the cell (alias.tracked, alias.region, ...)."""
    return _MATCH.format(t=f"{alias}.tracked", r=f"{alias}.region", o=f"{alias}.organization",
                         s=f"{alias}.size_class", p=f"{alias}.pipeline_tag")


_LATEST = f"""
    INSERT INTO catalog_ramlatest (model_id, {_CELL_COLS}, release_date, date, cumulative)
    SELECT DISTINCT ON (s.model_id) s.model_id, {_CUR_SQL}, m.release_date, s.date, s.downloads_all_time
    FROM {_FROM} WHERE {_QUALIFIES} {{where}} ORDER BY s.model_id, s.date DESC"""
_PLACES = f"""
    INSERT INTO catalog_ramplace ({_CELL_COLS}, days, rank, cumulative, points)
    SELECT {_CELL_COLS}, days, k, cumulative, n FROM (
        SELECT {_CUR_SQL}, s.date - m.release_date AS days, s.downloads_all_time AS cumulative,
               row_number() OVER w AS k, count(*) OVER (PARTITION BY {", ".join(_CUR.values())}, s.date - m.release_date) AS n
        FROM {_FROM} WHERE {_POINT} {{where}}
        WINDOW w AS (PARTITION BY {", ".join(_CUR.values())}, s.date - m.release_date
                     ORDER BY s.downloads_all_time DESC)) ranked
    WHERE k <= {RANK}"""
_KEY = " AND ".join(f"p.{c} = g.{c}" for c in (*CELL, "days"))


def _temp(cursor, name: str, sql: str, params=None) -> None:
    cursor.execute(f"CREATE TEMPORARY TABLE {name} ON COMMIT DROP AS {sql}", params)


def fold(cursor, changes: rollups.Changes, full: bool) -> None:
    """Bring the aggregates up to the rows this transaction sees (rollups.register_fold)."""
    _temp(cursor, "_ram_log", "SELECT id, model_id, date FROM catalog_ramwrite")
    cursor.execute("ANALYZE _ram_log")  # a crawl day logs every model: the planner must know
    cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s)", [NAME])
    if full or not cursor.fetchone()[0]:
        _rebuild(cursor)
    else:
        _fold_changes(cursor, changes)
    cursor.execute("DELETE FROM catalog_ramwrite w USING _ram_log l WHERE w.id = l.id")
    cursor.execute("DROP TABLE _ram_log")


def _rebuild(cursor) -> None:
    # DELETE, not TRUNCATE: readers keep reading the old rows until the fold commits.
    cursor.execute("DELETE FROM catalog_ramlatest")
    cursor.execute("DELETE FROM catalog_ramplace")
    cursor.execute(_LATEST.format(where=""))
    cursor.execute(_PLACES.format(where=""))
    cursor.execute("INSERT INTO catalog_rollupstate (name, source_version, built_at, seconds) "
                   "VALUES (%s, 0, now(), 0) ON CONFLICT (name) DO UPDATE SET built_at = EXCLUDED.built_at", [NAME])


def _fold_changes(cursor, changes: rollups.Changes) -> None:
    cursor.execute(f"CREATE TEMPORARY TABLE _ram_cells ON COMMIT DROP AS SELECT {_CELL_COLS} FROM catalog_ramlatest "
                   "WITH NO DATA")
    cursor.execute("CREATE TEMPORARY TABLE _ram_orgs (organization text, region text) ON COMMIT DROP")
    if changes.cells:
        cursor.executemany(f"INSERT INTO _ram_cells ({_CELL_COLS}) VALUES (%s, %s, %s, %s, %s)",
                           sorted(changes.cells, key=str))
    if changes.orgs:
        cursor.executemany("INSERT INTO _ram_orgs VALUES (%s, %s)", sorted(changes.orgs))
    # Models counted under another cell or release date than they have now, or gone.
    _temp(cursor, "_ram_moved", f"""
        SELECT l.model_id, {", ".join(f"l.{c}" for c in CELL)}, m.id IS NOT NULL AS present,
               {", ".join(f"{_CUR[c]} AS now_{c}" for c in CELL)}
        FROM catalog_ramlatest l LEFT JOIN catalog_hubmodel m ON m.id = l.model_id
        LEFT JOIN catalog_organization o ON o.id = m.organization_id
        WHERE m.id IS NULL OR ({", ".join(f"l.{c}" for c in CELL)}, l.release_date) IS DISTINCT FROM
              ({", ".join(_CUR.values())}, m.release_date)""")
    cursor.execute("ANALYZE _ram_moved")
    cursor.execute(f"INSERT INTO _ram_cells SELECT {_CELL_COLS} FROM _ram_moved "
                   f"UNION SELECT {', '.join('now_' + c for c in CELL)} FROM _ram_moved WHERE present")
    # Each logged row against what was counted of its model: new (after its latest counted row),
    # unchanged (its latest counted row, same count) or anything else (its cell is recounted).
    _temp(cursor, "_ram_seen", f"""
        SELECT w.model_id, w.date, s.downloads_all_time AS cumulative, {_CUR_SQL}, m.release_date,
               CASE WHEN s.id IS NOT NULL AND {_QUALIFIES} AND (l.model_id IS NULL OR w.date > l.date) THEN 'new'
                    WHEN l.model_id IS NULL OR w.date > l.date THEN 'none'
                    WHEN w.date = l.date AND s.id IS NOT NULL AND {_QUALIFIES}
                         AND s.downloads_all_time = l.cumulative THEN 'none'
                    ELSE 'dirty' END AS seen
        FROM (SELECT DISTINCT model_id, date FROM _ram_log) w
        JOIN catalog_hubmodel m ON m.id = w.model_id LEFT JOIN catalog_organization o ON o.id = m.organization_id
        -- LATERAL: one (model, date) index probe a logged row, never a scan of every snapshot.
        LEFT JOIN LATERAL (SELECT s.* FROM catalog_downloadsnapshot s WHERE s.model_id = w.model_id
                           AND s.date = w.date) s ON TRUE
        LEFT JOIN catalog_ramlatest l ON l.model_id = w.model_id
        WHERE NOT EXISTS (SELECT 1 FROM _ram_moved v WHERE v.model_id = w.model_id)""")
    cursor.execute(f"INSERT INTO _ram_cells SELECT DISTINCT {_CELL_COLS} FROM _ram_seen WHERE seen = 'dirty'")
    cursor.execute("ANALYZE _ram_cells, _ram_orgs, _ram_seen")
    cursor.execute("SELECT EXISTS (SELECT 1 FROM _ram_cells) OR EXISTS (SELECT 1 FROM _ram_orgs)")
    if cursor.fetchone()[0]:
        _recount_cells(cursor)
    else:
        _temp(cursor, "_ram_dirty", "SELECT model_id FROM _ram_moved")
    _merge_new(cursor)
    cursor.execute("DROP TABLE _ram_cells, _ram_orgs, _ram_moved, _ram_seen, _ram_dirty")


def _recount_cells(cursor) -> None:
    """Recount the dirty cells from the raw rows: every model in them now or when counted."""
    _temp(cursor, "_ram_dirty", f"""
        SELECT m.id AS model_id FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id
        WHERE {_MATCH_MODEL}
        UNION SELECT l.model_id FROM catalog_ramlatest l WHERE {_match('l')}
        UNION SELECT model_id FROM _ram_moved""")
    cursor.execute("ANALYZE _ram_dirty")
    cursor.execute("DELETE FROM catalog_ramlatest WHERE model_id IN (SELECT model_id FROM _ram_dirty)")
    cursor.execute(_LATEST.format(where="AND s.model_id IN (SELECT model_id FROM _ram_dirty)"))
    cursor.execute(f"DELETE FROM catalog_ramplace p WHERE {_match('p')}")
    cursor.execute(_PLACES.format(where=f"AND s.model_id IN (SELECT model_id FROM _ram_dirty) AND {_MATCH_MODEL}"))


def _merge_new(cursor) -> None:
    """Merge the new points of models outside the dirty cells: their latest row moves on, and
    each lands in its cell's top ten at its t (a new point only adds: the merge is exact)."""
    _temp(cursor, "_ram_new", "SELECT n.* FROM _ram_seen n WHERE seen = 'new' "
                              "AND NOT EXISTS (SELECT 1 FROM _ram_dirty d WHERE d.model_id = n.model_id)")
    # An UPDATE and an INSERT rather than an upsert: a crawl day moves every model's latest row,
    # and ON CONFLICT pays a speculative insertion for each.
    _temp(cursor, "_ram_moved_on", "SELECT DISTINCT ON (model_id) * FROM _ram_new ORDER BY model_id, date DESC")
    cursor.execute("ANALYZE _ram_moved_on")
    cursor.execute("UPDATE catalog_ramlatest l SET date = n.date, cumulative = n.cumulative FROM _ram_moved_on n "
                   "WHERE l.model_id = n.model_id")
    cursor.execute(f"""
        INSERT INTO catalog_ramlatest (model_id, {_CELL_COLS}, release_date, date, cumulative)
        SELECT model_id, {_CELL_COLS}, release_date, date, cumulative FROM _ram_moved_on n
        WHERE NOT EXISTS (SELECT 1 FROM catalog_ramlatest l WHERE l.model_id = n.model_id)""")
    _temp(cursor, "_ram_points", f"""
        SELECT {_CELL_COLS}, date - release_date AS days, cumulative FROM _ram_new
        WHERE size_class IS NOT NULL AND release_date IS NOT NULL AND date >= release_date""")
    _temp(cursor, "_ram_groups", f"SELECT DISTINCT {_CELL_COLS}, days FROM _ram_points")
    cursor.execute("ANALYZE _ram_points, _ram_groups")
    # A group's count is on each of its rows: the first row's plus the new points'.
    _temp(cursor, "_ram_merged", f"""
        SELECT {_CELL_COLS}, days, k, cumulative, n FROM (
            SELECT {_CELL_COLS}, days, cumulative,
                   row_number() OVER (PARTITION BY {_CELL_COLS}, days ORDER BY cumulative DESC) AS k,
                   SUM(adds) OVER (PARTITION BY {_CELL_COLS}, days) AS n
            FROM (SELECT {", ".join(f"p.{c}" for c in CELL)}, p.days, p.cumulative,
                         CASE WHEN p.rank = 1 THEN p.points ELSE 0 END AS adds
                  FROM catalog_ramplace p JOIN _ram_groups g ON {_KEY}
                  UNION ALL SELECT {_CELL_COLS}, days, cumulative, 1 FROM _ram_points) rows) ranked
        WHERE k <= {RANK}""")
    cursor.execute(f"DELETE FROM catalog_ramplace p USING _ram_groups g WHERE {_KEY}")
    cursor.execute(f"INSERT INTO catalog_ramplace ({_CELL_COLS}, days, rank, cumulative, points) "
                   f"SELECT {_CELL_COLS}, days, k, cumulative, n FROM _ram_merged")
    cursor.execute("DROP TABLE _ram_new, _ram_moved_on, _ram_points, _ram_groups, _ram_merged")




# --- reading -----------------------------------------------------------------------------------

def _built() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM catalog_rollupstate WHERE name = %s)", [NAME])
        return cursor.fetchone()[0]


def _cut_is_moot(end: dt.date) -> bool | None:
    """True when `end` cuts nothing off, False when it cuts everything off, None otherwise."""
    newest = frames.latest_snapshot_date()
    if newest is None or end >= newest:
        return True
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(date) FROM catalog_downloadsnapshot WHERE source IN {_DAILY}")
        oldest = cursor.fetchone()[0]
    return False if oldest is None or end < oldest else None


def _where(filters) -> tuple[str, list]:
    where, params = frames.model_conditions(filters, {c: c for c in CELL})
    return (" AND ".join(where) if where else "TRUE"), params


def served(filters) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """(latest, places) for the filters from the aggregates, or None where they cannot serve them
    (not fresh or not built, a licence class, an `end` inside the data): read the raw rows then.

    latest: (model_id, days, cumulative), each sized model's latest point; places: (size_class,
    days, rank_th, models_at_t), the 10th-highest point at each t and how many there are
    (adoption.monotone_reference turns them into the reference curves)."""
    if not rollups.fresh() or not _built() or filters.licence_class:
        return None
    everything = True if filters.end is None else _cut_is_moot(filters.end)
    if everything is None:
        return None
    where, params = _where(filters)
    if not everything:
        where = "FALSE"
    latest = frames.read(
        f"SELECT model_id, date - release_date, cumulative FROM catalog_ramlatest WHERE {where} "
        "AND size_class IS NOT NULL AND release_date IS NOT NULL AND date >= release_date", params, LATEST_SCHEMA)
    rows = frames.read(f"SELECT size_class, days, rank, cumulative, points FROM catalog_ramplace WHERE {where}",
                       params, PLACE_SCHEMA)
    places = (rows.group_by(["size_class", "days"])
              .agg(pl.col("cumulative").top_k(RANK).min().alias("rank_th"),
                   pl.col("points").filter(pl.col("rank") == 1).sum().alias("models_at_t")))
    return latest, places


def curve_rows(model_ids: list[int], end: dt.date | None = None) -> pl.DataFrame:
    """The daily rows of a few models (the ones a chart draws), as adoption.adoption_curves reads them."""
    if not model_ids:
        return pl.DataFrame(schema=CURVE_ROW_SCHEMA)
    sql = (f"SELECT s.model_id, s.date, s.downloads_all_time, s.cumulative_kind FROM catalog_downloadsnapshot s "
           f"WHERE s.model_id = ANY(%s) AND s.source IN {_DAILY} AND s.downloads_all_time IS NOT NULL")
    params: list = [list(model_ids)]
    if end is not None:
        sql += " AND s.date <= %s"
        params.append(end)
    return frames.read(sql, params, CURVE_ROW_SCHEMA)
