"""The day a model's adoption forecast first put it "on track" (the events feed).

A model is on track as of a day when the adoption forecast as of that day (analytics.forecast,
every input cut to data dated on or before it) gives P(RAM v2 ≥ 1 at day 90) ≥ THRESHOLD, while
day 90 is still ahead of it: from day 90 on, RAM v2 is read, not forecast (the feed's
`ram-v2-crossed-1.0` events). The probability is the one the adoption-forecast metric returns
for that `as_of` with the default filters: the growth law learns from every sized model, "on
track" compares with the scope's 10th place.

The forecast is evaluated as of each crawl day (each date a snapshot is dated), so the day named
is the first crawl day whose forecast crossed the threshold, not a later check's.

Pure functions over polars frames.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from observatory.analytics import adoption, forecast

THRESHOLD = 0.5  # "more likely than not" to be a top-10 model of its size at day 90

PROBABILITY_SCHEMA = {"hub_id": pl.Utf8, "size_class": pl.Utf8, "as_of": pl.Date, "days_observed": pl.Int64,
                      "observed": pl.Float64, "reference": pl.Float64, "p_on_track": pl.Float64}


def forecast_days(snapshots: pl.DataFrame, chosen: pl.DataFrame) -> list[dt.date]:
    """The crawl days (snapshot dates) on which some `chosen` model (hub_id, release_date) has
    between forecast.MIN_HISTORY_DAYS and forecast.ON_TRACK_DAY days since release: the only days
    its forecast of day 90 exists."""
    released = chosen.drop_nulls("release_date")
    if released.is_empty() or snapshots.is_empty():
        return []
    age = (pl.col("date") - pl.col("release_date")).dt.total_days()
    days = (snapshots.select(pl.col("date").unique())
            .join(released.select(pl.col("release_date").unique()), how="cross")
            .filter(age.is_between(forecast.MIN_HISTORY_DAYS, forecast.ON_TRACK_DAY, closed="left")))
    return sorted(days["date"].unique().to_list())


def probabilities(snapshots: pl.DataFrame, models: pl.DataFrame, chosen: pl.DataFrame,
                  reference_models: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """PROBABILITY_SCHEMA rows: p_on_track as of `as_of` of each `chosen` model younger than
    forecast.ON_TRACK_DAY days then, as forecast.adoption_forecast computes it (`models` are what
    the growth law learns from, `reference_models` define the 10th place)."""
    cut = snapshots.filter(pl.col("date") <= as_of)
    reference = forecast.reference_at(adoption.adoption_curves(
        cut, reference_models.filter(pl.col("release_date") <= as_of), end=as_of))
    young = chosen.filter((pl.col("release_date") <= as_of)
                          & (pl.col("release_date") > as_of - dt.timedelta(days=forecast.ON_TRACK_DAY)))
    if not reference or young.is_empty():
        return pl.DataFrame(schema=PROBABILITY_SCHEMA)
    all_series = forecast.series(forecast.download_trajectories(cut, models, as_of=as_of))
    growth = forecast.fit(all_series)
    keep = {h.lower() for h in young["hub_id"].to_list()}
    rows = []
    for s in all_series if growth is not None else []:
        if s.hub_id.lower() not in keep or s.size_class not in reference:
            continue
        t0 = float(min(s.days[-1], (as_of - s.origin).days))  # as forecast.forecast_rows
        if t0 < forecast.MIN_HISTORY_DAYS:
            continue
        p = forecast.probability_above(growth, s, t0, forecast.ON_TRACK_DAY, reference[s.size_class])
        rows.append({"hub_id": s.hub_id, "size_class": s.size_class, "as_of": as_of, "days_observed": int(t0),
                     "observed": math.expm1(s.at(t0)), "reference": reference[s.size_class],
                     "p_on_track": p})
    return pl.DataFrame(rows, schema=PROBABILITY_SCHEMA)


def first_on_track(daily: pl.DataFrame, *, threshold: float = THRESHOLD) -> pl.DataFrame:
    """Each model's first row (PROBABILITY_SCHEMA, by as_of) with p_on_track ≥ `threshold`; by
    as_of, then Hub id. A model that dips below and crosses again keeps its first day."""
    crossed = daily.filter(pl.col("p_on_track") >= threshold)
    if crossed.is_empty():
        return pl.DataFrame(schema=PROBABILITY_SCHEMA)
    return (crossed.sort(["hub_id", "as_of"]).group_by("hub_id", maintain_order=True).first()
            .select(list(PROBABILITY_SCHEMA)).sort(["as_of", "hub_id"]))
