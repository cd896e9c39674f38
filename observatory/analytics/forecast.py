"""Adoption forecasts with their uncertainty: cumulative downloads and fine-tunes at a later age.

Method `adoption-forecast/v1`, a growth curve pooled by size class (empirical Bayes), in log space.

Every series is a trajectory y(t) = ln(1 + C(t)), C the cumulative count t days after the model's
origin (release date for downloads, the base's creation for fine-tunes). Between observations y is
interpolated linearly in t; beyond the last observation only the law below speaks.

- Growth law. The count's recent rate r(t0) (per day, over the last min(30, t0/2) days) decays
  as a power of age, r(t) = r(t0)·(t/t0)^(−δ), so
  C(T) = C(t0) + r(t0)·t0·∫_1^(T/t0) x^(−δ) dx, and ln(1 + C(T)) = that + ε.
  δ = 0 is the last-30-day rate continued; δ > 0 a slowing rate, δ < 0 a quickening one.
- Pooling. Each training model's own δ (the grid DELTAS value with the least squared log error
  over its pairs (t0, T) of grid ages, both observed); the class's δ_c is the mean of its models'
  own δ shrunk toward the pool's mean by empirical Bayes: δ_c = δ + w_c·(m_c − δ),
  w_c = τ² / (τ² + v / n_c), τ² the between-class variance by the method of moments and v the
  within-class variance. A class with few models stays near the pool; an unseen class (or an
  unknown size) is the pool.
- Spread. The residual grows with the horizon: |ε| ≈ k·L^p with L = ln(T / t0), p fitted on
  log|ε| against log L (clipped to [0.5, 1]); the quantiles are the empirical quantiles of
  z = ε / L^p over the training pairs of the same level band (the count at t0: none, 1–4, 5–49,
  50–4,999, more), so the band widens as L^p. A forecast never falls below
  the count already observed (a cumulative count cannot).
- On track. P(RAM v2 ≥ 1 at day 90) = P(C(90) ≥ the class's 10th-place curve at day 90), read
  off the same residual distribution; 1 or 0 once day 90 is observed, null where the class has
  no 10th place at day 90 (fewer than 10 models with data there).

`as_of` cuts every input to data dated on or before it: observations (the snapshot date, or the
date a monthly count was read), the training pairs, the reference curve, and the models (released
on or before it). The catalogue's attributes (size class, tracked) are today's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import numpy as np
import polars as pl

from observatory.analytics import adoption

METHODOLOGY = "adoption-forecast/v1"
MEASURES = ("downloads", "finetunes")
MIN_HISTORY_DAYS = 14
HORIZONS = (90, 180, 365)
ON_TRACK_DAY = 90
QUANTILES = (0.1, 0.5, 0.9)
# Ages (days) the training pairs are read at: dense early, where trajectories are most informative.
GRID = np.array([14, 21, 30, 45, 60, 90, 120, 150, 180, 240, 300, 365, 450, 540, 730, 900], dtype=float)
RATE_WINDOW = 30  # days: the recent rate the law continues (the Hub's own 30-day window)
LEVEL_BANDS = np.array([1.0, 5.0, 50.0, 5000.0])  # count at t0: none, 1-4, 5-49, 50-4999, more
ALL_BANDS = -1
MIN_BAND_PAIRS = 200  # fewer pairs in a band: its quantiles are the pooled ones
DELTAS = np.round(np.arange(-1.0, 3.001, 0.05), 2)  # candidate decay exponents of the rate
POWER_CLIP = (0.5, 1.0)
UNKNOWN_CLASS = "unknown"

TRAJECTORY_SCHEMA = {"hub_id": pl.Utf8, "size_class": pl.Utf8, "origin": pl.Date, "days": pl.Int64,
                     "value": pl.Float64}
ROW_SCHEMA = {"hub_id": pl.Utf8, "measure": pl.Utf8, "size_class": pl.Utf8, "as_of": pl.Date, "horizon": pl.Utf8,
              "target_date": pl.Date, "target_days": pl.Int64, "days_observed": pl.Int64, "observed": pl.Float64,
              "p10": pl.Float64, "p50": pl.Float64, "p90": pl.Float64, "p_on_track": pl.Float64}


# --- inputs ------------------------------------------------------------------------------------

def download_trajectories(snapshots: pl.DataFrame, models: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """(hub_id, size_class, origin, days, value): cumulative downloads since release (the counts
    RAM uses, adoption.adoption_curves), dated on or before `as_of`, of models released by then."""
    released = models.filter(pl.col("release_date").is_not_null() & (pl.col("release_date") <= as_of))
    curves = adoption.adoption_curves(snapshots.filter(pl.col("date") <= as_of), released, end=as_of)
    return (curves.join(released.select("model_id", "release_date"), on="model_id")
            .select("hub_id", "size_class", pl.col("release_date").alias("origin"), "days",
                    pl.col("cumulative").cast(pl.Float64).alias("value"))
            .sort("hub_id", "days"))


def finetune_trajectories(counts: pl.DataFrame, models: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """The monthly fine-tune counts as trajectories from the base's creation date: a count n months
    after creation is read on created + n months (its date for `as_of`). The base's size class is
    its catalogue model's (matched by Hub id in any letter case), else 'unknown'."""
    sizes = (models.select(pl.col("hub_id").str.to_lowercase().alias("key"), "size_class")
             .unique("key", keep="first"))
    return (
        counts.drop_nulls(["created_date", "cumulative_count"])
        .with_columns(pl.col("created_date").dt.offset_by(pl.format("{}mo", pl.col("months_since_creation")))
                      .alias("observed_on"))
        .filter(pl.col("observed_on") <= as_of)
        .with_columns(pl.col("base_hub_id").str.to_lowercase().alias("key"))
        .join(sizes, on="key", how="left")
        .select(pl.col("base_hub_id").alias("hub_id"), pl.col("size_class").fill_null(UNKNOWN_CLASS),
                pl.col("created_date").alias("origin"),
                (pl.col("observed_on") - pl.col("created_date")).dt.total_days().cast(pl.Int64).alias("days"),
                pl.col("cumulative_count").cast(pl.Float64).alias("value"))
        .sort("hub_id", "days")
    )


@dataclasses.dataclass(frozen=True)
class Series:
    hub_id: str
    size_class: str
    origin: dt.date
    days: np.ndarray   # ascending ages (days since origin)
    y: np.ndarray      # ln(1 + cumulative count), made non-decreasing

    def at(self, age: float) -> float:
        """y at `age` inside the observed span (linear in t), NaN outside it."""
        if age < self.days[0] or age > self.days[-1]:
            return math.nan
        return float(np.interp(age, self.days, self.y))

    def until(self, age: float) -> Series:
        """The series as it was known at `age` (observations at or before it)."""
        keep = self.days <= age
        return dataclasses.replace(self, days=self.days[keep], y=self.y[keep])


def series(trajectories: pl.DataFrame) -> list[Series]:
    """One Series a Hub id, in Hub id order: the frame sorted once and cut at each id's offsets (a
    group iteration gathered every group's rows apart, most of a forecast's time at Hub scale)."""
    ordered = trajectories.sort("hub_id", "days").with_columns(pl.col("hub_id").rle_id().alias("_run"))
    if ordered.is_empty():
        return []
    days = ordered["days"].to_numpy().astype(float)
    # A cumulative count never falls: its running maximum (as the estimator stores it), per Hub id.
    logs = np.log1p(np.clip(ordered["value"].to_numpy().astype(float), 0, None))
    y = (ordered.select("_run", pl.Series("y", logs)).select(pl.col("y").cum_max().over("_run"))["y"]
         .to_numpy())
    run = ordered["_run"].to_numpy()
    first = np.concatenate([[True], run[1:] != run[:-1]])
    keep = first | np.concatenate([[False], np.diff(days) > 0])
    starts = np.flatnonzero(first)
    hub_ids, classes, origins = (ordered[c].gather(starts).to_list() for c in ("hub_id", "size_class", "origin"))
    days, y, run = days[keep], y[keep], run[keep]
    bounds = np.concatenate([np.flatnonzero(np.concatenate([[True], run[1:] != run[:-1]])), [len(run)]])
    return [Series(hub_id, size_class or UNKNOWN_CLASS, origin, days[a:b], y[a:b])
            for hub_id, size_class, origin, a, b in zip(hub_ids, classes, origins, bounds[:-1], bounds[1:],
                                                        strict=True)]


# --- fit ---------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class GrowthFit:
    delta: float                 # the pool's decay exponent of the download (fine-tune) rate
    class_delta: dict[str, float]
    power: float
    z: dict[int, np.ndarray]     # sorted standardised residuals ε / L^p of the training pairs, by level band
    models: int
    pairs: int

    def decay(self, size_class: str) -> float:
        return self.class_delta.get(size_class, self.delta)

    def residuals(self, count: float) -> np.ndarray:
        return self.z.get(band(count), self.z[ALL_BANDS])

    def quantiles(self, levels: tuple[float, ...], count: float | None = None) -> np.ndarray:
        return np.quantile(self.z[ALL_BANDS] if count is None else self.residuals(count), levels)


def band(count: float) -> int:
    """The level band of a count at t0 (LEVEL_BANDS): a base with no fine-tunes yet mostly stays
    at none, one with hundreds does not; their errors are not one distribution."""
    return int(np.searchsorted(LEVEL_BANDS, count, side="right"))


def recent_rate(s: Series, t0: float) -> float:
    """Counts a day over the last min(30, t0/2) days before t0 (from the start when unobserved)."""
    window = min(RATE_WINDOW, t0 / 2)
    before = s.at(t0 - window)
    return (math.expm1(s.at(t0)) - (math.expm1(before) if not math.isnan(before) else 0.0)) / window


def _rise(ratio: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """∫_1^ratio x^(−δ) dx: how many t0-days' worth of the rate at t0 accrue up to ratio·t0."""
    one = np.isclose(delta, 1.0)
    safe = np.where(one, 0.5, delta)
    return np.where(one, np.log(ratio), (ratio ** (1 - safe) - 1) / (1 - safe))


def predicted_y(c0: np.ndarray, rate_days: np.ndarray, ratio: np.ndarray, delta) -> np.ndarray:
    """ln(1 + C(T)) of the law: C(t0) + r(t0)·t0·∫_1^(T/t0) x^(−δ) dx."""
    return np.log1p(c0 + np.maximum(rate_days, 0.0) * _rise(ratio, np.asarray(delta, dtype=float)))


def training_pairs(all_series: list[Series]) -> dict[str, np.ndarray]:
    """Every (t0, T) pair of grid ages both observed, t0 ≥ MIN_HISTORY_DAYS, per model: the rate
    and count read once per age, the pairs (i < j, in row order) taken by index."""
    model, cls, c0, rate_days, ratio, actual = [], [], [], [], [], []
    for index, s in enumerate(all_series):
        ages = GRID[(GRID >= max(MIN_HISTORY_DAYS, s.days[0])) & (GRID <= s.days[-1])]
        if len(ages) < 2:
            continue
        ys = np.interp(ages, s.days, s.y)
        counts = np.array([math.expm1(v) for v in ys])
        # recent_rate at every age at once (the same interpolation, the same scalar expm1).
        window = np.minimum(RATE_WINDOW, ages / 2)
        start = ages - window
        before = np.where(start >= s.days[0], np.interp(start, s.days, s.y), math.nan)
        rates = np.array([(n - (math.expm1(b) if not math.isnan(b) else 0.0)) / w * a
                          for n, b, w, a in zip(counts, before, window, ages, strict=True)])
        i, j = np.triu_indices(len(ages), 1)
        model.append(np.full(len(i), index))
        cls.append(np.full(len(i), s.size_class, dtype=object))
        c0.append(counts[i])
        rate_days.append(rates[i])
        ratio.append(ages[j] / ages[i])
        actual.append(ys[j])

    def joined(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.array([], dtype=dtype)

    return {"model": joined(model, int), "class": joined(cls, object), "c0": joined(c0, float),
            "rate_days": joined(rate_days, float), "ratio": joined(ratio, float),
            "actual": joined(actual, float)}


def fit(all_series: list[Series]) -> GrowthFit | None:
    """The pooled decay law from the series' own histories; None without two training pairs."""
    p = training_pairs(all_series)
    if len(p["actual"]) < 2:
        return None
    # Squared log error of every pair at every candidate δ: each model's own best δ.
    errors = (predicted_y(p["c0"][:, None], p["rate_days"][:, None], p["ratio"][:, None], DELTAS[None, :])
              - p["actual"][:, None]) ** 2
    models = np.unique(p["model"])
    per_model = np.zeros((models.max() + 1, len(DELTAS)))
    np.add.at(per_model, p["model"], errors)
    # A model whose rate is 0 at every t0 fits every δ alike: it says nothing about the decay.
    own = {int(m): float(DELTAS[per_model[m].argmin()]) for m in models if np.ptp(per_model[m]) > 1e-12}
    cls_of = {int(m): c for m, c in zip(p["model"], p["class"], strict=True)}
    pooled = float(np.mean(list(own.values()))) if own else 0.0
    class_delta = _shrunk(cls_of, own, pooled)
    delta = np.array([class_delta.get(c, pooled) for c in p["class"]])
    eps = p["actual"] - predicted_y(p["c0"], p["rate_days"], p["ratio"], delta)
    span = np.log(p["ratio"])
    nonzero = np.abs(eps) > 1e-9
    power = 1.0
    if nonzero.sum() >= 3 and np.ptp(np.log(span[nonzero])) > 0:
        power = float(np.polyfit(np.log(span[nonzero]), np.log(np.abs(eps[nonzero])), 1)[0])
    power = float(np.clip(power, *POWER_CLIP))
    z = eps / span ** power
    bands = np.searchsorted(LEVEL_BANDS, p["c0"], side="right")
    by_band = {ALL_BANDS: np.sort(z)}
    for b in np.unique(bands):
        if (bands == b).sum() >= MIN_BAND_PAIRS:
            by_band[int(b)] = np.sort(z[bands == b])
    return GrowthFit(pooled, class_delta, power, by_band, len(models), len(eps))


def _shrunk(cls_of: dict[int, str], own: dict[int, float], pooled: float) -> dict[str, float]:
    """Empirical Bayes class decay (module docstring): each class's mean of its models' own δ,
    shrunk toward the pool by how far the classes differ beyond their sampling noise."""
    if not own:  # no model has a decay of its own: no class to shrink (and no mean of nothing)
        return {}
    classes: dict[str, list[float]] = {}
    for m, d in own.items():
        classes.setdefault(cls_of[m], []).append(d)
    means = {c: float(np.mean(v)) for c, v in classes.items()}
    within = [float(np.var(v, ddof=1)) for v in classes.values() if len(v) > 1]
    v_w = float(np.mean(within)) if within else 0.0
    noise = {c: v_w / len(v) for c, v in classes.items()}
    spread = float(np.var(list(means.values()), ddof=1)) if len(means) > 1 else 0.0
    tau2 = max(0.0, spread - float(np.mean(list(noise.values()))))
    return {c: pooled + (tau2 / (tau2 + noise[c]) if tau2 + noise[c] > 0 else 0.0) * (mean - pooled)
            for c, mean in means.items()}


# --- predict -----------------------------------------------------------------------------------

def quantiles_y(growth: GrowthFit, s: Series, t0: float, target: float,
                levels: tuple[float, ...] = QUANTILES, z_levels: np.ndarray | None = None) -> np.ndarray:
    """ln(1 + C(target)) at the quantile `levels`, knowing `s` up to age t0 (the observed value
    where the target is not later than t0). `z_levels`: growth.quantiles(levels), if already known."""
    y0 = s.at(t0)
    if target <= t0:
        return np.full(len(levels), s.at(target) if target >= s.days[0] else 0.0)
    centre = _centre(growth, s, t0, target)
    z = growth.quantiles(levels, math.expm1(y0)) if z_levels is None else z_levels
    return np.maximum(y0, centre + math.log(target / t0) ** growth.power * z)


def _centre(growth: GrowthFit, s: Series, t0: float, target: float) -> float:
    return float(predicted_y(np.array(math.expm1(s.at(t0))), np.array(recent_rate(s, t0) * t0),
                             np.array(target / t0), growth.decay(s.size_class)))


def probability_above(growth: GrowthFit, s: Series, t0: float, target: float, threshold: float) -> float:
    """P(C(target) ≥ threshold) under the fitted residual distribution."""
    if target <= t0:
        return float(math.expm1(s.at(target)) >= threshold)
    if math.log1p(threshold) <= s.at(t0):
        return 1.0
    needed = (math.log1p(threshold) - _centre(growth, s, t0, target)) / math.log(target / t0) ** growth.power
    z = growth.residuals(math.expm1(s.at(t0)))
    return float(1.0 - np.searchsorted(z, needed, side="left") / len(z))


def reference_at(curves: pl.DataFrame, day: int = ON_TRACK_DAY) -> dict[str, float]:
    """Each class's 10th-place cumulative downloads at `day` (adoption.reference_curves), where defined."""
    if curves.is_empty():
        return {}
    ref = adoption.reference_curves(curves).filter((pl.col("days") == day) & pl.col("reference").is_not_null())
    return dict(zip(ref["size_class"].to_list(), ref["reference"].cast(pl.Float64).to_list(), strict=True))


def forecast_rows(trajectories: pl.DataFrame, measure: str, *, as_of: dt.date, keep: set[str] | None = None,
                  target_date: dt.date | None = None, reference: dict[str, float] | None = None) -> pl.DataFrame:
    """The forecast rows (ROW_SCHEMA) of one measure: each model in `keep` (lower-case Hub ids; all
    when None) with at
    least MIN_HISTORY_DAYS of history by `as_of`, at the HORIZONS and at `target_date`. The growth
    law is fitted on every trajectory given (all of them dated by as_of: see the callers)."""
    all_series = series(trajectories)
    growth = fit(all_series)
    rows: list[dict] = []
    if growth is None:
        return pl.DataFrame(schema=ROW_SCHEMA)
    # Each band's quantiles once (growth.quantiles per series and horizon was a fifth of the time).
    z_levels = {b: np.quantile(z, QUANTILES) for b, z in growth.z.items()}
    for s in all_series:
        if keep is not None and s.hub_id.lower() not in keep:
            continue
        t0 = float(min(s.days[-1], (as_of - s.origin).days))
        if t0 < MIN_HISTORY_DAYS:
            continue
        p_on_track = None
        if reference is not None and s.size_class in reference:
            p_on_track = probability_above(growth, s, t0, ON_TRACK_DAY, reference[s.size_class])
        targets = [(f"day-{h}", h) for h in HORIZONS]
        if target_date is not None and (target_date - s.origin).days > 0:
            targets.append(("target-date", (target_date - s.origin).days))
        count = math.expm1(s.at(t0))
        levels = z_levels.get(band(count), z_levels[ALL_BANDS])
        for horizon, days in targets:
            q = np.expm1(quantiles_y(growth, s, t0, float(days), z_levels=levels))
            rows.append({"hub_id": s.hub_id, "measure": measure, "size_class": s.size_class, "as_of": as_of,
                         "horizon": horizon, "target_date": s.origin + dt.timedelta(days=days), "target_days": days,
                         "days_observed": int(t0), "observed": float(math.expm1(s.at(t0))),
                         "p10": float(q[0]), "p50": float(q[1]), "p90": float(q[2]), "p_on_track": p_on_track})
    return pl.DataFrame(rows, schema=ROW_SCHEMA) if rows else pl.DataFrame(schema=ROW_SCHEMA)


def adoption_forecast(snapshots: pl.DataFrame, models: pl.DataFrame, finetune_counts: pl.DataFrame, *,
                      as_of: dt.date, chosen: pl.DataFrame | None = None, target_date: dt.date | None = None,
                      reference_models: pl.DataFrame | None = None) -> pl.DataFrame:
    """Both measures' forecasts as of `as_of` for the `chosen` models (all `models` when None).

    `models` (model_id, hub_id, size_class, release_date) are what the growth law learns from;
    `reference_models` those whose 10th place defines "on track" (the RAM scope; `models` when None).
    Returns ROW_SCHEMA rows, the downloads rows carrying the model's p_on_track on each of them.
    """
    keep = {h.lower() for h in (chosen if chosen is not None else models)["hub_id"].to_list()}
    downloads = download_trajectories(snapshots, models, as_of=as_of)
    scope = reference_models if reference_models is not None else models
    ref_curves = adoption.adoption_curves(snapshots.filter(pl.col("date") <= as_of),
                                          scope.filter(pl.col("release_date") <= as_of), end=as_of)
    rows = [forecast_rows(downloads, "downloads", as_of=as_of, keep=keep, target_date=target_date,
                          reference=reference_at(ref_curves)),
            forecast_rows(finetune_trajectories(finetune_counts, models, as_of=as_of), "finetunes", as_of=as_of,
                          keep=keep, target_date=target_date)]
    return pl.concat(rows).sort(["measure", "hub_id", "target_days"])
