"""Acceptance pins the model: to the Hub's commit (real huggingface_hub client against a replay Hub
over real HTTP, answering from real recorded responses), or, for a locally registered copy, to the
SHA-256 of its file. Gated, too-large, missing and unreachable models are refused with reasons."""

import hashlib
import socket

import pytest

from observatory.labs import pinning
from tests.labs.conftest import SMOLLM2_ID

pytestmark = pytest.mark.django_db


def test_it_pins_a_hub_model_to_the_commit_the_hub_reports(replay_hub):
    pin = pinning.pin("openai-community/gpt2", "")
    assert pin.resolved_revision == "607a30d783dfa663caf39e06633721c8d4cfcd7e"
    assert pin.pin_kind == "hub-commit" and not pin.gated and pin.n_params == 137022720
    assert pinning.pin("openai-community/gpt2", "main").resolved_revision == pin.resolved_revision
    assert any(p.startswith("/api/models/openai-community/gpt2/revision/main") for p in replay_hub.requests)


def test_it_refuses_a_revision_the_hub_does_not_have(replay_hub):
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin("openai-community/gpt2", "no-such-branch")
    assert caught.value.field == "revision" and "no-such-branch" in str(caught.value)


def test_it_refuses_a_repo_the_hub_does_not_know(replay_hub):
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin("acme/does-not-exist", "")
    assert caught.value.field == "hub_id" and "not found" in str(caught.value)


def test_it_needs_an_access_token_for_a_gated_model(replay_hub):
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin("meta-llama/Llama-3.1-8B-Instruct", "")
    assert caught.value.field == "access_token" and "gated" in str(caught.value)
    pin = pinning.pin("meta-llama/Llama-3.1-8B-Instruct", "", access_token="hf_labtoken12345")
    assert pin.gated and pin.resolved_revision == "0e9e39f249a16976918f6564b8830bc894c89659"


def test_it_refuses_a_model_over_the_parameter_cap(replay_hub, settings):
    settings.PROBE_MAX_PARAMS_B = 16.0
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin("HuggingFaceH4/zephyr-orpo-141b-A35b-v0.1", "")
    assert "140.62B parameters" in str(caught.value)


def test_it_answers_503_when_the_hub_cannot_be_reached(settings, tmp_path, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    settings.HF_ENDPOINT = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin("openai-community/gpt2", "")
    assert caught.value.status == 503


def test_it_pins_a_registered_local_copy_to_the_sha256_of_its_file(smollm2_registered):
    pin = pinning.pin(SMOLLM2_ID, "")
    sha = hashlib.sha256()
    with open(smollm2_registered, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    assert pin.resolved_revision == sha.hexdigest() and pin.pin_kind == "local-sha256"
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin(SMOLLM2_ID, "v2")
    assert caught.value.field == "revision" and "locally registered" in str(caught.value)


def test_it_refuses_a_local_copy_over_the_disk_cap(smollm2_registered, settings):
    settings.PROBE_MAX_DISK_GB = 0.01
    with pytest.raises(pinning.Refused) as caught:
        pinning.pin(SMOLLM2_ID, "")
    assert "too large" in str(caught.value)
