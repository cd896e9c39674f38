"""The open/closed gap's `source=probe` draws the probes' public-benchmark scores: one public set at
one subset size (the one most models ran), its headline score, named with its size in the chart;
the project's own item set and a lab's private run never appear in it."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from gpu_workers.leaderboard import record_probe_score
from observatory.catalog.models import HubModel, Organization
from tests.probe_rows import finished_run

pytestmark = pytest.mark.django_db
T = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
GAP = "/api/metrics/open-closed-gap?source=probe"


def metrics(item_set: str, items: int, **scores) -> dict:
    return {"accuracy": None, "accuracy_norm": None, "exact_match": None, "items": items, "item_set": item_set,
            "item_set_hash": "e" * 64, "by_kind": {}, "mc_items": items, "gen_items": 0, **scores}


def fed(model, item_set, limit, label, items, *, finished=T, public=True, **scores):
    run = finished_run(model, "benchmark", finished=finished, public=public,
                       config={"item_set": item_set, "limit": limit}, metrics=metrics(label, items, **scores))
    return record_probe_score(run)


@pytest.fixture
def models():
    org = Organization.objects.create(namespace="gapprobe", region="us")
    lab = Organization.objects.create(namespace="gapprobe-lab", region="fr")
    released = {"a": dt.date(2025, 1, 10), "b": dt.date(2025, 3, 1), "c": dt.date(2025, 2, 1), "d": dt.date(2025, 4, 1)}
    made = {key: HubModel.objects.create(hub_id=f"gapprobe/{key}", organization=org, release_date=day)
            for key, day in released.items()}
    made["secret"] = HubModel.objects.create(hub_id="gapprobe-lab/secret", organization=lab,
                                             release_date=dt.date(2025, 5, 1))
    return made


def test_it_draws_the_most_run_public_subset_with_its_headline_score(client, models):
    # HellaSwag at 1,000 items: three public models (c's newer run counts), and a private one.
    fed(models["a"], "hellaswag", 1000, "hellaswag[limit=1000]", 1000, accuracy=0.33, accuracy_norm=0.40)
    fed(models["b"], "hellaswag", 1000, "hellaswag[limit=1000]", 1000, accuracy=0.45, accuracy_norm=0.52)
    fed(models["c"], "hellaswag", 1000, "hellaswag[limit=1000]", 1000, finished=T - dt.timedelta(days=2),
        accuracy=0.30, accuracy_norm=0.30)
    fed(models["c"], "hellaswag", 1000, "hellaswag[limit=1000]", 1000, accuracy=0.31, accuracy_norm=0.35)
    assert fed(models["secret"], "hellaswag", 1000, "hellaswag[limit=1000]", 1000, public=False,
               accuracy=0.85, accuracy_norm=0.8765) is None
    # Fewer models on the others: MMLU-Redux at 1,000 (two), HellaSwag at 200 (one, other items).
    fed(models["a"], "mmlu-redux", 1000, "mmlu-redux[limit=1000]", 1000, accuracy=0.2913, accuracy_ok=0.3)
    fed(models["d"], "mmlu-redux", 1000, "mmlu-redux[limit=1000]", 1000, accuracy=0.31, accuracy_ok=0.32)
    fed(models["d"], "hellaswag", 200, "hellaswag[limit=200]", 200, accuracy=0.5, accuracy_norm=0.6131)
    # The project's own set, run whole by all four: the most covered benchmark, yet never drawn.
    for key in "abcd":
        fed(models[key], "benchmark-v1", None, "benchmark-v1", 382, accuracy=0.9717, accuracy_norm=0.96)

    body = json.loads(client.get(GAP).content)
    assert body["benchmark"] == "hellaswag[limit=1000]"
    assert (body["item_set"], body["subset_size"], body["metric"]) == ("hellaswag", 1000, "acc_norm")
    assert body["source_label"] == "observatory probes: HellaSwag acc_norm, 1,000-item subset"
    # One frontier row per release date (the models' own), the open best so far; nothing closed.
    assert [(r["date"], r["open_best"], r["open_model"]) for r in body["rows"]] == [
        ("2025-01-10", 0.40, "gapprobe/a"), ("2025-02-01", 0.40, "gapprobe/a"), ("2025-03-01", 0.52, "gapprobe/b")]
    assert all(r["closed_best"] is None for r in body["rows"]) and body["horizontal_gaps"] == []
    text = json.dumps(body)
    for absent in ("secret", "0.8765", "0.6131", "0.9717", "0.2913", "gapprobe/d"):
        assert absent not in text, absent

    page = client.get("/dashboards/open-closed-gap?source=probe").content.decode()
    assert "HellaSwag acc_norm, 1,000-item subset" in page and "secret" not in page


def test_a_full_set_is_named_as_such_and_gsm8k_draws_strict_exact_match(client, models):
    fed(models["a"], "gsm8k", None, "gsm8k", 1319, exact_match=0.02, exact_match_strict=0.02,
        exact_match_flexible=0.05)
    fed(models["b"], "gsm8k", None, "gsm8k", 1319, exact_match=0.07, exact_match_strict=0.07,
        exact_match_flexible=0.09)
    body = json.loads(client.get(GAP).content)
    assert body["source_label"] == "observatory probes: GSM8K exact match, strict, full set"
    assert body["subset_size"] is None
    assert [(r["date"], r["open_best"]) for r in body["rows"]] == [("2025-01-10", 0.02), ("2025-03-01", 0.07)]


def test_without_public_set_runs_the_probe_gap_is_empty(client, models):
    fed(models["a"], "benchmark-v1", None, "benchmark-v1", 382, accuracy=0.97, accuracy_norm=0.96)
    body = json.loads(client.get(GAP).content)
    assert body["rows"] == [] and "benchmark" not in body
