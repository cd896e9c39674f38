"""The data-quality ledger: what each download source got wrong or left out, with model, date
and reason, and which charted points it concerns.

Two kinds of entries:
- found when a source is converted (ingest.download_measures): leading placeholders read as
  missing, implausible jumps, gaps, falls of a running sum; stored as DataQualityIssue rows;
- found across sources, read from the snapshots as they are now: a later all-time count below an
  earlier cumulative count (a contradiction: the later point is not drawn), and days between
  two crawls of a model (gaps in the crawled history).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.db import connection

from ingest.download_measures import SOURCES
from observatory.analytics import frames

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


def all_issues() -> pl.DataFrame:
    """Every ledger entry, in a total order (source, model, date, kind)."""
    return (pl.concat([stored_issues(), contradictions(), crawl_gaps()], how="vertical_relaxed")
            .sort(["source", "hub_id", "date", "kind"], nulls_last=True))


def issues_of(sources: tuple[str, ...] = frames.DAILY_SOURCES, kinds: tuple[str, ...] = FLAGGED_KINDS) -> pl.DataFrame:
    """The entries of all_issues() of the given sources and kinds, in its order, reading only what
    they can come from: a chart's flags count no contradiction, and finding those runs a window
    over every snapshot (seconds at a twentieth of the Hub's size), so a chart does not pay for it."""
    parts = [stored_issues(sources, kinds)]
    if "contradiction" in kinds:
        found = contradictions()
        parts.append(found.filter(pl.col("source").is_in(sources)))
    if "gap" in kinds and "crawl" in sources:
        parts.append(crawl_gaps())
    # Each part has ISSUE_SCHEMA's dtypes exactly (the tests assert each one's): a plain concat.
    return pl.concat(parts).sort(["source", "hub_id", "date", "kind"], nulls_last=True)


def coverage() -> pl.DataFrame:
    """(source, models, rows, first_date, last_date) of the stored snapshots."""
    return frames.read(
        "SELECT source, COUNT(DISTINCT model_id), COUNT(*), MIN(date), MAX(date) FROM catalog_downloadsnapshot "
        "GROUP BY source", [],
        {"source": pl.Utf8, "models": pl.Int64, "rows": pl.Int64, "first_date": pl.Date, "last_date": pl.Date})


def summary(issues: pl.DataFrame, covered: pl.DataFrame) -> list[dict]:
    """One entry per source: what it measures, its estimator, its coverage and its issues by kind."""
    by_source = {row["source"]: row for row in covered.to_dicts()}
    counts = issues.group_by("source", "kind").agg(pl.len().alias("n"), pl.col("days").sum().alias("days"))
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
