"""The open/closed gap: frontiers over time, vertical gap in points, horizontal gap in months."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

DAYS_PER_MONTH = 30.44  # Epoch's convention (365.25 / 12, rounded as they round it)
# ci_lower / ci_upper: the source's own interval around the score (Epoch's eci_ci_low/high,
# LMArena's 95% CI); null where the source gives none.
MODEL_SCHEMA = {"model": pl.Utf8, "date": pl.Date, "score": pl.Float64, "open_weights": pl.Boolean,
                "ci_lower": pl.Float64, "ci_upper": pl.Float64}

# How "an open model caught up with a closed one" is decided:
# - "interval-difference" (Epoch's rule, in their words: caught up "if their difference in scores is
#   not statistically significant"): the closed score minus the open score is at most
#   sqrt(h_closed^2 + h_open^2), h_closed the closed interval's lower half-width and h_open the open
#   interval's upper half-width. For independent estimates that is a test of the difference at the
#   intervals' own level. Where either side has no interval, the fixed point tolerance decides.
# - "interval-overlap": the open upper bound reaches the closed lower bound. A laxer test (two
#   intervals overlap even when the difference is significant), kept for the methodology comparison.
# - "tolerance": the open score is at least the closed score minus a fixed number of points.
RULES = ("interval-difference", "interval-overlap", "tolerance")


def released_models(entries: pl.DataFrame) -> pl.DataFrame:
    """(model, date, score, open_weights) from rows that carry a release date (Epoch ECI, probes).

    Models of unknown accessibility are left out: they belong to neither frontier.
    """
    return (
        entries.filter(pl.col("release_date").is_not_null() & pl.col("score").is_not_null()
                       & pl.col("open_weights").is_not_null())
        .sort("score", descending=True).unique("model_name", keep="first")
        .select(pl.col("model_name").alias("model"), pl.col("release_date").alias("date"), "score", "open_weights",
                *_intervals(entries))
        .sort(["date", "model"])
    )


def snapshot_models(entries: pl.DataFrame) -> pl.DataFrame:
    """(model, date, score, open_weights) from dated leaderboard snapshots (LMArena).

    A model's date is the first snapshot it appears in (LMArena gives no release dates); its
    score the one in the latest snapshot it appears in, when the rating has settled.
    """
    frame = entries.filter(pl.col("snapshot_date").is_not_null() & pl.col("score").is_not_null()
                           & pl.col("open_weights").is_not_null())
    frame = frame.with_columns(*_intervals(frame))
    latest = pl.col("snapshot_date") == pl.col("snapshot_date").max()
    # A model listed twice in its latest snapshot (two source tables) keeps its best row, and that
    # row's interval.
    best_latest = ["snapshot_date", "score"]
    return (
        frame.group_by("model_name")
        .agg(pl.col("snapshot_date").min().alias("date"),
             pl.col("score").filter(latest).max(),
             pl.col("open_weights").filter(latest).max(),
             pl.col("ci_lower").sort_by(best_latest, descending=True).first(),
             pl.col("ci_upper").sort_by(best_latest, descending=True).first())
        .rename({"model_name": "model"}).select(list(MODEL_SCHEMA)).sort(["date", "model"])
    )


def _intervals(entries: pl.DataFrame) -> list[pl.Expr]:
    # Sources loaded without intervals (older callers, probes) get null ones.
    return [pl.col(c) if c in entries.columns else pl.lit(None, dtype=pl.Float64).alias(c)
            for c in ("ci_lower", "ci_upper")]


def frontiers(models: pl.DataFrame) -> pl.DataFrame:
    """(date, closed_best, closed_model, open_best, open_model, vertical_gap) at each release date.

    Each frontier is the best score released so far by its side; the vertical gap is closed
    minus open in the benchmark's points.
    """
    rows = []
    best = {True: (None, None), False: (None, None)}
    for day, part in models.sort("date").group_by("date", maintain_order=True):
        for record in part.iter_rows(named=True):
            side = record["open_weights"]
            if best[side][0] is None or record["score"] > best[side][0]:
                best[side] = (record["score"], record["model"])
        closed, open_ = best[False], best[True]
        rows.append({"date": day[0], "closed_best": closed[0], "closed_model": closed[1], "open_best": open_[0],
                     "open_model": open_[1],
                     "vertical_gap": None if closed[0] is None or open_[0] is None else closed[0] - open_[0]})
    return pl.DataFrame(rows, schema={"date": pl.Date, "closed_best": pl.Float64, "closed_model": pl.Utf8,
                                      "open_best": pl.Float64, "open_model": pl.Utf8, "vertical_gap": pl.Float64})


def closed_frontier(models: pl.DataFrame) -> pl.DataFrame:
    """Every closed model that set a new closed record when it was released."""
    # The model name breaks a same-day, same-score tie: one record-setter, the same on every run.
    closed = models.filter(~pl.col("open_weights")).sort(["date", "score", "model"], descending=[False, True, False])
    return closed.filter(pl.col("score") > pl.col("score").cum_max().shift(1).fill_null(float("-inf")))


def caught_up(closed: dict, candidate: dict, *, rule: str, threshold: float) -> tuple[bool, str]:
    """Whether `candidate` (an open model) has caught up with `closed`, and by which rule it was judged:
    "interval" where both sides carry the interval the rule reads, else "tolerance"."""
    if rule not in RULES:
        raise ValueError(f"unknown match rule {rule!r}")
    if rule != "tolerance" and closed.get("ci_lower") is not None and candidate.get("ci_upper") is not None:
        if rule == "interval-overlap":
            return candidate["ci_upper"] >= closed["ci_lower"], "interval"
        # Half-widths on the sides that face each other (ECI intervals are asymmetric).
        below, above = max(closed["score"] - closed["ci_lower"], 0.0), max(candidate["ci_upper"] - candidate["score"], 0.0)
        return closed["score"] - candidate["score"] <= math.hypot(below, above), "interval"
    return candidate["score"] >= closed["score"] - threshold, "tolerance"


def horizontal_gaps(models: pl.DataFrame, *, threshold: float = 0.0, as_of: dt.date,
                    rule: str = "tolerance") -> pl.DataFrame:
    """For each closed frontier model: months until the first open model released on or after it
    that has caught up with it (see `caught_up`; `threshold` is the point tolerance). Unmatched: months
    from its release to `as_of`, flagged `matched = false` (right-censored at `as_of`).
    """
    for column in ("ci_lower", "ci_upper"):
        if column not in models.columns:
            models = models.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    open_models = (models.filter(pl.col("open_weights"))
                   .sort(["date", "score", "model"], descending=[False, True, False]).to_dicts())
    rows = []
    for closed in closed_frontier(models).iter_rows(named=True):
        match, used = None, ("interval" if rule != "tolerance" and closed["ci_lower"] is not None else "tolerance")
        for candidate in open_models:
            if candidate["date"] < closed["date"]:
                continue  # released on the closed model's day counts: on or after
            hit, how = caught_up(closed, candidate, rule=rule, threshold=threshold)
            if hit:
                match, used = candidate, how
                break
        until = match["date"] if match else as_of
        days = (until - closed["date"]).days
        rows.append({
            "closed_model": closed["model"], "closed_date": closed["date"], "closed_score": closed["score"],
            "open_model": match and match["model"], "open_date": match and match["date"],
            "open_score": match and match["score"],
            "gap_months": round(days / DAYS_PER_MONTH, 2), "matched": match is not None,
            "gap_days": days, "match_rule": used,
            "closed_ci_lower": closed["ci_lower"], "open_ci_upper": match and match["ci_upper"],
        })
    return pl.DataFrame(rows, schema=GAP_SCHEMA)


GAP_SCHEMA = {
    "closed_model": pl.Utf8, "closed_date": pl.Date, "closed_score": pl.Float64, "open_model": pl.Utf8,
    "open_date": pl.Date, "open_score": pl.Float64, "gap_months": pl.Float64, "matched": pl.Boolean,
    "gap_days": pl.Int64, "match_rule": pl.Utf8, "closed_ci_lower": pl.Float64, "open_ci_upper": pl.Float64,
}

GAP_LEVEL = 0.9
BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 20251030  # fixed, so the same data give the same interval on every run and backend


def mean_horizontal_gap(gaps: pl.DataFrame, *, level: float = GAP_LEVEL, resamples: int = BOOTSTRAP_RESAMPLES,
                        seed: int = BOOTSTRAP_SEED) -> dict:
    """The window's mean horizontal gap (months) over its caught-up closed frontier models, with a
    percentile-bootstrap interval over those models.

    Closed frontier models not caught up by the window's end are left out of the mean, as Epoch
    leaves them out (they measure the horizontal distance only "where such lines can be drawn"); they
    are counted in `censored` with their age at the window's end, and `current_gap` speaks for them.

    Why a bootstrap and not a t-interval: a window holds about ten caught-up models and their gaps are
    skewed (most are weeks, one can be more than a year), so a normal-theory interval is too symmetric
    and can dip below zero. Resampling the models keeps the skew and stays within what was observed.
    The seed is fixed, so the interval is reproducible.
    """
    matched = gaps.filter(pl.col("matched"))
    unmatched = gaps.filter(~pl.col("matched"))
    months = matched["gap_days"].cast(pl.Float64).to_numpy() / DAYS_PER_MONTH
    rules = matched["match_rule"].value_counts().sort("match_rule").rows() if matched.height else []
    out = {"months": None, "low": None, "high": None, "level": level, "method": "bootstrap-percentile",
           "resamples": resamples, "seed": seed, "matched": int(matched.height), "censored": int(unmatched.height),
           "censored_months": [round(float(v), 2) for v in unmatched["gap_days"].to_numpy() / DAYS_PER_MONTH],
           "spread_low": None, "spread_high": None, "rules": {rule: int(n) for rule, n in rules}}
    if months.size == 0:
        return out
    tail = (1 - level) / 2
    means = months[np.random.default_rng(seed).integers(0, months.size, size=(resamples, months.size))].mean(axis=1)
    low, high = np.quantile(means, [tail, 1 - tail])
    spread_low, spread_high = np.quantile(months, [tail, 1 - tail])
    out.update(months=round(float(months.mean()), 2), low=round(float(low), 2), high=round(float(high), 2),
               # The spread of the gaps themselves (not of their mean), for comparison with intervals
               # published as a range of gaps.
               spread_low=round(float(spread_low), 2), spread_high=round(float(spread_high), 2))
    return out


def mean_vertical_gap(fronts: pl.DataFrame, *, end: dt.date | None, level: float = GAP_LEVEL) -> dict:
    """The window's mean vertical gap (points): closed frontier minus open frontier on every day from
    the first day both exist to `end`, each day weighted alike (Epoch: "the vertical distance across
    all dates where such a vertical line can be drawn"); with the spread of the daily values."""
    both = fronts.drop_nulls("vertical_gap").sort("date")
    out = {"points": None, "spread_low": None, "spread_high": None, "level": level, "days": 0}
    if both.is_empty():
        return out
    last = max(end or both["date"].max(), both["date"].max())
    days = pl.DataFrame({"date": pl.date_range(both["date"].min(), last, "1d", eager=True)})
    daily = days.join_asof(both.select("date", "vertical_gap"), on="date", strategy="backward")["vertical_gap"]
    tail = (1 - level) / 2
    low, high = np.quantile(daily.to_numpy(), [tail, 1 - tail])
    out.update(points=round(float(daily.mean()), 2), spread_low=round(float(low), 2),
               spread_high=round(float(high), 2), days=daily.len())
    return out


def current_gap(gaps: pl.DataFrame, fronts: pl.DataFrame) -> dict:
    """A simple current-gap estimate: the mean matched gap, raised to the age of the oldest
    still-unmatched closed frontier model when that is larger (the gap is at least that now).
    """
    matched = gaps.filter(pl.col("matched"))
    unmatched = gaps.filter(~pl.col("matched"))
    mean = float(matched["gap_months"].mean()) if not matched.is_empty() else None
    oldest = float(unmatched["gap_months"].max()) if not unmatched.is_empty() else None
    candidates = [v for v in (mean, oldest) if v is not None]
    last = fronts.drop_nulls("vertical_gap").tail(1)
    return {
        "estimated_months": round(max(candidates), 1) if candidates else None,
        "mean_matched_months": None if mean is None else round(mean, 1),
        "oldest_unmatched_months": None if oldest is None else round(oldest, 1),
        "matched": matched.height, "unmatched": unmatched.height,
        "current_vertical_gap": None if last.is_empty() else round(float(last["vertical_gap"][0]), 2),
    }
