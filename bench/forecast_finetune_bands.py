"""Fine-tune forecasts: would residual quantiles by age band as well as level band calibrate the
active bases' 80% intervals (v1 covers 62% at 30 -> 90 days of bases with >= 5 fine-tunes)?

    .venv/bin/python bench/forecast_finetune_bands.py [--database obs_bench] [--data-dir ../shared/data]

The backtest's protocol and cells (bench/forecast_backtest.py: organisations in 10 folds, the
monthly readings nearest days 30/60 and 90/180). v1's centre and spread law unchanged; only the
standardised residuals' quantiles are taken from the training pairs of the same level band and
the same age band of t0 (AGE_BANDS) where there are MIN_BAND_PAIRS of them, else v1's; and a
mix: those bands' 10th and 90th percentiles around v1's own median (its MdALE is v1's).
Results: bench/results/forecast_finetune_bands.json.
"""

from __future__ import annotations

import math
import statistics
import sys

import _django
import forecast_backtest as backtest
import numpy as np

AGE_BANDS = np.array([45.0])  # t0 up to 45 days (the first monthly reading), later


def age_level_residuals(training, growth, forecast) -> dict[tuple[int, int], np.ndarray]:
    t0s, c0, rate, ratio, actual, classes = [], [], [], [], [], []
    for s in training:
        ages = forecast.GRID[(forecast.GRID >= max(forecast.MIN_HISTORY_DAYS, s.days[0])) & (forecast.GRID <= s.days[-1])]
        ys, rates = np.interp(ages, s.days, s.y), [forecast.recent_rate(s, a) * a for a in ages]
        for i in range(len(ages) - 1):
            for j in range(i + 1, len(ages)):
                t0s.append(ages[i])
                c0.append(math.expm1(ys[i]))
                rate.append(rates[i])
                ratio.append(ages[j] / ages[i])
                actual.append(ys[j])
                classes.append(s.size_class)
    t0s, c0, rate, ratio, actual = map(np.array, (t0s, c0, rate, ratio, actual))
    eps = actual - forecast.predicted_y(c0, rate, ratio, np.array([growth.decay(c) for c in classes]))
    z = eps / np.log(ratio) ** growth.power
    age, level = np.searchsorted(AGE_BANDS, t0s, side="right"), np.searchsorted(forecast.LEVEL_BANDS, c0, side="right")
    return {(int(a), int(b)): np.sort(z[(age == a) & (level == b)])
            for a in np.unique(age) for b in np.unique(level)
            if ((age == a) & (level == b)).sum() >= forecast.MIN_BAND_PAIRS}


def run(all_series, forecast) -> dict:
    fits = backtest.fold_fits(all_series, forecast)
    cells: dict[str, dict[str, list]] = {}
    for k in range(backtest.FOLDS):
        held = [s for s in all_series if backtest.fold_of(s.hub_id) == k]
        growth = fits[k]
        banded = age_level_residuals([s for s in all_series if backtest.fold_of(s.hub_id) != k], growth, forecast)
        for s in held:
            for nominal_t0 in backtest.FITS:
                t0 = backtest._age(s, nominal_t0, True)
                if t0 is None or s.days[0] > t0 or s.days[-1] < t0:
                    continue
                known = s.until(t0)
                count = math.expm1(known.at(t0))
                z = banded.get((int(np.searchsorted(AGE_BANDS, t0, side="right")), forecast.band(count)))
                for nominal in backtest.SCORES:
                    target = backtest._age(s, nominal, True)
                    if target is None or s.days[-1] < target:
                        continue
                    actual = s.at(target)
                    v1 = forecast.quantiles_y(growth, known, t0, target)
                    v2 = v1 if z is None else forecast.quantiles_y(growth, known, t0, target,
                                                                   z_levels=np.quantile(z, forecast.QUANTILES))
                    # The band's spread around v1's own median: p10/p90 banded, p50 v1's.
                    v3 = np.array([min(v2[0], v1[1]), v1[1], max(v2[2], v1[1])])
                    keys = [f"{nominal_t0}->{nominal}"]
                    if count >= backtest.ACTIVE:
                        keys.append(f"{nominal_t0}->{nominal} (>= {backtest.ACTIVE} at t0)")
                    for key in keys:
                        cell = cells.setdefault(key, {"cover_v1": [], "cover_banded": [], "cover_spread": [],
                                                         "err_v1": [], "err_banded": []})
                        cell["cover_v1"].append(bool(v1[0] <= actual <= v1[2]))
                        cell["cover_banded"].append(bool(v2[0] <= actual <= v2[2]))
                        cell["cover_spread"].append(bool(v3[0] <= actual <= v3[2]))
                        cell["err_v1"].append(abs(v1[1] - actual))
                        cell["err_banded"].append(abs(v2[1] - actual))
    return {key: {"n": len(c["cover_v1"]), "coverage_80_v1": round(float(np.mean(c["cover_v1"])), 3),
                  "coverage_80_age_banded": round(float(np.mean(c["cover_banded"])), 3),
                  "coverage_80_age_banded_spread_v1_median": round(float(np.mean(c["cover_spread"])), 3),
                  "mdale_v1": round(statistics.median(c["err_v1"]), 4),
                  "mdale_age_banded": round(statistics.median(c["err_banded"]), 4)}
            for key, c in sorted(cells.items())}


def main() -> int:
    _django.bootstrapped(__doc__)
    from observatory.analytics import forecast, frames
    counts = frames.finetune_counts()
    bases = forecast.series(forecast.finetune_trajectories(counts, frames.models(("hub_id", "release_date")),
                                                           as_of=backtest.dt_max(counts)))
    result = {"command": "python bench/forecast_finetune_bands.py " + " ".join(sys.argv[1:]),
              "methodology": forecast.METHODOLOGY, "age_bands_days": AGE_BANDS.tolist(), "cells": run(bases, forecast)}
    print(_django.write_result("forecast_finetune_bands", result))
    import json

    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
