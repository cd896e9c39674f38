"""Threshold events over the catalogue's frames, each with the day it happened (the events feed).

Pure functions over polars frames: the day is read from the data (a release date plus the days
of an adoption curve, a derivative's creation day), never from the clock, so recomputing them
after a rebuild gives the same events on the same days.
"""

from __future__ import annotations

import polars as pl

RAM_THRESHOLD = 1.0

RAM_CROSSING_SCHEMA = {"hub_id": pl.Utf8, "size_class": pl.Utf8, "date": pl.Date, "days": pl.Int64,
                       "cumulative": pl.Int64, "reference": pl.Int64, "ram_v2": pl.Float64}


def ram_v2_crossings(curves: pl.DataFrame, reference: pl.DataFrame, models: pl.DataFrame, *,
                     threshold: float = RAM_THRESHOLD) -> pl.DataFrame:
    """The first day each model's RAM v2 (its cumulative downloads since release ÷ its size class's
    10th-place curve at the same day, analytics.adoption) reached `threshold`.

    `curves`: adoption_curves; `reference`: reference_curves over the same models; `models`:
    model_id, release_date. Days where the class's reference is undefined (fewer than ten models)
    or zero cannot cross. One row per model that crossed, by date then Hub id.
    """
    joined = (curves.join(reference, on=["size_class", "days"], how="inner")
              .filter(pl.col("reference").is_not_null() & (pl.col("reference") > 0))
              .with_columns((pl.col("cumulative") / pl.col("reference")).alias("ram_v2"))
              .filter(pl.col("ram_v2") >= threshold))
    if joined.is_empty():
        return pl.DataFrame(schema=RAM_CROSSING_SCHEMA)
    first = joined.sort(["model_id", "days"]).group_by("model_id", maintain_order=True).first()
    return (first.join(models.select("model_id", "release_date"), on="model_id")
            .with_columns((pl.col("release_date") + pl.duration(days=pl.col("days"))).alias("date"))
            .select([pl.col(c).cast(t) for c, t in RAM_CROSSING_SCHEMA.items()])
            .sort(["date", "hub_id"]))


def conflict_events(conflicts: pl.DataFrame, models: pl.DataFrame) -> pl.DataFrame:
    """Each licence conflict (analytics.licences.licence_conflicts) dated by the day its derivative
    appeared on the Hub (`models`: hub_id, created_date); one row per (derivative, base)."""
    return (conflicts.join(models.select(pl.col("hub_id").alias("derivative"), pl.col("created_date").alias("date")),
                           on="derivative", how="inner")
            .filter(pl.col("date").is_not_null())
            .unique(["derivative", "base"], keep="first")
            .sort(["date", "derivative", "base"]))
