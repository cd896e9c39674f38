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
    return accumulate_by_region(increments)


def accumulate_by_region(increments: pl.DataFrame) -> pl.DataFrame:
    """(date, region, increment) rows → each region's running total on every date present, a
    region with nothing that day carrying its total forward (the stacked areas need every cell)."""
    per_day = increments.group_by(["region", "date"]).agg(pl.col("increment").sum())
    dates = increments.select("date").unique()
    regions = [r for r in REGIONS if r in set(per_day["region"].to_list())]
    grid = dates.join(pl.DataFrame({"region": pl.Series(regions, dtype=pl.Utf8)}), how="cross")
    return (
        grid.join(per_day, on=["region", "date"], how="left")
        .with_columns(pl.col("increment").fill_null(0))
        .sort(["region", "date"])
        .with_columns(pl.col("increment").cum_sum().over("region").cast(pl.Int64).alias("cumulative_downloads"))
        .select("date", "region", "cumulative_downloads")
        .sort(["date", "region"])
    )


def daily_increments(snapshots: pl.DataFrame, *, start: dt.date | None = None,
                     end: dt.date | None = None) -> pl.DataFrame:
    """(model_id, date, increment): downloads gained per model and snapshot day within [start, end].

    The first in-range day of a model gains its count minus its count at the range's first day
    (zero when it was not seen by then), the same rule as the cumulative chart.
    """
    frame = snapshots if end is None else snapshots.filter(pl.col("date") <= end)
    if frame.is_empty():
        return pl.DataFrame(schema={"model_id": pl.Int64, "date": pl.Date, "increment": pl.Int64})
    first = start or frame["date"].min()
    baseline = (
        frame.filter(pl.col("date") <= first).sort("date").group_by("model_id")
        .agg(pl.col("downloads_all_time").last().alias("baseline"))
    )
    return (
        frame.filter(pl.col("date") >= first).sort(["model_id", "date"])
        .join(baseline, on="model_id", how="left")
        .with_columns(pl.col("baseline").fill_null(0))
        .with_columns(
            (pl.col("downloads_all_time") - pl.col("downloads_all_time").shift(1).over("model_id"))
            .fill_null(pl.col("downloads_all_time") - pl.col("baseline")).alias("increment")
        )
        .select("model_id", "date", "increment")
    )


SIZE_ORDER = ["<1B", "1-5B", "7-9B", "10-50B", "50-100B", "100-250B", "250B+"]


def adoption_curves(snapshots: pl.DataFrame, models: pl.DataFrame, *, end: dt.date | None = None) -> pl.DataFrame:
    """(model_id, hub_id, size_class, days, cumulative): all-time downloads t days after release.

    A Hub all-time count on day release + t is exactly the downloads accumulated since release,
    so the daily series gives the curve directly wherever it covers that day.
    """
    chosen = models.filter(pl.col("size_class").is_not_null() & pl.col("release_date").is_not_null())
    frame = snapshots if end is None else snapshots.filter(pl.col("date") <= end)
    return (
        frame.join(chosen.select("model_id", "hub_id", "size_class", "release_date"), on="model_id", how="inner")
        .filter(pl.col("date") >= pl.col("release_date"))
        .with_columns((pl.col("date") - pl.col("release_date")).dt.total_days().cast(pl.Int64).alias("days"))
        .select("model_id", "hub_id", "size_class", "days", pl.col("downloads_all_time").alias("cumulative"))
    )


def reference_curves(curves: pl.DataFrame, *, rank: int = 10) -> pl.DataFrame:
    """(size_class, days, reference, models_at_t): the rank-th highest cumulative count at each t.

    Where fewer than `rank` models of a class have data at t, the lowest of those present is the
    reference and `models_at_t` says how many there were (the methodology page says so).
    """
    return (
        curves.group_by(["size_class", "days"])
        .agg(pl.col("cumulative").top_k(rank).min().alias("reference"), pl.len().alias("models_at_t"))
        .sort(["size_class", "days"])
    )


def relative_adoption(snapshots: pl.DataFrame, models: pl.DataFrame, *, end: dt.date | None = None,
                      rank: int = 10) -> pl.DataFrame:
    """ATOM's Relative Adoption Metric, one row a model with a size class.

    v1 = the model's all-time downloads ÷ the median all-time downloads of the top `rank` models
    of its size class; v2 = its cumulative downloads at its latest day t since release ÷ the
    reference (rank-th of its class) at the same t.
    """
    sized = models.filter(pl.col("size_class").is_not_null())
    top_median = (
        sized.filter(pl.col("downloads_all_time").is_not_null())
        .group_by("size_class")
        .agg(pl.col("downloads_all_time").top_k(rank).median().alias("top_median"))
    )
    curves = adoption_curves(snapshots, sized, end=end)
    reference = reference_curves(curves, rank=rank)
    latest = (
        curves.sort("days").group_by("model_id").agg(pl.col("days").last(), pl.col("cumulative").last())
        .join(sized.select("model_id", "size_class"), on="model_id")
        .join(reference, on=["size_class", "days"], how="left")
    )
    return (
        sized.select("model_id", "hub_id", "organization", "region", "size_class", "release_date", "downloads_all_time")
        .join(top_median, on="size_class", how="left")
        .join(latest.select("model_id", "days", "cumulative", "reference", "models_at_t"), on="model_id", how="left")
        .with_columns(
            (pl.col("downloads_all_time") / pl.col("top_median")).alias("ram_v1"),
            (pl.col("cumulative") / pl.col("reference")).alias("ram_v2"),
        )
        .rename({"days": "days_since_release", "cumulative": "cumulative_downloads",
                 "reference": "reference_10th", "top_median": "top10_median_downloads"})
        .drop("model_id")
        # Hub ids break ties: a deterministic order whatever order the database returned the rows in.
        .sort(["size_class", "downloads_all_time", "hub_id"], descending=[False, True, False], nulls_last=True)
    )
