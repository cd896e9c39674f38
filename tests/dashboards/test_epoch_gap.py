"""The ECI horizontal gap reproduces the gaps Epoch's data publishes (data.json, benchmarks.eci.gaps).

Two checks: on data.json's own models and scores the metric must reproduce every published gap
within 0.1 month; on the imported eci_scores.csv (a different vintage of Epoch's data) every
row where both files hold the same closed model, the same first open match and the same dates
agrees within 0.1 month, and every other difference is listed with its cause.
"""

import datetime as dt
import json

import polars as pl
import pytest

from observatory.analytics import frames, gap

pytestmark = pytest.mark.django_db
ECI_THRESHOLD = 1.0  # data.json: benchmarks.eci.metadata.threshold


def _published(shared_data):
    document = json.loads((shared_data / "leaderboards" / "epoch" / "data.json").read_text(encoding="utf-8"))
    eci = document["benchmarks"]["eci"]
    assert eci["metadata"]["threshold"] == ECI_THRESHOLD
    as_of = dt.datetime.fromisoformat(document["last_updated"]).date()
    return eci, as_of


def _day(text):
    return dt.date.fromisoformat(text[:10]) if text else None


def test_it_reproduces_every_published_gap_from_the_same_models_and_scores(shared_data):
    eci, as_of = _published(shared_data)
    models = pl.DataFrame(
        [{"model": m["model"], "date": _day(m["date"]), "score": m["eci"], "open_weights": m["is_open"]}
         for m in eci["models"]], schema=gap.MODEL_SCHEMA)
    ours = {r["closed_model"]: r for r in gap.horizontal_gaps(models, threshold=ECI_THRESHOLD, as_of=as_of).to_dicts()}
    assert len(ours) == len(eci["gaps"])
    for published in eci["gaps"]:
        row = ours[published["closed_model"]]
        assert row["open_model"] == published["open_model"]
        assert row["matched"] == published["matched"]
        assert abs(row["gap_months"] - published["gap_months"]) <= 0.1, published["closed_model"]


def test_it_agrees_with_the_published_gaps_on_the_imported_vintage_and_explains_every_difference(loaded_db, client):
    eci, as_of = _published(loaded_db)
    entries = frames.leaderboard("epoch-eci")
    ours_models = {r["model"]: r for r in gap.released_models(entries).to_dicts()}
    ours = {r["closed_model"]: r for r in
            gap.horizontal_gaps(gap.released_models(entries), threshold=ECI_THRESHOLD, as_of=as_of).to_dicts()}
    theirs_models = {m["model"]: m for m in eci["models"]}

    agreed, differences = [], []
    for published in eci["gaps"]:
        name = published["closed_model"]
        row = ours.get(name)
        if row is None:
            cause = ("absent from eci_scores.csv" if name not in ours_models else
                     f"not a closed record in eci_scores.csv (ECI {ours_models[name]['score']:.2f} there vs "
                     f"{published['closed_eci']:.2f} in data.json)")
            differences.append((name, cause))
            continue
        same_dates = (row["closed_date"] == _day(published["closed_date"])
                      and row["open_date"] == _day(published["open_date"]))
        if row["open_model"] == published["open_model"] and same_dates:
            assert abs(row["gap_months"] - published["gap_months"]) <= 0.1, (name, row, published)
            agreed.append(name)
            continue
        other = published["open_model"]
        if other and other not in ours_models:
            cause = f"data.json's match {other} is absent from eci_scores.csv; ours is {row['open_model']}"
        elif other and ours_models[other]["date"] != _day(theirs_models[other]["date"]):
            cause = (f"data.json's match {other} is dated {theirs_models[other]['date'][:10]} there but "
                     f"{ours_models[other]['date']} in eci_scores.csv (a later version under the same name); "
                     f"ours is {row['open_model']}")
        elif other and ours_models[other]["score"] < row["closed_score"] - ECI_THRESHOLD:
            cause = (f"{other} scores {ours_models[other]['score']:.2f} in eci_scores.csv, more than 1 point under "
                     f"{name}'s {row['closed_score']:.2f} there; ours is {row['open_model']}")
        elif row["open_model"] and row["open_model"] not in theirs_models:
            cause = f"our match {row['open_model']} is only in eci_scores.csv"
        elif not same_dates:
            cause = "the closed model's release date differs between the vintages"
        else:
            cause = None  # no cause found: an unexplained difference, which fails below
        differences.append((name, cause))
    for name in ours.keys() - {g["closed_model"] for g in eci["gaps"]}:
        score = theirs_models[name]["eci"] if name in theirs_models else None
        where = ("absent from data.json" if score is None
                 else f"a closed record in eci_scores.csv, not in data.json (ECI {score:.2f} there)")
        differences.append((name, "only ours: " + where))
    print("\nAgreeing within 0.1 month:", ", ".join(agreed))
    print("Differences and their causes:")
    for name, cause in differences:
        print(f"  {name}: {cause}")
    assert len(agreed) >= 5
    assert [name for name, cause in differences if cause is None] == []

    # The metric endpoint carries the same horizontal gaps.
    body = client.get("/api/metrics/open-closed-gap?source=epoch-eci").json()
    assert {g["closed_model"] for g in body["horizontal_gaps"]} == set(ours)
    assert set(body["horizontal_gaps"][0]) >= {"closed_model", "closed_date", "open_model", "open_date", "gap_months",
                                                "matched"}
    assert body["sources"] == ["Epoch AI (CC-BY-4.0)"] and body["current_gap"]["estimated_months"] > 0
