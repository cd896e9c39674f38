"""A GGUF file is converted once; later probes load the kept safetensors copy and see the same model."""

from __future__ import annotations

import pytest

from probes.loading import COMPLETE, converted_gguf_dir, gguf_cache_root, load_model
from probes.offline_models import smollm2_gguf
from probes.sources import inspect_local

pytestmark = [pytest.mark.probes, pytest.mark.slow]


def test_a_gguf_is_converted_once_and_the_kept_copy_is_the_same_model(tmp_path, monkeypatch):
    import torch

    monkeypatch.setenv("PROBE_GGUF_CACHE_DIR", str(tmp_path / "converted"))
    path = smollm2_gguf()
    source = inspect_local(path, spec=str(path), origin="local")
    kept = converted_gguf_dir(source, torch.float32)
    # Garbage left by a conversion that never finished (no marker): never loaded, replaced.
    kept.mkdir(parents=True)
    (kept / "model.safetensors").write_bytes(b"\x00 not a safetensors file")

    first = load_model(source, device="cpu")
    assert (kept / COMPLETE).exists()
    assert list(kept.glob("*.safetensors")) and not list(kept.glob("*.bin")) and not list(kept.glob("*.pt"))
    assert first.model.config.name_or_path != str(kept)  # converted from the GGUF itself

    second = load_model(source, device="cpu")
    assert second.model.config.name_or_path == str(kept)  # read from the kept copy
    assert second.n_params == first.n_params and second.dtype == first.dtype == "float32"

    text = "The capital of France is Paris. 2 + 2 ="
    ids = first.tokenizer(text, return_tensors="pt").input_ids
    assert second.tokenizer(text, return_tensors="pt").input_ids.tolist() == ids.tolist()
    assert second.tokenizer.pad_token == first.tokenizer.pad_token
    chat = [{"role": "user", "content": "Hi"}]
    assert (second.tokenizer.apply_chat_template(chat, tokenize=False)
            == first.tokenizer.apply_chat_template(chat, tokenize=False))
    with torch.no_grad():
        assert torch.equal(second.model(ids).logits, first.model(ids).logits)


def test_the_conversion_cache_can_be_switched_off_or_moved(monkeypatch, tmp_path):
    monkeypatch.setenv("PROBE_GGUF_CACHE_DIR", "off")
    assert gguf_cache_root() is None
    monkeypatch.setenv("PROBE_GGUF_CACHE_DIR", str(tmp_path))
    assert gguf_cache_root() == tmp_path
    monkeypatch.delenv("PROBE_GGUF_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert gguf_cache_root() == tmp_path / "xdg" / "observatory" / "gguf-converted"
