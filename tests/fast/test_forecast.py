"""The adoption forecast (analytics.forecast, adoption-forecast/v1) on made-up trajectories.

Expected values come from hand-written tables and from the method written out again as plain
loops (tests/fast/plain_forecast.py), never from the module under test.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from observatory.analytics import forecast
from tests.fast import plain_forecast as plain

D = dt.date(2024, 1, 1)


def trajectory_rows(hub_id: str, size_class: str | None, days, values, origin: dt.date = D) -> list[dict]:
    return [{"hub_id": hub_id, "size_class": size_class, "origin": origin, "days": int(d), "value": float(v)}
            for d, v in zip(days, values, strict=True)]


def frame(*parts: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([row for part in parts for row in part], schema=forecast.TRAJECTORY_SCHEMA)


def power_law(a: float, b: float, wobble: float, last: int = 900, step: int = 3) -> tuple[list, list]:
    """Counts a·t^b, t = 0, step, ..., last, times a deterministic wobble (so the law's errors vary)."""
    days = list(range(0, last + 1, step))
    return days, [a * d ** b * (1 + wobble * math.sin(d / 17)) for d in days]


# Three classes whose models' rates decay at different speeds, one model with no size class, one
# that never gains (its rate is 0: no δ of its own), one too short for two grid ages and one
# first seen at day 30; two large models put more than 200 pairs in the top level band.
MODELS = [
    ("small/a", "1-5B", 40, 0.55, 0.02, 900), ("small/b", "1-5B", 60, 0.6, 0.03, 730),
    ("small/c", "1-5B", 50, 0.5, 0.01, 540),
    ("mid/a", "7-9B", 20, 1.2, 0.02, 900), ("mid/b", "7-9B", 30, 1.3, 0.04, 365), ("mid/c", "7-9B", 25, 1.25, 0.0, 450),
    ("big/a", "70B+", 3000, 0.9, 0.05, 900), ("big/b", "70B+", 5000, 0.95, 0.02, 900),
    ("odd/none", None, 10, 1.0, 0.03, 300),
]


def training_frame() -> pl.DataFrame:
    parts = [trajectory_rows(h, c, *power_law(a, b, w, last)) for h, c, a, b, w, last in MODELS]
    parts.append(trajectory_rows("flat/zero", "1-5B", range(0, 301, 5), [0.0] * 61))
    parts.append(trajectory_rows("short/one", "1-5B", range(0, 21), [d * 3.0 for d in range(21)]))
    late_days, late_values = power_law(15, 0.8, 0.02, 600)
    parts.append(trajectory_rows("late/seen", "7-9B", late_days[10:], late_values[10:]))
    return frame(*parts)


def plain_series(trajectories: pl.DataFrame) -> list[plain.Plain]:
    by_hub: dict[str, list[dict]] = {}
    for r in trajectories.iter_rows(named=True):
        by_hub.setdefault(r["hub_id"], []).append(r)
    out = []
    for hub_id in sorted(by_hub):
        rows = sorted(by_hub[hub_id], key=lambda r: r["days"])
        out.append(plain.Plain(hub_id, rows[0]["size_class"] or "unknown", [r["days"] for r in rows],
                               [r["value"] for r in rows]))
    return out


@pytest.fixture(scope="module")
def trained():
    trajectories = training_frame()
    return forecast.fit(forecast.series(trajectories)), plain.fit(plain_series(trajectories)), plain_series(trajectories)


# --- constants and small pieces ------------------------------------------------------------------

def test_its_constants_are_the_methods():
    assert forecast.GRID.tolist() == plain.GRID and forecast.DELTAS.tolist() == plain.DELTAS
    assert forecast.LEVEL_BANDS.tolist() == plain.LEVEL_BANDS
    assert (forecast.MIN_HISTORY_DAYS, forecast.RATE_WINDOW, forecast.MIN_BAND_PAIRS, forecast.POWER_CLIP) == (
        14, 30, 200, (0.5, 1.0))
    assert (forecast.HORIZONS, forecast.ON_TRACK_DAY, forecast.QUANTILES) == ((90, 180, 365), 90, (0.1, 0.5, 0.9))


@pytest.mark.parametrize(("count", "level"), [(0, 0), (0.99, 0), (1, 1), (4.9, 1), (5, 2), (49, 2), (50, 3),
                                              (4999, 3), (5000, 4), (1e9, 4)])
def test_a_count_falls_in_its_level_band(count, level):
    assert forecast.band(count) == level


def test_the_rise_integrates_the_decayed_rate():
    # ∫_1^4 x^-0.5 dx = 2(√4 − 1) = 2; ∫_1^4 x^-1 dx = ln 4; ∫_1^4 x^0 dx = 3; ∫_1^4 x^-2 dx = 3/4.
    rise = forecast._rise(np.array([4.0, 4.0, 4.0, 4.0]), np.array([0.5, 1.0, 0.0, 2.0]))
    assert rise.tolist() == pytest.approx([2.0, math.log(4), 3.0, 0.75])
    # 10 + 20·2 counts, and a negative rate adds nothing.
    assert forecast.predicted_y(np.array([10.0, 10.0]), np.array([20.0, -5.0]), np.array([4.0, 4.0]), 0.5).tolist() \
        == pytest.approx([math.log1p(50.0), math.log1p(10.0)])


# --- inputs --------------------------------------------------------------------------------------

def test_a_series_is_the_running_maximum_of_the_log_counts_one_value_a_day():
    trajectories = frame(trajectory_rows("b/m", None, [5, 0, 10, 10, 20], [30, 0, 10, 10, 70]),
                         trajectory_rows("a/m", "7-9B", [0, 1], [-4, 3]))
    a, b = forecast.series(trajectories)
    assert (a.hub_id, a.size_class, a.origin, a.days.tolist()) == ("a/m", "7-9B", D, [0.0, 1.0])
    assert a.y.tolist() == pytest.approx([0.0, math.log(4)])  # a negative count reads as 0
    assert (b.hub_id, b.size_class, b.days.tolist()) == ("b/m", "unknown", [0.0, 5.0, 10.0, 20.0])
    # Day 10's 10 after day 5's 30: the count cannot fall, it stays at 30.
    assert b.y.tolist() == pytest.approx([0.0, math.log(31), math.log(31), math.log(71)])
    # One observation is a series too.
    (one,) = forecast.series(frame(trajectory_rows("c/once", "70B+", [7], [99], origin=dt.date(2024, 5, 1))))
    assert (one.size_class, one.origin, one.days.tolist(), one.y.tolist()) == (
        "70B+", dt.date(2024, 5, 1), [7.0], [pytest.approx(math.log(100))])


def test_a_series_is_read_inside_its_observed_span_only():
    s = forecast.Series("a/m", "7-9B", D, np.array([10.0, 20.0, 40.0]), np.log1p(np.array([9.0, 99.0, 999.0])))
    assert s.at(10) == pytest.approx(math.log(10)) and s.at(40) == pytest.approx(math.log(1000))
    assert s.at(30) == pytest.approx(math.log(1000) / 2 + math.log(100) / 2)
    assert math.isnan(s.at(9.5)) and math.isnan(s.at(40.5))
    assert s.until(20).days.tolist() == [10.0, 20.0] and s.until(19.9).days.tolist() == [10.0]
    assert s.until(20).y.tolist() == pytest.approx([math.log(10), math.log(100)])


def test_the_recent_rate_is_over_the_last_30_days_or_half_the_age():
    s = forecast.Series("a/m", "7-9B", D, np.array([0.0, 10.0, 20.0, 60.0, 90.0]),
                        np.log1p(np.array([0.0, 100.0, 200.0, 600.0, 1500.0])))
    assert forecast.recent_rate(s, 90.0) == pytest.approx((1500 - 600) / 30)
    assert forecast.recent_rate(s, 20.0) == pytest.approx((200 - 100) / 10)  # half of 20 days
    late = forecast.Series("b/m", "7-9B", D, np.array([50.0, 60.0]), np.log1p(np.array([300.0, 600.0])))
    assert forecast.recent_rate(late, 60.0) == pytest.approx(600 / 30)  # day 30 unobserved: counted from 0


def test_download_trajectories_count_since_release_up_to_as_of():
    from tests.fast import made_up

    models = made_up.models({"model_id": 1, "hub_id": "a/one", "size_class": "7-9B", "release_date": D},
                            {"model_id": 2, "hub_id": "b/late", "release_date": D + dt.timedelta(days=40)},
                            {"model_id": 3, "hub_id": "c/undated", "release_date": None})
    # Latest first: the trajectories come out in (hub_id, days) order whatever the input's.
    snaps = made_up.snapshots(*[(m, D + dt.timedelta(days=k), None, 100 * k + m) for m in (3, 2, 1)
                                for k in (50, 45, 40, 30, 20, 10, 0)],
                              (1, D + dt.timedelta(days=5), None, 7, "last-30-days"))
    as_of = D + dt.timedelta(days=45)
    out = forecast.download_trajectories(snaps, models, as_of=as_of)
    assert out.schema == pl.Schema(forecast.TRAJECTORY_SCHEMA)
    assert out.rows() == [("a/one", "7-9B", D, k, float(100 * k + 1)) for k in (0, 10, 20, 30, 40, 45)] + [
        ("b/late", "1-5B", D + dt.timedelta(days=40), 0, 4002.0), ("b/late", "1-5B", D + dt.timedelta(days=40), 5, 4502.0)]
    # Released on as_of: in, at day 0.
    assert forecast.download_trajectories(snaps, models, as_of=D + dt.timedelta(days=40))["hub_id"].to_list() \
        == ["a/one"] * 5 + ["b/late"]


def test_finetune_trajectories_date_each_monthly_count_from_the_bases_creation():
    counts = pl.DataFrame([
        {"base_hub_id": "Org/Base", "months_since_creation": 0, "cumulative_count": 0, "created_date": D},
        {"base_hub_id": "Org/Base", "months_since_creation": 2, "cumulative_count": 5, "created_date": D},
        {"base_hub_id": "Org/Base", "months_since_creation": 1, "cumulative_count": 2, "created_date": D},
        {"base_hub_id": "Org/Base", "months_since_creation": 3, "cumulative_count": 9, "created_date": D},
        {"base_hub_id": "Org/Base", "months_since_creation": 4, "cumulative_count": None, "created_date": D},
        {"base_hub_id": "x/unlisted", "months_since_creation": 1, "cumulative_count": 4,
         "created_date": dt.date(2024, 1, 31)},
        {"base_hub_id": "y/undated", "months_since_creation": 1, "cumulative_count": 4, "created_date": None},
    ], schema={"base_hub_id": pl.Utf8, "months_since_creation": pl.Int64, "cumulative_count": pl.Int64,
               "created_date": pl.Date})
    models = pl.DataFrame({"hub_id": ["org/base", "ORG/BASE"], "size_class": ["7-9B", "70B+"]})
    out = forecast.finetune_trajectories(counts, models, as_of=dt.date(2024, 3, 1))
    assert out.schema == pl.Schema(forecast.TRAJECTORY_SCHEMA)
    # Jan 1 + 0, 1, 2 months (Mar 1 is as_of: in; Apr 1 is after it); Jan 31 + 1 month is Feb 29.
    assert out.rows() == [("Org/Base", "7-9B", D, 0, 0.0), ("Org/Base", "7-9B", D, 31, 2.0),
                          ("Org/Base", "7-9B", D, 60, 5.0), ("x/unlisted", "unknown", dt.date(2024, 1, 31), 29, 4.0)]


# --- fit -----------------------------------------------------------------------------------------

def test_the_training_pairs_are_every_two_grid_ages_both_observed(trained):
    got = forecast.training_pairs(forecast.series(training_frame()))
    want = plain.pairs(trained[2])
    assert got["model"].tolist() == [p["model"] for p in want]
    assert got["class"].tolist() == [p["class"] for p in want]
    for key in ("c0", "rate_days", "ratio", "actual"):
        assert got[key].tolist() == pytest.approx([p[key] for p in want], rel=1e-9, abs=1e-9)
    # short/one (days 0-20) has one grid age: no pairs; late/seen starts at 30; flat/zero has its own.
    names = [s.hub_id for s in trained[2]]
    assert {names[m] for m in got["model"].tolist()} == set(names) - {"short/one"}
    # late/seen, first seen at day 30 and last at 600: 12 grid ages (30 ... 540), 66 pairs.
    assert sum(1 for p in want if names[p["model"]] == "late/seen") == 66


def test_the_fit_is_the_method_written_out_as_loops(trained):
    growth, want, series = trained
    # The data exercises the method's branches: a model without a δ, classes apart, a band kept.
    names = [s.hub_id for s in series]
    assert names.index("flat/zero") not in want["own"] and len(want["own"]) == len(MODELS) + 1
    assert sorted(want["z"]) != [-1] and len(want["z"]) < 1 + len({plain.band(p["c0"]) for p in plain.pairs(series)})
    assert 0.5 < want["power"] < 1.0
    assert growth.delta == pytest.approx(want["delta"])
    assert growth.class_delta == pytest.approx(want["class_delta"])
    assert set(growth.class_delta) == {"1-5B", "7-9B", "70B+", "unknown"}
    assert growth.power == pytest.approx(want["power"])
    assert (growth.models, growth.pairs) == (want["models"], want["pairs"])
    assert sorted(growth.z) == sorted(want["z"])
    for b, z in want["z"].items():
        assert growth.z[b].tolist() == pytest.approx(z, abs=1e-9)
    assert growth.decay("7-9B") == pytest.approx(want["class_delta"]["7-9B"])
    assert growth.decay("3-4B") == pytest.approx(want["delta"])


def test_a_class_decay_is_shrunk_toward_the_pool_by_empirical_bayes():
    # Class means 1.0 (n 2, var 0.02) and 0.0 (n 3, var 0.01): v = 0.015, noise 0.0075 and 0.005,
    # spread of the means 0.5, τ² = 0.5 − 0.00625 = 0.49375. Pool 0.5.
    cls = {1: "a", 2: "a", 3: "b", 4: "b", 5: "b"}
    own = {1: 0.9, 2: 1.1, 3: -0.1, 4: 0.0, 5: 0.1}
    tau2 = 0.5 - (0.0075 + 0.005) / 2
    assert forecast._shrunk(cls, own, 0.5) == pytest.approx({"a": 0.5 + tau2 / (tau2 + 0.0075) * 0.5,
                                                            "b": 0.5 - tau2 / (tau2 + 0.005) * 0.5})
    # One class: no spread between classes, so it is the pool.
    assert forecast._shrunk({1: "a", 2: "a"}, {1: 0.9, 2: 1.1}, 0.7) == pytest.approx({"a": 0.7})
    # Classes of one model each: no within-class noise, so each keeps its own mean.
    assert forecast._shrunk({1: "a", 2: "b"}, {1: 0.2, 2: 1.2}, 0.7) == pytest.approx({"a": 0.2, "b": 1.2})
    # Classes further apart than their noise says nothing: τ² = 0, every class is the pool.
    assert forecast._shrunk({1: "a", 2: "a", 3: "b", 4: "b"}, {1: 0.0, 2: 2.0, 3: 0.1, 4: 2.1}, 1.05) \
        == pytest.approx({"a": 1.05, "b": 1.05})


def test_there_is_no_fit_without_two_training_pairs():
    assert forecast.fit(forecast.series(frame(trajectory_rows("a/m", "7-9B", range(0, 25), range(0, 25))))) is None
    assert forecast.forecast_rows(frame(trajectory_rows("a/m", "7-9B", range(0, 25), range(0, 25))), "downloads",
                                  as_of=D).is_empty()
    # Two models of one pair each: two pairs, a fit. Three grid ages (14, 21, 30) make three pairs.
    two = forecast.fit(forecast.series(frame(trajectory_rows("a/m", "7-9B", range(0, 25), range(0, 25)),
                                             trajectory_rows("b/m", "7-9B", range(0, 25), range(0, 50, 2)))))
    assert two is not None and (two.pairs, two.models) == (2, 2)
    three = forecast.fit(forecast.series(frame(trajectory_rows("a/m", "7-9B", range(0, 31), range(0, 31)))))
    assert three is not None and (three.pairs, three.models) == (3, 1)


def test_models_that_stopped_gaining_teach_no_decay_and_leave_the_power_at_one():
    # Counts that never move after release: the rate is 0 at every t0, every δ fits alike, the law
    # is exact (residuals 0), so there is no δ of a model's own and nothing to fit a power on.
    days = list(range(0, 401, 4))
    growth = forecast.fit(forecast.series(frame(*(trajectory_rows(f"m/{k}", "7-9B", days, [100.0 * k] * len(days))
                                                  for k in (1, 2, 3)))))
    assert (growth.delta, growth.class_delta, growth.power) == (0.0, {}, 1.0)
    assert growth.z[forecast.ALL_BANDS].tolist() == [0.0] * growth.pairs and growth.models == 3


# --- predict -------------------------------------------------------------------------------------

def test_quantiles_and_probabilities_are_the_methods_written_out(trained):
    growth, want, series = trained
    by_name = {s.hub_id: s for s in forecast.series(training_frame())}
    for s in series:
        if s.hub_id in ("short/one", "flat/zero"):
            continue
        known = by_name[s.hub_id]
        for t0 in (30.0, 99.0):  # observed days of every series here (steps of 3)
            cut = s.until(t0)
            for target in (20.0, 45.0, 90.0, 365.0):
                got = forecast.quantiles_y(growth, known.until(t0), t0, target)
                assert got.tolist() == pytest.approx(plain.quantiles_y(want, cut, t0, target), rel=1e-9), \
                    (s.hub_id, t0, target)
                for threshold in (50.0, 5000.0, 2e5):
                    assert forecast.probability_above(growth, known.until(t0), t0, target, threshold) \
                        == pytest.approx(plain.probability_above(want, cut, t0, target, threshold)), \
                        (s.hub_id, t0, target, threshold)


def test_a_forecast_reads_the_residuals_of_its_level_band():
    z_all, z_top = [-3.0, 0.0, 3.0], [-1.0, 0.0, 1.0]
    growth = forecast.GrowthFit(0.0, {}, 1.0, {forecast.ALL_BANDS: np.array(z_all), 4: np.array(z_top)}, 1, 3)
    assert growth.residuals(6000).tolist() == z_top and growth.residuals(10).tolist() == z_all
    assert growth.quantiles((0.25, 0.75)).tolist() == pytest.approx([-1.5, 1.5])
    assert growth.quantiles((0.25, 0.75), 6000).tolist() == pytest.approx([-0.5, 0.5])
    big = forecast.Series("a/m", "7-9B", D, np.array([0.0, 30.0, 60.0]), np.log1p(np.array([0.0, 4500.0, 9000.0])))
    small = forecast.Series("a/m", "7-9B", D, np.array([0.0, 30.0, 60.0]), np.log1p(np.array([0.0, 4.5, 9.0])))
    span = math.log(2)
    for s, count, z in ((big, 9000, z_top), (small, 9, z_all)):
        centre = math.log1p(2 * count)  # δ 0: the last 30 days' rate continued for 60 more days
        assert forecast.quantiles_y(growth, s, 60.0, 120.0, (0.0, 1.0)).tolist() == pytest.approx(
            [max(math.log1p(count), centre + span * z[0]), centre + span * z[-1]])
    # z_levels given: used as they are.
    assert forecast.quantiles_y(growth, big, 60.0, 120.0, (0.5,), np.array([0.25])).tolist() == pytest.approx(
        [math.log1p(18000) + 0.25 * span])


def test_a_target_before_the_series_starts_reads_zero():
    s = forecast.Series("a/m", "7-9B", D, np.array([30.0, 60.0]), np.log1p(np.array([10.0, 20.0])))
    growth = forecast.GrowthFit(0.0, {}, 1.0, {forecast.ALL_BANDS: np.array([0.0])}, 1, 1)
    assert forecast.quantiles_y(growth, s, 60.0, 10.0).tolist() == [0.0, 0.0, 0.0]
    assert forecast.quantiles_y(growth, s, 60.0, 30.0).tolist() == pytest.approx([math.log(11)] * 3)
    assert forecast.quantiles_y(growth, s, 60.0, 60.0).tolist() == pytest.approx([math.log(21)] * 3)
    assert forecast.probability_above(growth, s, 60.0, 60.0, 20.0) == 1.0
    assert forecast.probability_above(growth, s, 60.0, 60.0, 20.5) == 0.0
    # Already above the threshold at t0: certain, whatever the residuals say.
    low = forecast.GrowthFit(0.0, {}, 1.0, {forecast.ALL_BANDS: np.array([-50.0])}, 1, 1)
    assert forecast.probability_above(low, s, 60.0, 90.0, 20.0) == 1.0
    assert forecast.probability_above(low, s, 60.0, 90.0, 21.0) == 0.0


def test_the_probability_counts_the_residuals_at_or_above_the_one_needed():
    s = forecast.Series("a/m", "7-9B", D, np.array([0.0, 30.0, 60.0]), np.log1p(np.array([0.0, 300.0, 900.0])))
    growth = forecast.GrowthFit(0.0, {"7-9B": 0.0}, 0.5, {forecast.ALL_BANDS: np.array([-1.0, 0.0, 0.5, 1.0])}, 1, 4)
    centre = math.log1p(900 + 20 * 60 * 1.0)  # 20 a day continued from day 60 to 120
    span = math.log(2) ** 0.5
    assert forecast.probability_above(growth, s, 60.0, 120.0, math.expm1(centre - 2.0 * span)) == 1.0
    assert forecast.probability_above(growth, s, 60.0, 120.0, math.expm1(centre + 0.45 * span)) == pytest.approx(0.5)
    assert forecast.probability_above(growth, s, 60.0, 120.0, math.expm1(centre + 0.6 * span)) == pytest.approx(0.25)
    assert forecast.probability_above(growth, s, 60.0, 120.0, math.expm1(centre + 2.0 * span)) == 0.0


def test_the_reference_is_each_classes_tenth_place_at_day_90():
    curves = pl.DataFrame({"model_id": list(range(12)) + [20, 21], "hub_id": [f"m/{k}" for k in range(14)],
                           "size_class": ["7-9B"] * 12 + ["1-5B"] * 2, "days": [90] * 14,
                           "cumulative": [100 * (k + 1) for k in range(12)] + [5, 6]})
    # Twelve 7-9B models: the 10th highest of 100..1200 is 300. Two 1-5B ones: no 10th place.
    assert forecast.reference_at(curves) == {"7-9B": 300.0}
    assert forecast.reference_at(curves, day=91) == {}
    assert forecast.reference_at(curves.clear()) == {}


def test_forecast_rows_give_each_kept_model_its_horizons_and_target_date(trained):
    growth, want, series = trained
    trajectories = training_frame()
    as_of = D + dt.timedelta(days=100)
    target_date = D + dt.timedelta(days=200)
    reference = {"1-5B": 3000.0, "7-9B": 1e9}
    rows = forecast.forecast_rows(trajectories, "downloads", as_of=as_of, keep={"small/a", "mid/b", "late/seen",
                                                                                   "short/one", "flat/zero"},
                                  target_date=target_date, reference=reference)
    assert rows.schema == pl.Schema(forecast.ROW_SCHEMA)
    # short/one has 20 days of history but only up to day 20 observed: 20 >= 14, it is forecast too.
    by_name = {s.hub_id: s for s in series}
    expected = []
    for name in ("flat/zero", "late/seen", "mid/b", "short/one", "small/a"):
        s = by_name[name]
        t0 = float(min(s.days[-1], 100))
        on_track = plain.probability_above(want, s, t0, 90.0, reference[s.size_class]) \
            if s.size_class in reference else None
        for horizon, days in (("day-90", 90), ("day-180", 180), ("day-365", 365), ("target-date", 200)):
            q = [math.expm1(v) for v in plain.quantiles_y(want, s, t0, float(days))]
            expected.append((name, "downloads", s.size_class, as_of, horizon, D + dt.timedelta(days=days), days,
                             int(t0), math.expm1(s.at(t0)), *q, on_track))
    got = rows.rows()
    assert [r[:8] for r in got] == [r[:8] for r in expected]
    for g, e in zip(got, expected, strict=True):
        assert g[8:12] == pytest.approx(e[8:12], rel=1e-9)
        assert g[12] == (pytest.approx(e[12]) if e[12] is not None else None)


def test_forecast_rows_skip_models_with_under_14_days_and_a_target_date_not_after_the_origin():
    days, values = power_law(10, 1.0, 0.0, 200)
    trajectories = frame(trajectory_rows("a/old", "7-9B", days, values),
                         trajectory_rows("b/new", "7-9B", days, values, origin=D + dt.timedelta(days=87)),
                         trajectory_rows("c/two-weeks", "7-9B", days, values, origin=D + dt.timedelta(days=86)),
                         trajectory_rows("d/day-before", "7-9B", days, values, origin=D + dt.timedelta(days=85)))
    as_of = D + dt.timedelta(days=100)
    rows = forecast.forecast_rows(trajectories, "finetunes", as_of=as_of, target_date=D + dt.timedelta(days=86))
    assert rows.schema == pl.Schema(forecast.ROW_SCHEMA)
    # b/new: 13 days by as_of, no row. c/two-weeks: 14 days, and the target date is its origin: no
    # target row. d/day-before: the target date is its day 1, read off its history.
    assert sorted(set(rows["hub_id"])) == ["a/old", "c/two-weeks", "d/day-before"]
    day_one = rows.filter(pl.col("horizon") == "target-date").select("hub_id", "target_days", "p50").rows()
    # Days 84 and 87 hold 840 and 870, days 0 and 3 hold 0 and 30: linear in ln(1 + C) between them.
    assert day_one == [("a/old", 86, pytest.approx(841 ** (1 / 3) * 871 ** (2 / 3) - 1)),
                       ("d/day-before", 1, pytest.approx(31 ** (1 / 3) - 1))]
    assert rows.filter(pl.col("hub_id") == "c/two-weeks")["horizon"].to_list() == ["day-90", "day-180", "day-365"]
    assert rows.filter(pl.col("hub_id") == "a/old")["horizon"].to_list() == ["day-90", "day-180", "day-365",
                                                                            "target-date"]
    assert rows["days_observed"].to_list() == [100] * 4 + [14] * 3 + [15] * 4
    assert rows["p_on_track"].to_list() == [None] * 11
    # A fit, but no model kept: no rows, in the row schema.
    none_kept = forecast.forecast_rows(trajectories, "finetunes", as_of=as_of, keep=set())
    assert none_kept.is_empty() and none_kept.schema == pl.Schema(forecast.ROW_SCHEMA)
    # keep is matched case-folded: the callers pass lower-case Hub ids.
    upper = frame(trajectory_rows("A/Old", "7-9B", days, values), trajectory_rows("b/x", "7-9B", days, values))
    assert set(forecast.forecast_rows(upper, "downloads", as_of=as_of, keep={"a/old"})["hub_id"]) == {"A/Old"}


def test_adoption_forecast_joins_both_measures_for_the_chosen_models():
    from tests.fast import made_up

    models = made_up.models(*({"model_id": k, "hub_id": f"org/m{k}", "size_class": "7-9B", "release_date": D}
                              for k in range(1, 13)))
    snaps = made_up.snapshots(*[(k, D + dt.timedelta(days=d), None, k * 10 * d + d * d) for k in range(1, 13)
                                for d in range(0, 121, 3)])
    counts = pl.DataFrame([{"base_hub_id": f"ORG/m{k}", "months_since_creation": n, "cumulative_count": k * n * n,
                            "created_date": D} for k in range(1, 13) for n in range(0, 4)],
                          schema={"base_hub_id": pl.Utf8, "months_since_creation": pl.Int64,
                                  "cumulative_count": pl.Int64, "created_date": pl.Date})
    as_of = D + dt.timedelta(days=100)
    chosen = models.filter(pl.col("model_id").is_in([2, 5]))
    out = forecast.adoption_forecast(snaps, models, counts, as_of=as_of, chosen=chosen)
    assert out.schema == pl.Schema(forecast.ROW_SCHEMA)
    assert out.select("measure", "hub_id").unique(maintain_order=True).rows() == [
        ("downloads", "org/m2"), ("downloads", "org/m5"), ("finetunes", "ORG/m2"), ("finetunes", "ORG/m5")]
    assert out["target_days"].to_list() == [90, 180, 365] * 4
    # The downloads rows carry the chance of passing the class's 10th place at day 90 (12 models:
    # org/m3's curve): m2 grows slower than m3, m5 faster. The fine-tune rows carry none.
    down = out.filter(pl.col("measure") == "downloads")
    low, high = down["p_on_track"].to_list()[0], down["p_on_track"].to_list()[3]
    assert 0.0 <= low < 0.5 < high <= 1.0
    assert out.filter(pl.col("measure") == "finetunes")["p_on_track"].null_count() == 6
    # The reference scope decides the 10th place: only the two fast models m11, m12 in it, none at all.
    scope = models.filter(pl.col("model_id") >= 11)
    assert forecast.adoption_forecast(snaps, models, counts, as_of=as_of, chosen=chosen,
                                      reference_models=scope)["p_on_track"].null_count() == 12
    everyone = forecast.adoption_forecast(snaps, models, counts, as_of=as_of)
    assert everyone.height == 12 * 3 * 2


def test_adoption_forecast_counts_what_is_dated_or_released_on_as_of_and_adds_the_target_date():
    from tests.fast import made_up

    # Eleven flat models released on D (k + 1000 downloads from day 0 on), and one released on
    # as_of with a huge first count: in the reference scope, it pushes the class's 10th place at
    # day 0, hence the monotone curve's value at day 90, from 1002 to 1003.
    as_of = D + dt.timedelta(days=90)
    models = made_up.models(*({"model_id": k, "hub_id": f"org/m{k}", "size_class": "7-9B", "release_date": D}
                              for k in range(1, 12)),
                            {"model_id": 99, "hub_id": "new/huge", "size_class": "7-9B", "release_date": as_of})
    snaps = made_up.snapshots(*[(k, D + dt.timedelta(days=d), None, 1000 + k) for k in range(1, 12)
                                for d in range(0, 91, 5)], (99, as_of, None, 10 ** 9))
    counts = pl.DataFrame([{"base_hub_id": f"org/m{k}", "months_since_creation": n, "cumulative_count": k * n,
                            "created_date": D} for k in range(1, 12) for n in range(0, 3)],
                          schema={"base_hub_id": pl.Utf8, "months_since_creation": pl.Int64,
                                  "cumulative_count": pl.Int64, "created_date": pl.Date})
    chosen = models.filter(pl.col("model_id") == 2)
    out = forecast.adoption_forecast(snaps, models, counts, as_of=as_of, chosen=chosen,
                                     target_date=D + dt.timedelta(days=500))
    assert out.select("measure", "horizon").rows() == [
        (m, h) for m in ("downloads", "finetunes") for h in ("day-90", "day-180", "day-365", "target-date")]
    # org/m2 has 1002 at day 90, read on as_of: below the 10th place the new model made (1003).
    assert out.filter(pl.col("measure") == "downloads")["p_on_track"].to_list() == [0.0] * 4
    # Without the new model the 10th place at day 90 is org/m2's own 1002: on track.
    without = forecast.adoption_forecast(snaps, models, counts, as_of=as_of, chosen=chosen,
                                         reference_models=models.filter(pl.col("model_id") != 99))
    assert without.filter(pl.col("measure") == "downloads")["p_on_track"].to_list() == [1.0] * 3


def test_the_power_is_fitted_from_three_residuals_and_clipped_to_half():
    # A square-root curve seen for 30 days: grid ages 14, 21 and 30, three pairs, three nonzero
    # residuals whose log falls with the horizon (a slope below 0.5): the power is clipped to 0.5.
    s = frame(trajectory_rows("a/m", "7-9B", range(31), [10 * d ** 0.5 for d in range(31)]))
    growth, want = forecast.fit(forecast.series(s)), plain.fit(plain_series(s))
    assert want["pairs"] == 3 and want["power"] == 0.5
    assert (growth.pairs, growth.power) == (3, 0.5)


def test_the_power_stays_at_one_when_every_pair_spans_the_same_horizon():
    # Three models seen to day 24: one pair each (ages 14 and 21), so no slope can be fitted on
    # ln(21/14) alone; their counts jump by half between the ages, so the residuals are far from 0.
    days = list(range(25))
    s = frame(*(trajectory_rows(f"m/{k}", "7-9B", days, [10 * k * d * (1.5 if d > 17 else 1.0) for d in days])
                for k in (1, 2, 3)))
    growth = forecast.fit(forecast.series(s))
    assert growth.pairs == 3 and growth.power == 1.0
    assert np.abs(growth.z[forecast.ALL_BANDS]).min() > 0.1


def test_a_count_on_a_bands_lower_edge_is_in_that_band_and_200_pairs_keep_a_band():
    # Counts that stay at exactly 5 (band 5-49): 120 + 78 + 1 + 1 = 200 pairs, all in that band.
    parts = [trajectory_rows(f"five/{last}", "7-9B", [0] + [g for g in plain.GRID if g <= last],
                             [5.0] * (1 + sum(g <= last for g in plain.GRID))) for last in (900, 450)]
    parts += [trajectory_rows(f"five/short{k}", "7-9B", [0, 14, 21], [5.0] * 3) for k in (1, 2)]
    growth = forecast.fit(forecast.series(frame(*parts)))
    assert growth.pairs == 200 and forecast.band(5.0) == 2
    assert sorted(growth.z) == [forecast.ALL_BANDS, 2]
    # One pair fewer and the band has too few of its own.
    fewer = forecast.fit(forecast.series(frame(*parts[:3])))
    assert fewer.pairs == 199 and sorted(fewer.z) == [forecast.ALL_BANDS]
