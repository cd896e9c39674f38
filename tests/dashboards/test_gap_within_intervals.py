"""The open/closed gap as Epoch reports it: a closed model is caught up when the open model's score
is not significantly below it (the difference within the two intervals), and the window's mean
horizontal gap comes with a reproducible 90% interval.

Expected values come from plain loops over the raw eci_scores.csv; the boundary cases are made up.
"""

import csv
import datetime as dt
import math
import re

import polars as pl
import pytest
from django.template.defaultfilters import floatformat

from observatory.analytics import gap

pytestmark = pytest.mark.django_db
START, END = dt.date(2023, 1, 1), dt.date(2025, 10, 31)
WINDOW = f"/api/metrics/open-closed-gap?source=epoch-eci&start={START}&end={END}"
TOLERANCE = 1.0  # ECI points, where a score has no interval (Epoch's explorer's threshold)


def _raw_models(shared_data):
    """eci_scores.csv's open and closed models released in the window, as plain dicts."""
    path = shared_data / "leaderboards" / "epoch" / "eci_scores.csv"
    models = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            group = row["Accessibility group"].strip()
            if group not in ("Open weights", "Closed weights") or not row["eci"] or not row["date"]:
                continue
            day = dt.date.fromisoformat(row["date"])
            if not START <= day <= END:
                continue
            models.append({"model": row["Model"].strip(), "date": day, "score": float(row["eci"]),
                           "low": float(row["eci_ci_low"]) if row["eci_ci_low"] else None,
                           "high": float(row["eci_ci_high"]) if row["eci_ci_high"] else None,
                           "open": group == "Open weights"})
    return sorted(models, key=lambda m: (m["date"], -m["score"], m["model"]))


def _caught_up(closed, candidate):
    if closed["low"] is not None and candidate["high"] is not None:
        below = max(closed["score"] - closed["low"], 0.0)
        above = max(candidate["high"] - candidate["score"], 0.0)
        return closed["score"] - candidate["score"] <= math.sqrt(below * below + above * above)
    return candidate["score"] >= closed["score"] - TOLERANCE


def _expected_gaps(models):
    rows, record = [], None
    for closed in models:
        if closed["open"] or (record is not None and closed["score"] <= record):
            continue
        record = closed["score"]
        match = None
        for candidate in models:
            if candidate["open"] and candidate["date"] >= closed["date"] and _caught_up(closed, candidate):
                match = candidate
                break
        rows.append((closed["model"], match["model"] if match else None,
                     ((match["date"] if match else END) - closed["date"]).days))
    return rows


def test_it_matches_each_closed_frontier_model_with_the_first_open_model_within_the_intervals(loaded_db, client):
    expected = _expected_gaps(_raw_models(loaded_db))
    body = client.get(WINDOW).json()
    got = [(r["closed_model"], r["open_model"], r["gap_days"]) for r in body["horizontal_gaps"]]
    assert got == expected
    assert body["match_rule"] == "interval-difference"
    # GPT-5 has no interval in the file: its row says the tolerance judged it.
    rules = {r["closed_model"]: r["match_rule"] for r in body["horizontal_gaps"]}
    assert rules["GPT-5"] == "tolerance" and rules["GPT-4 (Mar 2023)"] == "interval"


def test_it_reports_the_windows_mean_over_the_caught_up_models_and_leaves_the_rest_out(loaded_db, client):
    expected = _expected_gaps(_raw_models(loaded_db))
    matched = [days / 30.44 for _, match, days in expected if match]
    gap_ = client.get(WINDOW).json()["gap"]
    assert gap_["months"] == round(sum(matched) / len(matched), 2)
    assert gap_["matched"] == len(matched) and gap_["censored"] == len(expected) - len(matched) > 0
    assert gap_["level"] == 0.9
    assert gap_["low"] < gap_["months"] < gap_["high"]


def test_it_reports_the_mean_vertical_gap_over_every_day_both_frontiers_exist(loaded_db, client):
    models = _raw_models(loaded_db)
    first = max(min(m["date"] for m in models if m["open"]), min(m["date"] for m in models if not m["open"]))
    daily, day = [], first
    while day <= END:
        best = {side: max(m["score"] for m in models if m["open"] is side and m["date"] <= day)
                for side in (True, False)}
        daily.append(best[False] - best[True])
        day += dt.timedelta(days=1)
    vertical = client.get(WINDOW).json()["vertical_gap"]
    assert vertical["points"] == round(sum(daily) / len(daily), 2) and vertical["days"] == len(daily)


def test_it_gives_the_same_interval_on_every_request_and_a_different_one_for_another_seed(loaded_db, client):
    from django.core.cache import cache

    first = client.get(WINDOW).json()["gap"]
    cache.clear()
    assert client.get(WINDOW).json()["gap"] == first
    models = pl.DataFrame([{"model": f"c{i}", "date": dt.date(2024, 1, 1) + dt.timedelta(days=40 * i),
                            "score": 100.0 + i, "open_weights": False} for i in range(6)]
                          + [{"model": f"o{i}", "date": dt.date(2024, 1, 1) + dt.timedelta(days=40 * i + 7 * i * i),
                              "score": 100.5 + i, "open_weights": True} for i in range(6)], schema=gap.MODEL_SCHEMA)
    gaps = gap.horizontal_gaps(models, as_of=dt.date(2026, 1, 1))
    one, again = gap.mean_horizontal_gap(gaps), gap.mean_horizontal_gap(gaps)
    other = gap.mean_horizontal_gap(gaps, seed=1)
    assert one == again and (one["low"], one["high"]) != (other["low"], other["high"])
    assert one["low"] <= one["months"] <= one["high"]


def test_it_shows_the_window_beside_epochs_published_figures_on_the_methodology_page(loaded_db, client):
    gap_ = client.get(WINDOW).json()["gap"]
    page = client.get("/methodology").content.decode()
    section = page[page.index('id="open-closed-gap"'):]
    assert "3.5 months" in section and "1.1–5.3" in section and "7 ECI points" in section
    # Ours, rounded as the template rounds.
    months, low, high = (floatformat(gap_[k], 1) for k in ("months", "low", "high"))
    assert f"{months} months" in section and f"{low}–{high} (mean)" in section


@pytest.mark.parametrize("query", ["start=garbage", "end=2025-13-40", "start=2025-10-31&end=2023-01-01",
                                   "source=epoch", "rule=overlap", "start=2023-01-01%00"])
def test_it_answers_garbage_parameters_with_400(client, query):
    response = client.get(f"/api/metrics/open-closed-gap?{query}")
    assert response.status_code == 400


# --- made-up boundary cases ----------------------------------------------------------------------

def _frame(*rows):
    return pl.DataFrame([dict(zip(("model", "date", "score", "open_weights", "ci_lower", "ci_upper"), r))
                         for r in rows], schema=gap.MODEL_SCHEMA)


DAY = dt.date(2024, 6, 1)
AS_OF = dt.date(2025, 6, 1)


def test_it_counts_an_open_model_released_on_the_closed_models_day():
    models = _frame(("closed", DAY, 120.0, False, 118.0, 122.0), ("open", DAY, 121.0, True, 119.0, 123.0))
    row = gap.horizontal_gaps(models, as_of=AS_OF, rule="interval-difference").row(0, named=True)
    assert row["open_model"] == "open" and row["gap_days"] == 0 and row["matched"]


def test_it_needs_more_than_touching_intervals_for_the_difference_to_be_within_them():
    later = DAY + dt.timedelta(days=30)
    touching = _frame(("closed", DAY, 110.0, False, 107.0, 113.0), ("open", later, 100.0, True, 96.0, 107.0))
    # The intervals just touch (107.0): overlap counts it, a significance test does not.
    assert gap.horizontal_gaps(touching, as_of=AS_OF, rule="interval-overlap")["open_model"][0] == "open"
    assert gap.horizontal_gaps(touching, as_of=AS_OF, rule="interval-difference")["open_model"][0] is None
    # Half-widths 3 and 4 allow a difference of exactly 5: on the boundary counts.
    boundary = _frame(("closed", DAY, 105.0, False, 102.0, 108.0), ("open", later, 100.0, True, 96.0, 104.0))
    row = gap.horizontal_gaps(boundary, as_of=AS_OF, rule="interval-difference").row(0, named=True)
    assert row["open_model"] == "open" and row["gap_days"] == 30 and row["match_rule"] == "interval"


def test_it_keeps_a_closed_model_never_caught_up_out_of_the_mean_and_counts_it_censored():
    models = _frame(("caught", DAY, 120.0, False, 119.0, 121.0),
                    ("open", DAY + dt.timedelta(days=61), 120.5, True, 119.5, 121.5),
                    ("ahead", DAY + dt.timedelta(days=90), 140.0, False, 139.0, 141.0))
    gaps = gap.horizontal_gaps(models, as_of=AS_OF, rule="interval-difference")
    ahead = gaps.filter(pl.col("closed_model") == "ahead").row(0, named=True)
    assert not ahead["matched"] and ahead["gap_days"] == (AS_OF - ahead["closed_date"]).days
    summary = gap.mean_horizontal_gap(gaps)
    assert summary["months"] == round(61 / 30.44, 2) == summary["low"] == summary["high"]
    assert summary["matched"] == 1 and summary["censored"] == 1
    assert summary["censored_months"] == [round(ahead["gap_days"] / 30.44, 2)]


def test_it_falls_back_to_the_point_tolerance_where_a_score_has_no_interval():
    models = _frame(("closed", DAY, 120.0, False, None, None),
                    ("close-enough", DAY + dt.timedelta(days=10), 119.0, True, 118.0, 120.0),
                    ("too-low", DAY + dt.timedelta(days=5), 118.9, True, 110.0, 130.0))
    row = gap.horizontal_gaps(models, threshold=1.0, as_of=AS_OF, rule="interval-difference").row(0, named=True)
    assert row["open_model"] == "close-enough" and row["match_rule"] == "tolerance"
    assert gap.mean_horizontal_gap(gap.horizontal_gaps(models, threshold=1.0, as_of=AS_OF,
                                                       rule="interval-difference"))["rules"] == {"tolerance": 1}


def test_it_refuses_an_unknown_match_rule():
    models = _frame(("closed", DAY, 120.0, False, 119.0, 121.0), ("open", DAY, 121.0, True, 120.0, 122.0))
    with pytest.raises(ValueError, match=re.escape("unknown match rule 'loose'")):
        gap.horizontal_gaps(models, as_of=AS_OF, rule="loose")
