"""Load a checked model source into Transformers: never remote code, never pickles.

On CUDA the weights are bf16, on CPU float32. A GGUF file is de-quantised by Transformers on
load; the quantiser marker it leaves must be cleared before training or saving, because the
weights are plain tensors by then.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import dataclass
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
    from transformers import AutoTokenizer

    kwargs = {"gguf_file": source.gguf_file} if source.gguf_file else {}
    tokenizer = AutoTokenizer.from_pretrained(str(source.path), trust_remote_code=False, **kwargs)
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
    if source.gguf_file:
        kwargs["gguf_file"] = source.gguf_file
    else:
        kwargs["use_safetensors"] = True  # never fall back to a pickle checkpoint
        config = AutoConfig.from_pretrained(str(source.path), trust_remote_code=False)
        check_architecture(config.to_dict())
    model = AutoModelForCausalLM.from_pretrained(str(source.path), **kwargs)
    clear_quantizer_marker(model)
    model.to(device)
    model.eval()
    tokenizer = load_tokenizer(source)
    n_params = sum(p.numel() for p in model.parameters())
    return LoadedModel(model=model, tokenizer=tokenizer, source=source, device=device,
                       dtype=str(dtype).removeprefix("torch."), n_params=n_params,
                       load_seconds=time.perf_counter() - started)


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
