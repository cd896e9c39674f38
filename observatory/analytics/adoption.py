"""Adoption metrics: downloads accumulated over time, by region."""

from __future__ import annotations

import datetime as dt

import polars as pl

REGIONS = ["us", "china", "eu", "other", "unknown"]


def cumulative_downloads_by_region(
    snapshots: pl.DataFrame,
    models: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    scope: str = "tracked",
) -> pl.DataFrame:
    """For each snapshot date in [start, end] and region: downloads accumulated since `start`.

    A model's accumulation at date t is its all-time count at t (its latest snapshot on or
    before t) minus its count at the range's first date; a model not seen by then counts from
    zero. Summing per-model increments and taking a running sum gives exactly that, without
    building a model × date grid. Returns (date, region, cumulative_downloads).
    """
    if scope not in ("tracked", "all"):
        raise ValueError("scope must be 'tracked' or 'all'")
    chosen = models if scope == "all" else models.filter(pl.col("tracked"))
    frame = snapshots.join(chosen.select("model_id", "region"), on="model_id", how="inner")
    if end is not None:
        frame = frame.filter(pl.col("date") <= end)
    if frame.is_empty():
        return pl.DataFrame(schema={"date": pl.Date, "region": pl.Utf8, "cumulative_downloads": pl.Int64})
    first = start or frame["date"].min()
    baseline = (
        frame.filter(pl.col("date") <= first)
        .sort("date")
        .group_by("model_id")
        .agg(pl.col("downloads_all_time").last().alias("baseline"))
    )
    in_range = frame.filter(pl.col("date") >= first).sort(["model_id", "date"])
    increments = (
        in_range.join(baseline, on="model_id", how="left")
        .with_columns(pl.col("baseline").fill_null(0))
        .with_columns(
            (pl.col("downloads_all_time") - pl.col("downloads_all_time").shift(1).over("model_id"))
            .fill_null(pl.col("downloads_all_time") - pl.col("baseline"))
            .alias("increment")
        )
    )
    per_day = increments.group_by(["region", "date"]).agg(pl.col("increment").sum())
    dates = in_range.select("date").unique()
    regions = [r for r in REGIONS if r in set(per_day["region"].to_list())]
    grid = dates.join(pl.DataFrame({"region": regions}), how="cross")
    return (
        grid.join(per_day, on=["region", "date"], how="left")
        .with_columns(pl.col("increment").fill_null(0))
        .sort(["region", "date"])
        .with_columns(pl.col("increment").cum_sum().over("region").cast(pl.Int64).alias("cumulative_downloads"))
        .select("date", "region", "cumulative_downloads")
        .sort(["date", "region"])
    )
