"""Derivatives (fine-tunes, adapters, quantisations, merges) counted against their base models."""

from __future__ import annotations

import datetime as dt

import polars as pl

MAX_DEPTH = 32  # lineage deeper than this is a data error (or a cycle); stop expanding there


def ancestors(edges: pl.DataFrame, *, scope: str = "direct") -> pl.DataFrame:
    """(child_id, base_hub_id, base_id, relation, depth): every base a derivative descends from.

    `relation` is the child's own relation to its direct parent, whatever the depth of the base.
    With scope="tree" the walk follows resolved parents upwards. At either scope each (child, base)
    pair counts once, a base being one node whatever name points at it (its row when stored, else
    its id case-folded: Hub ids resolve case-insensitively), so two names of one base, cycles and
    diamonds (merges of siblings) do not double count.
    """
    if scope not in ("direct", "tree"):
        raise ValueError("scope must be 'direct' or 'tree'")
    level = _once_per_base(edges.select(
        "child_id", pl.col("parent_hub_id").alias("base_hub_id"), pl.col("parent_id").alias("base_id"),
        "relation", pl.lit(1, dtype=pl.Int32).alias("depth"),
    ))
    if scope == "direct":
        return level.drop("base_key")
    found = level
    up = edges.select(pl.col("child_id").alias("base_id"), pl.col("parent_hub_id").alias("next_hub_id"),
                      pl.col("parent_id").alias("next_id"))
    for depth in range(2, MAX_DEPTH + 1):
        level = (
            level.filter(pl.col("base_id").is_not_null())
            .join(up, on="base_id", how="inner")
            .select("child_id", pl.col("next_hub_id").alias("base_hub_id"), pl.col("next_id").alias("base_id"),
                    "relation", pl.lit(depth, dtype=pl.Int32).alias("depth"))
            .pipe(_once_per_base)
            .join(found.select("child_id", "base_key"), on=["child_id", "base_key"], how="anti")
        )
        if level.is_empty():
            break
        found = pl.concat([found, level])
    return found.drop("base_key")


def _once_per_base(pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per (child, base), the base keyed by its stored row or, unstored, its case-folded id."""
    return pairs.with_columns(
        pl.when(pl.col("base_id").is_not_null()).then(pl.lit("#") + pl.col("base_id").cast(pl.String))
        .otherwise(pl.col("base_hub_id").str.to_lowercase()).alias("base_key")
    ).unique(["child_id", "base_key"], keep="first", maintain_order=True)


def _with_base_attributes(pairs: pl.DataFrame, models: pl.DataFrame, organizations: pl.DataFrame) -> pl.DataFrame:
    """Base organisation = its namespace; region from the organisation table, else 'unknown'."""
    regions = organizations.rename({"namespace": "base_organization", "region": "base_region"})
    return (
        pairs.with_columns(pl.col("base_hub_id").str.split("/").list.first().alias("base_organization"))
        .join(regions, on="base_organization", how="left")
        .with_columns(pl.col("base_region").fill_null("unknown"))
        .join(models.select(pl.col("model_id").alias("child_id"), pl.col("created_date").alias("created")),
              on="child_id", how="inner")
    )


def derivatives_by_base(edges: pl.DataFrame, models: pl.DataFrame, organizations: pl.DataFrame, *,
                        scope: str = "direct", by: str = "region", start: dt.date | None = None,
                        end: dt.date | None = None, top_n: int = 10) -> pl.DataFrame:
    """(month, base, relation, new_derivatives): derivatives created per month, by their base's
    region, organisation or model ("family"), top N bases + 'other' for the latter two.

    `models` is the set of derivatives counted (filters apply to the children).
    """
    column = {"region": "base_region", "organization": "base_organization", "base": "base_hub_id"}.get(by)
    if column is None:
        raise ValueError("by must be 'region', 'organization' or 'base'")
    pairs = _with_base_attributes(ancestors(edges, scope=scope), models, organizations)
    if start is not None:
        pairs = pairs.filter(pl.col("created") >= start)
    if end is not None:
        pairs = pairs.filter(pl.col("created") <= end)
    pairs = pairs.filter(pl.col("created").is_not_null()).with_columns(
        pl.col("created").dt.truncate("1mo").alias("month"), pl.col(column).alias("base"))
    if by != "region" and not pairs.is_empty():
        top = (pairs.group_by("base").len().sort(["len", "base"], descending=[True, False]).head(top_n)["base"]
               .to_list())
        pairs = pairs.with_columns(
            pl.when(pl.col("base").is_in(top)).then(pl.col("base")).otherwise(pl.lit("other")).alias("base"))
    return (
        pairs.group_by(["month", "base", "relation"]).agg(pl.len().cast(pl.Int64).alias("new_derivatives"))
        .sort(["month", "base", "relation"])
    )


def finetune_share_by_base_region(edges: pl.DataFrame, models: pl.DataFrame, organizations: pl.DataFrame, *,
                                  start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """(month, base_region, finetunes, share): new direct fine-tunes by the region of their base."""
    counts = derivatives_by_base(edges.filter(pl.col("relation") == "finetune"), models, organizations,
                                 scope="direct", by="region", start=start, end=end)
    return (
        counts.group_by(["month", "base"]).agg(pl.col("new_derivatives").sum().alias("finetunes"))
        .rename({"base": "base_region"})
        .with_columns((pl.col("finetunes") / pl.col("finetunes").sum().over("month")).alias("share"))
        .sort(["month", "base_region"])
    )
