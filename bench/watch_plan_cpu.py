"""Wall time and peak memory of one watched plan on CPU, on a real `gpu` worker.

    .venv/bin/python bench/watch_plan_cpu.py --data-dir ../shared/data --database obs_bench \\
        --redis redis://127.0.0.1:6379/13

What runs: the replay Hub (ingest/hub/replay.py + replay_repos.py) serves SmolLM2-135M-Instruct's
real weights over HTTP, as in the end-to-end test; one crawl look-up stores the model (its sha
included) as a tracked release; the release watch plans it with the policy in force (the
WATCH_* settings, or --public-sets / --probe-config here: the default is the default plan, the
benchmark once more per public set on its CPU subset) and queues it; one Celery worker consumes
the `gpu` queue as production runs it (-c 1, --prefetch-multiplier 1, a fresh process per job,
downloads through snapshot_download, no PROBE_LOCAL_SOURCES).

Figures:
- plan wall seconds: from the queueing commit to the last run finished;
- worker peak RSS: the worker's rusage from wait4() once it exits (what `/usr/bin/time -v` calls
  "Maximum resident set size"): the largest of the worker and every job process it reaped;
- per run: its status, wall seconds and peak RSS as its result records them;
- ratios against baselines measured here, in this run: the plan's wall over the sum of its runs'
  own wall (what the queue and a fresh process per job add), and the peak RSS over an idle
  worker's (the same worker started and stopped with no job, measured the same way).
The machine's load average is recorded beside them: a figure taken on a busy machine is provisional.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _django import ROOT, setup
from results_file import publish

WORKER_ARGS = ["-A", "observatory", "worker", "-Q", "gpu", "-c", "1", "--prefetch-multiplier", "1",
               "--max-tasks-per-child", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # the worker writes its log here until it exits
    proc = subprocess.Popen([str(Path(sys.executable).parent / "celery"), *WORKER_ARGS], cwd=ROOT, env=env,
                            stdout=handle, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while b" ready." not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    return proc


def stop_worker(proc: subprocess.Popen) -> float:
    """Warm shutdown, then the worker's peak RSS (MB) from its rusage: its own and its reaped children's."""
    proc.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--database", default="obs_bench")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="the broker (its db is flushed)")
    parser.add_argument("--public-sets", help="WATCH_PUBLIC_SETS for this plan (default: the setting's)")
    parser.add_argument("--probe-config", help="WATCH_PROBE_CONFIG for this plan (default: the setting's)")
    parser.add_argument("--threads", type=int, default=2, help="PROBE_TORCH_THREADS of the worker")
    parser.add_argument("--timeout", type=float, default=4 * 3600)
    parser.add_argument("--out", default="watch_plan_cpu")
    args = parser.parse_args()

    os.environ.update({"REDIS_URL": args.redis, "EMBEDDED_TASKS": "0", "WATCH_ENABLED": "0",
                       "OBSERVATORY_BENCHMARKS_DIR": str(args.data_dir / "benchmarks")})
    for name, value in (("WATCH_PUBLIC_SETS", args.public_sets), ("WATCH_PROBE_CONFIG", args.probe_config)):
        if value is not None:
            os.environ[name] = value
    setup(args.database)
    import redis
    from django.conf import settings
    from django.db import transaction

    from gpu_workers import watch
    from gpu_workers.models import ProbeRun
    from ingest.hub.crawl import refresh_model
    from ingest.hub.replay import ReplayHub, load_records
    from ingest.hub.replay_repos import RepoStore
    from observatory.catalog.models import HubModel, Run, TrackedListEntry
    from probes.offline_models import SMOLLM2_ID

    redis.Redis.from_url(args.redis).flushdb()
    records = load_records(args.data_dir)
    store = RepoStore(settings.REPLAY_HUB_CACHE_DIR, records=records)
    store.find(SMOLLM2_ID)  # built (or read from the cache) before any clock starts
    hub = ReplayHub(args.data_dir, records=records, repos=store)
    hub.start()
    work = Path(tempfile.mkdtemp(prefix="watch-plan-cpu-"))
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HOME": str(work / "hf-home"), "PROBE_LOCAL_SOURCES": "",
           "PROBE_TORCH_THREADS": str(args.threads), "PYTHONUNBUFFERED": "1", "DATA_VERSION_WARM": "0"}
    try:
        settings.HF_ENDPOINT = hub.url
        # A fresh release each time: the model and its earlier runs go, so the plan is the full one.
        HubModel.objects.filter(hub_id=SMOLLM2_ID).delete()
        Run.objects.filter(kind=Run.Kind.PROBE, name__endswith=SMOLLM2_ID).delete()
        TrackedListEntry.objects.get_or_create(hub_id=SMOLLM2_ID, list_name="models",
                                               defaults={"org": "HuggingFaceTB"})
        refresh_model(SMOLLM2_ID)
        model = HubModel.objects.get(hub_id=SMOLLM2_ID)

        idle_peak = stop_worker(start_worker(env, work / "idle-worker.log"))
        worker = start_worker(env, work / "worker.log")
        items = [i for i in watch.plan(since=model.created_at) if i.model == model]
        began = time.monotonic()
        with transaction.atomic():
            done = watch.queue(items, trigger="bench")
        ids = done.counts["probe_runs"]
        print(f"queued {len(ids)} runs: {items[0].line()}", flush=True)
        deadline = began + args.timeout
        while time.monotonic() < deadline:
            statuses = set(Run.objects.filter(probe_run__in=ids).values_list("status", flat=True))
            if statuses <= {"succeeded", "failed", "cancelled"}:
                break
            time.sleep(1.0)
        else:
            raise SystemExit(f"the plan did not finish in {args.timeout:.0f}s")
        wall = time.monotonic() - began
        peak = stop_worker(worker)
    finally:
        hub.stop()
    runs = {}
    for probe_run in ProbeRun.objects.select_related("run").filter(pk__in=ids):
        result = probe_run.result or {}
        runs[probe_run.run.params["watch"]["label"]] = {
            "status": probe_run.run.status, "config_hash": probe_run.config_hash,
            "item_set": probe_run.config.get("item_set"), "limit": probe_run.config.get("limit"),
            "wall_seconds": result.get("wall_seconds"), "peak_memory_mb": result.get("peak_memory_mb"),
            "error": probe_run.run.error[:300]}
    own = sum(r["wall_seconds"] or 0 for r in runs.values())
    publish(args.out, {
        "command": " ".join(["python", "bench/watch_plan_cpu.py", *sys.argv[1:]]),
        "model": SMOLLM2_ID, "revision": items[0].revision, "plan": items[0].probes,
        "public_sets": settings.WATCH_PUBLIC_SETS, "probe_config": settings.WATCH_PROBE_CONFIG,
        "worker": "celery -Q gpu -c 1 --prefetch-multiplier 1 --max-tasks-per-child 1", "torch_threads": args.threads,
        "plan_wall_seconds": round(wall, 1), "worker_peak_rss_mb": round(peak, 1),
        "idle_worker_peak_rss_mb": round(idle_peak, 1), "runs": runs,
        "ratio_plan_wall_over_runs_own_wall": round(wall / own, 3) if own else None,
        "ratio_peak_rss_over_idle_worker": round(peak / idle_peak, 3) if idle_peak else None,
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count(),
    }, goal="issue 14's done-when: wall time and peak memory of one watched plan on CPU, on a real worker")


if __name__ == "__main__":
    main()
