"""The open/closed gap (analytics.gap) on made-up models: same-day releases, equal scores,
scores within the intervals (the match rules' boundaries), the frontiers, the window means and
the current gap, against hand-computed values."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from observatory.analytics import gap
from observatory.analytics.frames import ENTRY_SCHEMA
from tests.fast.made_up import rows


def d(month, day_, year=2025):
    return dt.date(year, month, day_)


def _models(*rows_, intervals=True):
    """(model, date, score, open, [ci_lower, ci_upper]) tuples."""
    frame = pl.DataFrame([dict(zip(gap.MODEL_SCHEMA, (*r, None, None)[:6])) for r in rows_], schema=gap.MODEL_SCHEMA)
    return frame if intervals else frame.drop("ci_lower", "ci_upper")


MODELS = _models(
    ("O0", d(12, 31, 2024), 99.0, True),  # better than every closed model, but released before them
    ("C1", d(1, 1), 50.0, False), ("O1", d(1, 1), 50.0, True),  # the same day, the same score
    ("C2", d(1, 10), 60.0, False), ("C3", d(1, 10), 55.0, False),  # C3 sets no record on C2's day
    ("O2", d(1, 20), 59.0, True),
    ("C4", d(2, 1), 58.0, False),
    ("O3", d(2, 15), 60.0, True),
    ("C5", d(3, 1), 70.0, False), ("O4", d(3, 1), 65.0, True),
)


def test_it_takes_as_closed_frontier_each_closed_model_that_set_a_record():
    assert gap.closed_frontier(MODELS)["model"].to_list() == ["C1", "C2", "C5"]
    tie = _models(("Cb", d(1, 1), 50.0, False), ("Ca", d(1, 1), 50.0, False), ("Cc", d(1, 2), 50.0, False))
    assert gap.closed_frontier(tie)["model"].to_list() == ["Ca"]  # the name breaks a same-day tie; equal is no record


def _gaps(**kwargs):
    got = gap.horizontal_gaps(MODELS, as_of=d(4, 1), **kwargs)
    assert got.schema == pl.Schema(gap.GAP_SCHEMA)
    return rows(got, "closed_model", "open_model", "gap_days", "gap_months", "matched", "match_rule")


def test_it_matches_the_first_open_model_released_on_or_after_with_at_least_the_score():
    assert _gaps() == [
        ("C1", "O1", 0, 0.0, True, "tolerance"),  # released the same day with the same score: caught up at once
        ("C2", "O3", 36, round(36 / 30.44, 2), True, "tolerance"),  # O2 (59) is short of 60
        ("C5", None, 31, round(31 / 30.44, 2), False, "tolerance"),  # censored at as_of
    ]


def test_it_accepts_a_score_within_the_point_tolerance():
    assert _gaps(threshold=1.0)[1] == ("C2", "O2", 10, round(10 / 30.44, 2), True, "tolerance")
    assert _gaps(threshold=5.0)[2] == ("C5", "O4", 0, 0.0, True, "tolerance")
    assert _gaps(threshold=4.999)[2][4] is False


def test_it_reports_each_rows_scores_dates_and_intervals():
    got = gap.horizontal_gaps(MODELS, as_of=d(4, 1)).row(1, named=True)
    assert got == {"closed_model": "C2", "closed_date": d(1, 10), "closed_score": 60.0, "open_model": "O3",
                   "open_date": d(2, 15), "open_score": 60.0, "gap_months": 1.18, "matched": True, "gap_days": 36,
                   "match_rule": "tolerance", "closed_ci_lower": None, "open_ci_upper": None}
    censored = gap.horizontal_gaps(MODELS, as_of=d(4, 1)).row(2, named=True)
    assert (censored["open_model"], censored["open_date"], censored["open_score"], censored["open_ci_upper"]) == (
        None, None, None, None)


def test_it_prefers_the_better_then_the_first_named_of_open_models_released_the_same_day():
    same_day = _models(("C", d(1, 1), 60.0, False), ("Ob", d(1, 5), 60.0, True), ("Oa", d(1, 5), 60.0, True),
                       ("Oz", d(1, 5), 61.0, True))
    assert rows(gap.horizontal_gaps(same_day, as_of=d(2, 1)), "open_model") == [("Oz",)]
    no_z = same_day.filter(pl.col("model") != "Oz")
    assert rows(gap.horizontal_gaps(no_z, as_of=d(2, 1)), "open_model") == [("Oa",)]


def test_it_reads_models_without_interval_columns():
    got = gap.horizontal_gaps(_models(("C", d(1, 1), 60.0, False), ("O", d(1, 2), 61.0, True), intervals=False),
                              as_of=d(2, 1), rule="interval-difference")
    assert rows(got, "open_model", "gap_days", "match_rule", "closed_ci_lower") == [("O", 1, "tolerance", None)]


CLOSED = {"score": 60.0, "ci_lower": 57.0}  # 3 points below


@pytest.mark.parametrize(("candidate", "difference", "overlap"), [
    ({"score": 56.0, "ci_upper": 60.0}, True, True),  # 4 <= hypot(3, 4) = 5
    ({"score": 55.0, "ci_upper": 59.0}, True, True),  # exactly 5: within
    ({"score": 54.0, "ci_upper": 58.0}, False, True),  # 6 > 5, though the intervals overlap
    ({"score": 50.0, "ci_upper": 56.9}, False, False),
    ({"score": 50.0, "ci_upper": 57.0}, False, True),  # touching intervals overlap
])
def test_it_judges_a_difference_within_the_intervals(candidate, difference, overlap):
    assert gap.caught_up(CLOSED, candidate, rule="interval-difference", threshold=0.0) == (difference, "interval")
    assert gap.caught_up(CLOSED, candidate, rule="interval-overlap", threshold=0.0) == (overlap, "interval")


def test_it_counts_an_interval_on_the_wrong_side_of_its_score_as_no_width():
    # A lower bound above the score: that side adds nothing (not its absolute value, 2).
    assert gap.caught_up({"score": 60.0, "ci_lower": 62.0}, {"score": 56.5, "ci_upper": 59.5},
                         rule="interval-difference", threshold=0.0) == (False, "interval")  # 3.5 > 3
    assert gap.caught_up({"score": 60.0, "ci_lower": 57.0}, {"score": 56.5, "ci_upper": 54.5},
                         rule="interval-difference", threshold=0.0) == (False, "interval")  # 3.5 > 3
    assert gap.caught_up({"score": 60.0, "ci_lower": 57.0}, {"score": 57.0, "ci_upper": 54.5},
                         rule="interval-difference", threshold=0.0) == (True, "interval")  # 3 <= 3


@pytest.mark.parametrize(("closed", "candidate"), [
    ({"score": 60.0, "ci_lower": None}, {"score": 59.0, "ci_upper": 70.0}),
    ({"score": 60.0, "ci_lower": 50.0}, {"score": 59.0, "ci_upper": None}),
    ({"score": 60.0}, {"score": 59.0}),
])
def test_it_falls_back_to_the_point_tolerance_without_both_intervals(closed, candidate):
    for rule in ("interval-difference", "interval-overlap"):
        assert gap.caught_up(closed, candidate, rule=rule, threshold=1.0) == (True, "tolerance")
        assert gap.caught_up(closed, candidate, rule=rule, threshold=0.5) == (False, "tolerance")


def test_it_ignores_intervals_under_the_tolerance_rule_and_refuses_an_unknown_rule():
    assert gap.caught_up(CLOSED, {"score": 56.0, "ci_upper": 70.0}, rule="tolerance", threshold=0.0) == (
        False, "tolerance")
    with pytest.raises(ValueError, match="unknown match rule 'nearest'"):
        gap.caught_up(CLOSED, {"score": 1.0}, rule="nearest", threshold=0.0)


def test_it_says_which_rule_judged_each_closed_model_matched_or_not():
    models = _models(("C1", d(1, 1), 60.0, False, 57.0, 63.0), ("C2", d(2, 1), 70.0, False),
                     ("O1", d(1, 15), 55.0, True, 53.0, 59.0), ("O2", d(3, 1), 69.5, True))
    got = gap.horizontal_gaps(models, as_of=d(4, 1), rule="interval-difference", threshold=1.0)
    assert rows(got, "closed_model", "open_model", "match_rule", "closed_ci_lower", "open_ci_upper") == [
        ("C1", "O1", "interval", 57.0, 59.0), ("C2", "O2", "tolerance", None, None)]
    strict = gap.horizontal_gaps(models.filter(pl.col("model") != "O1"), as_of=d(4, 1), rule="interval-difference")
    # C1 unmatched: O2 has no interval, 69.5 >= 60 by the tolerance though.
    assert rows(strict, "closed_model", "open_model", "match_rule") == [("C1", "O2", "tolerance"),
                                                                        ("C2", None, "tolerance")]
    nobody = gap.horizontal_gaps(models.head(2), as_of=d(4, 1), rule="interval-overlap")
    assert rows(nobody, "closed_model", "matched", "match_rule") == [("C1", False, "interval"),
                                                                     ("C2", False, "tolerance")]


FRONT_MODELS = _models(("C1", d(1, 1), 50.0, False), ("O1", d(1, 5), 40.0, True), ("C2", d(1, 10), 60.0, False),
                       ("C3", d(1, 10), 55.0, False), ("O2", d(1, 20), 45.0, True), ("C4", d(1, 25), 60.0, False))


def test_it_draws_each_sides_best_so_far_and_their_difference_on_each_release_date():
    got = gap.frontiers(FRONT_MODELS)
    assert got.columns == ["date", "closed_best", "closed_model", "open_best", "open_model", "vertical_gap"]
    assert rows(got) == [
        (d(1, 1), 50.0, "C1", None, None, None),
        (d(1, 5), 50.0, "C1", 40.0, "O1", 10.0),
        (d(1, 10), 60.0, "C2", 40.0, "O1", 20.0),
        (d(1, 20), 60.0, "C2", 45.0, "O2", 15.0),
        (d(1, 25), 60.0, "C2", 45.0, "O2", 15.0),  # an equal score takes no record
    ]
    assert gap.frontiers(FRONT_MODELS.head(0)).is_empty()


def _daily(values):
    """Plain percentile with linear interpolation (numpy's default), for hand-made lists."""
    ordered = sorted(values)

    def q(p):
        pos = p * (len(ordered) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
    return q


def test_it_averages_the_vertical_gap_over_every_day_from_both_frontiers_to_the_end():
    fronts = gap.frontiers(FRONT_MODELS)
    # Jan 5-9: 10 (5 days), Jan 10-19: 20 (10 days), Jan 20-31: 15 (12 days).
    days = [10.0] * 5 + [20.0] * 10 + [15.0] * 12
    q = _daily(days)
    assert gap.mean_vertical_gap(fronts, end=d(1, 31)) == {
        "points": round(sum(days) / 27, 2), "spread_low": round(q(0.05), 2), "spread_high": round(q(0.95), 2),
        "level": 0.9, "days": 27}
    to_last = [10.0] * 5 + [20.0] * 10 + [15.0] * 6  # to Jan 25, the last release
    assert gap.mean_vertical_gap(fronts, end=None)["points"] == round(sum(to_last) / 21, 2)
    assert gap.mean_vertical_gap(fronts, end=d(1, 15))["days"] == 21  # never short of the last release
    q = _daily(to_last)
    half = gap.mean_vertical_gap(fronts, end=None, level=0.5)
    assert (half["spread_low"], half["spread_high"], half["level"]) == (round(q(0.25), 2), round(q(0.75), 2), 0.5)


def test_it_gives_no_vertical_gap_before_both_frontiers_exist():
    fronts = gap.frontiers(FRONT_MODELS.head(1))
    assert gap.mean_vertical_gap(fronts, end=d(2, 1)) == {"points": None, "spread_low": None, "spread_high": None,
                                                          "level": 0.9, "days": 0}


def test_it_averages_the_caught_up_gaps_with_a_bootstrap_interval_and_counts_the_censored():
    gaps = gap.horizontal_gaps(MODELS, as_of=d(4, 1))
    months = [0.0, 36 / 30.44]
    got = gap.mean_horizontal_gap(gaps, resamples=300, seed=7)
    # The interval recomputed with plain loops over the same seeded draws.
    draws = np.random.default_rng(7).integers(0, 2, size=(300, 2)).tolist()
    means = _daily([sum(months[i] for i in draw) / 2 for draw in draws])
    spread = _daily(months)
    assert got == {"months": round(sum(months) / 2, 2), "low": round(means(0.05), 2), "high": round(means(0.95), 2),
                   "level": 0.9, "method": "bootstrap-percentile", "resamples": 300, "seed": 7, "matched": 2,
                   "censored": 1, "censored_months": [round(31 / 30.44, 2)], "spread_low": round(spread(0.05), 2),
                   "spread_high": round(spread(0.95), 2), "rules": {"tolerance": 2}}
    assert got["low"] <= got["months"] <= got["high"]


def test_it_uses_the_published_defaults_for_the_bootstrap():
    gaps = gap.horizontal_gaps(MODELS, as_of=d(4, 1))
    got = gap.mean_horizontal_gap(gaps)
    assert (got["resamples"], got["seed"], got["level"]) == (10_000, 20251030, 0.9)
    equal = gap.mean_horizontal_gap(gaps.with_columns(pl.lit(61, dtype=pl.Int64).alias("gap_days")).head(2))
    assert equal["low"] == equal["high"] == equal["months"] == round(61 / 30.44, 2)


def test_it_gives_no_mean_when_nothing_was_caught_up():
    gaps = gap.horizontal_gaps(MODELS.filter(pl.col("model") == "C5"), as_of=d(4, 1))
    got = gap.mean_horizontal_gap(gaps)
    assert (got["months"], got["low"], got["high"], got["spread_low"], got["matched"], got["censored"],
            got["rules"]) == (None, None, None, None, 0, 1, {})


def test_it_estimates_the_current_gap_as_at_least_the_oldest_unmatched_age():
    gaps = gap.horizontal_gaps(MODELS, as_of=d(4, 1))
    fronts = gap.frontiers(FRONT_MODELS)
    mean = (0.0 + round(36 / 30.44, 2)) / 2  # 0.59
    oldest = round(31 / 30.44, 2)  # 1.02
    assert gap.current_gap(gaps, fronts) == {
        "estimated_months": round(max(mean, oldest), 1), "mean_matched_months": round(mean, 1),
        "oldest_unmatched_months": round(oldest, 1), "matched": 2, "unmatched": 1, "current_vertical_gap": 15.0}
    later = gap.horizontal_gaps(MODELS, as_of=d(12, 1))  # C5 now censored at 275 days
    assert gap.current_gap(later, fronts)["estimated_months"] == round(275 / 30.44, 1)
    matched_only = gaps.filter(pl.col("matched"))
    assert gap.current_gap(matched_only, fronts.head(1)) == {
        "estimated_months": round(mean, 1), "mean_matched_months": round(mean, 1), "oldest_unmatched_months": None,
        "matched": 2, "unmatched": 0, "current_vertical_gap": None}
    assert gap.current_gap(gaps.head(0), fronts.head(0))["estimated_months"] is None


def _entries(*entries):
    keys = ("model_name", "open_weights", "score", "release_date", "snapshot_date", "ci_lower", "ci_upper")
    out = [{**dict.fromkeys(ENTRY_SCHEMA), **dict(zip(keys, e))} for e in entries]
    return pl.DataFrame(out, schema=ENTRY_SCHEMA)


def test_it_keeps_each_released_models_best_score_with_its_interval():
    entries = _entries(("B", True, 40.0, d(2, 1), None, None, None), ("A", False, 50.0, d(1, 1), None, 48.0, 52.0),
                       ("A", False, 55.0, d(1, 1), None, 53.0, 57.0), ("undated", True, 1.0, None, None, None, None),
                       ("unscored", True, None, d(1, 1), None, None, None),
                       ("unknown access", None, 70.0, d(1, 1), None, None, None),
                       ("Aa", True, 10.0, d(2, 1), None, None, None))
    got = gap.released_models(entries)
    assert got.columns == list(gap.MODEL_SCHEMA)
    assert rows(got) == [("A", d(1, 1), 55.0, False, 53.0, 57.0), ("Aa", d(2, 1), 10.0, True, None, None),
                         ("B", d(2, 1), 40.0, True, None, None)]
    bare = gap.released_models(entries.drop("ci_lower", "ci_upper"))
    assert rows(bare)[0] == ("A", d(1, 1), 55.0, False, None, None)


def test_it_dates_a_snapshot_model_by_its_first_listing_and_scores_it_by_its_latest():
    entries = _entries(("X", True, 10.0, None, d(1, 1), 9.0, 11.0), ("X", True, 12.0, None, d(2, 1), 11.0, 13.0),
                       ("X", True, 14.0, None, d(2, 1), 13.0, 15.0),  # listed twice in its latest snapshot
                       ("Y", True, 30.0, None, d(1, 15), 29.0, 31.0), ("Y", False, 20.0, None, d(2, 1), 19.0, 21.0),
                       ("Z", True, 5.0, None, None, None, None), ("W", None, 5.0, None, d(1, 1), None, None),
                       ("V", True, None, None, d(1, 1), None, None))
    got = gap.snapshot_models(entries)
    assert got.columns == list(gap.MODEL_SCHEMA)
    assert rows(got) == [("X", d(1, 1), 14.0, True, 13.0, 15.0), ("Y", d(1, 15), 20.0, False, 19.0, 21.0)]
    assert rows(gap.snapshot_models(entries.drop("ci_lower", "ci_upper")))[0] == ("X", d(1, 1), 14.0, True, None, None)


def test_it_floors_an_interval_side_at_no_width_not_more():
    # Both facing sides have no width: only an equal score is within them.
    assert gap.caught_up({"score": 60.0, "ci_lower": 60.0}, {"score": 59.5, "ci_upper": 59.5},
                         rule="interval-difference", threshold=0.0) == (False, "interval")
    assert gap.caught_up({"score": 60.0, "ci_lower": 60.0}, {"score": 60.0, "ci_upper": 60.0},
                         rule="interval-difference", threshold=0.0) == (True, "interval")


def test_it_says_tolerance_for_an_unmatched_model_under_the_tolerance_rule_even_with_an_interval():
    models = _models(("C1", d(1, 1), 60.0, False, 57.0, 63.0))
    got = gap.horizontal_gaps(models, as_of=d(2, 1), rule="tolerance")
    assert rows(got, "matched", "match_rule", "closed_ci_lower") == [(False, "tolerance", 57.0)]


def test_it_keeps_the_schemas_when_a_source_has_no_intervals_or_no_models():
    entries = _entries(("A", False, 50.0, d(1, 1), d(1, 1), None, None))
    assert gap.released_models(entries.drop("ci_lower", "ci_upper")).schema == pl.Schema(gap.MODEL_SCHEMA)
    assert gap.snapshot_models(entries.drop("ci_lower", "ci_upper")).schema == pl.Schema(gap.MODEL_SCHEMA)
    assert gap.frontiers(FRONT_MODELS.head(0)).schema == pl.Schema({
        "date": pl.Date, "closed_best": pl.Float64, "closed_model": pl.Utf8, "open_best": pl.Float64,
        "open_model": pl.Utf8, "vertical_gap": pl.Float64})
    closed_only = gap.frontiers(FRONT_MODELS.head(1))
    assert closed_only.schema["open_best"] == pl.Float64 and closed_only.schema["open_model"] == pl.Utf8


FRACTIONAL = _models(("C1", d(1, 1), 50.123456, False), ("O1", d(1, 5), 40.0, True),
                     ("C2", d(1, 8), 52.5, False), ("O2", d(1, 11), 43.3, True))


def test_it_rounds_the_vertical_gaps_to_two_decimals():
    fronts = gap.frontiers(FRACTIONAL)
    # Jan 5-7: 10.123456 (3 days), Jan 8-10: 12.5 (3 days), Jan 11-14: 9.2 (4 days).
    days = [10.123456] * 3 + [12.5] * 3 + [52.5 - 43.3] * 4
    q = _daily(days)
    got = gap.mean_vertical_gap(fronts, end=d(1, 14), level=0.2)
    assert got == {"points": round(sum(days) / 10, 2), "spread_low": round(q(0.4), 2),
                   "spread_high": round(q(0.6), 2), "level": 0.2, "days": 10}
    assert (got["points"], got["spread_low"], got["spread_high"]) == (10.47, 9.75, 10.12)
    current = gap.current_gap(gap.horizontal_gaps(FRACTIONAL, as_of=d(2, 12)), fronts)
    assert current["current_vertical_gap"] == round(52.5 - 43.3, 2) == 9.2
    assert gap.current_gap(gap.horizontal_gaps(FRACTIONAL, as_of=d(2, 12)), fronts.head(3))[
        "current_vertical_gap"] == 12.5  # the last day that has both frontiers, not the one before


def test_it_rounds_the_current_gap_to_one_decimal():
    # C5 (Mar 1) unmatched until Apr 12: 42 days = 1.38 months; the mean of 0 and 1.18 is 0.59.
    gaps = gap.horizontal_gaps(MODELS, as_of=d(4, 12))
    got = gap.current_gap(gaps, gap.frontiers(FRONT_MODELS))
    assert (got["estimated_months"], got["mean_matched_months"], got["oldest_unmatched_months"]) == (1.4, 0.6, 1.4)
    assert isinstance(got["oldest_unmatched_months"], float)


def _gap_rows(*rows_):
    """(gap_days, matched, match_rule) rows of a horizontal-gap table."""
    out = [{"closed_model": f"C{i}", "gap_days": days, "matched": matched, "match_rule": rule,
            "gap_months": round(days / 30.44, 2)} for i, (days, matched, rule) in enumerate(rows_)]
    return pl.DataFrame(out, schema={k: gap.GAP_SCHEMA[k] for k in out[0]})


def test_it_resamples_the_caught_up_gaps_with_the_given_seed_and_counts_each_rule_in_name_order():
    gaps = _gap_rows((10, True, "tolerance"), (40, True, "interval"), (100, True, "tolerance"), (7, False, "interval"))
    months = [10 / 30.44, 40 / 30.44, 100 / 30.44]
    got = gap.mean_horizontal_gap(gaps, resamples=7, seed=11, level=0.8)
    draws = np.random.default_rng(11).integers(0, 3, size=(7, 3)).tolist()
    means = _daily([sum(months[i] for i in draw) / 3 for draw in draws])
    spread = _daily(months)
    assert (got["months"], got["low"], got["high"], got["spread_low"], got["spread_high"]) == (
        round(sum(months) / 3, 2), round(means(0.1), 2), round(means(0.9), 2), round(spread(0.1), 2),
        round(spread(0.9), 2))
    assert isinstance(got["low"], float) and got["low"] != round(got["low"], 1)
    assert list(got["rules"].items()) == [("interval", 1), ("tolerance", 2)]
    other_seed = gap.mean_horizontal_gap(gaps, resamples=7, seed=12, level=0.8)
    assert (other_seed["low"], other_seed["high"]) != (got["low"], got["high"])
