"""One replay-Hub repository store per test session: the de-quantised SmolLM2 repo is built once
(about half a minute on a 2-core runner) and every test module serving it reuses the build."""

from __future__ import annotations

from pathlib import Path

from ingest.hub.replay_repos import RepoStore

_STORES: dict[str, RepoStore] = {}


def session_repo_store(tmp_path_factory, records: list[dict]) -> RepoStore:
    """The session's store (its cache in a session temp folder, never the user's ~/.cache)."""
    if "store" not in _STORES:
        _STORES["store"] = RepoStore(Path(tmp_path_factory.getbasetemp()) / "replay-repos", records=records)
    return _STORES["store"]
