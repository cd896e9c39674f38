"""Load a checked model source into Transformers: never remote code, never pickles.

On CUDA the weights are bf16, on CPU float32. A GGUF file is de-quantised by Transformers on
load; the quantiser marker it leaves must be cleared before training or saving, because the
weights are plain tensors by then.

Reading a GGUF is slow where it does not look it: Transformers parses the whole vocabulary out of
the file's metadata in Python for the config and again for the tokenizer (Gemma-3's 262k tokens:
about 85 s on a 2-core machine, against 2 s of de-quantising). The converted model and tokenizer
are therefore kept once per file content and dtype, as safetensors and tokenizer files written
by us (PROBE_GGUF_CACHE_DIR; "off" disables), and every later probe of that file loads those.
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from probes.sources import ModelSource, check_architecture


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    source: ModelSource
    device: str
    dtype: str
    n_params: int
    load_seconds: float


def pick_device(device: str | None = None) -> str:
    import torch

    if device:
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


def configure_threads() -> int:
    """Use the cores we have (a 2-core CI box gains nothing from oversubscription)."""
    import torch

    wanted = int(os.environ.get("PROBE_TORCH_THREADS", "0")) or max(1, len(os.sched_getaffinity(0)))
    torch.set_num_threads(wanted)
    return wanted


def load_tokenizer(source: ModelSource):
    kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
    return _with_pad(_auto_tokenizer(str(source.path), **kwargs))


def _auto_tokenizer(path: str, **kwargs):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path, trust_remote_code=False, **kwargs)


def _with_pad(tokenizer):
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(source: ModelSource, *, device: str | None = None) -> LoadedModel:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    configure_threads()
    device = pick_device(device)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    started = time.perf_counter()
    kwargs: dict = {"trust_remote_code": False, "dtype": dtype}
    converted = converted_gguf_dir(source, dtype) if source.gguf_file else None
    if converted is not None and (converted / COMPLETE).exists():
        model = AutoModelForCausalLM.from_pretrained(str(converted), use_safetensors=True, **kwargs)
        tokenizer = _with_pad(_auto_tokenizer(str(converted)))
    else:
        if source.gguf_file:
            kwargs["gguf_file"] = source.gguf_file
        else:
            kwargs["use_safetensors"] = True  # never fall back to a pickle checkpoint
            config = AutoConfig.from_pretrained(str(source.path), trust_remote_code=False)
            check_architecture(config.to_dict())
        model = AutoModelForCausalLM.from_pretrained(str(source.path), **kwargs)
        clear_quantizer_marker(model)
        tokenizer = load_tokenizer(source)
        if converted is not None:
            keep_converted(model, tokenizer, converted)
    model.to(device)
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())
    return LoadedModel(model=model, tokenizer=tokenizer, source=source, device=device,
                       dtype=str(dtype).removeprefix("torch."), n_params=n_params,
                       load_seconds=time.perf_counter() - started)


COMPLETE = "CONVERTED"  # written last: a directory without it is a conversion that did not finish


def gguf_cache_root() -> Path | None:
    configured = os.environ.get("PROBE_GGUF_CACHE_DIR", "").strip()
    if configured.lower() == "off":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "observatory" / "gguf-converted"


def converted_gguf_dir(source: ModelSource, dtype) -> Path | None:
    """Where this GGUF's conversion is kept: by content (SHA-256), dtype and Transformers version,
    so a changed file, another precision or another converter never reuses a stale one."""
    import transformers

    root = gguf_cache_root()
    if root is None:
        return None
    digest = hashlib.sha256()
    with open(Path(source.path) / source.gguf_file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    dtype_name = str(dtype).removeprefix("torch.")
    return root / f"{digest.hexdigest()[:32]}-{dtype_name}-transformers{transformers.__version__}"


def keep_converted(model, tokenizer, target: Path) -> None:
    """Save the converted model and tokenizer (safetensors only), published with one rename."""
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    try:
        shutil.rmtree(partial, ignore_errors=True)
        model.save_pretrained(str(partial), safe_serialization=True)
        tokenizer.save_pretrained(str(partial))
        (partial / COMPLETE).write_text("ok\n")
        if target.exists():  # an earlier, unfinished conversion (no marker): replace it
            shutil.rmtree(target, ignore_errors=True)
        os.rename(partial, target)
    except OSError:
        # A full or read-only cache costs the next probe the slow load again, nothing more.
        shutil.rmtree(partial, ignore_errors=True)


def clear_quantizer_marker(model) -> None:
    # Weights from a GGUF are de-quantised into ordinary tensors; the marker would make
    # Transformers/PEFT refuse to train or save them.
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        try:
            delattr(model.config, "quantization_config")
        except AttributeError:
            model.config.quantization_config = None


def release(loaded: LoadedModel | None) -> dict:
    """Drop the model and free device memory; report what is still allocated (should be 0 on CUDA)."""
    import torch

    if loaded is not None:
        loaded.model = None
        loaded.tokenizer = None
    gc.collect()
    report = {"device": "cpu", "allocated_bytes_after": 0}
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        report = {"device": "cuda", "allocated_bytes_after": int(torch.cuda.memory_allocated())}
    return report
