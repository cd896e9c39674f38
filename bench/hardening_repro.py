"""The hardening issue's reproductions #2, #3 and #4, against a real threaded server.

Starts `manage.py runserver --noreload` on the PostgreSQL and Redis named by DATABASE_URL,
REDIS_URL and CACHE_REDIS_URL (a bootstrapped catalogue, e.g. after `manage.py bootstrap`), then:
- #2: N distinct uncached metric requests; the database sessions left afterwards (pg_stat_activity);
- #3: 260 distinct `end` dates on relative-adoption; the cache Redis's memory and keys before and
  after, and how many of the new keys live longer than the short TTL;
- #4: 16 concurrent uncached PNG exports; their statuses and how long /api/stats takes meanwhile.
Reports one JSON object (also written to bench/results/hardening_repro.json).

    DATABASE_URL=... REDIS_URL=... CACHE_REDIS_URL=... SECRET_KEY=... .venv/bin/python bench/hardening_repro.py
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 120.0) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.perf_counter() - started


def _sessions(database_url: str) -> int:
    import psycopg

    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(database_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            [name]).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="#2: distinct uncached metric requests")
    parser.add_argument("--dates", type=int, default=260, help="#3: distinct end dates")
    parser.add_argument("--images", type=int, default=16, help="#4: concurrent uncached PNG exports")
    parser.add_argument("--computations-per-minute", type=int, default=None,
                        help="the server's METRIC_COMPUTATIONS_PER_MINUTE (default: the setting's own); "
                             "raise it to see #2 and #3 without the per-client limit")
    args = parser.parse_args()
    database_url, cache_url = os.environ["DATABASE_URL"], os.environ.get("CACHE_REDIS_URL") or os.environ["REDIS_URL"]
    import redis

    cache = redis.Redis.from_url(cache_url)
    cache.flushdb()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if args.computations_per_minute:
        env["METRIC_COMPUTATIONS_PER_MINUTE"] = str(args.computations_per_minute)
    server = subprocess.Popen([sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                _get(base + "/api/stats", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        out: dict = {"server": "runserver --noreload (a thread per request)",
                     "metric_computations_per_minute": args.computations_per_minute or "setting default"}

        before = _sessions(database_url)
        statuses = [_get(f"{base}/api/metrics/licence-mix?end={dt.date(2021, 1, 1) + dt.timedelta(days=i)}")[0]
                    for i in range(args.requests)]
        time.sleep(2)
        out["connections"] = {"requests": args.requests,
                              "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                              "sessions_before": before, "sessions_after": _sessions(database_url)}

        cache.flushdb()
        memory_before = cache.info("memory")["used_memory"]
        started = time.perf_counter()
        statuses = [_get(f"{base}/api/metrics/relative-adoption?scope=all&end="
                         f"{dt.date(2023, 1, 1) + dt.timedelta(days=i)}")[0] for i in range(args.dates)]
        keys = list(cache.scan_iter(count=1000))
        ttls = [cache.ttl(k) for k in keys]
        out["cache_flood"] = {"requests": args.dates, "seconds": round(time.perf_counter() - started, 1),
                              "statuses": {str(s): statuses.count(s) for s in sorted(set(statuses))},
                              "keys": len(keys),
                              "keys_living_over_an_hour": sum(1 for t in ttls if t < 0 or t > 3600),
                              "used_memory_mb_before": round(memory_before / 2**20, 1),
                              "used_memory_mb_after": round(cache.info("memory")["used_memory"] / 2**20, 1)}

        stats_alone = min(_get(base + "/api/stats")[1] for _ in range(3))
        with concurrent.futures.ThreadPoolExecutor(args.images + 1) as pool:
            images = [pool.submit(_get, f"{base}/charts/relative-adoption.png?scope=all&top=30&end=2025-01-{i + 1:02d}")
                      for i in range(args.images)]
            time.sleep(1)
            during = pool.submit(_get, base + "/api/stats").result()
            results = [f.result() for f in images]
        out["image_exports"] = {"concurrent": args.images, "statuses": {str(s): sum(1 for r in results if r[0] == s)
                                                                        for s in sorted({r[0] for r in results})},
                                "slowest_s": round(max(r[1] for r in results), 2),
                                "api_stats_alone_s": round(stats_alone, 3), "api_stats_during_s": round(during[1], 3)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(out, indent=2))
    name = "hardening_repro.json" if not args.computations_per_minute else "hardening_repro_unlimited.json"
    (ROOT / "bench" / "results" / name).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
