"""Adoption metrics: downloads accumulated over time, by region."""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.vocab import REGION_VALUES


def cumulative_downloads_by_region(
    snapshots: pl.DataFrame,
    models: pl.DataFrame,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    scope: str = "tracked",
) -> pl.DataFrame:
    """For each snapshot date in [start, end] and region: downloads accumulated over the range.

    The sum over the models of their canonical downloads per day (`downloads_day`, see
    analytics.frames) from the range's first day to t, the first day included. A day without a
    figure (a crawl's first row, a count that fell) adds nothing. Returns (date, region,
    cumulative_downloads).
    """
    if scope not in ("tracked", "all"):
        raise ValueError("scope must be 'tracked' or 'all'")
    chosen = models if scope == "all" else models.filter(pl.col("tracked"))
    frame = daily_increments(snapshots.join(chosen.select("model_id"), on="model_id"), start=start, end=end)
    if frame.is_empty():
        return pl.DataFrame(schema={"date": pl.Date, "region": pl.Utf8, "cumulative_downloads": pl.Int64})
    return accumulate_by_region(frame.join(chosen.select("model_id", "region"), on="model_id"))


def accumulate_by_region(increments: pl.DataFrame) -> pl.DataFrame:
    """(date, region, increment) rows → each region's running total on every date present, a
    region with nothing that day carrying its total forward (the stacked areas need every cell)."""
    per_day = increments.group_by(["region", "date"]).agg(pl.col("increment").sum())
    dates = increments.select("date").unique()
    regions = [r for r in REGION_VALUES if r in set(per_day["region"].to_list())]
    grid = dates.join(pl.DataFrame({"region": pl.Series(regions, dtype=pl.Utf8)}), how="cross")
    return (
        grid.join(per_day, on=["region", "date"], how="left")
        .with_columns(pl.col("increment").fill_null(0))
        .sort(["region", "date"])
        .with_columns(pl.col("increment").cum_sum().over("region").round(0).cast(pl.Int64)
                      .alias("cumulative_downloads"))
        .select("date", "region", "cumulative_downloads")
        .sort(["date", "region"])
    )


def daily_increments(snapshots: pl.DataFrame, *, start: dt.date | None = None,
                     end: dt.date | None = None) -> pl.DataFrame:
    """(model_id, date, increment): canonical downloads per model and snapshot day within [start, end]."""
    frame = snapshots if end is None else snapshots.filter(pl.col("date") <= end)
    if start is not None:
        frame = frame.filter(pl.col("date") >= start)
    return frame.select("model_id", "date", pl.col("downloads_day").fill_null(0.0).alias("increment"))


# The cumulative counts an adoption curve may use: counts since release (the Hub's own, or the
# series estimate where sampling began within its first 30-day window). A lower bound would put
# a model below where it really is.
SINCE_RELEASE_KINDS = ("all-time", "estimated")
RAM_METHODOLOGY = "ram-v2.1"


def adoption_curves(snapshots: pl.DataFrame, models: pl.DataFrame, *, end: dt.date | None = None) -> pl.DataFrame:
    """(model_id, hub_id, size_class, days, cumulative): cumulative downloads t days after release.

    Only counts that are counts since release (SINCE_RELEASE_KINDS) make a curve.
    """
    chosen = models.filter(pl.col("size_class").is_not_null() & pl.col("release_date").is_not_null())
    frame = snapshots if end is None else snapshots.filter(pl.col("date") <= end)
    return (
        frame.filter(pl.col("cumulative_kind").is_in(SINCE_RELEASE_KINDS) & pl.col("downloads_all_time").is_not_null())
        .join(chosen.select("model_id", "hub_id", "size_class", "release_date"), on="model_id", how="inner")
        .filter(pl.col("date") >= pl.col("release_date"))
        .with_columns((pl.col("date") - pl.col("release_date")).dt.total_days().cast(pl.Int64).alias("days"))
        .select("model_id", "hub_id", "size_class", "days", pl.col("downloads_all_time").alias("cumulative"))
    )


def reference_curves(curves: pl.DataFrame, *, rank: int = 10) -> pl.DataFrame:
    """(size_class, days, reference, models_at_t): ATOM's 10th-place curve of each size class.

    At each t where at least `rank` models of the class have data, the rank-th highest
    cumulative count; made monotone (it never falls as t grows: the running maximum over the
    defined days). Where fewer than `rank` models have data at t, `reference` is null: there is
    no fallback. `models_at_t` says how many there were.
    """
    return (
        curves.group_by(["size_class", "days"])
        .agg(pl.col("cumulative").top_k(rank).min().alias("rank_th"), pl.len().alias("models_at_t"))
        .sort(["size_class", "days"])
        .with_columns(pl.when(pl.col("models_at_t") >= rank).then(pl.col("rank_th")).alias("rank_th"))
        .with_columns(pl.col("rank_th").cum_max().over("size_class").alias("running"))
        .with_columns(pl.when(pl.col("rank_th").is_not_null()).then(pl.col("running")).alias("reference"))
        .select("size_class", "days", "reference", pl.col("models_at_t").cast(pl.Int64))
    )


def relative_adoption(snapshots: pl.DataFrame, models: pl.DataFrame, *, end: dt.date | None = None,
                      rank: int = 10) -> pl.DataFrame:
    """ATOM's Relative Adoption Metric, one row a model with a size class (RAM_METHODOLOGY).

    Both versions read one canonical measure, the cumulative downloads since release, on the
    model's latest day t with such a count (up to `end`):
    v1 = that count ÷ the median of the same counts of the top `rank` models of its size class;
    v2 = that count ÷ the class's monotone rank-th-place curve at the same t (reference_curves),
    null where fewer than `rank` models have data at t. `ram_note` says why a value is missing.
    """
    sized = models.filter(pl.col("size_class").is_not_null())
    curves = adoption_curves(snapshots, sized, end=end)
    reference = reference_curves(curves, rank=rank)
    latest = (
        curves.sort("days").group_by("model_id").agg(pl.col("days").last(), pl.col("cumulative").last())
        .join(sized.select("model_id", "size_class"), on="model_id")
        .join(reference, on=["size_class", "days"], how="left")
    )
    top_median = (
        latest.group_by("size_class")
        .agg(pl.col("cumulative").top_k(rank).median().alias("top_median"))
    )
    return (
        sized.select("model_id", "hub_id", "organization", "region", "size_class", "release_date", "downloads_all_time")
        .join(top_median, on="size_class", how="left")
        .join(latest.select("model_id", "days", "cumulative", "reference", "models_at_t"), on="model_id", how="left")
        .with_columns(
            pl.when(pl.col("cumulative").is_not_null() & (pl.col("top_median") > 0))
            .then(pl.col("cumulative") / pl.col("top_median")).alias("ram_v1"),
            pl.when(pl.col("reference") > 0).then(pl.col("cumulative") / pl.col("reference")).alias("ram_v2"),
            pl.when(pl.col("cumulative").is_null())
            .then(pl.lit("no cumulative count since release (no daily history, or sampling began after the "
                         "first 30 days)"))
            .when(pl.col("reference").is_null())
            .then(pl.format("fewer than {} models of the class have data at day {}", pl.lit(rank), pl.col("days")))
            .when(pl.col("reference") == 0)
            .then(pl.lit("the class's 10th place has no downloads yet at this day"))
            .alias("ram_note"),
        )
        .rename({"days": "days_since_release", "cumulative": "cumulative_downloads",
                 "reference": "reference_10th", "top_median": "top10_median_downloads"})
        # The Hub's newest all-time count is another vintage than the counts compared here: left out.
        .drop("model_id", "downloads_all_time")
        # Hub ids break ties: a deterministic order whatever order the database returned the rows in.
        .sort(["size_class", "cumulative_downloads", "hub_id"], descending=[False, True, False], nulls_last=True)
    )
