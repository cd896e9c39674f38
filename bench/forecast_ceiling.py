"""How far the downloads backtest's error goal can be reached from a model's own early trajectory.

    .venv/bin/python bench/forecast_ceiling.py [--database obs_bench] [--data-dir ../shared/data]

Same cells and protocol as bench/forecast_backtest.py (organisations in 10 folds, each model
forecast from its first 30/60 days by what was fitted on the other folds). What the series hold:
C(t) − C(t−30) is the Hub's 30-day count on day t (ingest.download_measures), so from day 60 the
last-30-day-rate baseline forecasts day 90 as C(60) plus the 30-day count of day 60, and only a
change of that count can beat it. Three attempts at that change, and a ceiling:

- `momentum`: v1's centre plus a median (LAD) regression, on the other folds' (t0, T) pairs, of
  its residual on the 30-day count's change over the last 3 and 7 days (× ln(T/t0));
- `holt`: damped-trend exponential smoothing of the log 30-day count, day by day to t0, its
  level and damped trend continued and decayed by v1's δ; (α, β, φ) chosen on the tuning half of
  the models (crc32 of the Hub id, even) and reported on the other half;
- `step_weight`: the baseline plus w × (v1's centre − the baseline), w per cell chosen on the
  other folds' models at the same ages by the median absolute error (w in STEP_WEIGHTS);
- `finetunes`: the base's fine-tune count by t0 (and its last month's rise) as a leading
  indicator: rank correlation with the baseline's error;
- `ceiling`: in-sample (it sees every outcome, so an upper bound) the best rule
  a + b1·x1 + b2·x2 on two of the features (the 30-day count's rise over 3, 7 and 14 days, the
  last month's share of the count, the whole Hub's 14-day drift of it, v1's own step away from
  the baseline), by grid search on the
  median absolute error itself: no linear out-of-sample method of two of them can beat it.

Every figure is the MdALE improvement on the better of the backtest's two baselines, by half.
Results: bench/results/forecast_ceiling.json.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
import sys
import zlib

import _django
import forecast_backtest as backtest
import numpy as np

CELLS = [(t0, target) for t0 in backtest.FITS for target in backtest.SCORES]
TRAIN_T0 = (30, 45, 60, 90, 120)
MAX_TRAIN_T = 365
STEP_WEIGHTS = np.round(np.arange(0, 2.51, 0.1), 2)
HOLT_GRID = list(itertools.product((1.0, 0.7, 0.4), (0.0, 0.05, 0.2), (0.9, 0.97)))
TREND_LAGS = (3, 7, 14)


def half(hub_id: str) -> int:
    return zlib.crc32(hub_id.lower().encode()) % 2  # 0: tuning half, 1: reporting half


def count30(s, t: float) -> float:
    """The 30-day count ending at t, per day: (C(t) − C(t−30)) / 30, C before the first day 0."""
    back = s.at(t - 30) if t - 30 >= s.days[0] else math.nan
    return (math.expm1(s.at(t)) - (0.0 if math.isnan(back) else math.expm1(back))) / 30


def trend(s, t0: float, lag: int) -> float:
    """ln of the 30-day count's rise over the last `lag` days (0 where not observed then)."""
    now = count30(s, t0)
    then = count30(s, t0 - lag) if t0 - lag >= s.days[0] else now
    return math.log((now + 1) / (then + 1))


def naive(s, t0: float, target: float) -> float:
    return math.log1p(math.expm1(s.at(t0)) + max(count30(s, t0), 0.0) * (target - t0))


def lad(x: np.ndarray, y: np.ndarray, rounds: int = 60) -> np.ndarray:
    """Median regression by iteratively reweighted least squares."""
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(rounds):
        w = np.sqrt(1 / np.maximum(np.abs(y - x @ beta), 1e-3))
        beta = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)[0]
    return beta


def momentum_features(s, t0: float, target: float) -> np.ndarray:
    span = math.log(target / t0)
    return np.array([span, trend(s, t0, 3) * span, trend(s, t0, 7) * span])


def momentum_fit(training, growth, forecast) -> np.ndarray:
    x, y = [], []
    for s in training:
        for t0 in TRAIN_T0:
            if s.days[0] > t0 or s.days[-1] < t0:
                continue
            known = s.until(t0)
            for target in forecast.GRID[(forecast.GRID > t0) & (forecast.GRID <= min(MAX_TRAIN_T, s.days[-1]))]:
                x.append(momentum_features(known, t0, target))
                y.append(s.at(target) - forecast._centre(growth, known, t0, target))
    return lad(np.array(x), np.array(y))


def holt_y(s, t0: float, target: float, alpha: float, beta: float, phi: float, delta: float) -> float:
    """Damped-trend smoothing of ln(1 + 30-day count) day by day to t0, continued to target."""
    series = [math.log1p(max(count30(s, float(d)), 0.0)) for d in range(max(int(s.days[0]), 1), int(t0) + 1)]
    level, slope = series[0], 0.0
    for value in series[1:]:
        ahead = level + phi * slope
        level = ahead + alpha * (value - ahead)
        slope = phi * slope + alpha * beta * (value - ahead)
    total, damp = 0.0, 0.0
    for h in range(1, int(target - t0) + 1):
        damp += phi ** h
        total += max(math.expm1(level + slope * damp), 0.0) * ((t0 + h) / t0) ** (-delta)
    return math.log1p(math.expm1(s.at(t0)) + total)


def improvements(errors: dict, better: dict) -> dict:
    return {f"{cell}/half{h}": round(1 - statistics.median(v) / better[(cell, h)], 3)
            for (cell, h), v in sorted(errors.items())}


def run(all_series, forecast, finetune_by_id) -> dict:
    fits = backtest.fold_fits(all_series, forecast)
    base, v1, mom, holt, step, weights = {}, {}, {}, {}, {}, {}
    ft_rows = []
    for k in range(backtest.FOLDS):
        held = [s for s in all_series if backtest.fold_of(s.hub_id) == k]
        training = [s for s in all_series if backtest.fold_of(s.hub_id) != k]
        growth, rises = fits[k], backtest.median_curve_rises(training)
        beta = momentum_fit(training, growth, forecast)
        w = {cell: _step_weight(training, growth, forecast, *cell) for cell in CELLS}
        for s in held:
            for t0, target in CELLS:
                if s.days[0] > t0 or s.days[-1] < max(t0, target):
                    continue
                known, actual = s.until(t0), s.at(target)
                key = (f"{t0}->{target}", half(s.hub_id))
                rise = rises.get((s.size_class, t0, target), rises.get((None, t0, target)))
                cell = base.setdefault(key, {"naive": [], "median_curve": []})
                cell["naive"].append(abs(naive(known, t0, target) - actual))
                cell["median_curve"].append(abs(known.at(t0) + rise - actual))
                v1.setdefault(key, []).append(abs(forecast.quantiles_y(growth, known, t0, target)[1] - actual))
                centre = forecast._centre(growth, known, t0, target)
                mom.setdefault(key, []).append(
                    abs(max(known.at(t0), centre + momentum_features(known, t0, target) @ beta) - actual))
                step.setdefault(key, []).append(abs(max(known.at(t0), naive(known, t0, target) + w[(t0, target)] * (
                    centre - naive(known, t0, target))) - actual))
                weights.setdefault(key[0], set()).add(float(w[(t0, target)]))
                delta = growth.decay(s.size_class)
                for params in HOLT_GRID:
                    holt.setdefault(params, {}).setdefault(key, []).append(
                        abs(holt_y(known, t0, target, *params, delta) - actual))
                count = finetune_by_id(s, t0)
                if count is not None:
                    ft_rows.append((key[0], s.at(target) - naive(known, t0, target), *count))
    better = {key: min(statistics.median(c["naive"]), statistics.median(c["median_curve"])) for key, c in base.items()}
    holt_scores = {params: improvements(cells, better) for params, cells in holt.items()}
    tuned = max(holt_scores, key=lambda p: np.mean([v for k, v in holt_scores[p].items() if k.endswith("half0")]))
    return {
        "v1": improvements(v1, better), "momentum": improvements(mom, better),
        "step_weight": {"scores": improvements(step, better),
                        "weights_chosen_by_fold": {c: sorted(v) for c, v in sorted(weights.items())}},
        "holt": {"chosen_on_half0": dict(zip(("alpha", "beta", "phi"), tuned, strict=True)),
                 "scores": holt_scores[tuned]},
        "finetunes_rank_correlation_with_baseline_error": _finetune_correlations(ft_rows),
        "ceiling_in_sample": _ceiling(all_series, forecast.fit(all_series), forecast),
    }


def _step_weight(training, growth, forecast, t0: int, target: int) -> float:
    rows = [(s.until(t0), s.at(target)) for s in training if s.days[0] <= t0 and s.days[-1] >= target]
    if not rows:
        return 1.0
    base = np.array([naive(k, t0, target) for k, _ in rows])
    step = np.array([forecast._centre(growth, k, t0, target) for k, _ in rows]) - base
    floor, actual = np.array([k.at(t0) for k, _ in rows]), np.array([a for _, a in rows])
    errors = [np.median(np.abs(np.maximum(floor, base + w * step) - actual)) for w in STEP_WEIGHTS]
    return float(STEP_WEIGHTS[int(np.argmin(errors))])


def _rank(values) -> np.ndarray:
    return np.argsort(np.argsort(np.asarray(values)))


def _finetune_correlations(rows) -> dict:
    out = {}
    for cell in sorted({r[0] for r in rows}):
        part = [r for r in rows if r[0] == cell]
        err = _rank([r[1] for r in part])
        out[cell] = {name: round(float(np.corrcoef(_rank([r[i] for r in part]), err)[0, 1]), 3)
                     for name, i in (("ln_count", 2), ("ln_last_month_rise", 3))}
    return out


def _ceiling(all_series, growth, forecast) -> dict:
    out = {}
    drift: dict[dt.date, float] = {}

    def market(day: dt.date) -> float:
        if day not in drift:
            rises = [trend(s.until(age), age, 14) for s in all_series
                     if 45 <= (age := (day - s.origin).days) <= s.days[-1] and age - 44 >= s.days[0]]
            drift[day] = float(np.median(rises)) if rises else 0.0
        return drift[day]

    for t0, target in CELLS:
        rows = [s for s in all_series if s.days[0] <= t0 and s.days[-1] >= target]
        err = np.array([s.at(target) - naive(s.until(t0), t0, target) for s in rows])
        feats = {f"trend_{lag}d": np.array([trend(s.until(t0), t0, lag) for s in rows]) for lag in TREND_LAGS}
        feats["last_month_share"] = np.array(
            [math.log((30 * count30(s, t0) + 1) / (math.expm1(s.at(t0)) + 1)) for s in rows])
        # The whole Hub's drift then: the median 14-day rise of the 30-day count over the models
        # at least 45 days old on the model's day t0 (data dated by then only).
        feats["market_trend_14d"] = np.array([market(s.origin + dt.timedelta(days=t0)) for s in rows])
        # v1's own step away from the baseline (its min(30, t0/2)-day rate and decay), fitted on all.
        feats["v1_centre_minus_baseline"] = np.array(
            [forecast._centre(growth, s.until(t0), t0, target) - naive(s.until(t0), t0, target) for s in rows])
        base = float(np.median(np.abs(err)))
        correlations = {n: round(float(np.corrcoef(_rank(x), _rank(err))[0, 1]), 3) for n, x in feats.items()}
        shifts, slopes = np.linspace(-0.3, 0.3, 61), np.linspace(-3, 3, 61)
        best, rule = 0.0, None
        for (n1, x1), (n2, x2) in itertools.combinations(feats.items(), 2):
            for b1, b2 in itertools.product(slopes, slopes):
                m = np.median(np.abs(err[None, :] - shifts[:, None] - b1 * x1 - b2 * x2), axis=1)
                if 1 - m.min() / base > best:
                    best, rule = 1 - m.min() / base, [n1, n2, round(float(shifts[m.argmin()]), 3), round(b1, 2),
                                                    round(b2, 2)]
        out[f"{t0}->{target}"] = {"n": len(rows), "improvement_on_last_30_day_rate": round(best, 3), "rule": rule,
                                   "rank_correlation_with_baseline_error": correlations}
    return out


def main() -> int:
    _django.bootstrapped(__doc__)
    from observatory.analytics import forecast, frames
    from observatory.analytics.filters import Filters
    snaps = frames.snapshots(since_release=True, filters=Filters(scope="all"))
    models = frames.models(("hub_id", "release_date"))
    downloads = forecast.series(forecast.download_trajectories(snaps, models, as_of=frames.latest_snapshot_date()))
    counts = frames.finetune_counts()
    bases = {s.hub_id.lower(): s for s in forecast.series(
        forecast.finetune_trajectories(counts, models, as_of=backtest.dt_max(counts)))}

    def finetunes_at(s, t0):
        """ln(1 + fine-tunes) read by release + t0, and its rise over the month before."""
        base = bases.get(s.hub_id.lower())
        if base is None:
            return None
        def upto(day):
            age = (s.origin + dt.timedelta(days=int(day)) - base.origin).days
            seen = base.y[base.days <= age]
            return float(seen[-1]) if len(seen) else 0.0
        return upto(t0), upto(t0) - upto(t0 - 30)

    result = {"command": "python bench/forecast_ceiling.py " + " ".join(sys.argv[1:]),
              "methodology": forecast.METHODOLOGY, "models": len(downloads),
              **run(downloads, forecast, finetunes_at)}
    print(_django.write_result("forecast_ceiling", result))
    import json

    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
