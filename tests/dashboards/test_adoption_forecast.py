"""The adoption forecast (analytics.forecast, /api/metrics/adoption-forecast).

Hand-computed cases on made-up frames (expected values from the law written out by hand), the
as_of cut on made-up frames and on the real bootstrapped data, ordered quantiles, hostile params.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

import numpy as np
import polars as pl
import pytest

from observatory.analytics import forecast

URL = "/api/metrics/adoption-forecast"
D = dt.date(2024, 7, 1)


def _series(values: list[float], days: list[int], size_class: str = "7-9B") -> forecast.Series:
    return forecast.Series("org/m", size_class, D, np.array(days, dtype=float), np.log1p(np.array(values, dtype=float)))


def _growth(delta: float, z: list[float], power: float = 1.0) -> forecast.GrowthFit:
    return forecast.GrowthFit(delta, {}, power, {forecast.ALL_BANDS: np.sort(np.array(z))}, 1, len(z))


def test_it_continues_the_recent_rate_decayed_by_the_law_written_out_by_hand():
    # 300 downloads by day 30, 900 by day 60: 20 a day over the last 30 days. With δ = 0.5 the
    # rate at t is 20·(t/60)^-0.5, so days 60..240 add 20·∫_60^240 (t/60)^-0.5 dt = 20·60·2(√4 − 1).
    s = _series([0, 300, 900], [0, 30, 60])
    added = 20 * 60 * 2 * (math.sqrt(4) - 1)
    z = [-0.5, 0.0, 0.5]
    p10, p50, p90 = np.expm1(forecast.quantiles_y(_growth(0.5, z), s, 60.0, 240.0))
    # np.quantile's linear rule on three points: the 10th percentile is −0.5 + 0.2·0.5 = −0.4.
    assert p50 == pytest.approx(900 + added)
    assert p10 == pytest.approx((1 + 900 + added) * math.exp(-0.4 * math.log(4)) - 1)
    assert p90 == pytest.approx((1 + 900 + added) * math.exp(0.4 * math.log(4)) - 1)
    assert p10 <= p50 <= p90


def test_it_never_forecasts_below_the_count_already_seen():
    s = _series([0, 300, 900], [0, 30, 60])
    low = np.expm1(forecast.quantiles_y(_growth(3.0, [-5.0, -4.0, -3.0]), s, 60.0, 90.0))
    assert list(low) == pytest.approx([900, 900, 900])


def test_it_reads_a_past_target_off_the_history():
    s = _series([0, 300, 900], [0, 30, 60])
    # Halfway between days 30 and 60 in ln(1 + C): the geometric mean of 301 and 901, less one.
    halfway = math.sqrt(301 * 901) - 1
    assert list(np.expm1(forecast.quantiles_y(_growth(0.5, [0.0]), s, 60.0, 45.0))) == pytest.approx([halfway] * 3)


def _linear_trajectories(n: int = 12) -> pl.DataFrame:
    """Models whose cumulative count grows by k a day from release: the rate never decays."""
    rows = []
    for i in range(n):
        k = 10.0 * (i + 1)
        for day in range(0, 201):
            rows.append({"hub_id": f"org{i % 4}/m{i}", "size_class": "7-9B", "origin": D, "days": day, "value": k * day})
    return pl.DataFrame(rows, schema=forecast.TRAJECTORY_SCHEMA)


def test_it_learns_no_decay_from_linear_growth_and_forecasts_the_straight_line():
    growth = forecast.fit(forecast.series(_linear_trajectories()))
    assert growth.delta == pytest.approx(0.0)
    s = forecast.series(_linear_trajectories())[0]  # 10 a day
    p10, p50, p90 = np.expm1(forecast.quantiles_y(growth, s.until(60), 60.0, 365.0))
    # 10 a day for 365 days; the band is as narrow as the residuals of an exact law (interpolation
    # in ln(1 + C) between whole days leaves a trace).
    assert p50 == pytest.approx(3650, rel=1e-3)
    assert p10 <= p50 <= p90 and p90 / p10 < 1.01


def test_it_gives_the_probability_of_passing_a_threshold_from_the_residuals():
    s = _series([0, 300, 900], [0, 30, 60])
    z = [-1.0, -0.5, 0.0, 0.5, 1.0]
    centre = math.log1p(900 + 20 * 60 * 2 * (math.sqrt(1.5) - 1))  # day 90, δ = 0.5
    threshold = math.expm1(centre + 0.25 * math.log(1.5))  # needs z ≥ 0.25: two of five
    assert forecast.probability_above(_growth(0.5, z), s, 60.0, 90.0, threshold) == pytest.approx(2 / 5)


# --- as_of on made-up frames ---------------------------------------------------------------------

def _frames(extra_after: bool):
    """Ten models released on D growing at different rates, their fine-tune counts; with
    `extra_after`, wild rows dated after AS_OF (a jump, a new model, later fine-tune months)."""
    models, snaps, counts = [], [], []
    for i in range(10):
        models.append({"model_id": i, "hub_id": f"org{i % 3}/m{i}", "size_class": "7-9B", "release_date": D,
                       "tracked": True})
        for day in range(0, 121):
            total = (i + 1) * 100 * day ** (0.8 + 0.02 * i)
            snaps.append({"model_id": i, "date": D + dt.timedelta(days=day), "downloads_all_time": int(total),
                          "downloads_day": None, "cumulative_kind": "estimated"})
        for month in range(0, 5):
            counts.append({"base_hub_id": f"org{i % 3}/m{i}", "months_since_creation": month,
                           "cumulative_count": (i + 1) * month * month, "created_date": D, "tracked": True})
    if extra_after:
        models.append({"model_id": 99, "hub_id": "late/new", "size_class": "7-9B",
                       "release_date": AS_OF + dt.timedelta(days=1), "tracked": True})
        for i in range(10):
            snaps.append({"model_id": i, "date": AS_OF + dt.timedelta(days=200), "downloads_all_time": 10**12,
                          "downloads_day": None, "cumulative_kind": "estimated"})
            counts.append({"base_hub_id": f"org{i % 3}/m{i}", "months_since_creation": 9, "cumulative_count": 10**6,
                           "created_date": D, "tracked": True})
    schema_m = {"model_id": pl.Int64, "hub_id": pl.Utf8, "size_class": pl.Utf8, "release_date": pl.Date,
                "tracked": pl.Boolean}
    schema_s = {"model_id": pl.Int64, "date": pl.Date, "downloads_all_time": pl.Int64, "downloads_day": pl.Float64,
                "cumulative_kind": pl.Utf8}
    schema_c = {"base_hub_id": pl.Utf8, "months_since_creation": pl.Int64, "cumulative_count": pl.Int64,
                "created_date": pl.Date, "tracked": pl.Boolean}
    return (pl.DataFrame(snaps, schema=schema_s), pl.DataFrame(models, schema=schema_m),
            pl.DataFrame(counts, schema=schema_c))


AS_OF = D + dt.timedelta(days=100)


def test_data_dated_after_as_of_leaves_the_forecast_unchanged():
    before = forecast.adoption_forecast(*_frames(extra_after=False), as_of=AS_OF)
    after = forecast.adoption_forecast(*_frames(extra_after=True), as_of=AS_OF)
    assert before.height == 60  # 10 models x 3 horizons x 2 measures
    assert after.equals(before)
    # The same additions dated on as_of do change it: the cut is what keeps them out.
    snaps, models, counts = _frames(extra_after=False)
    jump = snaps.filter(pl.col("date") == AS_OF).with_columns(pl.col("downloads_all_time") * 1000)
    moved = forecast.adoption_forecast(pl.concat([snaps.filter(pl.col("date") != AS_OF), jump]), models, counts,
                                       as_of=AS_OF)
    assert not moved.equals(before)


# --- the real data through the API ---------------------------------------------------------------

def _rows(client, query: str) -> list[dict]:
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 200, response.content[:300]
    return response.json()["rows"]


@pytest.mark.django_db
def test_the_api_forecast_as_of_a_date_is_the_forecast_from_the_data_up_to_it(loaded_db, client):
    from observatory.analytics import frames
    from observatory.analytics.filters import Filters

    as_of = dt.date(2024, 11, 1)
    rows = _rows(client, f"as_of={as_of}&scope=all")
    # Expected: the pure function over frames a plain filter has already cut to dates ≤ as_of.
    snaps = frames.snapshots(filters=Filters(scope="all"), since_release=True)
    snaps = snaps.filter(pl.col("date") <= as_of)
    models = frames.models(("hub_id", "release_date"))
    counts = frames.finetune_counts()
    cut_counts = counts.filter(pl.col("created_date").dt.offset_by(
        pl.format("{}mo", pl.col("months_since_creation"))) <= as_of)
    expected = forecast.adoption_forecast(snaps, models, cut_counts, as_of=as_of)
    assert len(rows) == expected.height > 100
    by_key = {(r["hub_id"], r["measure"], r["horizon"]): r for r in rows}
    for r in expected.iter_rows(named=True):
        got = by_key[(r["hub_id"], r["measure"], r["horizon"])]
        assert got["p50"] == pytest.approx(r["p50"], rel=1e-6, abs=1e-6)
        # The JSON rounds floats to 6 places (results._jsonable).
        assert got["p_on_track"] == (pytest.approx(r["p_on_track"], abs=1e-6) if r["p_on_track"] is not None else None)
    assert max(r["days_observed"] for r in rows if r["measure"] == "downloads") <= (as_of - dt.date(2024, 7, 2)).days


@pytest.mark.django_db
def test_its_quantiles_are_ordered_and_never_below_the_observed_count(loaded_db, client):
    rows = _rows(client, "target_date=2025-12-31")
    assert {r["measure"] for r in rows} == {"downloads", "finetunes"}
    assert any(r["horizon"] == "target-date" for r in rows)
    for r in rows:
        assert r["p10"] <= r["p50"] <= r["p90"], r
        if r["target_days"] > r["days_observed"]:
            assert r["p10"] >= r["observed"] - 1e-6, r
        if r["p_on_track"] is not None:
            assert 0.0 <= r["p_on_track"] <= 1.0


@pytest.mark.django_db
def test_it_exports_csv_with_its_methodology(loaded_db, client):
    response = client.get(f"{URL}?format=csv&horizon_days=30")
    assert response.status_code == 200
    text = response.content.decode()
    assert "adoption-forecast/v1" in text.splitlines()[1]
    body = [line for line in text.splitlines() if not line.startswith("#")]
    header = next(csv.reader(io.StringIO(body[0])))
    assert header[:7] == ["hub_id", "measure", "size_class", "as_of", "horizon", "target_date", "target_days"]
    assert {"p10", "p50", "p90", "p_on_track"} <= set(header)


@pytest.mark.parametrize("query, message", [
    ("as_of=yesterday", "as_of must be a date"),
    ("as_of=2024-13-01", "as_of must be a date"),
    ("target_date=1999-12-31", "target_date must be a date from 2000-01-01"),
    ("as_of=2101-01-01", "as_of must be a date from 2000-01-01"),
    ("as_of=2024-06-01&target_date=2024-05-01", "target_date must not be before as_of"),
    ("horizon_days=0", "horizon_days must be an integer"),
    ("horizon_days=-5", "horizon_days must be an integer"),
    ("horizon_days=3651", "horizon_days must be an integer"),
    ("horizon_days=" + "9" * 5000, "horizon_days must be an integer"),
    ("horizon_days=1e3", "horizon_days must be an integer"),
    ("horizon_days=%EF%BC%91", "horizon_days must be an integer"),  # a full-width digit one
    ("horizon_days=30&target_date=2025-06-01", "not both"),
    ("as_of=", "must not be empty"),
])
@pytest.mark.django_db
def test_it_refuses_garbage_forecast_parameters_with_a_clear_400(client, query, message):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert message in response.json()["error"]
