"""The public-set half of bench/probe_vs_lm_eval.py: the probe and lm-evaluation-harness's own
`hellaswag`, `mmlu_<subject>` and `gsm8k` tasks on one model object and one subset.

Each lm-eval task is a YAML that `include`s the installed task file unchanged and overrides only
where the documents come from (`dataset_path: json`, `dataset_kwargs.data_files`), so lm-eval's
process_docs, templates, few-shot sampler, generation settings, filters and metrics all apply.
The documents are the probe's subset in the fields those tasks read:
- hellaswag: activity_label, ctx_a = the file's ctx, ctx_b = "" (the file does not split ctx),
  endings (raw; lm-eval's process_docs cleans them), label;
- mmlu: question, choices, answer, one file per subject (0-shot; dev = the same file, never sampled);
- gsm8k: question, answer; train = the shared train file, with `fewshot_config.sampler: first_n`
  so the five shots are the train file's first five, as in the probe.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import yaml


def _task_dir() -> Path:
    import lm_eval.tasks

    return Path(lm_eval.tasks.__file__).resolve().parent


def _write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


def write_tasks(item_set: str, items: list[dict], tmp: Path, benchmarks: Path) -> list[str]:
    """Write the YAML + JSONL of the lm-eval tasks for these items; return the task names."""
    tasks = _task_dir()
    specs: list[tuple[str, dict]] = []
    if item_set == "hellaswag":
        docs = [{"id": i["id"], "activity_label": i["activity_label"], "ctx_a": i["ctx"], "ctx_b": "",
                 "endings": i["endings"], "label": str(i["gold"])} for i in items]
        specs.append(("observatory_hellaswag", {
            "include": str(tasks / "hellaswag" / "hellaswag.yaml"), "dataset_path": "json", "dataset_name": None,
            "dataset_kwargs": {"data_files": {"validation": _write_jsonl(tmp / "hellaswag.jsonl", docs)}},
            "training_split": None}))
    elif item_set == "mmlu-redux":
        for subject in sorted({i["kind"] for i in items}):
            docs = [{"id": i["id"], "question": i["question"], "subject": subject, "choices": i["subject_choices"],
                     "answer": i["gold"]} for i in items if i["kind"] == subject]
            data = _write_jsonl(tmp / f"mmlu_{subject}.jsonl", docs)
            specs.append((f"observatory_mmlu_{subject}", {
                "include": str(tasks / "mmlu" / "default" / f"mmlu_{subject}.yaml"), "dataset_path": "json",
                "dataset_name": None, "dataset_kwargs": {"data_files": {"test": data, "dev": data}}}))
    else:
        docs = [{"id": i["id"], "question": i["question"], "answer": i["answer"]} for i in items]
        specs.append(("observatory_gsm8k", {
            "include": str(tasks / "gsm8k" / "gsm8k.yaml"), "dataset_path": "json", "dataset_name": None,
            "dataset_kwargs": {"data_files": {"test": _write_jsonl(tmp / "gsm8k.jsonl", docs),
                                              "train": str(benchmarks / "gsm8k" / "train.jsonl")}},
            "fewshot_config": {"sampler": "first_n"}}))
    for name, spec in specs:
        (tmp / f"{name}.yaml").write_text(yaml.safe_dump({"task": name, **spec}, sort_keys=False))
    return [name for name, _ in specs]


def compare_public(args) -> int:
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from probes.benchmark import DEFAULT_CONFIG, run_benchmark
    from probes.itemsets import ItemSet
    from probes.loading import load_model
    from probes.offline_models import gemma3_gguf, smollm2_gguf
    from probes.progress import Reporter
    from probes.public_sets import load_public_set
    from probes.sources import resolve_source

    benchmarks = Path(args.data_dir) / "benchmarks"
    items = load_public_set(args.item_set, benchmarks, limit=args.limit)
    path = {"smollm2": smollm2_gguf, "gemma": gemma3_gguf}.get(args.model, lambda: Path(args.model))()
    loaded = load_model(resolve_source(str(path), allow_local_paths=True))
    print(f"model={path.name} device={loaded.device} item_set={items.name} items={len(items.items)} "
          f"hash={items.sha256[:12]}", flush=True)
    config = {**DEFAULT_CONFIG, "item_set": args.item_set, "limit": args.limit, "batch_size": args.batch_size,
              "gen_batch_size": args.gen_batch_size}
    warm = [{**i, "max_new_tokens": 4} for i in items.items[:2]]  # first-call allocation outside the timing
    run_benchmark(loaded, ItemSet(name="warmup", items=warm, sha256=""), config, Reporter(None))
    started = time.perf_counter()
    ours = run_benchmark(loaded, items, config, Reporter(None))
    ours_seconds = time.perf_counter() - started

    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    with tempfile.TemporaryDirectory(prefix="lm-eval-public-") as tmp:
        names = write_tasks(args.item_set, items.items, Path(tmp), benchmarks)
        loaded.tokenizer.padding_side = "right"
        lm = HFLM(pretrained=loaded.model, tokenizer=loaded.tokenizer, batch_size=args.batch_size
                  if args.item_set != "gsm8k" else args.gen_batch_size, device=loaded.device)
        started = time.perf_counter()
        out = lm_eval.simple_evaluate(model=lm, tasks=names, task_manager=TaskManager(include_path=tmp),
                                      log_samples=True)
        theirs_seconds = time.perf_counter() - started
    by_id = {i["id"]: i for i in items.items}
    ours_by_id = {r["id"]: r for r in ours["per_item"]}
    samples = [s for name in names for s in out["samples"][name]]
    prompt_mismatches = sum(1 for s in samples if s["arguments"][0][0] != by_id[s["doc"]["id"]]["context"])
    n = len(items.items)
    report = {"model": path.name, "item_set": items.name, "items": n, "item_set_hash": items.sha256,
              "prompt_mismatches": prompt_mismatches}
    if args.item_set == "gsm8k":
        pairs = {"exact_match_strict": "strict-match", "exact_match_flexible": "flexible-extract"}
        for ours_key, lm_filter in pairs.items():
            theirs = [s for s in samples if s["filter"] == lm_filter]
            report[f"probe_{ours_key}"] = ours["metrics"][ours_key]
            report[f"lm_eval_{ours_key}"] = sum(float(s["exact_match"]) for s in theirs) / len(theirs)
            report[f"{ours_key}_diff_points"] = round(100 * abs(report[f"probe_{ours_key}"]
                                                                - report[f"lm_eval_{ours_key}"]), 3)
        strict = [s for s in samples if s["filter"] == "strict-match"]
        report["output_disagreements"] = sum(1 for s in strict if s["resps"][0][0] != ours_by_id[s["doc"]["id"]]["output"])
        compared = [k for k in report if k.endswith("_diff_points")]
    else:
        theirs_acc = sum(float(s["acc"]) for s in samples) / len(samples)
        report.update(probe_accuracy=ours["metrics"]["accuracy"], lm_eval_accuracy=round(theirs_acc, 6),
                      accuracy_diff_points=round(100 * abs(ours["metrics"]["accuracy"] - theirs_acc), 3),
                      item_disagreements=sum(1 for s in samples if float(s["acc"]) != ours_by_id[s["doc"]["id"]]["acc"]))
        max_ll = 0.0
        for s in samples:
            theirs_lls = [float(r[0]) for r in s["filtered_resps"]]
            max_ll = max(max_ll, *(abs(a - b) for a, b in zip(theirs_lls, ours_by_id[s["doc"]["id"]]["loglikelihoods"])))
        report["max_loglikelihood_diff"] = round(max_ll, 5)
        compared = ["accuracy_diff_points"]
        if args.item_set == "hellaswag":
            theirs_norm = sum(float(s["acc_norm"]) for s in samples) / len(samples)
            report.update(probe_accuracy_norm=ours["metrics"]["accuracy_norm"], lm_eval_accuracy_norm=round(theirs_norm, 6),
                          accuracy_norm_diff_points=round(100 * abs(ours["metrics"]["accuracy_norm"] - theirs_norm), 3))
            compared.append("accuracy_norm_diff_points")
        else:
            report["probe_accuracy_ok"] = ours["metrics"]["accuracy_ok"]
    report.update({
        "probe_seconds": round(ours_seconds, 2), "lm_eval_seconds": round(theirs_seconds, 2),
        "probe_items_per_second": round(n / ours_seconds, 3), "lm_eval_items_per_second": round(n / theirs_seconds, 3),
        "throughput_ratio_probe_over_lm_eval": round(theirs_seconds / ours_seconds, 3),
        "lm_eval_version": importlib.metadata.version("lm-eval"), "threads": torch.get_num_threads(),
        "batch_size": args.batch_size, "gen_batch_size": args.gen_batch_size,
        # The machine may be shared: the load says how far the seconds can be trusted (the ratio holds better).
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": shlex.join([".venv/bin/python", "bench/probe_vs_lm_eval.py", *sys.argv[1:]]),
    })
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    agree = all(report[k] <= 0.5 for k in compared) and prompt_mismatches == 0
    print("AGREE within 0.5 point, same prompts" if agree else "DISAGREE (accuracy beyond 0.5 point or other prompts)")
    return 0 if agree else 1
