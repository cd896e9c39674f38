"""Fine-tunability probe: LoRA (peft) on fixed small tasks with fixed seeds.

The same config is used for every model so results compare. For each task the probe trains a
fresh LoRA adapter from the same seed and records the training loss curve (loss on the answer
tokens only), the steps to reach a fixed target loss, and the held-out loss before and after.
Forgetting is the change in per-token NLL on a fixed general text (after − before, positive =
forgot). The first task is trained again at the two other learning rates of a three-point
sweep: sensitivity = (max − min) / mean of the three final losses; a run diverged when its loss
became non-finite or ended above where it started.
"""

from __future__ import annotations

import math
import random
import resource
import time
from pathlib import Path

from probes.loading import LoadedModel
from probes.progress import Reporter

ITEMS_DIR = Path(__file__).resolve().parent / "items"

DEFAULT_CONFIG = {
    "tasks": ["addition", "uppercase", "reverse"],
    "train_examples": 64,
    "heldout_examples": 16,
    "steps": 10,
    "batch_size": 6,
    "learning_rate": 2e-3,
    "lr_sweep": [5e-4, 2e-3, 8e-3],
    "target_loss": 1.0,
    "lora": {"r": 8, "lora_alpha": 16, "lora_dropout": 0.0, "target_modules": "all-linear"},
    "seed": 1234,
    "general_text": "general-text-v1.txt",
    "pack_length": None,  # pack examples into sequences of this many tokens (throughput runs on GPUs)
    "weight_decay": 0.0,
}

WORDS = ["apple", "river", "stone", "music", "garden", "window", "planet", "silver", "candle", "forest",
         "bridge", "pencil", "rocket", "tiger", "orange", "summer", "winter", "castle", "dragon", "mirror",
         "ocean", "valley", "thunder", "basket", "cloud", "engine", "feather", "harbor", "island", "jacket",
         "kettle", "ladder", "meadow", "needle", "oyster", "pepper", "quartz", "saddle", "tunnel", "velvet"]


def task_examples(task: str, n: int, seed: int) -> list[tuple[str, str]]:
    """(prompt, answer) pairs; the answer starts with a space, as text following the prompt."""
    rng = random.Random(f"{task}:{seed}")
    out = []
    for _ in range(n):
        if task == "addition":
            a, b = rng.randint(10, 99), rng.randint(10, 99)
            out.append((f"Add: {a} + {b} =", f" {a + b}"))
        elif task == "uppercase":
            word = rng.choice(WORDS)
            out.append((f"Shout: {word} ->", f" {word.upper()}"))
        elif task == "reverse":
            letters = rng.sample("abcdefghijklmnopqrstuvwxyz", 4)
            out.append((f"Reverse: {' '.join(letters)} ->", f" {' '.join(reversed(letters))}"))
        else:
            raise ValueError(f"unknown fine-tune task {task!r}")
    return out


def encode_examples(tokenizer, examples: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """Token ids and labels (-100 on the prompt, so the loss is over the answer only)."""
    eos = tokenizer.eos_token_id
    encoded = []
    for prompt, answer in examples:
        prompt_ids = tokenizer.encode(prompt)
        whole = tokenizer.encode(prompt + answer) + ([eos] if eos is not None else [])
        labels = [-100] * len(prompt_ids) + whole[len(prompt_ids):]
        encoded.append((whole, labels))
    return encoded


def pack(encoded: list[tuple[list[int], list[int]]], length: int) -> list[tuple[list[int], list[int]]]:
    packed, ids, labels = [], [], []
    i = 0
    while len(packed) < max(1, len(encoded)):
        x, y = encoded[i % len(encoded)]
        ids, labels = ids + x, labels + y
        i += 1
        if len(ids) >= length:
            packed.append((ids[:length], labels[:length]))
            ids, labels = [], []
    return packed


def collate(batch, pad_id: int, device: str):
    import torch

    width = max(len(x) for x, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (x, y) in enumerate(batch):
        ids[row, :len(x)] = torch.tensor(x)
        labels[row, :len(y)] = torch.tensor(y)
        mask[row, :len(x)] = 1
    return ids.to(device), labels.to(device), mask.to(device), int(mask.sum())


def mean_loss(model, encoded, *, batch_size: int, pad_id: int, device: str) -> float:
    """Mean per-token loss over labelled tokens."""
    import torch

    total, count = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(encoded), batch_size):
            ids, labels, mask, _ = collate(encoded[start:start + batch_size], pad_id, device)
            logits = model(input_ids=ids, attention_mask=mask).logits.float()
            shift_logits, shift_labels = logits[:, :-1], labels[:, 1:]
            loss = torch.nn.functional.cross_entropy(shift_logits.reshape(-1, shift_logits.size(-1)),
                                                     shift_labels.reshape(-1), ignore_index=-100, reduction="sum")
            total += float(loss)
            count += int((shift_labels != -100).sum())
    return total / max(count, 1)


def peak_memory_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def train_lora(loaded: LoadedModel, train, heldout, general, *, lr: float, config: dict, report: Reporter) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model

    tokenizer, device = loaded.tokenizer, loaded.device
    pad_id = tokenizer.pad_token_id or 0
    torch.manual_seed(config["seed"])
    lora = LoraConfig(task_type="CAUSAL_LM", **config["lora"])
    model = get_peft_model(loaded.model, lora)
    try:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        heldout_before = mean_loss(model, heldout, batch_size=config["batch_size"], pad_id=pad_id, device=device)
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr,
                                      weight_decay=config["weight_decay"])
        order_rng = random.Random(config["seed"])
        order = list(range(len(train)))
        order_rng.shuffle(order)
        curve, tokens, diverged = [], 0, False
        model.train()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        for step in range(config["steps"]):
            picks = [order[(step * config["batch_size"] + k) % len(order)] for k in range(config["batch_size"])]
            ids, labels, mask, n_tokens = collate([train[i] for i in picks], pad_id, device)
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
            value = float(loss.detach())
            curve.append(round(value, 5))
            if not math.isfinite(value):
                diverged = True
                break
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            tokens += n_tokens
            report((step + 1) / config["steps"], f"lr={lr:g} step {step + 1}/{config['steps']} loss={value:.3f}")
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - started
        model.eval()
        heldout_after = mean_loss(model, heldout, batch_size=config["batch_size"], pad_id=pad_id, device=device)
        general_after = (mean_loss(model, general, batch_size=config["batch_size"], pad_id=pad_id, device=device)
                         if general else None)
    finally:
        loaded.model = model.unload()  # the base model without LoRA layers, for the next run
        loaded.model.eval()
    tail = curve[-3:] if curve else [float("nan")]
    final = sum(tail) / len(tail)
    target = config["target_loss"]
    steps_to_target = next((i + 1 for i, v in enumerate(curve) if v <= target), None)
    if not diverged and curve and (not math.isfinite(final) or final > curve[0]):
        diverged = True
    return {
        "learning_rate": lr,
        "loss_curve": curve,
        "initial_loss": curve[0] if curve else None,
        "final_loss": round(final, 5) if math.isfinite(final) else None,
        "steps_to_target": steps_to_target,
        "heldout_before": round(heldout_before, 5),
        "heldout_after": round(heldout_after, 5) if math.isfinite(heldout_after) else None,
        "heldout_gain": round(heldout_before - heldout_after, 5) if math.isfinite(heldout_after) else None,
        "general_after": round(general_after, 5) if general_after is not None else None,
        "diverged": diverged,
        "trainable_params": trainable,
        "train_tokens": tokens,
        "train_seconds": round(train_seconds, 3),
    }


def run_finetune(loaded: LoadedModel, config: dict, report: Reporter) -> dict:
    started = time.perf_counter()
    tokenizer = loaded.tokenizer
    pad_id = tokenizer.pad_token_id or 0
    text = (ITEMS_DIR / config["general_text"]).read_text()
    general = [(ids, list(ids)) for ids in (tokenizer.encode(p) for p in text.split("\n") if p.strip())]
    general_before = mean_loss(loaded.model, general, batch_size=config["batch_size"], pad_id=pad_id,
                               device=loaded.device)
    data = {}
    for task in config["tasks"]:
        train = encode_examples(tokenizer, task_examples(task, config["train_examples"], config["seed"]))
        heldout = encode_examples(tokenizer, task_examples(task, config["heldout_examples"], config["seed"] + 1))
        if config.get("pack_length"):
            train = pack(train, int(config["pack_length"]))
        data[task] = (train, heldout)
    sweep_lrs = [lr for lr in config["lr_sweep"] if lr != config["learning_rate"]]
    runs_total = len(config["tasks"]) + len(sweep_lrs)
    tasks, done = {}, 0
    for task in config["tasks"]:
        train, heldout = data[task]
        tasks[task] = train_lora(loaded, train, heldout, general, lr=config["learning_rate"], config=config,
                                 report=report.part(done / runs_total, 1 / runs_total))
        done += 1
    sweep = {config["learning_rate"]: tasks[config["tasks"][0]]}
    first_train, first_heldout = data[config["tasks"][0]]
    for lr in sweep_lrs:
        sweep[lr] = train_lora(loaded, first_train, first_heldout, [], lr=lr, config=config,
                               report=report.part(done / runs_total, 1 / runs_total))
        done += 1
    finals = [r["final_loss"] for r in sweep.values()]
    finite = [f for f in finals if f is not None]
    sensitivity = ((max(finite) - min(finite)) / (sum(finite) / len(finite))) if len(finite) == len(finals) else None
    task_rows = list(tasks.values())
    train_tokens = sum(r["train_tokens"] for r in [*task_rows, *[sweep[lr] for lr in sweep_lrs]])
    train_seconds = sum(r["train_seconds"] for r in [*task_rows, *[sweep[lr] for lr in sweep_lrs]])

    def avg(key: str) -> float | None:
        values = [r[key] for r in task_rows if r[key] is not None]
        return round(sum(values) / len(values), 5) if len(values) == len(task_rows) else None

    forgetting = [r["general_after"] - general_before for r in task_rows if r["general_after"] is not None]
    metrics = {
        "initial_loss": avg("initial_loss"),
        "final_loss": avg("final_loss"),
        "loss_drop": round(avg("initial_loss") - avg("final_loss"), 5) if avg("final_loss") is not None else None,
        "heldout_gain": avg("heldout_gain"),
        "forgetting": round(sum(forgetting) / len(forgetting), 5) if forgetting else None,
        "general_nll_before": round(general_before, 5),
        "steps_to_target": {t: r["steps_to_target"] for t, r in tasks.items()},
        "lr_sensitivity": round(sensitivity, 5) if sensitivity is not None else None,
        "lr_sweep": {f"{lr:g}": {"final_loss": r["final_loss"], "diverged": r["diverged"]} for lr, r in sweep.items()},
        "diverged": any(r["diverged"] for r in sweep.values()) or any(r["diverged"] for r in task_rows),
        "peak_memory_mb": round(peak_memory_mb(loaded.device), 1),
        "tokens_per_second": round(train_tokens / train_seconds, 2) if train_seconds else None,
        "train_tokens": train_tokens,
        "trainable_params": task_rows[0]["trainable_params"],
        "wall_seconds": round(time.perf_counter() - started, 3),
        "tasks": tasks,
    }
    return {"metrics": metrics}
