"""Benchmark probe: log-likelihood multiple choice (acc, acc_norm) and generative exact match.

Scored the way lm-evaluation-harness scores a `multiple_choice` task with target_delimiter " ":
the context and continuation are tokenised as lm-eval's `_encode_pair` does (encode the whole
string, split at the context's length, trailing context spaces moved into the continuation), a
choice's score is the summed log-probability of its tokens, `acc` takes the argmax and
`acc_norm` the argmax of score / len(choice in characters). Questions are sorted by length and
batched, longest first, so padding stays small; a question's context runs once and its cache is
shared by its choices.
"""

from __future__ import annotations

import time

from probes.itemsets import ItemSet
from probes.loading import LoadedModel
from probes.progress import Reporter
from probes.public_sets import extract_flexible, extract_strict, gsm8k_exact, public_metrics

DEFAULT_CONFIG = {"item_set": "benchmark-v1", "limit": None, "batch_size": 32, "max_new_tokens": 6,
                  "gen_batch_size": 16, "target_delimiter": " "}


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """lm-eval's `_encode_pair`: encode the whole string, split it at the context's token length."""
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenizer.encode(context + continuation)
    context_enc = tokenizer.encode(context)
    return context_enc, whole[len(context_enc):]


def shared_context_loglikelihoods(loaded: LoadedModel, groups: list[tuple[list[int], list[list[int]]]], *,
                                  batch_size: int, report: Reporter | None = None) -> list[list[tuple[float, bool]]]:
    """Like `loglikelihoods`, for groups of continuations that share one context (a question's choices).

    The context runs once per question and its key/value cache is copied to each choice, so the
    model sees exactly the inputs lm-eval builds (context tokens, then the choice's tokens, at the
    same positions) while processing about a third of the tokens.
    """
    import torch

    model, device = loaded.model, loaded.device
    pad_id = loaded.tokenizer.pad_token_id or 0
    order = sorted(range(len(groups)), key=lambda i: -len(groups[i][0]))
    results: list[list[tuple[float, bool]] | None] = [None] * len(groups)
    for start in range(0, len(order), batch_size):
        picked = order[start:start + batch_size]
        contexts = [groups[i][0] for i in picked]
        width = max(len(c) for c in contexts)
        ids = torch.full((len(picked), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(picked), width), dtype=torch.long)
        for row, c in enumerate(contexts):
            ids[row, width - len(c):] = torch.tensor(c)
            mask[row, width - len(c):] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        rows = [(b, cont) for b, i in enumerate(picked) for cont in groups[i][1]]
        tail = max(len(cont) for _, cont in rows) - 1
        with torch.inference_mode():
            out = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
                        use_cache=tail > 0, logits_to_keep=1)
            first = torch.log_softmax(out.logits[:, -1].float(), dim=-1).cpu()
            rest = None
            if tail > 0:
                cache = out.past_key_values
                index = torch.tensor([b for b, _ in rows], device=device)
                cache.reorder_cache(index)  # one copy of its question's cache per choice
                cont_ids = torch.full((len(rows), tail), pad_id, dtype=torch.long)
                cont_mask = torch.zeros((len(rows), tail), dtype=torch.long)
                for r, (_, cont) in enumerate(rows):
                    cont_ids[r, :len(cont) - 1] = torch.tensor(cont[:-1], dtype=torch.long)
                    cont_mask[r, :len(cont) - 1] = 1
                full_mask = torch.cat([mask[index.cpu()], cont_mask], dim=1)
                lengths = mask.sum(dim=1)[index.cpu()]
                cont_pos = lengths[:, None] + torch.arange(tail)[None, :]
                out2 = model(input_ids=cont_ids.to(device), attention_mask=full_mask.to(device),
                             position_ids=cont_pos.to(device), past_key_values=cache, use_cache=False)
                rest = torch.log_softmax(out2.logits.float(), dim=-1).cpu()
        scored: dict[int, list[tuple[float, bool]]] = {}
        for r, (b, cont) in enumerate(rows):
            steps = [first[b]] + ([rest[r, j] for j in range(len(cont) - 1)] if rest is not None else [])
            score = sum(float(step[token]) for step, token in zip(steps, cont))
            greedy = all(int(step.argmax()) == token for step, token in zip(steps, cont))
            scored.setdefault(b, []).append((score, greedy))
        for b, i in enumerate(picked):
            results[i] = scored[b]
        if report is not None:
            report(min(1.0, (start + len(picked)) / len(order)), f"scoring choices {start + len(picked)}/{len(order)}")
    return [r for r in results if r is not None]


def generate_answers(loaded: LoadedModel, prompts: list[str], *, max_new_tokens: int, batch_size: int,
                     report: Reporter | None = None, until: list[str] | None = None) -> list[str]:
    """Greedy generation until a stop string (lm-eval's `until`, default `["\\n"]`), left-padded
    batches (a public set's longest prompt first, as lm-eval orders them); a batch stops once every row holds a
    stop string, since greedy tokens past it are cut anyway."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    from probes.public_sets import cut_at_stops

    until = until or ["\n"]
    tokenizer, model = loaded.tokenizer, loaded.model
    tokenizer.padding_side = "left"

    class AllStopped(StoppingCriteria):
        def __init__(self, width: int):
            self.width = width

        def __call__(self, input_ids, scores, **kwargs):
            texts = tokenizer.batch_decode(input_ids[:, self.width:], skip_special_tokens=True)
            return all(any(stop in text for stop in until) for text in texts)

    order = list(range(len(prompts)))
    if until != ["\n"]:  # the project's own set keeps its file order (its results stay as they were)
        order.sort(key=lambda i: -len(prompts[i]))
    outputs: list[str | None] = [None] * len(prompts)
    for start in range(0, len(order), batch_size):
        picked = order[start:start + batch_size]
        chunk = [prompts[i] for i in picked]
        enc = tokenizer(chunk, return_tensors="pt", padding=True).to(loaded.device)
        width = enc["input_ids"].shape[1]
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id,
                                 stopping_criteria=StoppingCriteriaList([AllStopped(width)]))
        for i, row in zip(picked, out[:, width:]):
            outputs[i] = cut_at_stops(tokenizer.decode(row, skip_special_tokens=True), until)
        if report is not None:
            report(min(1.0, (start + len(chunk)) / len(prompts)), f"generating {start + len(chunk)}/{len(prompts)}")
    tokenizer.padding_side = "right"
    return [o or "" for o in outputs]


def run_benchmark(loaded: LoadedModel, item_set: ItemSet, config: dict, report: Reporter) -> dict:
    """Score every item; return metrics, per-kind breakdown and per-item scores."""
    tokenizer, delim = loaded.tokenizer, config["target_delimiter"]
    started = time.perf_counter()
    mc = item_set.mc
    groups, requests = [], 0
    for item in mc:
        context_enc = None
        continuations = []
        for choice in item["choices"]:
            ctx, cont = encode_pair(tokenizer, item["context"], delim + choice)
            context_enc = ctx
            continuations.append(cont)
        groups.append((context_enc, continuations))
        requests += len(continuations)
    mc_tokens = sum(len(ctx) + sum(len(c) for c in conts) for ctx, conts in groups)
    scored_groups = shared_context_loglikelihoods(loaded, groups, batch_size=config["batch_size"],
                                                  report=report.part(0.0, 0.7))
    mc_seconds = time.perf_counter() - started
    per_item = []
    by_item = {i: [score for score, _greedy in scores] for i, scores in enumerate(scored_groups)}
    for i, item in enumerate(mc):
        lls = by_item[i]
        lengths = [float(len(choice)) for choice in item["choices"]]
        pred = max(range(len(lls)), key=lambda k: lls[k])
        pred_norm = max(range(len(lls)), key=lambda k: lls[k] / lengths[k])
        per_item.append({"id": item["id"], "kind": item["kind"], "format": "mc", "acc": float(pred == item["gold"]),
                         "acc_norm": float(pred_norm == item["gold"]), "loglikelihoods": [round(x, 4) for x in lls]})
    gen_started = time.perf_counter()
    gen = item_set.gen
    # A public set's items carry lm-eval's generation settings (gsm8k: 256 tokens, until "Question:").
    answers = generate_answers(loaded, [g["context"] for g in gen],
                               max_new_tokens=gen[0].get("max_new_tokens", config["max_new_tokens"]) if gen else 0,
                               batch_size=config["gen_batch_size"], report=report.part(0.7, 0.3),
                               until=gen[0].get("until") if gen else None) if gen else []
    gen_seconds = time.perf_counter() - gen_started
    for item, answer in zip(gen, answers):
        row = {"id": item["id"], "kind": item["kind"], "format": "gen", "output": answer}
        if item.get("scoring") == "gsm8k":
            strict, flexible = extract_strict(answer), extract_flexible(answer)
            row.update(exact_match_strict=gsm8k_exact(strict, item["answer"]),
                       exact_match_flexible=gsm8k_exact(flexible, item["answer"]), strict=strict, flexible=flexible)
            row["exact_match"] = row["exact_match_strict"]
        else:
            row["exact_match"] = float(answer.strip() == item["answer"].strip())
        per_item.append(row)

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
        "loglikelihood_requests": requests,
        "mc_tokens_per_second": round(mc_tokens / mc_seconds, 1) if mc_seconds else None,
        "mc_seconds": round(mc_seconds, 3),
        "gen_seconds": round(gen_seconds, 3),
        "wall_seconds": round(time.perf_counter() - started, 3),
    }
    metrics.update(public_metrics(item_set.name, per_item, item_set.items))
    metrics["items_per_second"] = round(len(per_item) / metrics["wall_seconds"], 3) if metrics["wall_seconds"] else None
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
