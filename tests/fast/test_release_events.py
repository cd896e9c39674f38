"""The events feed's threshold events (analytics.release_events) on made-up curves: the first day a
model's RAM v2 reaches the threshold (exactly 1.0 crosses; a zero or missing reference cannot), dated
from its release, and licence conflicts dated by their derivative's creation day, against hand tables."""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import release_events
from tests.fast.made_up import models, rows

CURVE_SCHEMA = {"model_id": pl.Int64, "hub_id": pl.Utf8, "size_class": pl.Utf8, "days": pl.Int64,
                "cumulative": pl.Int64}
REFERENCE_SCHEMA = {"size_class": pl.Utf8, "days": pl.Int64, "reference": pl.Int64, "models_at_t": pl.Int64}

# (model_id, hub_id, size_class, days since release, cumulative downloads), listed latest day first.
CURVES = pl.DataFrame([
    (1, "a/exact", "1-5B", 5, 30), (1, "a/exact", "1-5B", 3, 10), (1, "a/exact", "1-5B", 0, 5),
    (2, "b/zero-ref", "<1B", 4, 3), (2, "b/zero-ref", "<1B", 2, 7), (2, "b/zero-ref", "<1B", 1, 7),
    (3, "c/never", "1-5B", 3, 9),
    (4, "d/no-class-reference", "70B+", 0, 1000),
    (6, "0-lab/later", "1-5B", 0, 20),
], schema=CURVE_SCHEMA, orient="row")
REFERENCE = pl.DataFrame([
    ("1-5B", 0, 10, 10), ("1-5B", 3, 10, 12), ("1-5B", 5, 10, 12),
    ("<1B", 1, 0, 10),  # a zero reference: nothing can be said
    ("<1B", 2, None, 9),  # fewer than ten models that day: undefined
    ("<1B", 4, 1, 10),
], schema=REFERENCE_SCHEMA, orient="row")
RELEASES = models({"model_id": 1, "hub_id": "a/exact", "release_date": dt.date(2025, 1, 10)},
                  {"model_id": 2, "hub_id": "b/zero-ref", "release_date": dt.date(2025, 1, 9)},
                  {"model_id": 3, "hub_id": "c/never", "release_date": dt.date(2025, 1, 1)},
                  {"model_id": 4, "hub_id": "d/no-class-reference", "release_date": dt.date(2025, 1, 1)},
                  {"model_id": 6, "hub_id": "0-lab/later", "release_date": dt.date(2025, 1, 20)})
CROSSING_COLUMNS = ["hub_id", "size_class", "date", "days", "cumulative", "reference", "ram_v2"]


def test_the_first_day_at_or_above_1_is_the_crossing_dated_from_release():
    got = release_events.ram_v2_crossings(CURVES, REFERENCE, RELEASES)
    assert got.columns == CROSSING_COLUMNS
    assert rows(got) == [
        ("a/exact", "1-5B", dt.date(2025, 1, 13), 3, 10, 10, 1.0),  # exactly 1.0 on day 3
        ("b/zero-ref", "<1B", dt.date(2025, 1, 13), 4, 3, 1, 3.0),  # same date: Hub id order
        ("0-lab/later", "1-5B", dt.date(2025, 1, 20), 0, 20, 10, 2.0),  # on release day
    ]


def test_a_higher_threshold_moves_each_crossing_to_its_first_day_at_or_above_it():
    got = release_events.ram_v2_crossings(CURVES, REFERENCE, RELEASES, threshold=2.0)
    assert rows(got, "hub_id", "date", "days", "ram_v2") == [
        ("b/zero-ref", dt.date(2025, 1, 13), 4, 3.0),
        ("a/exact", dt.date(2025, 1, 15), 5, 3.0),
        ("0-lab/later", dt.date(2025, 1, 20), 0, 2.0),
    ]


def test_nothing_crossing_gives_an_empty_table_in_the_events_schema():
    for curves, threshold in ((CURVES, 100.0), (CURVES.clear(), 1.0)):
        got = release_events.ram_v2_crossings(curves, REFERENCE, RELEASES, threshold=threshold)
        assert got.is_empty()
        assert got.schema == pl.Schema(release_events.RAM_CROSSING_SCHEMA)


CONFLICT_SCHEMA = {"derivative": pl.Utf8, "derivative_licence": pl.Utf8, "derivative_class": pl.Utf8,
                   "relation": pl.Utf8, "base": pl.Utf8, "base_licence": pl.Utf8, "base_class": pl.Utf8}


def _conflicts(*pairs: tuple[str, str, str]) -> pl.DataFrame:
    """(derivative, relation, base) triples: a permissive derivative of a restricted base each."""
    return pl.DataFrame([(d, "mit", "permissive", r, b, "llama3", "restricted") for d, r, b in pairs],
                        schema=CONFLICT_SCHEMA, orient="row")


def test_each_conflict_is_dated_by_its_derivatives_creation_day_once_per_base():
    conflicts = _conflicts(("e/same-day", "finetune", "b/x"), ("d/one", "finetune", "b/y"),
                           ("d/one", "finetune", "b/x"), ("d/one", "adapter", "b/x"),  # two edges to one base
                           ("d/undated", "finetune", "b/x"), ("d/not-catalogued", "merge", "b/x"),
                           ("c/two", "quantized", "b/y"))
    catalogue = models({"model_id": 1, "hub_id": "d/one", "created_date": dt.date(2025, 2, 1)},
                       {"model_id": 2, "hub_id": "e/same-day", "created_date": dt.date(2025, 2, 1)},
                       {"model_id": 3, "hub_id": "c/two", "created_date": dt.date(2025, 1, 15)},
                       {"model_id": 4, "hub_id": "d/undated", "created_date": None},
                       {"model_id": 5, "hub_id": "b/x", "created_date": dt.date(2024, 1, 1)})
    got = release_events.conflict_events(conflicts, catalogue)
    assert got.columns == [*CONFLICT_SCHEMA, "date"]
    assert rows(got, "date", "derivative", "base", "relation") == [
        (dt.date(2025, 1, 15), "c/two", "b/y", "quantized"),
        (dt.date(2025, 2, 1), "d/one", "b/x", "finetune"),  # the first of its two edges
        (dt.date(2025, 2, 1), "d/one", "b/y", "finetune"),
        (dt.date(2025, 2, 1), "e/same-day", "b/x", "finetune"),
    ]


def test_no_conflicts_give_no_events():
    got = release_events.conflict_events(_conflicts(), models({"model_id": 1, "created_date": dt.date(2025, 1, 1)}))
    assert got.is_empty() and got.columns == [*CONFLICT_SCHEMA, "date"]
