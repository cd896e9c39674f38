"""The download metrics computed from daily gains by filter cell instead of per-model rows.

A cell is one (date, tracked, region, organization, size_class, pipeline_tag) with `gain`, the
sum over its models' rows of the all-time count minus the model's previous row (the whole count
on its first row), and `rows`, how many rows that was (analytics.rollups builds them in SQL;
`daily_gains` here is the same in polars, for the cross-checks).

Why the per-model metrics follow exactly: with gains g(m, d) a model's count at t is the sum of
its gains up to t, so its accumulation since the range's first day F is the sum of its gains on
days after F (a model first seen after F starts from zero: its first gain is its whole count;
a model seen on F gains nothing on F). Summing over the models of a cell and over days commutes,
so a region's or an organisation's downloads since F are the sum of its cells' gains on (F, t].
A cell exists exactly where the models have rows, so the days and groups present match too.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import shares
from observatory.analytics.adoption import accumulate_by_region

CELL = ("tracked", "region", "organization", "size_class", "pipeline_tag")


def daily_gains(snapshots: pl.DataFrame, models: pl.DataFrame) -> pl.DataFrame:
    """(date, *CELL, gain, rows) from raw (model_id, date, downloads_all_time) rows."""
    return (
        snapshots.sort(["model_id", "date"])
        .with_columns((pl.col("downloads_all_time") - pl.col("downloads_all_time").shift(1).over("model_id"))
                      .fill_null(pl.col("downloads_all_time")).alias("gain"))
        .join(models.select("model_id", *CELL), on="model_id")
        .group_by("date", *CELL)
        .agg(pl.col("gain").sum().cast(pl.Int64), pl.len().cast(pl.Int64).alias("rows"))
        .sort("date", *CELL, nulls_last=True)
    )


def _in_range(frame: pl.DataFrame, start: dt.date | None) -> pl.DataFrame:
    """Cells on [F, ...] with `increment`: their gain after F, nothing on F itself."""
    if frame.is_empty():
        return frame.with_columns(pl.lit(0, dtype=pl.Int64).alias("increment"))
    first = start or frame["date"].min()
    return frame.filter(pl.col("date") >= first).with_columns(
        pl.when(pl.col("date") > first).then(pl.col("gain")).otherwise(0).cast(pl.Int64).alias("increment"))


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
