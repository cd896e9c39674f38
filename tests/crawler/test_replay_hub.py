"""The replay Hub speaks the Hub's wire format: the real huggingface_hub client pages through it."""

import json
import math
import os
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx2 as httpx
import pytest
from huggingface_hub import HfApi

from ingest.hub.replay import Faults
from tests.conftest import REPO_ROOT, wait_for


def test_it_serves_every_model_to_hf_api_list_models_following_link_cursors(replay_hub, replay_records):
    hub = replay_hub()
    api = HfApi(endpoint=hub.url)
    models = list(api.list_models(expand=["downloads", "downloadsAllTime", "likes", "createdAt", "cardData",
                                          "tags", "baseModels", "safetensors"]))
    assert len(models) == len({m.id for m in models}) == len(replay_records) == 4167
    by_id = {record["id"]: record for record in replay_records}
    for model in models[::97]:
        assert model.downloads == by_id[model.id]["downloads"]
        assert model.downloads_all_time == by_id[model.id]["downloadsAllTime"]
        assert model.likes == by_id[model.id]["likes"]
    pages = [entry for entry in hub.log if entry["list"]]
    assert len(pages) == math.ceil(4167 / 1000)
    assert all("cursor=" in entry["query"] for entry in pages[1:])


def test_it_filters_by_author_and_sorts_by_downloads_descending(replay_hub, replay_records):
    hub = replay_hub()
    models = list(HfApi(endpoint=hub.url).list_models(author="Qwen", sort="downloads", expand=["downloads"]))
    expected = [r for r in replay_records if r["id"].split("/")[0] == "Qwen"]
    assert len(models) == len(expected) > 10
    downloads = [m.downloads for m in models]
    assert downloads == sorted(downloads, reverse=True)


def test_it_returns_only_the_expanded_fields_and_caps_a_page_at_1000(replay_hub):
    hub = replay_hub()
    response = httpx.get(f"{hub.url}/api/models",
                         params=[("limit", "5000"), ("expand[]", "downloads"), ("expand[]", "likes")])
    assert response.status_code == 200
    page = response.json()
    assert len(page) == 1000
    assert {key for record in page for key in record} == {"_id", "id", "downloads", "likes"}
    assert response.links["next"]["url"].startswith(f"{hub.url}/api/models?")
    plain = httpx.get(f"{hub.url}/api/models", params={"limit": "3", "expand": "gguf"}).json()
    assert {key for record in plain for key in record} == {"_id", "id", "gguf"}


@pytest.mark.parametrize("query, fragment", [
    ({"limit": "abc"}, "limit"), ({"limit": "0"}, "limit"), ({"cursor": "garbage!"}, "cursor"),
    ({"sort": "password"}, "sort"),
])
def test_it_answers_bad_parameters_with_400(replay_hub, query, fragment):
    hub = replay_hub()
    response = httpx.get(f"{hub.url}/api/models", params=query)
    assert response.status_code == 400
    assert fragment in response.json()["error"]


def test_it_answers_renamed_repos_with_a_307_and_unknown_paths_with_404(replay_hub):
    hub = replay_hub()
    moved = httpx.get(f"{hub.url}/api/models/bert-base-uncased")
    assert moved.status_code == 307
    assert moved.headers["Location"] == "/api/models/google-bert/bert-base-uncased"
    info = HfApi(endpoint=hub.url).model_info("meta-llama/Meta-Llama-3.1-8B-Instruct")
    assert info.id == "meta-llama/Llama-3.1-8B-Instruct"
    assert httpx.get(f"{hub.url}/api/agent-harnesses").status_code == 404
    assert httpx.get(f"{hub.url}/api/models/nobody/nothing").status_code == 404


def _draw_faults(hub, requests=40):
    kinds = []
    for number in range(requests):
        try:
            # A different request each time: the same one repeated inside a 429's Retry-After would
            # be refused as early instead of drawing a fault.
            response = httpx.get(f"{hub.url}/api/models", params={"limit": str(number + 1)}, timeout=5)
            response.json()
        except (httpx.TransportError, json.JSONDecodeError):
            pass
    for entry in hub.log:
        kinds.append(entry["fault"])
    return kinds


def test_it_injects_every_fault_kind_at_the_configured_rate_reproducibly(replay_hub):
    first = _draw_faults(replay_hub(fault_rate=0.5, seed=3, slow_seconds=0.05, retry_after=2))
    again = _draw_faults(replay_hub(fault_rate=0.5, seed=3, slow_seconds=0.05, retry_after=2))
    assert first == again
    counts = Counter(first)
    assert {"429", "500", "truncated", "slow"} <= set(counts)
    assert 0.3 < sum(v for k, v in counts.items() if k) / len(first) < 0.7


def test_it_sends_retry_after_with_a_429(replay_hub):
    hub = replay_hub(fault_rate=1.0, kinds=("429",), retry_after=7)
    response = httpx.get(f"{hub.url}/api/models")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"


def test_it_refuses_a_request_repeated_before_the_announced_retry_after_and_logs_it_early(replay_hub):
    hub = replay_hub(fault_rate=1.0, kinds=("429",), retry_after=1)
    first = httpx.get(f"{hub.url}/api/models", params={"limit": "3"})
    again = httpx.get(f"{hub.url}/api/models", params={"limit": "3"})
    assert first.status_code == again.status_code == 429
    assert again.headers["Retry-After"] == "1"
    assert [(e["status"], e["early"], e["fault"]) for e in hub.log] == [(429, False, "429"), (429, True, None)]
    hub.faults.rate = 0.0  # no more drawn faults: only the announced wait stands in the way
    time.sleep(max(0.0, 1.05 - (time.time() - hub.log[0]["t"])))
    after = httpx.get(f"{hub.url}/api/models", params={"limit": "3"})
    assert after.status_code == 200 and len(after.json()) == 3
    assert hub.log[-1]["early"] is False


def test_it_keeps_a_429_to_the_request_it_answered(replay_hub):
    hub = replay_hub(fault_rate=1.0, kinds=("429",), retry_after=5)
    assert httpx.get(f"{hub.url}/api/models", params={"limit": "3"}).status_code == 429
    hub.faults.rate = 0.0
    assert httpx.get(f"{hub.url}/api/models", params={"limit": "4"}).status_code == 200
    assert [e["early"] for e in hub.log] == [False, False]


def test_it_refuses_fault_settings_it_does_not_know():
    with pytest.raises(ValueError):
        Faults(rate=1.5)
    with pytest.raises(ValueError):
        Faults(rate=0.1, kinds=("teapot",))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_runs_as_the_fakehub_command_with_a_request_log(shared_data, tmp_path):
    port, log = _free_port(), tmp_path / "requests.jsonl"
    env = {**os.environ, "SECRET_KEY": "test", "HF_HOME": str(tmp_path / "hf")}
    proc = subprocess.Popen([sys.executable, "manage.py", "fakehub", "--data-dir", str(shared_data), "--port",
                             str(port), "--log", str(log)], cwd=REPO_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        def answers():
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/models", params={"author": "google", "limit": "2"})
            except httpx.TransportError:
                time.sleep(0.2)
                return None

        response = wait_for(answers, timeout=60, message="fakehub to answer")
        assert response.status_code == 200
        assert all(record["id"].startswith("google/") for record in response.json())
        entries = [json.loads(line) for line in log.read_text().splitlines()]
        assert entries[-1]["path"] == "/api/models" and entries[-1]["status"] == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_it_refuses_to_start_without_the_hub_data(tmp_path):
    result = subprocess.run([sys.executable, "manage.py", "fakehub", "--data-dir", str(tmp_path), "--port", "0"],
                            cwd=REPO_ROOT, env={**os.environ, "SECRET_KEY": "test"}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "hub_stats_frozen" in result.stderr
