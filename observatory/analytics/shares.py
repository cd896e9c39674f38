"""Download share by organisation: who gained the downloads, month by month."""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics.adoption import daily_increments


def download_share_by_org(snapshots: pl.DataFrame, models: pl.DataFrame, *, start: dt.date | None = None,
                          end: dt.date | None = None, top_n: int = 8) -> pl.DataFrame:
    """(month, organization, downloads, share): downloads gained in each month, top N + 'other'.

    The top N organisations are those with the most downloads over the whole range; the rest are
    summed as 'other'. Shares in a month add up to 1.
    """
    gains = daily_increments(snapshots.join(models.select("model_id"), on="model_id"), start=start, end=end)
    if gains.is_empty():
        return pl.DataFrame(schema={"month": pl.Date, "organization": pl.Utf8, "downloads": pl.Int64,
                                    "share": pl.Float64})
    by_org = gains.join(models.select("model_id", "organization"), on="model_id").with_columns(
        pl.col("date").dt.truncate("1mo").alias("month")
    )
    top = (by_org.group_by("organization").agg(pl.col("increment").sum()).sort(["increment", "organization"],
           descending=[True, False]).head(top_n)["organization"].to_list())
    return (
        by_org.with_columns(
            pl.when(pl.col("organization").is_in(top)).then(pl.col("organization")).otherwise(pl.lit("other"))
            .alias("organization")
        )
        .group_by(["month", "organization"]).agg(pl.col("increment").sum().cast(pl.Int64).alias("downloads"))
        .with_columns((pl.col("downloads") / pl.col("downloads").sum().over("month")).fill_nan(0.0).alias("share"))
        .sort(["month", "downloads"], descending=[False, True])
    )
