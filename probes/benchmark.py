"""Benchmark probe: log-likelihood multiple choice (acc, acc_norm) and generative exact match.

Scored the way lm-evaluation-harness scores a `multiple_choice` task with target_delimiter " ":
the context and continuation are tokenised as lm-eval's `_encode_pair` does (encode the whole
string, split at the context's length, trailing context spaces moved into the continuation), a
choice's score is the summed log-probability of its tokens, `acc` takes the argmax and
`acc_norm` the argmax of score / len(choice in characters). Requests are sorted by length and
batched, longest first, so padding stays small.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from probes.itemsets import ItemSet
from probes.loading import LoadedModel
from probes.progress import Reporter

DEFAULT_CONFIG = {"item_set": "benchmark-v1", "limit": None, "batch_size": 32, "max_new_tokens": 6,
                  "gen_batch_size": 16, "target_delimiter": " "}


@dataclass
class Request:
    item: int
    choice: int
    context: list[int]
    continuation: list[int]


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer.encode(context + continuation)
    context_enc = tokenizer.encode(context)
    return context_enc, whole[len(context_enc):]


def loglikelihoods(loaded: LoadedModel, requests: list[Request], *, batch_size: int,
                   report: Reporter | None = None) -> list[tuple[float, bool]]:
    """Summed log P(continuation | context) and whether it is the greedy continuation, per request."""
    import torch

    model, device = loaded.model, loaded.device
    max_len = getattr(model.config, "max_position_embeddings", 2048) or 2048
    order = sorted(range(len(requests)), key=lambda i: -len(requests[i].context + requests[i].continuation))
    results: list[tuple[float, bool] | None] = [None] * len(requests)
    pad_id = loaded.tokenizer.pad_token_id or 0
    for start in range(0, len(order), batch_size):
        batch = [requests[i] for i in order[start:start + batch_size]]
        inputs = [(r.context + r.continuation)[-(max_len + 1):][:-1] for r in batch]
        width = max(len(x) for x in inputs)
        keep = max(len(r.continuation) for r in batch)
        # Left-padded with explicit positions, so every row's continuation ends at the last
        # position and only those logits are computed (the vocabulary projection is a large
        # share of a small model's cost); the positions make it the same computation as right padding.
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, x in enumerate(inputs):
            ids[row, width - len(x):] = torch.tensor(x)
            mask[row, width - len(x):] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                           position_ids=positions.to(device), logits_to_keep=keep).logits.float()
            logprobs = torch.log_softmax(logits, dim=-1).cpu()
        for row, request in enumerate(batch):
            n = len(request.continuation)
            span = logprobs[row, keep - n:keep]
            target = torch.tensor(request.continuation)
            score = float(span.gather(1, target.unsqueeze(1)).sum())
            greedy = bool((span.argmax(dim=-1) == target).all())
            results[order[start + row]] = (score, greedy)
        if report is not None:
            report(min(1.0, (start + len(batch)) / len(order)), f"scoring choices {start + len(batch)}/{len(order)}")
    return [r for r in results if r is not None]


def generate_answers(loaded: LoadedModel, prompts: list[str], *, max_new_tokens: int, batch_size: int,
                     report: Reporter | None = None) -> list[str]:
    """Greedy generation until a newline (lm-eval's `until: ["\\n"]`), left-padded batches."""
    import torch

    tokenizer, model = loaded.tokenizer, loaded.model
    tokenizer.padding_side = "left"
    outputs: list[str] = []
    for start in range(0, len(prompts), batch_size):
        chunk = prompts[start:start + batch_size]
        enc = tokenizer(chunk, return_tensors="pt", padding=True).to(loaded.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
        for row in out[:, enc["input_ids"].shape[1]:]:
            text = tokenizer.decode(row, skip_special_tokens=True)
            outputs.append(text.split("\n")[0])
        if report is not None:
            report(min(1.0, (start + len(chunk)) / len(prompts)), f"generating {start + len(chunk)}/{len(prompts)}")
    tokenizer.padding_side = "right"
    return outputs


def run_benchmark(loaded: LoadedModel, item_set: ItemSet, config: dict, report: Reporter) -> dict:
    """Score every item; return metrics, per-kind breakdown and per-item scores."""
    tokenizer, delim = loaded.tokenizer, config["target_delimiter"]
    started = time.perf_counter()
    mc = item_set.mc
    requests = []
    for i, item in enumerate(mc):
        for c, choice in enumerate(item["choices"]):
            context_enc, cont_enc = encode_pair(tokenizer, item["context"], delim + choice)
            requests.append(Request(i, c, context_enc, cont_enc))
    mc_tokens = sum(len(r.context) + len(r.continuation) for r in requests)
    scored = loglikelihoods(loaded, requests, batch_size=config["batch_size"], report=report.part(0.0, 0.7))
    mc_seconds = time.perf_counter() - started
    per_item = []
    by_item: dict[int, list[float]] = {}
    for request, (score, _greedy) in zip(requests, scored):
        by_item.setdefault(request.item, []).append(score)
    for i, item in enumerate(mc):
        lls = by_item[i]
        lengths = [float(len(choice)) for choice in item["choices"]]
        pred = max(range(len(lls)), key=lambda k: lls[k])
        pred_norm = max(range(len(lls)), key=lambda k: lls[k] / lengths[k])
        per_item.append({"id": item["id"], "kind": item["kind"], "format": "mc", "acc": float(pred == item["gold"]),
                         "acc_norm": float(pred_norm == item["gold"]), "loglikelihoods": [round(x, 4) for x in lls]})
    gen_started = time.perf_counter()
    gen = item_set.gen
    answers = generate_answers(loaded, [g["context"] for g in gen], max_new_tokens=config["max_new_tokens"],
                               batch_size=config["gen_batch_size"], report=report.part(0.7, 0.3)) if gen else []
    gen_seconds = time.perf_counter() - gen_started
    for item, answer in zip(gen, answers):
        per_item.append({"id": item["id"], "kind": item["kind"], "format": "gen",
                         "exact_match": float(answer.strip() == item["answer"].strip()), "output": answer})

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 6) if values else None

    mc_rows = [r for r in per_item if r["format"] == "mc"]
    gen_rows = [r for r in per_item if r["format"] == "gen"]
    by_kind = {}
    for kind in sorted({r["kind"] for r in per_item}):
        rows = [r for r in mc_rows if r["kind"] == kind]
        gens = [r for r in gen_rows if r["kind"] == kind]
        by_kind[kind] = {"items": len(rows) + len(gens), "accuracy": mean([r["acc"] for r in rows]),
                         "accuracy_norm": mean([r["acc_norm"] for r in rows]),
                         "exact_match": mean([r["exact_match"] for r in gens])}
    metrics = {
        "accuracy": mean([r["acc"] for r in mc_rows]),
        "accuracy_norm": mean([r["acc_norm"] for r in mc_rows]),
        "exact_match": mean([r["exact_match"] for r in gen_rows]),
        "items": len(per_item),
        "mc_items": len(mc_rows),
        "gen_items": len(gen_rows),
        "item_set": item_set.name,
        "item_set_hash": item_set.sha256,
        "by_kind": by_kind,
        "loglikelihood_requests": len(requests),
        "mc_tokens_per_second": round(mc_tokens / mc_seconds, 1) if mc_seconds else None,
        "mc_seconds": round(mc_seconds, 3),
        "gen_seconds": round(gen_seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    return {"metrics": metrics, "per_item": per_item}


def lm_eval_results(model_name: str, metrics: dict, config: dict, versions: dict) -> dict:
    """The benchmark part in lm-evaluation-harness's results.json shape."""
    task = f"observatory_{metrics['item_set'].split('[')[0].replace('-', '_')}"
    results = {task: {"alias": task, "acc,none": metrics["accuracy"], "acc_norm,none": metrics["accuracy_norm"]}}
    if metrics.get("exact_match") is not None:
        results[f"{task}_gen"] = {"alias": f"{task}_gen", "exact_match,none": metrics["exact_match"]}
    for kind, row in metrics["by_kind"].items():
        results[f"{task}_{kind}"] = {"alias": f" - {kind}", "acc,none": row["accuracy"],
                                     "acc_norm,none": row["accuracy_norm"], "exact_match,none": row["exact_match"]}
    return {
        "results": results,
        "configs": {task: {"task": task, "output_type": "multiple_choice", "target_delimiter": config["target_delimiter"],
                           "num_fewshot": 0, "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}]}},
        "versions": {task: metrics["item_set_hash"][:12]},
        "n-samples": {task: {"original": metrics["mc_items"], "effective": metrics["mc_items"]}},
        "model_name": model_name,
        "config": {"model": "observatory-probe", "model_args": model_name, "batch_size": config["batch_size"]},
        "task_hashes": {task: metrics["item_set_hash"]},
        "transformers_version": versions.get("transformers"),
    }
