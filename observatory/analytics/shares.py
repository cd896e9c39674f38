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
        return pl.DataFrame(schema=EMPTY_SHARES)
    by_org = gains.join(models.select("model_id", "organization"), on="model_id")
    return monthly_shares(by_org, top_n=top_n)


EMPTY_SHARES = {"month": pl.Date, "organization": pl.Utf8, "downloads": pl.Int64, "share": pl.Float64}


def monthly_shares(by_org: pl.DataFrame, *, top_n: int) -> pl.DataFrame:
    """(date, organization, increment) rows → each month's downloads and share per organisation,
    named for the top N organisations over the whole range, the rest summed as 'other'."""
    by_org = by_org.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
    top = (by_org.group_by("organization").agg(pl.col("increment").sum()).sort(["increment", "organization"],
           descending=[True, False]).head(top_n)["organization"].to_list())
    return (
        by_org.with_columns(
            pl.when(pl.col("organization").is_in(top)).then(pl.col("organization")).otherwise(pl.lit("other"))
            .alias("organization")
        )
        .group_by(["month", "organization"]).agg(pl.col("increment").sum().round(0).cast(pl.Int64).alias("downloads"))
        .with_columns((pl.col("downloads") / pl.col("downloads").sum().over("month")).fill_nan(0.0).alias("share"))
        # Ties (months where several organisations gained nothing) broken by name: the same rows in
        # the same order on every backend, so an export is reproducible from its URL.
        .sort(["month", "downloads", "organization"], descending=[False, True, False])
    )
