"""The on-track days of the events feed (analytics.on_track) on hand tables: the crawl days a
forecast of day 90 exists, the first day at or above the threshold, and probabilities that
agree with the adoption forecast's own p_on_track for the same as_of."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from observatory.analytics import forecast, on_track

D = dt.date(2025, 1, 1)
YOUNG_RATE = 600  # a day: its straight line reaches 54,000 at day 90, near the 10th place's 61,130


def _day(n: int) -> dt.date:
    return D + dt.timedelta(days=n)


def test_a_forecast_day_is_a_crawl_day_with_a_model_between_14_and_89_days_old():
    snaps = pl.DataFrame({"date": [_day(n) for n in (10, 13, 14, 50, 89, 90, 120)]})
    chosen = pl.DataFrame({"hub_id": ["a/young", "a/undated"], "release_date": [D, None]},
                          schema={"hub_id": pl.Utf8, "release_date": pl.Date})
    assert on_track.forecast_days(snaps, chosen) == [_day(14), _day(50), _day(89)]
    assert on_track.forecast_days(snaps.clear(), chosen) == []


def _probabilities(rows: list[tuple[str, int, float]]) -> pl.DataFrame:
    return pl.DataFrame([{"hub_id": h, "size_class": "<1B", "as_of": _day(n), "days_observed": n, "observed": 1.0,
                          "reference": 2.0, "p_on_track": p} for h, n, p in rows], schema=on_track.PROBABILITY_SCHEMA)


def test_the_first_day_at_or_above_one_half_is_kept_through_a_dip():
    daily = _probabilities([("a/dip", 20, 0.2), ("a/dip", 21, 0.6), ("a/dip", 22, 0.3), ("a/dip", 23, 0.9),
                            ("a/edge", 25, 0.5), ("a/never", 20, 0.49), ("a/never", 21, 0.0)])
    first = on_track.first_on_track(daily)
    assert list(zip(first["hub_id"], first["as_of"], first["p_on_track"], strict=True)) == [
        ("a/dip", _day(21), 0.6), ("a/edge", _day(25), 0.5)]
    assert on_track.first_on_track(daily, threshold=0.95).is_empty()


def _herd(k: int, n: int) -> int:
    """Model k's count n days after release: k·1000·n^(0.6 + 0.08·k), rates that slow or quicken."""
    return round(k * 1000 * n ** (0.6 + 0.08 * k))


def _frames(young_counts: dict[int, int]):
    """Eleven models of one class released on D (_herd, k = 1..11), read every 5 days to day 120,
    and `a/young` released on day 90 with the given counts."""
    models, snaps = [], []
    for k in range(1, 12):
        models.append({"model_id": k, "hub_id": f"a/herd-{k}", "size_class": "<1B", "release_date": D, "tracked": True})
        snaps += [{"model_id": k, "date": _day(n), "downloads_all_time": _herd(k, n), "cumulative_kind": "all-time"}
                  for n in range(0, 121, 5)]
    models.append({"model_id": 99, "hub_id": "a/young", "size_class": "<1B", "release_date": _day(90), "tracked": True})
    snaps += [{"model_id": 99, "date": _day(90 + n), "downloads_all_time": c, "cumulative_kind": "all-time"}
              for n, c in young_counts.items()]
    return pl.DataFrame(snaps), pl.DataFrame(models)


def test_the_probability_is_the_adoption_forecasts_own_for_that_as_of():
    snaps, models = _frames({n: YOUNG_RATE * n for n in range(0, 31)})
    as_of = _day(90 + 20)
    rows = on_track.probabilities(snaps, models, models, models, as_of=as_of)
    # The herd is past day 90 (only the young model is forecast); the 10th place there is the
    # second lowest of the eleven day-90 counts.
    assert rows["hub_id"].to_list() == ["a/young"]
    assert rows["reference"].to_list() == [sorted(_herd(k, 90) for k in range(1, 12))[1]]
    assert rows["days_observed"].to_list() == [20] and rows["observed"].to_list() == pytest.approx([20 * YOUNG_RATE])
    assert 0.05 < rows["p_on_track"][0] < 0.95  # a real forecast, not a certainty either way
    expected = forecast.adoption_forecast(snaps, models, pl.DataFrame(schema={
        "base_hub_id": pl.Utf8, "months_since_creation": pl.Int64, "cumulative_count": pl.Int64,
        "created_date": pl.Date}), as_of=as_of, chosen=models.filter(pl.col("hub_id") == "a/young"))
    assert rows["p_on_track"].to_list() == pytest.approx(
        expected.filter(pl.col("measure") == "downloads")["p_on_track"].unique().to_list())


def test_a_count_past_the_10th_places_day_90_is_certain_and_none_is_forecast_without_a_10th_place():
    snaps, models = _frames({n: 10 * n if n < 20 else 500_000 for n in range(0, 31)})
    assert on_track.probabilities(snaps, models, models, models, as_of=_day(110))["p_on_track"].to_list() == [1.0]
    # Before day 90 of the herd there is no 10th place at day 90: no probability at all.
    assert on_track.probabilities(snaps, models, models, models, as_of=_day(60)).is_empty()
