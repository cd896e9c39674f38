"""Licence mix (downloads and derivatives by licence class) and licence conflicts."""

from __future__ import annotations

import polars as pl

# The classes, their ranking and the conflict rule are the vocabulary's (observatory/vocab.py).
from observatory.vocab import LICENCE_CLASS_DISPLAY_ORDER, LICENCE_CONFLICT_PAIRS

CLASSES = list(LICENCE_CLASS_DISPLAY_ORDER)


def licence_mix(models: pl.DataFrame, edges: pl.DataFrame) -> pl.DataFrame:
    """(licence_class, models, downloads_all_time, derivatives) over the models in scope.

    `derivatives` counts direct lineage edges whose (resolved) base is in scope, by the base's class.
    """
    base = models.group_by("licence_class").agg(
        pl.len().cast(pl.Int64).alias("models"),
        pl.col("downloads_all_time").fill_null(0).sum().cast(pl.Int64).alias("downloads_all_time"),
    )
    derived = (
        edges.join(models.select(pl.col("model_id").alias("parent_id"), "licence_class"), on="parent_id")
        .group_by("licence_class").agg(pl.len().cast(pl.Int64).alias("derivatives"))
    )
    order = pl.DataFrame({"licence_class": CLASSES, "order": list(range(len(CLASSES)))})
    return (
        order.join(base, on="licence_class", how="left").join(derived, on="licence_class", how="left")
        .with_columns(pl.col("models", "downloads_all_time", "derivatives").fill_null(0))
        .sort("order").drop("order")
    )


def licence_conflicts(models: pl.DataFrame, edges: pl.DataFrame, all_models: pl.DataFrame | None = None) -> pl.DataFrame:
    """Derivatives (in `models`) whose licence class allows more than their base's (vocab.is_licence_conflict)."""
    everyone = all_models if all_models is not None else models
    # The rule's pairs as a frame: an inner join keeps exactly the edges it flags.
    pairs = pl.DataFrame(sorted(LICENCE_CONFLICT_PAIRS), schema={"derivative_class": pl.Utf8, "base_class": pl.Utf8},
                         orient="row")
    child = models.select(pl.col("model_id").alias("child_id"), pl.col("hub_id").alias("derivative"),
                          pl.col("licence_id").alias("derivative_licence"),
                          pl.col("licence_class").alias("derivative_class"))
    parent = everyone.select(pl.col("model_id").alias("parent_id"), pl.col("hub_id").alias("base"),
                             pl.col("licence_id").alias("base_licence"), pl.col("licence_class").alias("base_class"))
    return (
        edges.join(child, on="child_id").join(parent, on="parent_id")
        .join(pairs, on=["derivative_class", "base_class"])
        .select("derivative", "derivative_licence", "derivative_class", "relation", "base", "base_licence",
                "base_class")
        .sort(["base", "derivative"])
    )
