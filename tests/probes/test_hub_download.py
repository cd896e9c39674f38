"""Probes download from the Hub for real: the huggingface_hub client fetches the de-quantised
SmolLM2 repo from the replay Hub over HTTP through probes.sources.fetch_from_hub (model_info,
then snapshot_download: tree, HEAD per file, the LFS weights through the CDN redirect), and the
hostile repos are refused from their metadata before any weight or code file is requested."""

from __future__ import annotations

import hashlib
import json
import struct
import urllib.parse

import httpx2 as httpx
import pytest

from ingest.hub.replay import ReplayHub, load_records
from ingest.hub.replay_repos import CUSTOM_CODE_ID, PICKLE_ONLY_ID
from probes.errors import ModelRefused
from probes.offline_models import SMOLLM2_ID
from probes.sources import Limits, fetch_from_hub
from tests.replay_repo_store import session_repo_store

pytestmark = [pytest.mark.probes, pytest.mark.slow]
# The real repo's parameter count, as the Hub states it (hub-stats: safetensors.total, BF16).
SMOLLM2_PARAMS = 134_515_008


@pytest.fixture(scope="module")
def hub(shared_data, tmp_path_factory):
    store = session_repo_store(tmp_path_factory, load_records(shared_data))
    hub = ReplayHub(shared_data, records=[], repos=store)
    hub.start()
    yield hub
    hub.stop()


def _fetch(hub, hub_id, tmp_path, revision=""):
    return fetch_from_hub(hub_id, revision=revision, limits=Limits(), endpoint=hub.url, token=None,
                          cache_dir=str(tmp_path / "hf-cache"))


def _requested(hub, since: int) -> list[str]:
    """Files asked for (resolve or CDN) since log entry `since`."""
    return [e.get("file") or "" for e in hub.log[since:] if e.get("file") is not None or e.get("cdn")]


def test_fetch_from_hub_downloads_smollm2_through_snapshot_download_over_http(hub, tmp_path):
    start = len(hub.log)
    source = _fetch(hub, SMOLLM2_ID, tmp_path)
    assert source.origin == "hub" and source.gguf_file is None and source.n_params == SMOLLM2_PARAMS
    built = hub.repos.find(SMOLLM2_ID).revisions[source.revision]
    names = {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
             "chat_template.jinja"}
    assert names <= set(built) and len(source.revision) == 40
    for name in names:  # byte for byte what the replay serves, hashed here
        assert hashlib.sha256((source.path / name).read_bytes()).digest() == \
            hashlib.sha256(built[name].source.read_bytes()).digest(), name
    with open(source.path / "model.safetensors", "rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(length))
    assert {e["dtype"] for k, e in header.items() if k != "__metadata__"} == {"BF16"}  # as the Hub has it
    assert "{%" in (source.path / "chat_template.jinja").read_text()
    log = hub.log[start:]
    assert [e["status"] for e in log if e["path"].endswith("/resolve/" + source.revision + "/model.safetensors")] \
        == [302]  # the HEAD; the body came from the CDN
    assert [e["file"] for e in log if e.get("cdn")] == ["model.safetensors"]
    assert any("/tree/" + source.revision in e["path"] for e in log)


def test_resolve_answers_with_the_headers_huggingface_hub_reads(hub):
    sha = hub.repos.find(SMOLLM2_ID).main
    config = hub.repos.find(SMOLLM2_ID).revisions[sha]["config.json"].source.read_bytes()
    head = httpx.head(f"{hub.url}/{SMOLLM2_ID}/resolve/main/config.json")
    assert head.status_code == 200
    assert head.headers["ETag"] == f'"{hashlib.sha1(b"blob %d" % len(config) + bytes(1) + config).hexdigest()}"'
    assert head.headers["X-Repo-Commit"] == sha and head.headers["Content-Length"] == str(len(config))
    assert head.content == b""
    weights = hub.repos.find(SMOLLM2_ID).revisions[sha]["model.safetensors"].source.read_bytes()
    moved = httpx.head(f"{hub.url}/{SMOLLM2_ID}/resolve/main/model.safetensors")
    assert moved.status_code == 302 and moved.headers["X-Repo-Commit"] == sha
    assert moved.headers["X-Linked-Etag"] == f'"{hashlib.sha256(weights).hexdigest()}"'
    assert moved.headers["X-Linked-Size"] == str(len(weights))
    location = urllib.parse.urlsplit(moved.headers["Location"])
    assert location.port != urllib.parse.urlsplit(hub.url).port  # another origin, as the Hub's CDN
    resumed = httpx.get(moved.headers["Location"], headers={"Range": f"bytes={len(weights) - 100}-"})
    assert resumed.status_code == 206 and resumed.content == weights[-100:]
    assert httpx.get(f"{hub.url}/api/models/{SMOLLM2_ID}/revision/{'0' * 40}").headers["X-Error-Code"] == \
        "RevisionNotFound"
    assert httpx.head(f"{hub.url}/{SMOLLM2_ID}/resolve/main/nothing.json").headers["X-Error-Code"] == "EntryNotFound"
    info = httpx.get(f"{hub.url}/api/models/{SMOLLM2_ID}", params={"blobs": "true"}).json()
    assert info["sha"] == sha and info["createdAt"].startswith("2024-10-31")  # the hub-stats record's
    sizes = {s["rfilename"]: s["size"] for s in info["siblings"]}
    assert sizes["model.safetensors"] == len(weights) and sizes["config.json"] == len(config)


def test_a_pickle_only_repo_is_refused_before_any_file_is_requested(hub, tmp_path):
    start = len(hub.log)
    with pytest.raises(ModelRefused, match=r"only pickle checkpoints \(pytorch_model.bin\)"):
        _fetch(hub, PICKLE_ONLY_ID, tmp_path)
    assert _requested(hub, start) == []


def test_a_repo_asking_for_custom_code_is_refused_before_weights_or_code_are_requested(hub, tmp_path):
    start = len(hub.log)
    with pytest.raises(ModelRefused, match="custom code"):
        _fetch(hub, CUSTOM_CODE_ID, tmp_path)
    assert not {"model.safetensors", "modeling_custom.py"} & set(_requested(hub, start))


def test_an_unknown_revision_or_repo_is_refused_with_its_reason(hub, tmp_path):
    with pytest.raises(ModelRefused, match="has no revision"):
        _fetch(hub, SMOLLM2_ID, tmp_path, revision="f" * 40)
    with pytest.raises(ModelRefused, match="not found"):
        _fetch(hub, "nobody/nothing-here", tmp_path)


def test_a_commit_is_a_new_sha_and_the_old_revision_still_resolves(hub):
    repo = hub.repos.find(PICKLE_ONLY_ID)
    first = repo.main
    second = hub.repos.commit(PICKLE_ONLY_ID, "README.md", b"# pickle-only\nsecond revision\n")
    assert len(second) == 40 and second != first
    assert httpx.get(f"{hub.url}/api/models/{PICKLE_ONLY_ID}").json()["sha"] == second
    assert httpx.get(f"{hub.url}/{PICKLE_ONLY_ID}/resolve/main/README.md").content == b"# pickle-only\nsecond revision\n"
    old = httpx.get(f"{hub.url}/{PICKLE_ONLY_ID}/resolve/{first}/README.md")
    assert old.status_code == 200 and old.headers["X-Repo-Commit"] == first and b"second" not in old.content
