"""adoption-forecast/v1 (analytics.forecast's module docstring) written out again as plain Python
loops over lists, with its constants copied by hand: the independent expectation the fast tier's
forecast tests compare with. No numpy, no polars, nothing imported from the code under test."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

GRID = [14, 21, 30, 45, 60, 90, 120, 150, 180, 240, 300, 365, 450, 540, 730, 900]
MIN_HISTORY_DAYS = 14
RATE_WINDOW = 30
LEVEL_BANDS = [1.0, 5.0, 50.0, 5000.0]
MIN_BAND_PAIRS = 200
DELTAS = [round(-1 + 0.05 * k, 2) for k in range(81)]
POWER_CLIP = (0.5, 1.0)


class Plain:
    """One model's trajectory: ascending days, y = ln(1 + count) made non-decreasing."""

    def __init__(self, hub_id: str, size_class: str, days: list[float], values: list[float]):
        self.hub_id, self.size_class, self.days = hub_id, size_class, []
        self.y: list[float] = []
        best = -math.inf
        for d, v in zip(days, values, strict=True):
            best = max(best, math.log1p(max(v, 0.0)))
            if self.days and d == self.days[-1]:
                continue  # a repeated day: the first row counts
            self.days.append(float(d))
            self.y.append(best)

    def until(self, age: float) -> Plain:
        """The trajectory as known at `age`."""
        known = Plain(self.hub_id, self.size_class, [], [])
        known.days = [d for d in self.days if d <= age]
        known.y = self.y[:len(known.days)]
        return known

    def interp(self, age: float) -> float:
        if age <= self.days[0]:
            return self.y[0]
        for (d0, y0), (d1, y1) in zip(zip(self.days, self.y), zip(self.days[1:], self.y[1:])):
            if d0 <= age <= d1:
                return y0 + (y1 - y0) * (age - d0) / (d1 - d0)
        return self.y[-1]

    def at(self, age: float) -> float:
        return self.interp(age) if self.days[0] <= age <= self.days[-1] else math.nan

    def rate(self, t0: float) -> float:
        window = min(RATE_WINDOW, t0 / 2)
        before = self.at(t0 - window)
        return (math.expm1(self.at(t0)) - (0.0 if math.isnan(before) else math.expm1(before))) / window


def rise(ratio: float, delta: float) -> float:
    if delta == 1.0:
        return math.log(ratio)
    return (ratio ** (1 - delta) - 1) / (1 - delta)


def law(c0: float, rate_days: float, ratio: float, delta: float) -> float:
    return math.log1p(c0 + max(rate_days, 0.0) * rise(ratio, delta))


def pairs(series: list[Plain]) -> list[dict]:
    out = []
    for index, s in enumerate(series):
        ages = [float(g) for g in GRID if max(MIN_HISTORY_DAYS, s.days[0]) <= g <= s.days[-1]]
        ys = [s.interp(a) for a in ages]
        rates = [s.rate(a) * a for a in ages]
        for i in range(len(ages)):
            for j in range(i + 1, len(ages)):
                out.append({"model": index, "class": s.size_class, "c0": math.expm1(ys[i]),
                            "rate_days": rates[i], "ratio": ages[j] / ages[i], "actual": ys[j]})
    return out


def mean(values):
    return sum(values) / len(values)


def sample_variance(values):
    m = mean(values)
    return sum((v - m) ** 2 for v in values) / (len(values) - 1)


def band(count: float) -> int:
    return bisect_right(LEVEL_BANDS, count)


def shrunk(class_of: dict[int, str], own: dict[int, float], pooled: float) -> dict[str, float]:
    classes: dict[str, list[float]] = {}
    for m, d in own.items():
        classes.setdefault(class_of[m], []).append(d)
    means = {c: mean(v) for c, v in classes.items()}
    within = [sample_variance(v) for v in classes.values() if len(v) > 1]
    v_w = mean(within) if within else 0.0
    noise = {c: v_w / len(v) for c, v in classes.items()}
    spread = sample_variance(list(means.values())) if len(means) > 1 else 0.0
    tau2 = max(0.0, spread - mean(list(noise.values())))
    out = {}
    for c, m in means.items():
        weight = tau2 / (tau2 + noise[c]) if tau2 + noise[c] > 0 else 0.0
        out[c] = pooled + weight * (m - pooled)
    return out


def fit(series: list[Plain]) -> dict | None:
    ps = pairs(series)
    if len(ps) < 2:
        return None
    errors: dict[int, list[float]] = {}
    for p in ps:
        row = errors.setdefault(p["model"], [0.0] * len(DELTAS))
        for k, d in enumerate(DELTAS):
            row[k] += (law(p["c0"], p["rate_days"], p["ratio"], d) - p["actual"]) ** 2
    own = {}
    for m, row in errors.items():
        if max(row) - min(row) > 1e-12:
            own[m] = DELTAS[row.index(min(row))]
    class_of = {p["model"]: p["class"] for p in ps}
    pooled = mean(list(own.values())) if own else 0.0
    class_delta = shrunk(class_of, own, pooled)
    eps = [p["actual"] - law(p["c0"], p["rate_days"], p["ratio"], class_delta.get(p["class"], pooled)) for p in ps]
    span = [math.log(p["ratio"]) for p in ps]
    xs = [math.log(s) for s, e in zip(span, eps, strict=True) if abs(e) > 1e-9]
    ys = [math.log(abs(e)) for e in eps if abs(e) > 1e-9]
    power = 1.0
    if len(xs) >= 3 and max(xs) > min(xs):
        mx, my = mean(xs), mean(ys)
        power = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)
    power = min(max(power, POWER_CLIP[0]), POWER_CLIP[1])
    z = [e / s ** power for e, s in zip(eps, span, strict=True)]
    by_band = {-1: sorted(z)}
    for b in {band(p["c0"]) for p in ps}:
        members = [zz for zz, p in zip(z, ps, strict=True) if band(p["c0"]) == b]
        if len(members) >= MIN_BAND_PAIRS:
            by_band[b] = sorted(members)
    return {"delta": pooled, "class_delta": class_delta, "power": power, "z": by_band, "models": len(errors),
            "pairs": len(ps), "own": own}


def quantile(sorted_values: list[float], q: float) -> float:
    """numpy's default (linear) rule, written out."""
    h = (len(sorted_values) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def residuals(growth: dict, count: float) -> list[float]:
    return growth["z"].get(band(count), growth["z"][-1])


def centre(growth: dict, s: Plain, t0: float, target: float) -> float:
    delta = growth["class_delta"].get(s.size_class, growth["delta"])
    return law(math.expm1(s.at(t0)), s.rate(t0) * t0, target / t0, delta)


def quantiles_y(growth: dict, s: Plain, t0: float, target: float, levels=(0.1, 0.5, 0.9)) -> list[float]:
    y0 = s.at(t0)
    if target <= t0:
        return [s.at(target) if target >= s.days[0] else 0.0] * len(levels)
    z = residuals(growth, math.expm1(y0))
    c = centre(growth, s, t0, target)
    return [max(y0, c + math.log(target / t0) ** growth["power"] * quantile(z, q)) for q in levels]


def probability_above(growth: dict, s: Plain, t0: float, target: float, threshold: float) -> float:
    if target <= t0:
        return float(math.expm1(s.at(target)) >= threshold)
    if math.log1p(threshold) <= s.at(t0):
        return 1.0
    needed = (math.log1p(threshold) - centre(growth, s, t0, target)) / math.log(target / t0) ** growth["power"]
    z = residuals(growth, math.expm1(s.at(t0)))
    return 1.0 - bisect_left(z, needed) / len(z)
