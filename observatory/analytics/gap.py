"""The open/closed gap: frontiers over time, vertical gap in points, horizontal gap in months."""

from __future__ import annotations

import datetime as dt

import polars as pl

DAYS_PER_MONTH = 30.44  # Epoch's convention (365.25 / 12, rounded as they round it)
MODEL_SCHEMA = {"model": pl.Utf8, "date": pl.Date, "score": pl.Float64, "open_weights": pl.Boolean}


def released_models(entries: pl.DataFrame) -> pl.DataFrame:
    """(model, date, score, open_weights) from rows that carry a release date (Epoch ECI, probes).

    Models of unknown accessibility are left out: they belong to neither frontier.
    """
    return (
        entries.filter(pl.col("release_date").is_not_null() & pl.col("score").is_not_null()
                       & pl.col("open_weights").is_not_null())
        .sort("score", descending=True).unique("model_name", keep="first")
        .select(pl.col("model_name").alias("model"), pl.col("release_date").alias("date"), "score", "open_weights")
        .sort(["date", "model"])
    )


def snapshot_models(entries: pl.DataFrame) -> pl.DataFrame:
    """(model, date, score, open_weights) from dated leaderboard snapshots (LMArena).

    A model's date is the first snapshot it appears in (LMArena gives no release dates); its
    score the one in the latest snapshot it appears in, when the rating has settled.
    """
    frame = entries.filter(pl.col("snapshot_date").is_not_null() & pl.col("score").is_not_null()
                           & pl.col("open_weights").is_not_null())
    return (
        frame.group_by("model_name")
        .agg(pl.col("snapshot_date").min().alias("date"),
             # A model listed twice in its latest snapshot (two source tables) keeps its best row.
             pl.col("score").filter(pl.col("snapshot_date") == pl.col("snapshot_date").max()).max(),
             pl.col("open_weights").filter(pl.col("snapshot_date") == pl.col("snapshot_date").max()).max())
        .rename({"model_name": "model"}).select(list(MODEL_SCHEMA)).sort(["date", "model"])
    )


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


def horizontal_gaps(models: pl.DataFrame, *, threshold: float = 0.0, as_of: dt.date) -> pl.DataFrame:
    """For each closed frontier model: months until the first open model released on or after it
    scoring at least (its score - threshold). Unmatched: months from its release to `as_of`.
    """
    open_models = models.filter(pl.col("open_weights")).sort(["date", "score", "model"], descending=[False, True, False])
    rows = []
    for closed in closed_frontier(models).iter_rows(named=True):
        match = open_models.filter((pl.col("date") >= closed["date"])
                                   & (pl.col("score") >= closed["score"] - threshold)).head(1)
        if match.is_empty():
            until, open_model, open_date, open_score = as_of, None, None, None
        else:
            open_model, open_date, open_score = match["model"][0], match["date"][0], match["score"][0]
            until = open_date
        rows.append({
            "closed_model": closed["model"], "closed_date": closed["date"], "closed_score": closed["score"],
            "open_model": open_model, "open_date": open_date, "open_score": open_score,
            "gap_months": round((until - closed["date"]).days / DAYS_PER_MONTH, 2), "matched": not match.is_empty(),
        })
    return pl.DataFrame(rows, schema={
        "closed_model": pl.Utf8, "closed_date": pl.Date, "closed_score": pl.Float64, "open_model": pl.Utf8,
        "open_date": pl.Date, "open_score": pl.Float64, "gap_months": pl.Float64, "matched": pl.Boolean})


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
