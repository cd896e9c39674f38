"""The fine-tunability leaderboard: SmolLM2 and Gemma-3-270M side by side (page, JSON, CSV,
embed), ranked only among runs of one config and saying which, filtered by region, size class
and licence class; each model's latest public run counts, and a private run shows nowhere."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from observatory.catalog.models import HubModel, Organization
from probes.offline_models import GEMMA3_ID, SMOLLM2_ID
from probes.result import config_hash, full_config
from tests.probe_rows import at, finetune_metrics, finished_run

pytestmark = pytest.mark.django_db
DEFAULT_HASH = config_hash("finetune", full_config("finetune"))
LONG_HASH = config_hash("finetune", full_config("finetune", {"steps": 20}))
PRIVATE_GAIN = 0.8123


def build():
    hf = Organization.objects.create(namespace="HuggingFaceTB", region="us")
    google = Organization.objects.create(namespace="google", region="us")
    qwen = Organization.objects.create(namespace="Qwen", region="china")
    smol = HubModel.objects.create(hub_id=SMOLLM2_ID, organization=hf, size_class="<1B", licence_class="permissive",
                                   licence_id="apache-2.0", release_date=dt.date(2024, 11, 1))
    gemma = HubModel.objects.create(hub_id=GEMMA3_ID, organization=google, size_class="<1B", licence_class="restricted",
                                    licence_id="gemma", release_date=dt.date(2025, 8, 14))
    qwen_model = HubModel.objects.create(hub_id="Qwen/Qwen3-0.6B", organization=qwen, size_class="<1B",
                                         licence_class="permissive", licence_id="apache-2.0")
    day = dt.date(2025, 9, 1)
    # An older SmolLM2 run with other numbers: the newer one counts.
    finished_run(smol, "finetune", finished=at(day), metrics=finetune_metrics(
        curve=[4.0, 3.5, 3.2, 3.0, 2.9, 2.8, 2.7, 2.6, 2.6, 2.5], heldout_gain=0.2, forgetting=0.3, lr_sensitivity=0.5))
    finished_run(smol, "finetune", finished=at(day + dt.timedelta(days=1)), metrics=finetune_metrics(
        curve=[3.9, 3.1, 2.6, 2.1, 1.8, 1.5, 1.3, 1.2, 1.1, 1.0], heldout_gain=0.9, forgetting=0.05, lr_sensitivity=0.31,
        steps={"addition": 10, "uppercase": 6, "reverse": None}, peak_memory_mb=1450.0, tokens_per_second=1210.5,
        wall_seconds=88.2))
    finished_run(gemma, "finetune", finished=at(day + dt.timedelta(days=2)), metrics=finetune_metrics(
        curve=[5.2, 4.0, 3.1, 2.4, 1.9, 1.5, 1.2, 1.0, 0.9, 0.8], heldout_gain=1.3, forgetting=0.12, lr_sensitivity=0.44,
        steps={"addition": 8, "uppercase": 5, "reverse": 9}, peak_memory_mb=2310.0, tokens_per_second=640.0,
        wall_seconds=171.0))
    # A lab's private Gemma run, newer and better: it must change nothing.
    finished_run(gemma, "finetune", finished=at(day + dt.timedelta(days=3)), public=False, metrics=finetune_metrics(
        curve=[5.2, 3.0, 1.0, 0.5, 0.4, 0.3, 0.3, 0.3, 0.3, 0.3], heldout_gain=PRIVATE_GAIN, forgetting=0.0,
        lr_sensitivity=0.1))
    # Another config (twice the steps): ranked on its own.
    finished_run(qwen_model, "finetune", finished=at(day), config={"steps": 20}, metrics=finetune_metrics(
        curve=[3.0 - 0.1 * i for i in range(20)], heldout_gain=2.0, forgetting=0.01, lr_sensitivity=0.2))


def rows(client, query: str = "") -> dict:
    response = client.get(f"/api/metrics/fine-tunability{query}")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def test_smollm2_and_gemma_appear_side_by_side_ranked_within_their_config(client):
    build()
    body = rows(client)
    # By hand: the default config holds Gemma (gain 1.3) and SmolLM2's newer run (0.9); Qwen's
    # 20-step run is the only one of its config.
    table = [(r["config_hash"], r["rank"], r["hub_id"], r["heldout_gain"], r["models_in_config"]) for r in body["rows"]]
    assert table == [(DEFAULT_HASH, 1, GEMMA3_ID, 1.3, 2), (DEFAULT_HASH, 2, SMOLLM2_ID, 0.9, 2),
                     (LONG_HASH, 1, "Qwen/Qwen3-0.6B", 2.0, 1)]
    smol = next(r for r in body["rows"] if r["hub_id"] == SMOLLM2_ID)
    assert (smol["steps_to_target_mean"], smol["targets_reached"], smol["targets_total"]) == (8.0, 2, 3)
    assert (smol["forgetting"], smol["lr_sensitivity"], smol["diverged"], smol["peak_memory_mb"],
            smol["tokens_per_second"], smol["wall_seconds"]) == (0.05, 0.31, False, 1450.0, 1210.5, 88.2)
    assert body["ranked_config"] == DEFAULT_HASH
    assert [(c["config_hash"], c["models"]) for c in body["configs"]] == [(DEFAULT_HASH, 2), (LONG_HASH, 1)]
    assert "10 steps" in body["configs"][0]["summary"] and "20 steps" in body["configs"][1]["summary"]
    assert body["methodology"] == {"metric": "fine-tunability/v1"}


def test_the_page_draws_both_loss_curves_and_says_which_config(client):
    build()
    page = client.get("/dashboards/fine-tunability").content.decode()
    assert f"Config {DEFAULT_HASH[:12]} (2 models)" in page and f"Config {LONG_HASH[:12]} (1 model)" in page
    assert "Ranked only among runs with this config: tasks addition, uppercase, reverse; 10 steps" in page
    table = page[page.index(f'id="fine-tunability-{DEFAULT_HASH[:12]}"'):]
    table = table[:table.index("</table>")]
    assert table.index(GEMMA3_ID) < table.index(SMOLLM2_ID)
    # The figure's JSON data block writes a slash as \u002f.
    chart = page[page.index('id="chart-panel"'):page.index('id="exports"')].replace("\\u002f", "/")
    assert "1. google/gemma-3-270m" in chart and "2. HuggingFaceTB/SmolLM2-135M-Instruct" in chart
    embed = client.get("/embed/fine-tunability")
    assert embed.status_code == 200 and "gemma-3-270m" in embed.content.decode()


def test_the_csv_holds_the_same_rows(client):
    build()
    text = client.get("/api/metrics/fine-tunability?format=csv").content.decode()
    assert "# methodology: metric=fine-tunability/v1" in text
    data = list(csv.DictReader(io.StringIO("\n".join(line for line in text.splitlines() if not line.startswith("#")))))
    assert [(d["hub_id"], d["rank"]) for d in data] == [(GEMMA3_ID, "1"), (SMOLLM2_ID, "2"), ("Qwen/Qwen3-0.6B", "1")]


def test_it_filters_by_licence_class_region_and_size_class(client):
    build()
    assert [r["hub_id"] for r in rows(client, "?licence_class=permissive")["rows"]] == [SMOLLM2_ID, "Qwen/Qwen3-0.6B"]
    assert [r["hub_id"] for r in rows(client, "?licence_class=restricted")["rows"]] == [GEMMA3_ID]
    assert [r["hub_id"] for r in rows(client, "?region=china")["rows"]] == ["Qwen/Qwen3-0.6B"]
    assert rows(client, "?size_class=1-5B")["rows"] == []
    # Alone in its config now, SmolLM2 ranks first.
    assert [(r["hub_id"], r["rank"]) for r in rows(client, "?licence_class=permissive&region=us")["rows"]] == [
        (SMOLLM2_ID, 1)]
    bad = client.get("/api/metrics/fine-tunability?licence_class=public-domain")
    assert bad.status_code == 400 and "licence_class must be one of" in bad.json()["error"]


def test_a_private_run_shows_nowhere(client):
    build()
    for path in ("/api/metrics/fine-tunability", "/api/metrics/fine-tunability?format=csv",
                 "/dashboards/fine-tunability", "/embed/fine-tunability"):
        assert str(PRIVATE_GAIN) not in client.get(path).content.decode(), path
