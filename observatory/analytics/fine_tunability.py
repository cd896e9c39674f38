"""The fine-tunability leaderboard: every profiled model side by side, ranked only among runs of
the same probe config (the config hash): a different task set, step count or learning rate is
another experiment, and its numbers do not compare.

Each model's latest run per config counts. Within a config the order is: runs that did not
diverge first, then the larger held-out gain (the loss the adapter took off unseen examples of
its tasks), then the smaller forgetting, then the Hub id (a deterministic order for ties).
"""

from __future__ import annotations

import polars as pl

METHODOLOGY = "fine-tunability/v1"
MODEL_COLUMNS = ("model_id", "organization", "region", "size_class", "licence_class")
LEADERBOARD_COLUMNS = ("config_hash", "rank", "hub_id", "organization", "region", "size_class", "licence_class",
                       "steps_to_target_mean", "targets_reached", "targets_total", "heldout_gain", "forgetting",
                       "lr_sensitivity", "diverged", "initial_loss", "final_loss", "peak_memory_mb",
                       "tokens_per_second", "wall_seconds", "finished_at", "models_in_config", "config_order")


def latest_per_model(runs: pl.DataFrame) -> pl.DataFrame:
    """Each (Hub id, config hash)'s newest run."""
    return runs.sort("finished_at").group_by(["hub_id", "config_hash"], maintain_order=True).last()


def leaderboard(runs: pl.DataFrame, models: pl.DataFrame, *, regions: tuple[str, ...] = (), size_class: str = "",
                licence_class: str = "") -> pl.DataFrame:
    """One row per (model, config): the probe's numbers, `models_in_config` and `rank` within the
    config; configs with more models first (ties: the config of the newest run), by rank within.

    `models` gives region, size class and licence class (a run of a model not in the catalogue
    has region unknown and no classes, so any class filter leaves it out).
    """
    frame = (latest_per_model(runs)
             .join(models.select(*MODEL_COLUMNS), on="model_id", how="left")
             .with_columns(pl.col("region").fill_null("unknown")))
    if regions:
        frame = frame.filter(pl.col("region").is_in(list(regions)))
    if size_class:
        frame = frame.filter(pl.col("size_class") == size_class)
    if licence_class:
        frame = frame.filter(pl.col("licence_class") == licence_class)
    if frame.is_empty():
        # The columns of a table with rows, in its order: the CSV or JSON of a filter that matches
        # nothing has the same header as one that matches.
        return frame.with_columns(pl.lit(0, pl.Int64).alias("models_in_config"), pl.lit(0, pl.Int64).alias("rank"),
                                  pl.lit(0, pl.Int64).alias("config_order")).select(*LEADERBOARD_COLUMNS)
    configs = (frame.group_by("config_hash").agg(pl.len().cast(pl.Int64).alias("models_in_config"),
                                                 pl.col("finished_at").max().alias("newest"))
               .sort(["models_in_config", "newest", "config_hash"], descending=[True, True, False])
               .with_row_index("config_order").select("config_hash", "models_in_config",
                                                      pl.col("config_order").cast(pl.Int64)))
    ranked = (frame.join(configs, on="config_hash")
              .sort(["config_order", "diverged", "heldout_gain", "forgetting", "hub_id"],
                    descending=[False, False, True, False, False], nulls_last=True)
              .with_columns(pl.int_range(1, pl.len() + 1).over("config_hash").cast(pl.Int64).alias("rank")))
    return ranked.select(*LEADERBOARD_COLUMNS)


def ranked_curves(curves: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The mean loss curves of the leaderboard's runs (each model's latest per config), by rank."""
    chosen = table.select("hub_id", "config_hash", "finished_at", "rank", "config_order")
    return (curves.join(chosen, on=["hub_id", "config_hash", "finished_at"])
            .sort(["config_order", "rank", "step"]).drop("finished_at"))
