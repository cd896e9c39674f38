"""The download metrics computed from daily gains by filter cell instead of per-model rows.

A cell is one (date, tracked, region, organization, size_class, pipeline_tag) with `gain`, the
sum over its models' rows of the canonical downloads on that day (analytics.frames: the series'
estimate, or the rise of the Hub's all-time count), and `rows`, how many rows that was
(analytics.rollups builds them in SQL; `daily_gains` here is the same in polars, for the
cross-checks).

Why the per-model metrics follow exactly: a region's or an organisation's downloads over
[F, t] are the sum over its models and days of their downloads per day; summing over the models
of a cell first and over days after commutes. A cell exists exactly where the models have rows,
so the days and groups present match too.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import shares
from observatory.analytics.adoption import accumulate_by_region

CELL = ("tracked", "region", "organization", "size_class", "pipeline_tag")


def daily_gains(snapshots: pl.DataFrame, models: pl.DataFrame) -> pl.DataFrame:
    """(date, *CELL, gain, rows) from canonical snapshot rows (analytics.frames.snapshots)."""
    return (
        snapshots.with_columns(pl.col("downloads_day").fill_null(0.0).alias("gain"))
        .join(models.select("model_id", *CELL), on="model_id")
        .group_by("date", *CELL)
        .agg(pl.col("gain").sum(), pl.len().cast(pl.Int64).alias("rows"))
        .sort("date", *CELL, nulls_last=True)
    )


def _in_range(frame: pl.DataFrame, start: dt.date | None) -> pl.DataFrame:
    """Cells on [F, ...] with `increment`: their downloads, the first day included."""
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    return frame.with_columns(pl.col("gain").cast(pl.Float64).alias("increment"))


def cumulative_downloads_by_region(cells: pl.DataFrame, *, start: dt.date | None = None,
                                   end: dt.date | None = None) -> pl.DataFrame:
    """adoption.cumulative_downloads_by_region over the models whose cells are given
    (filter the cells with filter_models first, as one would the models)."""
    frame = cells if end is None else cells.filter(pl.col("date") <= end)
    if frame.is_empty():
        return pl.DataFrame(schema={"date": pl.Date, "region": pl.Utf8, "cumulative_downloads": pl.Int64})
    return accumulate_by_region(_in_range(frame, start))


def download_share_by_org(cells: pl.DataFrame, *, start: dt.date | None = None, end: dt.date | None = None,
                          top_n: int = 8) -> pl.DataFrame:
    """shares.download_share_by_org over the models whose cells are given."""
    in_range = _in_range(cells if end is None else cells.filter(pl.col("date") <= end), start)
    if in_range.is_empty():
        return pl.DataFrame(schema=shares.EMPTY_SHARES)
    return shares.monthly_shares(in_range, top_n=top_n)
