"""The benchmark probe against lm-evaluation-harness on the same model object and the same items.

    .venv/bin/python bench/probe_vs_lm_eval.py [--model smollm2|gemma|/path/to.gguf] [--limit N]
    .venv/bin/python bench/probe_vs_lm_eval.py --item-set hellaswag|mmlu-redux|gsm8k --limit N [--data-dir D]

Loads the model once (probes.loading), scores the multiple-choice items of the project's item set
with the probe, then hands the same model object to lm-eval's HFLM and runs the same items as a
local task (YAML + JSONL written to a temp dir at run time). Prints both accuracies (they must agree
within 0.5 point; exit status 1 otherwise), per-item disagreements, and both throughputs as a ratio.
Needs `pip install -e '.[probes,bench]'`.

With --item-set naming a public set, lm-eval runs its own installed task definitions (the
`hellaswag`, `mmlu_<subject>` and `gsm8k` YAMLs, included as they are) with only the dataset
pointed at local files (dataset_path json + data_files, offline) holding the probe's subset; see
bench/public_lm_eval.py. It also checks that lm-eval built the very prompts the probe scored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TASK_YAML = """task: observatory_mc
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: "{{{{context}}}}"
doc_to_choice: choices
doc_to_target: gold
target_delimiter: " "
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def main() -> int:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--limit", type=int, default=None, help="first N items of each kind (default: all)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--json", help="write the numbers here")
    parser.add_argument("--item-set", default="benchmark-v1",
                        choices=("benchmark-v1", "hellaswag", "mmlu-redux", "gsm8k"))
    parser.add_argument("--gen-batch-size", type=int, default=8, help="generation batch (gsm8k), both sides")
    parser.add_argument("--data-dir", default=os.environ.get("OBSERVATORY_DATA_DIR")
                        or str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="the data directory (its benchmarks/ folder); default OBSERVATORY_DATA_DIR")
    args = parser.parse_args()
    if args.item_set != "benchmark-v1":
        from public_lm_eval import compare_public

        return compare_public(args)

    from probes.benchmark import DEFAULT_CONFIG, run_benchmark
    from probes.itemsets import ItemSet, load_item_set
    from probes.loading import load_model
    from probes.offline_models import gemma3_gguf, smollm2_gguf
    from probes.progress import Reporter
    from probes.sources import resolve_source

    path = {"smollm2": smollm2_gguf, "gemma": gemma3_gguf}.get(args.model, lambda: Path(args.model))()
    loaded = load_model(resolve_source(str(path), allow_local_paths=True))
    full = load_item_set(limit=args.limit)
    items = ItemSet(name=full.name, items=full.mc, sha256=full.sha256)
    print(f"model={path.name} params={loaded.n_params / 1e6:.0f}M device={loaded.device} items={len(items.items)} "
          f"item_set={items.sha256[:12]}", flush=True)

    config = {**DEFAULT_CONFIG, "batch_size": args.batch_size}
    # Warm up (first-call allocation and kernel selection) so neither side pays it in the timing.
    run_benchmark(loaded, ItemSet(name="warmup", items=items.items[:4], sha256=""), config, Reporter(None))
    started = time.perf_counter()
    ours = run_benchmark(loaded, items, config, Reporter(None))
    ours_seconds = time.perf_counter() - started

    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    with tempfile.TemporaryDirectory(prefix="lm-eval-task-") as tmp:
        data = Path(tmp) / "items.jsonl"
        data.write_text("".join(json.dumps({"id": i["id"], "context": i["context"], "choices": i["choices"],
                                            "gold": i["gold"]}) + "\n" for i in items.items))
        (Path(tmp) / "observatory_mc.yaml").write_text(TASK_YAML.format(data=data))
        loaded.tokenizer.padding_side = "right"
        lm = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=args.batch_size,
                  device=loaded.device)
        started = time.perf_counter()
        out = lm_eval.simple_evaluate(model=lm, tasks=["observatory_mc"], task_manager=TaskManager(include_path=tmp),
                                      log_samples=True, num_fewshot=0)
        theirs_seconds = time.perf_counter() - started
    row = out["results"]["observatory_mc"]
    theirs_acc, theirs_norm = row["acc,none"], row["acc_norm,none"]
    ours_acc, ours_norm = ours["metrics"]["accuracy"], ours["metrics"]["accuracy_norm"]
    samples = out["samples"]["observatory_mc"]
    ours_by_id = {r["id"]: r for r in ours["per_item"]}
    disagreements = sum(1 for s in samples if float(s["acc"]) != ours_by_id[s["doc"]["id"]]["acc"])
    max_ll_diff = 0.0
    for s in samples:
        theirs_lls = [float(r[0]) for r in s["filtered_resps"]]
        max_ll_diff = max(max_ll_diff, *(abs(a - b) for a, b in zip(theirs_lls, ours_by_id[s["doc"]["id"]]["loglikelihoods"])))
    n = len(items.items)
    report = {
        "model": path.name, "items": n, "item_set_hash": items.sha256,
        "probe_accuracy": ours_acc, "lm_eval_accuracy": theirs_acc,
        "probe_accuracy_norm": ours_norm, "lm_eval_accuracy_norm": theirs_norm,
        "accuracy_diff_points": round(100 * abs(ours_acc - theirs_acc), 3),
        "accuracy_norm_diff_points": round(100 * abs(ours_norm - theirs_norm), 3),
        "item_disagreements": disagreements, "max_loglikelihood_diff": round(max_ll_diff, 5),
        "probe_seconds": round(ours_seconds, 2), "lm_eval_seconds": round(theirs_seconds, 2),
        "probe_items_per_second": round(n / ours_seconds, 2), "lm_eval_items_per_second": round(n / theirs_seconds, 2),
        "throughput_ratio_probe_over_lm_eval": round(theirs_seconds / ours_seconds, 3),
        "lm_eval_version": __import__("importlib.metadata").metadata.version("lm-eval"),
        "threads": __import__("torch").get_num_threads(),
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    agree = report["accuracy_diff_points"] <= 0.5 and report["accuracy_norm_diff_points"] <= 0.5
    print("AGREE within 0.5 point" if agree else "DISAGREE by more than 0.5 point")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
