"""Tooling-readiness probe: does the model work with the standard open tooling on day one?

Each check is pass/fail with the error text; a failing check never stops the others.
"""

from __future__ import annotations

import tempfile
import traceback

from probes.loading import LoadedModel, clear_quantizer_marker
from probes.progress import Reporter

DEFAULT_CONFIG = {
    "round_trip_texts": ["Hello, world!", "The year 2026 had 365 days.", "naïve café — déjà vu", "  two  spaces\nnew line",
                         "x = [1, 2, 3]  # code", "Zürich, Kraków, São Paulo"],
    "generation_prompt": "The capital of France is",
    "generation_tokens": 16,
    "logit_tolerance_fp32": 1e-4,
    "logit_tolerance_bf16": 2e-2,
}

CHECKS = ["loads_without_remote_code", "safetensors_present", "chat_template_present", "chat_template_renders",
          "tokenizer_round_trips", "generation_sane", "peft_attaches", "save_reload_same_logits"]


def check(name: str, fn) -> dict:
    try:
        outcome = fn()
    except Exception as exc:  # a check's failure is its result, whatever the tooling raised
        return {"name": name, "passed": False, "error": f"{exc.__class__.__name__}: {exc}"[:2000],
                "detail": traceback.format_exc(limit=3)[-1500:]}
    if outcome is True or outcome is None:
        return {"name": name, "passed": True, "error": ""}
    return {"name": name, "passed": False, "error": str(outcome)[:2000]}


def run_tooling(loaded: LoadedModel | None, config: dict, report: Reporter, *, load_error: str = "",
                source=None) -> dict:
    if loaded is None:
        checks = [{"name": "loads_without_remote_code", "passed": False, "error": load_error}]
        checks += [{"name": n, "passed": False, "error": "not run: the model did not load"} for n in CHECKS[1:]]
        return {"metrics": summary(checks), "checks": checks}
    tokenizer, model = loaded.tokenizer, loaded.model
    checks = [{"name": "loads_without_remote_code", "passed": True, "error": ""}]

    def safetensors_present():
        if loaded.source.weights_format != "safetensors":
            return f"weights are {loaded.source.weights_format} ({loaded.source.gguf_file}), not safetensors"

    def chat_template_present():
        if not getattr(tokenizer, "chat_template", None):
            return "the tokenizer has no chat_template"

    def chat_template_renders():
        text = tokenizer.apply_chat_template([{"role": "user", "content": "Hello there"}], tokenize=False,
                                             add_generation_prompt=True)
        if not isinstance(text, str) or "Hello there" not in text:
            return f"rendered template lacks the message: {text!r}"[:500]

    def tokenizer_round_trips():
        bad = []
        for text in config["round_trip_texts"]:
            back = tokenizer.decode(tokenizer.encode(text, add_special_tokens=False), skip_special_tokens=True)
            if back != text:
                bad.append(f"{text!r} -> {back!r}")
        if bad:
            return "round trip changed text: " + "; ".join(bad)

    def generation_sane():
        import torch

        enc = tokenizer(config["generation_prompt"], return_tensors="pt").to(loaded.device)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=config["generation_tokens"], do_sample=False,
                                 pad_token_id=tokenizer.pad_token_id)
            logits = model(**enc).logits
        new = out[0, enc["input_ids"].shape[1]:].tolist()
        text = tokenizer.decode(new, skip_special_tokens=True)
        if not torch.isfinite(logits).all():
            return "non-finite logits"
        if not text.strip():
            return "generated only empty text"
        if len(new) >= 8 and len(set(new)) == 1:
            return f"generated one token repeated: {text!r}"
        if sum(ch.isprintable() or ch.isspace() for ch in text) < 0.9 * len(text):
            return f"generated unprintable text: {text!r}"

    def peft_attaches():
        import torch
        from peft import LoraConfig, get_peft_model

        torch.manual_seed(0)
        peft_model = get_peft_model(loaded.model, LoraConfig(task_type="CAUSAL_LM", r=4, lora_alpha=8,
                                                             target_modules="all-linear"))
        try:
            enc = tokenizer("PEFT attaches to this model.", return_tensors="pt").to(loaded.device)
            loss = peft_model(**enc, labels=enc["input_ids"]).loss
            loss.backward()
            grads = [p.grad for n, p in peft_model.named_parameters() if "lora_" in n and p.requires_grad]
            if not grads:
                return "no LoRA parameters were created"
            if all(g is None or float(g.abs().sum()) == 0.0 for g in grads):
                return "LoRA parameters received no gradient"
        finally:
            loaded.model = peft_model.unload()
            loaded.model.eval()

    def save_reload_same_logits():
        import torch
        from transformers import AutoModelForCausalLM

        enc = tokenizer("Saving and reloading keeps the outputs.", return_tensors="pt").to(loaded.device)
        with torch.inference_mode():
            before = loaded.model(**enc).logits.float().cpu()
        with tempfile.TemporaryDirectory(prefix="probe-save-") as tmp:
            clear_quantizer_marker(loaded.model)
            loaded.model.save_pretrained(tmp, safe_serialization=True)
            reloaded = AutoModelForCausalLM.from_pretrained(tmp, use_safetensors=True, trust_remote_code=False,
                                                            dtype=loaded.model.dtype).to(loaded.device).eval()
            with torch.inference_mode():
                after = reloaded(**enc).logits.float().cpu()
            del reloaded
        diff = float((before - after).abs().max())
        tolerance = config["logit_tolerance_bf16"] if loaded.dtype == "bfloat16" else config["logit_tolerance_fp32"]
        if diff > tolerance:
            return f"logits differ after save+reload: max |diff| = {diff:.3g} > {tolerance:g}"

    steps = [("safetensors_present", safetensors_present), ("chat_template_present", chat_template_present),
             ("chat_template_renders", chat_template_renders), ("tokenizer_round_trips", tokenizer_round_trips),
             ("generation_sane", generation_sane), ("peft_attaches", peft_attaches),
             ("save_reload_same_logits", save_reload_same_logits)]
    for i, (name, fn) in enumerate(steps):
        report(i / len(steps), f"check {name}")
        checks.append(check(name, fn))
    report(1.0, "checks done")
    return {"metrics": summary(checks), "checks": checks}


def summary(checks: list[dict]) -> dict:
    passed = sum(1 for c in checks if c["passed"])
    return {"checks_passed": passed, "checks_total": len(checks),
            "readiness": round(passed / len(checks), 4) if checks else 0.0}
