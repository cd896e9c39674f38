"""The fine-tunability leaderboard (analytics.fine_tunability) on made-up probe runs: each model's
latest run per config, ranks only within a config (not diverged first, then larger held-out gain,
smaller forgetting, Hub id; a missing gain last), configs by size then newest run then hash, the
filters, and the loss curves drawn by rank, against hand tables."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from observatory.analytics import fine_tunability
from observatory.analytics.probe_frames import CURVE_SCHEMA, FINETUNE_SCHEMA, MODEL_SCHEMA
from tests.fast.made_up import rows


def at(day: int) -> dt.datetime:
    return dt.datetime(2025, 9, 1, 12, tzinfo=dt.UTC) + dt.timedelta(days=day)


# (hub_id, config_hash, finished day, diverged, heldout_gain, forgetting)
RUNS = [
    ("p/gamma", "c-big", 1, False, 0.9, 0.9),
    ("p/gamma", "c-big", 0, False, 3.0, 0.0),  # older (listed after the newer one): does not count
    ("p/beta", "c-big", 1, False, 0.5, 0.1),
    ("p/alpha", "c-big", 1, False, 0.5, 0.2),
    ("p/omega", "c-big", 1, False, 0.5, 0.2),  # the same numbers as p/alpha: Hub id order
    ("p/eps", "c-big", 1, False, None, 0.0),  # no gain measured: after every gain, before a divergence
    ("p/delta", "c-big", 1, True, 2.0, 0.0),  # diverged: last whatever its numbers
    ("p/gamma", "c-new", 5, False, 0.1, 0.5),  # the same model in another config: ranked there alone
    ("q/one", "c-new", 4, False, 0.2, 0.5),
    ("q/two", "c-old", 3, False, 0.3, 0.1),
    ("q/three", "c-old", 2, False, 0.4, 0.1),
    ("x/stray", "b-tie", 2, False, 0.1, 0.1),  # not in the catalogue
    ("q/one", "a-tie", 2, False, 0.1, 0.1),  # same size and newest run as b-tie: hash order
]
IDS = {"p/gamma": 1, "p/beta": 2, "p/alpha": 3, "p/omega": 4, "p/eps": 5, "p/delta": 6, "q/one": 7, "q/two": 8,
       "q/three": 9, "x/stray": 99}


def _runs(runs) -> pl.DataFrame:
    return pl.DataFrame([{
        "model_id": IDS[hub], "hub_id": hub, "config_hash": config, "finished_at": at(day), "initial_loss": 4.0,
        "final_loss": 4.0 - (gain or 0), "heldout_gain": gain, "forgetting": forgetting, "lr_sensitivity": 0.3,
        "diverged": diverged, "steps_to_target_mean": 6.5, "targets_reached": 2, "targets_total": 3,
        "peak_memory_mb": 1000.0 + IDS[hub], "tokens_per_second": 900.0, "wall_seconds": 60.0 + day}
        for hub, config, day, diverged, gain, forgetting in runs], schema=FINETUNE_SCHEMA)


# (model_id, organization, region, size_class, licence_class); 99 (x/stray) is missing.
CATALOGUE = pl.DataFrame([
    (1, "p", "us", "<1B", "permissive"), (2, "p", "us", "<1B", "permissive"), (3, "p", "china", "1-5B", "restricted"),
    (4, "p", "china", "<1B", "permissive"), (5, "p", "eu", "<1B", "permissive"), (6, "p", "us", "<1B", "permissive"),
    (7, "q", "china", "1-5B", "permissive"), (8, "q", "us", "<1B", "restricted"), (9, "q", "china", "<1B", None),
], schema=MODEL_SCHEMA, orient="row")

COLUMNS = ["config_hash", "rank", "hub_id", "organization", "region", "size_class", "licence_class",
           "steps_to_target_mean", "targets_reached", "targets_total", "heldout_gain", "forgetting", "lr_sensitivity",
           "diverged", "initial_loss", "final_loss", "peak_memory_mb", "tokens_per_second", "wall_seconds",
           "finished_at", "models_in_config", "config_order"]
RANKS = ("config_hash", "rank", "hub_id", "models_in_config", "config_order")


def test_each_model_and_config_keeps_its_newest_run():
    latest = fine_tunability.latest_per_model(_runs(RUNS))
    got = sorted(rows(latest, "hub_id", "config_hash", "finished_at", "heldout_gain"))
    assert got == sorted({(hub, config, at(day), gain) for hub, config, day, _, gain, _ in RUNS
                          if (hub, config, day) != ("p/gamma", "c-big", 0)})


def test_it_ranks_within_each_config_and_orders_configs_by_size_then_newest_run_then_hash():
    table = fine_tunability.leaderboard(_runs(RUNS), CATALOGUE)
    assert table.columns == COLUMNS
    assert rows(table, *RANKS) == [
        ("c-big", 1, "p/gamma", 6, 0), ("c-big", 2, "p/beta", 6, 0), ("c-big", 3, "p/alpha", 6, 0),
        ("c-big", 4, "p/omega", 6, 0), ("c-big", 5, "p/eps", 6, 0), ("c-big", 6, "p/delta", 6, 0),
        ("c-new", 1, "q/one", 2, 1), ("c-new", 2, "p/gamma", 2, 1),  # c-new's newest run (day 5) beats c-old's
        ("c-old", 1, "q/three", 2, 2), ("c-old", 2, "q/two", 2, 2),
        ("a-tie", 1, "q/one", 1, 3), ("b-tie", 1, "x/stray", 1, 4),
    ]
    assert table.schema["rank"] == pl.Int64 and table.schema["models_in_config"] == pl.Int64
    assert table.schema["config_order"] == pl.Int64


def test_each_row_carries_its_run_and_its_models_classes():
    table = fine_tunability.leaderboard(_runs(RUNS), CATALOGUE)
    gamma = table.row(0, named=True)
    assert gamma == {
        "config_hash": "c-big", "rank": 1, "hub_id": "p/gamma", "organization": "p", "region": "us",
        "size_class": "<1B", "licence_class": "permissive", "steps_to_target_mean": 6.5, "targets_reached": 2,
        "targets_total": 3, "heldout_gain": 0.9, "forgetting": 0.9, "lr_sensitivity": 0.3, "diverged": False,
        "initial_loss": 4.0, "final_loss": 3.1, "peak_memory_mb": 1001.0, "tokens_per_second": 900.0,
        "wall_seconds": 61.0, "finished_at": at(1), "models_in_config": 6, "config_order": 0}
    # A run of a model outside the catalogue: region unknown, no organisation or classes.
    stray = table.filter(pl.col("hub_id") == "x/stray").row(0, named=True)
    assert (stray["organization"], stray["region"], stray["size_class"], stray["licence_class"]) == (
        None, "unknown", None, None)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"regions": ("china",)}, [("c-big", 1, "p/alpha", 2, 0), ("c-big", 2, "p/omega", 2, 0),
                               ("c-new", 1, "q/one", 1, 1), ("a-tie", 1, "q/one", 1, 2),
                               ("c-old", 1, "q/three", 1, 3)]),
    ({"regions": ("unknown",)}, [("b-tie", 1, "x/stray", 1, 0)]),
    ({"regions": ("eu", "unknown")}, [("b-tie", 1, "x/stray", 1, 0), ("c-big", 1, "p/eps", 1, 1)]),
    ({"size_class": "1-5B"}, [("c-new", 1, "q/one", 1, 0), ("a-tie", 1, "q/one", 1, 1),
                              ("c-big", 1, "p/alpha", 1, 2)]),
    ({"licence_class": "restricted"}, [("c-old", 1, "q/two", 1, 0), ("c-big", 1, "p/alpha", 1, 1)]),
    ({"regions": ("us",), "size_class": "<1B", "licence_class": "permissive"},
     [("c-big", 1, "p/gamma", 3, 0), ("c-big", 2, "p/beta", 3, 0), ("c-big", 3, "p/delta", 3, 0),
      ("c-new", 1, "p/gamma", 1, 1)]),
])
def test_the_filters_rank_what_is_left(filters, expected):
    assert rows(fine_tunability.leaderboard(_runs(RUNS), CATALOGUE, **filters), *RANKS) == expected


@pytest.mark.parametrize("filters", [{"regions": ("other",)}, {"size_class": "70B+"}, {"licence_class": "copyleft"}])
def test_a_filter_that_leaves_nothing_gives_an_empty_table_with_the_columns_of_a_full_one(filters):
    table = fine_tunability.leaderboard(_runs(RUNS), CATALOGUE, **filters)
    assert table.is_empty()
    assert table.columns == COLUMNS  # the same CSV or JSON header as a table with rows
    assert {c: table.schema[c] for c in ("models_in_config", "rank", "config_order")} == {
        "models_in_config": pl.Int64, "rank": pl.Int64, "config_order": pl.Int64}


def test_one_run_is_a_leaderboard_of_one():
    table = fine_tunability.leaderboard(_runs(RUNS[-1:]), CATALOGUE)
    assert rows(table, *RANKS, "region") == [("a-tie", 1, "q/one", 1, 0, "china")]


def _curve(hub: str, config: str, day: int, losses: list[float]) -> list[dict]:
    return [{"hub_id": hub, "config_hash": config, "step": step, "loss": loss, "finished_at": at(day)}
            for step, loss in enumerate(losses, start=1)]


def test_the_curves_drawn_are_the_ranked_runs_by_config_then_rank_then_step():
    curves = pl.DataFrame(
        _curve("p/gamma", "c-big", 0, [9.0, 9.5])  # the older run: not drawn
        + _curve("q/one", "c-new", 4, [3.0, 2.0])[::-1]  # listed last step first
        + _curve("p/beta", "c-big", 1, [4.0, 3.5]) + _curve("p/gamma", "c-big", 1, [4.0, 3.0])
        + _curve("p/gamma", "c-new", 5, [5.0, 4.5]) + _curve("nobody/else", "c-big", 1, [1.0]),
        schema={**CURVE_SCHEMA, "finished_at": FINETUNE_SCHEMA["finished_at"]})
    drawn = fine_tunability.ranked_curves(curves, fine_tunability.leaderboard(_runs(RUNS), CATALOGUE))
    assert drawn.columns == ["hub_id", "config_hash", "step", "loss", "rank", "config_order"]
    assert rows(drawn) == [
        ("p/gamma", "c-big", 1, 4.0, 1, 0), ("p/gamma", "c-big", 2, 3.0, 1, 0),
        ("p/beta", "c-big", 1, 4.0, 2, 0), ("p/beta", "c-big", 2, 3.5, 2, 0),
        ("q/one", "c-new", 1, 3.0, 1, 1), ("q/one", "c-new", 2, 2.0, 1, 1),
        ("p/gamma", "c-new", 1, 5.0, 2, 1), ("p/gamma", "c-new", 2, 4.5, 2, 1),
    ]
