"""Download concentration: how far the downloads gained in a month go to a few organisations or families.

Definition `download-concentration/v1`:
- a group's downloads in a month are the canonical downloads per day (analytics.frames) of its
  models, summed over the month's snapshot days within the range;
- shares are over the groups with a positive gain that month (a month gaining nothing has no
  shares and no row);
- hhi = sum of (100 x share)^2, the Herfindahl-Hirschman index on the 0-10,000 scale (10,000:
  one group gained everything); top1/5/10_share: the share of the largest 1/5/10 groups;
  `organizations`: how many groups gained downloads that month;
- a group is the model's organisation, or its family: the root base model reached by following
  lineage upwards (analytics.concentration.family_roots).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

METHODOLOGY = "download-concentration/v1"
GROUPINGS = ("organization", "family")
MAX_DEPTH = 32  # deeper lineage is a data error (or a cycle): stop there, as analytics.derivatives does
ROW_SCHEMA = {"month": pl.Date, "hhi": pl.Float64, "top1_share": pl.Float64, "top5_share": pl.Float64,
              "top10_share": pl.Float64, "organizations": pl.Int64}


def family_roots(edges: pl.DataFrame, models: pl.DataFrame, names: pl.DataFrame | None = None) -> pl.DataFrame:
    """(model_id, family) for each of `models`: its root base, its own Hub id when it has no parent.
    `names` (model_id, hub_id) names the ancestors (by default `models`; pass the whole catalogue
    when `models` is a selection, since ancestors need not be in it).

    A model with several parents (a merge) follows the one whose id sorts first case-folded, so
    every model has exactly one family. A parent the catalogue does not hold ends the walk there,
    named as the edge names it; so does a cycle or a chain deeper than MAX_DEPTH.
    """
    parent = (edges.sort(pl.col("parent_hub_id").str.to_lowercase(), "parent_hub_id")
              .unique("child_id", keep="first", maintain_order=True)
              .select(pl.col("child_id").alias("node_id"), pl.col("parent_id").alias("up_id"),
                      pl.col("parent_hub_id").alias("up_hub_id")))
    hub_ids = (models if names is None else names).select(pl.col("model_id").alias("up_id"),
                                                          pl.col("hub_id").alias("stored_hub_id"))
    walk = models.select("model_id", pl.col("model_id").alias("node_id"), pl.col("hub_id").alias("family"))
    done = []
    for _ in range(MAX_DEPTH):
        step = walk.join(parent, on="node_id", how="left")
        done.append(step.filter(pl.col("up_hub_id").is_null()).select("model_id", "family"))
        going = step.filter(pl.col("up_hub_id").is_not_null())
        if going.is_empty():
            break
        going = going.join(hub_ids, on="up_id", how="left").with_columns(
            pl.coalesce("stored_hub_id", "up_hub_id").alias("family"))
        # An unstored parent has no parents of its own here: the walk ends at its name.
        done.append(going.filter(pl.col("up_id").is_null()).select("model_id", "family"))
        walk = going.filter(pl.col("up_id").is_not_null()).select("model_id", pl.col("up_id").alias("node_id"),
                                                                  "family")
    else:
        done.append(walk.select("model_id", "family"))
    return pl.concat(done).unique("model_id", keep="first")


def concentration(gains: pl.DataFrame, *, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """ROW_SCHEMA rows, one a month, from (date, group, increment) rows."""
    if start is not None:
        gains = gains.filter(pl.col("date") >= start)
    if end is not None:
        gains = gains.filter(pl.col("date") <= end)
    monthly = (gains.with_columns(pl.col("date").dt.truncate("1mo").alias("month"))
               .group_by("month", "group").agg(pl.col("increment").sum())
               .filter(pl.col("increment") > 0))
    if monthly.is_empty():
        return pl.DataFrame(schema=ROW_SCHEMA)
    ranked = monthly.with_columns((pl.col("increment") / pl.col("increment").sum().over("month")).alias("share")) \
        .sort(["month", "share", "group"], descending=[False, True, False]) \
        .with_columns(pl.int_range(pl.len()).over("month").alias("rank"))
    return (ranked.group_by("month").agg(
        ((pl.col("share") * 100) ** 2).sum().alias("hhi"),
        pl.col("share").filter(pl.col("rank") < 1).sum().alias("top1_share"),
        pl.col("share").filter(pl.col("rank") < 5).sum().alias("top5_share"),
        pl.col("share").filter(pl.col("rank") < 10).sum().alias("top10_share"),
        pl.len().cast(pl.Int64).alias("organizations"))
        .sort("month").select(list(ROW_SCHEMA)))
