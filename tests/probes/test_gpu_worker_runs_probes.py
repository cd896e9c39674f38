"""All three probes on SmolLM2-135M, and the benchmark and tooling probes on Gemma-3-270M, run by a
REAL Celery worker on the `gpu` queue (Redis broker, PostgreSQL rows); these tests read what it stored."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

from probes.finetune import DEFAULT_CONFIG as FINETUNE_DEFAULTS
from probes.itemsets import ITEMS_DIR
from probes.offline_models import GEMMA3_ID, SMOLLM2_ID
from probes.result import REQUIRED_METRICS, validate
from tests.probes.conftest import by_probe

pytestmark = [pytest.mark.django_db, pytest.mark.probes, pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres,
              pytest.mark.slow]


def test_it_runs_every_queued_probe_to_success_through_the_gpu_worker(worker_outcome):
    for run in worker_outcome["runs"].values():
        assert run["status"] == "succeeded", (run["hub_id"], run["probe"], run["error"], worker_outcome["logs"][-4000:])
        assert run["progress"] == 1.0
        assert run["attempts"] == 1
        assert run["heartbeat_at"] is not None and run["finished_at"] >= run["started_at"]


def test_it_writes_progress_and_steps_to_the_run_row_while_running(worker_outcome):
    smol_finetune = by_probe(worker_outcome, SMOLLM2_ID, "finetune")
    pk = next(pk for pk, r in worker_outcome["runs"].items() if r is smol_finetune)
    seen = [(status, progress, step) for i, status, progress, step in worker_outcome["observed"] if i == pk]
    running = [(p, s) for status, p, s in seen if status == "running"]
    assert len({s for _, s in running}) >= 5, running[:20]
    assert any("loss=" in s for _, s in running)
    progresses = [p for p, _ in running]
    assert progresses == sorted(progresses)  # monotone
    assert any(0.1 < p < 1.0 for p in progresses)


def test_it_stores_results_in_the_one_schema(worker_outcome):
    for run in worker_outcome["runs"].values():
        result = validate(run["result"])
        assert result["probe"] == run["probe"]
        assert set(REQUIRED_METRICS[run["probe"]]) <= set(result["metrics"])
        assert result["config"] == run["config"] and result["config_hash"] == run["config_hash"]
        assert result["versions"]["torch"] and result["versions"]["transformers"] and result["versions"]["peft"]
        assert result["device"] == {**result["device"], "type": "cpu", "dtype": "float32"}
        assert result["device"]["memory_after_release"]["allocated_bytes_after"] == 0
        assert result["model"]["name"] == run["hub_id"] and result["model"]["format"] == "gguf"
        assert result["model"]["origin"] == "registered"


@pytest.mark.parametrize("hub_id", [SMOLLM2_ID, GEMMA3_ID])
def test_it_scores_the_benchmark_well_above_chance_with_the_hashed_item_set(worker_outcome, hub_id):
    result = by_probe(worker_outcome, hub_id, "benchmark")["result"]
    metrics = result["metrics"]
    raw = (ITEMS_DIR / "benchmark-v1.jsonl").read_bytes()
    items = [json.loads(line) for line in raw.decode().splitlines()]
    assert metrics["item_set_hash"] == hashlib.sha256(raw).hexdigest()
    assert metrics["items"] == len(items) >= 300
    assert {i["kind"] for i in items} == set(metrics["by_kind"]) == {"arithmetic", "factual", "reasoning"}
    mc = [i for i in items if i["format"] == "mc"]
    chance = sum(1 / len(i["choices"]) for i in mc) / len(mc)
    assert chance + 0.1 < metrics["accuracy"] < 0.99
    assert chance < metrics["accuracy_norm"] < 0.99
    assert 0.05 < metrics["exact_match"] <= 1.0


@pytest.mark.parametrize("hub_id", [SMOLLM2_ID, GEMMA3_ID])
def test_it_aggregates_acc_and_acc_norm_from_the_per_choice_loglikelihoods(worker_outcome, hub_id):
    # An independent recomputation from the stored per-choice scores, lm-eval's way.
    result = by_probe(worker_outcome, hub_id, "benchmark")["result"]
    items = {json.loads(line)["id"]: json.loads(line)
             for line in (ITEMS_DIR / "benchmark-v1.jsonl").read_text().splitlines()}
    acc, acc_norm, n = 0, 0, 0
    for row in result["per_item"]:
        if row["format"] != "mc":
            continue
        item, lls = items[row["id"]], row["loglikelihoods"]
        assert len(lls) == len(item["choices"]) and all(ll <= 0 for ll in lls)
        acc += max(range(len(lls)), key=lls.__getitem__) == item["gold"]
        normed = [ll / len(c) for ll, c in zip(lls, item["choices"])]
        acc_norm += max(range(len(lls)), key=normed.__getitem__) == item["gold"]
        n += 1
    assert result["metrics"]["accuracy"] == pytest.approx(acc / n, abs=1e-4)
    assert result["metrics"]["accuracy_norm"] == pytest.approx(acc_norm / n, abs=1e-4)


@pytest.mark.parametrize("hub_id", [SMOLLM2_ID, GEMMA3_ID])
def test_it_writes_an_lm_eval_shaped_results_file_for_the_benchmark(worker_outcome, hub_id):
    # Every figure of the lm-eval block against the items file and the stored per-item scores,
    # recomputed here with plain loops (argmax of the loglikelihoods, exact match of the outputs),
    # not against the probe's own metrics, which share the code that wrote the block.
    result = by_probe(worker_outcome, hub_id, "benchmark")["result"]
    lm_eval, task = result["lm_eval"], "observatory_benchmark_v1"
    raw = (ITEMS_DIR / "benchmark-v1.jsonl").read_bytes()
    items = {item["id"]: item for item in (json.loads(line) for line in raw.decode().splitlines())}
    rows = {row["id"]: row for row in result["per_item"]}
    assert set(rows) == set(items)
    hits: dict[str, list[float]] = {}  # block name -> [acc hits, acc_norm hits, exact hits, mc n, gen n]
    for item_id, item in items.items():
        row = rows[item_id]
        for block in (task, f"{task}_{item['kind']}", f"{task}_gen" if item["format"] == "gen" else None):
            if block is not None:
                hits.setdefault(block, [0, 0, 0, 0, 0])
        if item["format"] == "mc":
            lls = row["loglikelihoods"]
            best = max(range(len(lls)), key=lls.__getitem__)
            best_norm = max(range(len(lls)), key=lambda k: lls[k] / len(item["choices"][k]))
            for block in (task, f"{task}_{item['kind']}"):
                hits[block][0] += best == item["gold"]
                hits[block][1] += best_norm == item["gold"]
                hits[block][3] += 1
        else:
            for block in (f"{task}_gen", f"{task}_{item['kind']}"):
                hits[block][2] += row["output"].strip() == item["answer"].strip()
                hits[block][4] += 1
    assert set(lm_eval["results"]) == set(hits)
    for block, (acc, acc_norm, exact, n_mc, n_gen) in hits.items():
        got = lm_eval["results"][block]
        if n_mc:
            assert got["acc,none"] == pytest.approx(acc / n_mc, abs=1e-6), block
            assert got["acc_norm,none"] == pytest.approx(acc_norm / n_mc, abs=1e-6), block
        if n_gen:
            assert got["exact_match,none"] == pytest.approx(exact / n_gen, abs=1e-6), block
        else:
            assert got.get("exact_match,none") is None, block  # no generative items here
    n_mc = sum(item["format"] == "mc" for item in items.values())
    assert lm_eval["n-samples"][task] == {"original": n_mc, "effective": n_mc}
    assert lm_eval["task_hashes"][task] == hashlib.sha256(raw).hexdigest()
    assert lm_eval["configs"][task]["target_delimiter"] == " " and lm_eval["configs"][task]["num_fewshot"] == 0
    assert lm_eval["model_name"] == hub_id


def test_it_shows_a_real_loss_drop_when_fine_tuning_with_lora(worker_outcome):
    metrics = by_probe(worker_outcome, SMOLLM2_ID, "finetune")["result"]["metrics"]
    assert metrics["final_loss"] < 0.5 * metrics["initial_loss"]
    assert metrics["heldout_gain"] > 0.5
    for task, row in metrics["tasks"].items():
        curve = row["loss_curve"]
        assert len(curve) == FINETUNE_DEFAULTS["steps"]
        assert sum(curve[-4:]) / 4 < sum(curve[:4]) / 4, task
        assert row["heldout_after"] < row["heldout_before"], task
    assert set(metrics["steps_to_target"]) == set(FINETUNE_DEFAULTS["tasks"]) and len(metrics["tasks"]) >= 3


def test_it_reports_forgetting_lr_sweep_memory_and_throughput(worker_outcome):
    run = by_probe(worker_outcome, SMOLLM2_ID, "finetune")
    metrics = run["result"]["metrics"]
    assert math.isfinite(metrics["forgetting"]) and metrics["general_nll_before"] > 0
    assert len(metrics["lr_sweep"]) == 3 and metrics["lr_sensitivity"] >= 0
    assert isinstance(metrics["diverged"], bool)
    assert 100 < metrics["peak_memory_mb"] < 4096  # the 4 GiB budget on the CPU runner
    assert metrics["tokens_per_second"] > 0 and metrics["wall_seconds"] > 0
    assert metrics["train_tokens"] > 0 and metrics["trainable_params"] > 0
    assert run["config"]["seed"] == FINETUNE_DEFAULTS["seed"] and run["config"]["lora"]["r"] == 8


def test_it_reports_each_tooling_check_with_its_error_text(worker_outcome):
    result = by_probe(worker_outcome, SMOLLM2_ID, "tooling")["result"]
    checks = {c["name"]: c for c in result["checks"]}
    assert set(checks) == {"loads_without_remote_code", "safetensors_present", "chat_template_present",
                           "chat_template_renders", "tokenizer_round_trips", "generation_sane", "peft_attaches",
                           "save_reload_same_logits"}
    # The registered source is a GGUF file: the safetensors check fails and says why.
    assert not checks["safetensors_present"]["passed"] and "gguf" in checks["safetensors_present"]["error"]
    for name in ("loads_without_remote_code", "chat_template_present", "chat_template_renders",
                 "tokenizer_round_trips", "generation_sane", "peft_attaches", "save_reload_same_logits"):
        assert checks[name]["passed"], checks[name]
    assert result["metrics"]["checks_passed"] == 7 and result["metrics"]["checks_total"] == 8


def test_it_runs_gemma_through_the_same_path_with_the_same_configs(worker_outcome):
    for probe in ("benchmark", "tooling"):
        gemma, smol = by_probe(worker_outcome, GEMMA3_ID, probe), by_probe(worker_outcome, SMOLLM2_ID, probe)
        assert gemma["config_hash"] == smol["config_hash"], probe  # results compare
        assert gemma["result"]["model"]["architecture"].startswith("gemma3")
        assert gemma["result"]["model"]["n_params"] > 2 * 10**8 > smol["result"]["model"]["n_params"]
    assert (by_probe(worker_outcome, GEMMA3_ID, "benchmark")["result"]["metrics"]["item_set_hash"]
            == by_probe(worker_outcome, SMOLLM2_ID, "benchmark")["result"]["metrics"]["item_set_hash"])
    checks = {c["name"]: c for c in by_probe(worker_outcome, GEMMA3_ID, "tooling")["result"]["checks"]}
    assert checks["loads_without_remote_code"]["passed"] and checks["peft_attaches"]["passed"]
    assert checks["save_reload_same_logits"]["passed"], checks["save_reload_same_logits"]


def test_it_feeds_full_benchmark_scores_to_the_open_closed_gap(worker_outcome):
    entries = {e["model_name"]: e for e in worker_outcome["leaderboard"]}
    assert set(entries) == {SMOLLM2_ID, GEMMA3_ID}  # one entry a benchmarked model; tooling and fine-tune feed nothing
    for hub_id, organization in ((SMOLLM2_ID, "HuggingFaceTB"), (GEMMA3_ID, "google")):
        entry = entries[hub_id]
        assert entry["benchmark"] == "observatory-benchmark" and entry["open_weights"] is True
        assert entry["score"] == by_probe(worker_outcome, hub_id, "benchmark")["result"]["metrics"]["accuracy"]
        assert entry["organization"] == organization


def test_it_serves_probe_run_status_as_json(worker_outcome, client):
    pk = next(pk for pk, r in worker_outcome["runs"].items()
              if r["probe"] == "tooling" and r["hub_id"] == SMOLLM2_ID)
    body = client.get(f"/api/probe-runs/{pk}").json()
    assert body["status"] == "succeeded" and body["probe"] == "tooling" and body["hub_id"] == SMOLLM2_ID
    assert body["result"]["metrics"]["checks_total"] == 8
    assert client.get("/api/probe-runs/999999999").status_code == 404


def test_it_renders_the_model_card_partial_comparing_the_two_models(worker_outcome):
    from django.template.loader import render_to_string

    from gpu_workers.models import ProbeRun

    probe_runs = ProbeRun.objects.select_related("run").filter(hub_id=SMOLLM2_ID, pk__in=worker_outcome["ids"])
    html = render_to_string("gpu_workers/model_probes.html", {"probe_runs": probe_runs})
    assert html.count(GEMMA3_ID) == 2  # a peer column in each table both ran: same configs, so comparable
    for hub_id in (SMOLLM2_ID, GEMMA3_ID):
        metrics = by_probe(worker_outcome, hub_id, "benchmark")["result"]["metrics"]
        assert f"{100 * metrics['accuracy']:.1f} %" in html
    assert "fail: weights are gguf" in html and html.count(">pass<") >= 7
    assert "Fine-tunability" in html and "Tooling readiness" in html and "Held-out gain" in html
    assert "Source: Open Model Observatory probes" in html
