"""Releases per region per quarter: the observatory's tracked models and Epoch's notable models."""

from __future__ import annotations

import datetime as dt

import polars as pl

EU_COUNTRIES = {
    "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Czech Republic", "Denmark", "Estonia",
    "Finland", "France", "Germany", "Greece", "Hungary", "Ireland", "Italy", "Latvia", "Lithuania", "Luxembourg",
    "Malta", "Netherlands", "Poland", "Portugal", "Romania", "Slovakia", "Slovenia", "Spain", "Sweden",
}


def country_region(country: str | None) -> str:
    """Epoch's 'Country (of organization)' → region; a multi-country entry counts by its first country."""
    first = (country or "").split(",")[0].strip()
    if not first:
        return "unknown"
    if first == "United States of America":
        return "us"
    if first in ("China", "Hong Kong"):
        return "china"
    if first in EU_COUNTRIES:
        return "eu"
    return "other"


def _quarter(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1q").alias("quarter")


def releases_by_region(models: pl.DataFrame, *, start: dt.date | None = None,
                       end: dt.date | None = None) -> pl.DataFrame:
    """(quarter, region, releases, source='observatory') by (corrected) release date."""
    frame = models.filter(pl.col("release_date").is_not_null())
    if start is not None:
        frame = frame.filter(pl.col("release_date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("release_date") <= end)
    return (
        frame.with_columns(_quarter("release_date")).group_by(["quarter", "region"])
        .agg(pl.len().cast(pl.Int64).alias("releases"))
        .with_columns(pl.lit("observatory").alias("source")).sort(["quarter", "region"])
    )


def notable_releases_by_region(entries: pl.DataFrame, *, start: dt.date | None = None,
                               end: dt.date | None = None) -> pl.DataFrame:
    """(quarter, region, releases, source='epoch-notable') from Epoch's notable-models list."""
    frame = entries.filter(pl.col("release_date").is_not_null()).unique(["model_name"], keep="first")
    if start is not None:
        frame = frame.filter(pl.col("release_date") >= start)
    if end is not None:
        frame = frame.filter(pl.col("release_date") <= end)
    return (
        frame.with_columns(pl.col("country").map_elements(country_region, return_dtype=pl.Utf8).alias("region"),
                           _quarter("release_date"))
        .group_by(["quarter", "region"]).agg(pl.len().cast(pl.Int64).alias("releases"))
        .with_columns(pl.lit("epoch-notable").alias("source")).sort(["quarter", "region"])
    )
