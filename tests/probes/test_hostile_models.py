"""Hostile inputs are refused with a clear error before anything of the model is executed."""

from __future__ import annotations

import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from probes.errors import ModelRefused
from probes.sources import Limits, resolve_source

pytestmark = pytest.mark.probes


class Detonator:
    """Pickled, it would create `marker` when unpickled: proof that nothing unpickled it."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def write_safetensors(path: Path, shapes: dict[str, list[int]]) -> None:
    """A safetensors file whose header declares `shapes` (data left empty: only the header is read)."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 4
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)


LLAMA_CONFIG = {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 64,
                "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 128, "vocab_size": 100}


@pytest.mark.parametrize("hub_id", ["../../etc/passwd", "org/../../secrets", "org/name/../../x", "/etc",
                                    "org/na me", "org/..", "..\\..\\windows", "org/name;rm -rf /", ""])
def test_it_refuses_repo_ids_with_path_traversal_or_odd_characters(hub_id):
    with pytest.raises(ModelRefused, match="not a valid Hub model id"):
        resolve_source(hub_id)


def test_it_refuses_a_revision_with_path_traversal():
    with pytest.raises(ModelRefused, match="not a valid revision"):
        resolve_source("org/name", revision="../../main")


def test_it_refuses_a_directory_with_only_a_pickle_checkpoint_without_unpickling_it(tmp_path):
    import torch

    marker = tmp_path / "unpickled"
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    torch.save({"weights": Detonator(marker)}, model_dir / "pytorch_model.bin")
    with pytest.raises(ModelRefused, match="only pickle checkpoints.*pytorch_model.bin"):
        resolve_source(str(model_dir), allow_local_paths=True)
    assert not marker.exists()


def test_it_refuses_a_lone_pickle_file(tmp_path):
    import torch

    marker = tmp_path / "unpickled"
    torch.save(Detonator(marker), tmp_path / "model.pt")
    with pytest.raises(ModelRefused, match="refusing pickle checkpoint"):
        resolve_source(str(tmp_path / "model.pt"), allow_local_paths=True)
    assert not marker.exists()


@pytest.mark.parametrize("config_name,extra", [
    ("config.json", {"auto_map": {"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}}),
    ("config.json", {"trust_remote_code": True}),
    ("tokenizer_config.json", {"auto_map": {"AutoTokenizer": ["tokenization_evil.EvilTokenizer", None]}}),
])
def test_it_refuses_a_config_that_asks_for_remote_code_and_runs_none_of_it(tmp_path, config_name, extra):
    marker = tmp_path / "executed"
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    config = dict(LLAMA_CONFIG)
    if config_name == "config.json":
        config.update(extra)
    else:
        (model_dir / config_name).write_text(json.dumps(extra))
    (model_dir / "config.json").write_text(json.dumps(config))
    write_safetensors(model_dir / "model.safetensors", {"w": [4, 4]})
    for module in ("modeling_evil.py", "tokenization_evil.py"):
        (model_dir / module).write_text(f"open({str(marker)!r}, 'w').write('pwned')\n")
    with pytest.raises(ModelRefused, match="custom code"):
        resolve_source(str(model_dir), allow_local_paths=True)
    assert not marker.exists()


def test_it_refuses_an_architecture_transformers_does_not_ship(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({**LLAMA_CONFIG, "model_type": "evil-net"}))
    write_safetensors(tmp_path / "model.safetensors", {"w": [4, 4]})
    with pytest.raises(ModelRefused, match="unsupported architecture"):
        resolve_source(str(tmp_path), allow_local_paths=True)


def test_it_refuses_an_oversize_model_by_the_parameter_cap_from_headers_alone(tmp_path):
    # 20B parameters declared in the header; the file itself is a few hundred bytes.
    (tmp_path / "config.json").write_text(json.dumps(LLAMA_CONFIG))
    write_safetensors(tmp_path / "model.safetensors", {"embed": [200_000, 100_000]})
    with pytest.raises(ModelRefused, match=r"model too large: 20\.000B parameters is over the cap of 16"):
        resolve_source(str(tmp_path), allow_local_paths=True, limits=Limits(max_params_b=16))


def test_it_refuses_the_real_smollm2_under_a_lower_parameter_cap(smollm2_path):
    with pytest.raises(ModelRefused, match=r"model too large: 0\.135B parameters is over the cap of 0\.05B"):
        resolve_source(str(smollm2_path), allow_local_paths=True, limits=Limits(max_params_b=0.05))


def test_it_refuses_a_file_that_only_claims_to_be_gguf(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"\x80\x04not a gguf at all")
    with pytest.raises(ModelRefused, match="not a GGUF file"):
        resolve_source(str(fake), allow_local_paths=True)


def test_it_refuses_local_paths_where_only_hub_ids_are_allowed(smollm2_path):
    with pytest.raises(ModelRefused, match="not a valid Hub model id"):
        resolve_source(str(smollm2_path))  # what a worker sees for a submitted id


def test_it_refuses_a_missing_local_source():
    with pytest.raises(ModelRefused, match="model source not found"):
        resolve_source("org/model", local_sources={"org/model": "/nonexistent/model.gguf"})


class FakeHub(BaseHTTPRequestHandler):
    """Answers like the Hub does for a missing repo and for a gated one."""

    def do_GET(self):
        if self.path.startswith("/api/models/acme/gated"):
            self.send_response(403)
            self.send_header("X-Error-Code", "GatedRepo")
            self.send_header("X-Error-Message", "Access to model acme/gated is restricted.")
        else:
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound")
            self.send_header("X-Error-Message", "Repository not found")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"error": "no"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_it_refuses_a_model_missing_from_the_hub(fake_hub):
    with pytest.raises(ModelRefused, match="not found on the Hub"):
        resolve_source("acme/missing", hf_endpoint=fake_hub)


def test_it_refuses_a_gated_model_without_a_token(fake_hub):
    with pytest.raises(ModelRefused, match="gated"):
        resolve_source("acme/gated", hf_endpoint=fake_hub)


@pytest.mark.django_db
def test_it_fails_a_queued_run_with_the_refusal_when_the_id_is_hostile(settings):
    from gpu_workers import services
    from gpu_workers.tasks import run_probe

    probe_run = services.create_probe_run("../../etc/passwd", "tooling")
    run_probe(probe_run.pk)  # the task body, in this process
    probe_run.refresh_from_db()
    assert probe_run.run.status == "failed"
    assert probe_run.run.error.startswith("refused: not a valid Hub model id")
    assert probe_run.result is None


@pytest.mark.django_db
def test_it_rejects_an_unknown_probe_or_config_key_before_queueing():
    from gpu_workers import services

    with pytest.raises(ValueError, match="unknown probe"):
        services.create_probe_run("org/model", "mine-bitcoin")
    with pytest.raises(ValueError, match="unknown benchmark config key 'trust_remote_code'"):
        services.create_probe_run("org/model", "benchmark", config={"trust_remote_code": True})


def test_the_cli_refuses_an_oversize_model_with_a_clear_error(smollm2_path):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="model too large"):
        call_command("probe", "--model", str(smollm2_path), "--probe", "tooling", "--max-params-b", "0.05")
