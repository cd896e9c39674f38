"""The tooling-readiness dashboard: how long releases take until the standard open tooling works
with them (every check of the tooling probe passing), by organisation or region and month of
release, and the share of releases ready at days 0, 7 and 30.

Only releases with at least one public tooling check count (the watched ones). A share at day N
counts the releases that were ready by day N among those at least N days old at `today`, or
ready by then already: a release of last week is not yet "not ready at day 30".
"""

from __future__ import annotations

import datetime as dt

import polars as pl

METHODOLOGY = "tooling-readiness/v1"
DAYS = (0, 7, 30)


def per_model(models: pl.DataFrame, readiness: pl.DataFrame, *, today: dt.date) -> pl.DataFrame:
    """Each checked release: (hub_id, organization, region, release_date, release_month, checks,
    ready_on, days_to_ready, ready_day_N and ready_day_N_of for N in DAYS)."""
    frame = (models.filter(pl.col("release_date").is_not_null())
             .join(readiness, on="model_id", how="inner")
             .with_columns(pl.col("release_date").dt.truncate("1mo").alias("release_month")))
    columns = []
    for n in DAYS:
        ready_by = pl.col("days_to_ready").is_not_null() & (pl.col("days_to_ready") <= n)
        old_enough = pl.col("release_date") <= pl.lit(today - dt.timedelta(days=n))
        columns += [ready_by.alias(f"ready_day_{n}"), (ready_by | old_enough).alias(f"ready_day_{n}_of")]
    return (frame.with_columns(columns)
            .select("hub_id", "organization", "region", "release_date", "release_month", "checks", "ready_on",
                    "days_to_ready", *[f"ready_day_{n}{s}" for n in DAYS for s in ("", "_of")])
            .sort(["release_date", "hub_id"], descending=[True, False]))


def by_group(table: pl.DataFrame, *, by: str) -> pl.DataFrame:
    """(group, release_month, releases, ready, median_days_to_ready, ready_day_N (count),
    ready_day_N_of (count), share_ready_day_N) per group (region or organisation) and month."""
    if by not in ("region", "organization"):
        raise ValueError("by must be region or organization")
    counts = [pl.col(f"ready_day_{n}{s}").sum().cast(pl.Int64).alias(f"ready_day_{n}{s}") for n in DAYS
              for s in ("", "_of")]
    rows = (table.group_by([pl.col(by).alias("group"), "release_month"])
            .agg(pl.len().cast(pl.Int64).alias("releases"),
                 pl.col("days_to_ready").is_not_null().sum().cast(pl.Int64).alias("ready"),
                 pl.col("days_to_ready").median().alias("median_days_to_ready"), *counts))
    shares = [pl.when(pl.col(f"ready_day_{n}_of") > 0).then(pl.col(f"ready_day_{n}") / pl.col(f"ready_day_{n}_of"))
              .alias(f"share_ready_day_{n}") for n in DAYS]
    return rows.with_columns(shares).sort(["group", "release_month"])
