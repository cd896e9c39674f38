"""The model card's public-benchmark table: the newest public run on each public item set, with
its subset size and item-set hash; the project's own set and private runs stay out of it."""

from __future__ import annotations

import datetime as dt

import pytest

from observatory.catalog.models import HubModel, Organization
from tests.probe_rows import finished_run

T = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)


def bench_metrics(item_set: str, items: int, digest: str, **scores) -> dict:
    base = {"accuracy": None, "accuracy_norm": None, "exact_match": None, "items": items, "item_set": item_set,
            "item_set_hash": digest, "by_kind": {}, "mc_items": items, "gen_items": 0}
    return {**base, **scores}


@pytest.mark.django_db
def test_the_card_shows_each_public_benchmark_with_subset_size_and_hash(client):
    org = Organization.objects.create(namespace="acme", region="us")
    model = HubModel.objects.create(hub_id="acme/small", organization=org)
    finished_run(model, "benchmark", finished=T - dt.timedelta(days=3),
                 config={"item_set": "hellaswag", "limit": 1000},
                 metrics=bench_metrics("hellaswag[limit=1000]", 1000, "1" * 64, accuracy=0.3, accuracy_norm=0.35))
    finished_run(model, "benchmark", finished=T, config={"item_set": "hellaswag", "limit": 1000},
                 metrics=bench_metrics("hellaswag[limit=1000]", 1000, "a" * 64, accuracy=0.3125, accuracy_norm=0.4))
    finished_run(model, "benchmark", finished=T, config={"item_set": "gsm8k"},
                 metrics=bench_metrics("gsm8k", 1319, "b" * 64, exact_match_strict=0.02, exact_match_flexible=0.031))
    finished_run(model, "benchmark", finished=T, metrics=bench_metrics("benchmark-v1", 382, "c" * 64, accuracy=0.6))
    finished_run(model, "benchmark", finished=T + dt.timedelta(days=1), config={"item_set": "mmlu-redux"},
                 public=False, metrics=bench_metrics("mmlu-redux", 5700, "d" * 64, accuracy=0.9, accuracy_ok=0.9))
    html = client.get("/models/acme/small").content.decode()
    table = html.split('id="public-benchmarks"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert len(rows) == 2  # hellaswag then gsm8k; v1 and the private MMLU-Redux run are not public benchmarks
    assert "hellaswag" in rows[0] and "acc 31.2 %" in rows[0] and "acc_norm 40.0 %" in rows[0]
    assert "1000 (subset)" in rows[0] and "aaaaaaaaaaaa" in rows[0] and "111111111111" not in table
    assert "gsm8k" in rows[1] and "exact match, strict 2.0 %" in rows[1] and "exact match, flexible 3.1 %" in rows[1]
    assert "1319<" in rows[1] and "(subset)" not in rows[1] and "bbbbbbbbbbbb" in rows[1]
    assert "mmlu-redux" not in table and "cccccccccccc" not in table


@pytest.mark.django_db
def test_the_cards_own_set_profile_stays_the_own_set_run_when_a_public_set_run_finishes_later(client):
    # The release watch plans the benchmark probe on the own set and on each public set; whichever
    # finishes last, the "Observatory probes" benchmark section shows the own set's run.
    org = Organization.objects.create(namespace="acme", region="us")
    model = HubModel.objects.create(hub_id="acme/small", organization=org)
    finished_run(model, "benchmark", finished=T, metrics=bench_metrics("benchmark-v1", 382, "c" * 64, accuracy=0.6))
    finished_run(model, "benchmark", finished=T + dt.timedelta(hours=1), config={"item_set": "mmlu-redux", "limit": 2},
                 metrics=bench_metrics("mmlu-redux[limit=2]", 2, "d" * 64, accuracy=0.5, accuracy_ok=0.5))
    html = client.get("/models/acme/small").content.decode()
    section = html.split('class="probe-section probe-benchmark"')[1].split("</figure>")[0]
    assert "items cccccccccccc" in section and "60.0 %" in section
    assert "dddddddddddd" not in section and "50.0 %" not in section
    assert "mmlu-redux" in html.split('id="public-benchmarks"')[1].split("</table>")[0]


@pytest.mark.django_db
def test_the_methodology_page_explains_each_public_prompt_and_metric(client):
    html = client.get("/methodology").content.decode()
    section = html.split('id="public-benchmarks"')[1].split("<h2")[0]
    for phrase in ("activity_label: ctx", "about {subject}.", "error_type", "the train file's first five",
                   "exact match, strict", "exact match, flexible", "acc_norm", "seed 20261201", "item-set hash",
                   "benchmark-v1", "at most 6 new tokens", "sorted by length", "<code>source=probe</code> draws"):
        assert phrase in section, phrase
