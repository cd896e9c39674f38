"""Dashboard metrics at scale against the same aggregates in SQL, cached throughput, and the
rollup's fold of one day's crawl, at the scales of the growth curve.

    .venv/bin/python bench/dashboard_bench.py --data-dir ../shared/data              # 0.1, 0.25, 0.5, 1.0
    .venv/bin/python bench/dashboard_bench.py --data-dir ../shared/data --scale 1.0  # one scale

What it does, in one process, on its own PostgreSQL database (obs_dash_bench):
1. Bootstraps the real shared data (the real importers), then grows it synthetically to
   `scale` × (2.2M models, 30M daily snapshot rows), derived from the real distributions:
   - models: sampled with replacement from the real catalogue (4.8k models), each copy keeping
     its source's organisation (so region), size class, licence class, pipeline tag, tracked
     flag, creation and release dates and all-time downloads, under a new id `org/name-s<i>`;
     copies of models that have parents get the same lineage edges (same parents, relations);
   - daily rows: the real span has 232 days, so 30M rows are ~129k models with a daily series;
     each is a copy of one of the 830 real daily download series (the real dates and growth
     shape), multiplied by a log-normal factor (sigma 1) so counts spread like real ones.
   Then the daily-gain rollup is rebuilt (what every import's data-version bump does).
2. Each metric cold (cache cleared): what the chart endpoint runs (the loaders, which filter in
   SQL or read the rollup, plus the pure metric function), against the same aggregate written in
   SQL over the raw tables and run by PostgreSQL. Reported: load+compute seconds, compute-only
   seconds (the per-model function over whole frames already in memory), SQL seconds, both
   ratios to SQL; for the two metrics the rollup serves, also the same SQL over the rollup
   table and the cold time while the rollup is stale (raw rows, before a rebuild).
3. Cached JSON under load: gunicorn (gthread) on loopback serving /api/metrics/… from the
   Redis cache, an aiohttp client with 32 concurrent connections, bounded by --requests and
   --seconds. Reported: requests/s, p50, p99 latency. At the largest scale only.
4. One day's crawl folded into the rollup (incremental_refresh): a row for every model, written
   through the rollup's triggers and folded in while reader threads read the rollup. Reported:
   the fold's seconds, the day's rows, reader errors (a failed or 30 s statement, or a state that
   is neither the one before nor the one after), and the fold against the full rebuild of step 1.

Each scale runs on a fresh catalogue, smallest first; `growth_curve` lists every metric's cold
and SQL seconds (and the fold's) by scale, `scales` the smaller runs in full, the largest run is
the top level. Results go to bench/results/dashboard_bench.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from _django import ROOT, setup, write_result

FULL_MODELS = 2_200_000
FULL_ROWS = 30_000_000

SQL = {
    "cumulative-downloads-by-region": """
        SELECT s.date, COALESCE(o.region, 'unknown') AS region,
               SUM(SUM(COALESCE(s.downloads_day, 0))) OVER (PARTITION BY COALESCE(o.region, 'unknown') ORDER BY s.date)
        FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
        LEFT JOIN catalog_organization o ON o.id = m.organization_id
        WHERE m.tracked AND s.source IN ('daily-series', 'crawl') AND s.downloads_all_time IS NOT NULL
        GROUP BY 1, 2""",
    "download-share-by-org": """
        WITH g AS (
          SELECT date_trunc('month', s.date) AS month, COALESCE(o.namespace, m.author) AS org,
                 SUM(COALESCE(s.downloads_day, 0)) AS n
          FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
          LEFT JOIN catalog_organization o ON o.id = m.organization_id
          WHERE m.tracked AND s.source IN ('daily-series', 'crawl') AND s.downloads_all_time IS NOT NULL
          GROUP BY 1, 2)
        SELECT month, org, n, n / NULLIF(SUM(n) OVER (PARTITION BY month), 0) FROM g""",
    "derivatives-by-base": """
        SELECT date_trunc('month', c.created_at) AS month, COALESCE(o.region, 'unknown'), e.relation, count(*)
        FROM catalog_lineageedge e JOIN catalog_hubmodel c ON c.id = e.child_id
        LEFT JOIN catalog_organization o ON o.namespace = split_part(e.parent_hub_id, '/', 1)
        WHERE c.tracked GROUP BY 1, 2, 3""",
    "licence-mix": """
        SELECT m.licence_class, count(*), COALESCE(sum(m.downloads_all_time), 0),
               (SELECT count(*) FROM catalog_lineageedge e JOIN catalog_hubmodel p ON p.id = e.parent_id
                WHERE p.tracked AND p.licence_class = m.licence_class)
        FROM catalog_hubmodel m WHERE m.tracked GROUP BY m.licence_class""",
    "releases-by-region": """
        SELECT date_trunc('quarter', m.release_date), COALESCE(o.region, 'unknown'), count(*)
        FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id
        WHERE m.tracked AND m.release_date IS NOT NULL GROUP BY 1, 2""",
    "relative-adoption": """
        WITH c AS (
          SELECT m.id, m.size_class, s.date - m.release_date AS days, s.downloads_all_time AS cum
          FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
          WHERE m.tracked AND m.size_class <> '' AND m.release_date IS NOT NULL AND s.date >= m.release_date
            AND s.source IN ('daily-series', 'crawl') AND s.downloads_all_time IS NOT NULL
            AND s.cumulative_kind IN ('all-time', 'estimated')),
        r AS (
          SELECT size_class, days, cum, row_number() OVER (PARTITION BY size_class, days ORDER BY cum DESC) AS rn,
                 count(*) OVER (PARTITION BY size_class, days) AS n FROM c),
        ref AS (SELECT size_class, days,
                       MAX(cum) OVER (PARTITION BY size_class ORDER BY days) AS reference FROM r WHERE rn = 10 AND n >= 10),
        latest AS (SELECT DISTINCT ON (id) id, size_class, days, cum FROM c ORDER BY id, days DESC)
        SELECT l.id, l.cum::float / NULLIF(ref.reference, 0) FROM latest l JOIN ref USING (size_class, days)""",
}

# The same two aggregates in SQL over the daily-gain rollup (observatory.analytics.rollups): what
# PostgreSQL would do given the table the loaders read.
SQL_ROLLUP = {
    "cumulative-downloads-by-region": """
        WITH g AS (SELECT date, region, SUM(gain) AS gain FROM catalog_dailygain WHERE tracked GROUP BY 1, 2)
        SELECT date, region, SUM(gain) OVER (PARTITION BY region ORDER BY date) AS cumulative FROM g""",
    "download-share-by-org": """
        WITH g AS (SELECT date_trunc('month', date) AS month, organization AS org, SUM(gain) AS n
                   FROM catalog_dailygain WHERE tracked GROUP BY 1, 2)
        SELECT month, org, n, n / NULLIF(SUM(n) OVER (PARTITION BY month), 0) FROM g""",
}


def grow(scale: float, seed: int = 7) -> dict:
    """Append synthetic models, daily rows and edges derived from the real ones (see module doc)."""
    import numpy as np
    import polars as pl
    from django.db import connection

    from observatory.analytics import frames

    rng = np.random.default_rng(seed)
    real = frames.models()
    n_models = max(int(FULL_MODELS * scale) - real.height, 0)
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("SELECT id, organization_id, hub_id, size_class, licence_id, licence_class, pipeline_tag, tracked, "
                    "created_at, release_date, downloads_all_time FROM catalog_hubmodel")
        source = pl.DataFrame(cur.fetchall(), orient="row", schema=[
            "src", "organization_id", "hub_id", "size_class", "licence_id", "licence_class", "pipeline_tag", "tracked",
            "created_at", "release_date", "downloads_all_time"])
        cur.execute("SELECT coalesce(max(id), 0) FROM catalog_hubmodel")
        next_id = cur.fetchone()[0] + 1
    picks = source[rng.integers(0, source.height, n_models)].with_columns(
        pl.Series("id", np.arange(next_id, next_id + n_models)))
    picks = picks.with_columns((pl.col("hub_id") + "-s" + pl.col("id").cast(pl.Utf8)).alias("hub_id"))
    models = picks.select(
        "id", "hub_id", pl.col("hub_id").str.split("/").list.first().alias("author"), "organization_id",
        "created_at", "release_date", pl.lit("hub").alias("release_date_source"), "pipeline_tag",
        pl.lit("").alias("library_name"), pl.lit("").alias("licence_raw"), "licence_id", "licence_class",
        pl.lit("").alias("params_source"), "size_class", pl.lit("").alias("gated"), pl.lit("[]").alias("tags"),
        pl.lit("{}").alias("card_data"), "downloads_all_time", "tracked", pl.lit("bench").alias("tracked_reason"),
        pl.lit("2026-01-01 00:00:00+00").alias("first_seen_at"))

    series = frames.snapshots()
    series_models = series["model_id"].unique().to_list()
    days = series["date"].n_unique()
    n_series = min(int(FULL_ROWS * scale / days), n_models)
    chosen = rng.choice(n_models, n_series, replace=False)
    mapping = pl.DataFrame({
        "model_id": picks["id"].to_numpy()[chosen],
        "real": rng.choice(series_models, n_series),
        "factor": rng.lognormal(0.0, 1.0, n_series),
    })
    rows = (mapping.join(series.rename({"model_id": "real"}), on="real")
            .select("model_id", "date", (pl.col("downloads_all_time") * pl.col("factor")).cast(pl.Int64)
                    .alias("downloads_all_time"), (pl.col("downloads_day") * pl.col("factor")).alias("downloads_day"),
                    "cumulative_kind", pl.lit("daily-series").alias("source")))

    with raw.cursor() as cur:
        cur.execute("SELECT child_id, parent_id, parent_hub_id, relation FROM catalog_lineageedge")
        edges = pl.DataFrame(cur.fetchall(), orient="row", schema=["src", "parent_id", "parent_hub_id", "relation"])
    new_edges = picks.select("id", "src").join(edges, on="src").select(
        pl.col("id").alias("child_id"), "parent_id", "parent_hub_id", "relation", pl.lit("bench").alias("source"))

    def copy(table: str, frame: pl.DataFrame) -> float:
        started = time.perf_counter()
        buffer = io.BytesIO()
        frame.write_csv(buffer, include_header=False, null_value="")
        buffer.seek(0)
        columns = ", ".join(frame.columns)
        with raw.cursor() as cur:
            with cur.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv, NULL '')") as out:
                while block := buffer.read(1 << 24):
                    out.write(block)
        raw.commit()
        return time.perf_counter() - started

    timings = {"models_copy_s": copy("catalog_hubmodel", models),
               "snapshots_copy_s": copy("catalog_downloadsnapshot",
                                        rows),
               "edges_copy_s": copy("catalog_lineageedge", new_edges)}
    with raw.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('catalog_hubmodel', 'id'), (SELECT max(id) FROM catalog_hubmodel))")
        cur.execute("ANALYZE")
    raw.commit()
    return {"synthetic_models": n_models, "synthetic_series_models": n_series, "synthetic_rows": rows.height,
            "synthetic_edges": new_edges.height, **timings}


def time_metrics(repeat: int) -> list[dict]:
    from django.core.cache import cache
    from django.db import connection

    from observatory.analytics import rollups
    from observatory.analytics.filters import Filters
    from observatory.dashboards.params import ChartParams
    from observatory.dashboards.registry import METRICS

    def best_of(run) -> tuple[float, object]:
        best, result = float("inf"), None
        for _ in range(repeat):
            cache.clear()
            started = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - started)
        return best, result

    def sql(text: str) -> tuple[float, int]:
        def run():
            with connection.cursor() as cur:
                cur.execute(text)
                return len(cur.fetchall())
        return best_of(run)

    out = []
    params = {name: ChartParams(filters=Filters()) for name in SQL}
    for name in SQL:
        fresh = rollups.fresh()
        best_total, result = best_of(lambda name=name: METRICS[name].compute(params[name]))
        best_sql, sql_rows = sql(SQL[name])
        best_compute = _compute_only(name, params[name], repeat)
        row = {"metric": name, "reads": "rollup" if name in SQL_ROLLUP and fresh else "raw rows filtered in SQL",
               "rows": result.rows.height, "sql_rows": sql_rows,
               "load_and_compute_s": round(best_total, 3), "compute_only_s": round(best_compute, 3),
               "sql_s": round(best_sql, 3), "ratio_load_and_compute_to_sql": round(best_total / best_sql, 3),
               "ratio_compute_only_to_sql": round(best_compute / best_sql, 3)}
        if name in SQL_ROLLUP:
            rollup_sql, _ = sql(SQL_ROLLUP[name])
            # The same request while the rollup is stale (after a write, before the rebuild).
            rollups_fresh, rollups.fresh = rollups.fresh, lambda: False
            try:
                raw_total, raw_result = best_of(lambda name=name: METRICS[name].compute(params[name]))
            finally:
                rollups.fresh = rollups_fresh
            assert raw_result.rows.sort(raw_result.rows.columns).equals(result.rows.sort(result.rows.columns)), name
            row.update({"sql_over_rollup_s": round(rollup_sql, 3),
                        "ratio_load_and_compute_to_sql_over_rollup": round(best_total / rollup_sql, 3),
                        "stale_rollup_load_and_compute_s": round(raw_total, 3),
                        "ratio_stale_rollup_to_sql": round(raw_total / best_sql, 3)})
        out.append(row)
        print(out[-1], flush=True)
    return out


def _compute_only(name: str, params, repeat: int) -> float:
    """The pure metric function alone, on frames already loaded (what a warm worker would do)."""
    from observatory.analytics import adoption, derivatives, frames, licences, releases, shares
    from observatory.analytics.filters import filter_models

    everyone = frames.models()
    models = filter_models(everyone, params.filters)
    snaps = frames.snapshots() if name in ("cumulative-downloads-by-region", "download-share-by-org",
                                           "relative-adoption") else None
    edges, orgs = frames.edges(), frames.organizations()
    run = {
        "cumulative-downloads-by-region": lambda: adoption.cumulative_downloads_by_region(snaps, models, scope="all"),
        "download-share-by-org": lambda: shares.download_share_by_org(snaps, models),
        "derivatives-by-base": lambda: derivatives.derivatives_by_base(edges, models, orgs),
        "licence-mix": lambda: (licences.licence_mix(models, edges), licences.licence_conflicts(models, edges, everyone)),
        "releases-by-region": lambda: releases.releases_by_region(models),
        "relative-adoption": lambda: adoption.relative_adoption(snaps, models),
    }[name]
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


# What the rollup's readers run (SQL_ROLLUP's first query) and a whole-table fingerprint of the
# state they read: every fingerprint a reader sees must be the one before a fold or the one after.
# Integers only: a float sum's last digits depend on the order a (parallel) scan adds them in.
_ROLLUP_STATE_SQL = ("SELECT COUNT(*), COALESCE(SUM(rows), 0), COALESCE(SUM(ROUND(gain * 1000)::bigint), 0) "
                     "FROM catalog_dailygain")


def incremental_refresh(readers: int = 4) -> dict:
    """One day's crawl at the catalogue's size folded into the rollup while readers read it.

    Two days after the newest snapshot, every model gets a row of the Hub's all-time count
    (source crawl, no per-day estimate: its gain is the rise since its row of the day before),
    each day written by one INSERT through the rollup's triggers and folded in with
    rollups.refresh() (what the crawl's data-version bump runs). The second day is the one
    reported: its gains rest on the first. While it is folded, `readers` threads, each with its
    own connection, run the rollup's cumulative-downloads SQL and the state fingerprint in a loop;
    reader_errors counts their errors, statements over 30 s, and states that are neither the one
    before the fold nor the one after. The two days stay in the catalogue (a --reuse run adds two
    more after them).
    """
    import threading

    import psycopg
    from django.db import connection

    from observatory.analytics import rollups

    def crawl_day(day, previous) -> tuple[int, float]:
        started = time.perf_counter()
        with connection.cursor() as cur:
            if previous is None:
                cur.execute("INSERT INTO catalog_downloadsnapshot (model_id, date, downloads_all_time, source) "
                            "SELECT id, %s, COALESCE(downloads_all_time, 0), 'crawl' FROM catalog_hubmodel", [day])
            else:  # a rise of 0 to 96 downloads, spread by id
                cur.execute("INSERT INTO catalog_downloadsnapshot (model_id, date, downloads_all_time, source) "
                            "SELECT model_id, %s, downloads_all_time + model_id %% 97, 'crawl' "
                            "FROM catalog_downloadsnapshot WHERE date = %s AND source = 'crawl'", [day, previous])
            return cur.rowcount, time.perf_counter() - started

    with connection.cursor() as cur:
        cur.execute("SELECT MAX(date) FROM catalog_downloadsnapshot")
        newest = cur.fetchone()[0]
    first, second = newest + dt.timedelta(1), newest + dt.timedelta(2)
    crawl_day(first, None)
    first_fold_s = rollups.refresh()
    rows, write_s = crawl_day(second, first)

    dsn = os.environ["DATABASE_URL"]
    with psycopg.connect(dsn) as conn:
        before = conn.execute(_ROLLUP_STATE_SQL).fetchone()
    seen, errors, latencies, stop = [], [], [], threading.Event()

    def reader():
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute("SET statement_timeout = '30s'")
                while not stop.is_set():
                    started = time.perf_counter()
                    conn.execute(SQL_ROLLUP["cumulative-downloads-by-region"]).fetchall()
                    seen.append(conn.execute(_ROLLUP_STATE_SQL).fetchone())
                    latencies.append(time.perf_counter() - started)
        except Exception as error:  # counted: a reader that fails or waits 30 s is what this measures
            errors.append(repr(error))

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(readers)]
    for thread in threads:
        thread.start()
    try:
        fold_s = rollups.refresh()
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)
    with psycopg.connect(dsn) as conn:
        after = conn.execute(_ROLLUP_STATE_SQL).fetchone()
    half = [state for state in seen if state not in (before, after)]
    latencies.sort()
    return {"seconds": round(fold_s, 2), "rows": rows, "reader_errors": len(errors) + len(half),
            "reader_queries": len(seen), "reader_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)
            if latencies else None, "reader_error_examples": errors[:3] + [repr(s) for s in half[:3]],
            "write_s": round(write_s, 2), "first_day_fold_s": round(first_fold_s, 2),
            "rollup_cells_after": after[0]}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _load(url: str, concurrency: int, total: int, seconds: float) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    issued = 0

    async def worker(session):
        nonlocal issued, errors
        while issued < total and time.perf_counter() < deadline:
            issued += 1
            started = time.perf_counter()
            async with session.get(url) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "errors": errors, "seconds": round(elapsed, 2),
            "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


def load_test(workers: int, threads: int, concurrency: int, total: int, seconds: float,
              path: str = "/api/metrics/cumulative-downloads-by-region") -> dict:
    import requests

    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "observatory.wsgi:application", "-b", f"127.0.0.1:{port}",
         "-w", str(workers), "-k", "gthread", "--threads", str(threads), "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}{path}"
    try:
        for _ in range(120):
            try:
                if requests.get(url, timeout=120).status_code == 200:  # also warms the cache
                    break
            except requests.ConnectionError:
                time.sleep(0.5)
        for _ in range(workers * 4):
            requests.get(url, timeout=60)  # every worker has its connections open
        result = asyncio.run(_load(url, concurrency, total, seconds))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    return {"url": path, "server": f"gunicorn gthread {workers}x{threads}",
            "concurrency": concurrency, **result}


def run_scale(args, scale: float, with_load: bool) -> dict:
    """Everything above at one scale: a fresh catalogue (unless --reuse), the metrics cold, the
    cached loads (`with_load`), then one day's crawl folded in."""
    from django.core.management import call_command
    from django.db import connection

    bootstrap_s, growth = None, {"reused": True}
    if not args.reuse:
        with connection.cursor() as cur:  # a fresh start every run
            cur.execute("TRUNCATE catalog_lineageedge, catalog_downloadsnapshot, catalog_leaderboardentry, "
                        "catalog_hubmodel, catalog_organization, catalog_run CASCADE")
        started = time.perf_counter()
        call_command("bootstrap", "--data-dir", str(args.data_dir), "--no-progress", verbosity=0)
        bootstrap_s = round(time.perf_counter() - started, 1)
        growth = grow(scale)
    from observatory.analytics import rollups

    # What every import's data-version bump does (None: already fresh). After the growth's COPY
    # (every day of the series) that is a full recount: the baseline of incremental_refresh.
    rollup_s = rollups.refresh()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_hubmodel")
        models = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM catalog_downloadsnapshot")
        rows = cur.fetchone()[0]
    print(f"scale {scale}: {models:,} models, {rows:,} snapshot rows", flush=True)
    metrics = time_metrics(args.repeat)
    load = page_load = None
    if with_load:
        load = load_test(args.workers, args.threads, 32, args.requests, args.seconds)
        # The cached dashboard page (served whole from the cache per data version, like the JSON).
        page_load = load_test(args.workers, args.threads, 32, args.requests, args.seconds,
                              path="/dashboards/cumulative-downloads-by-region")
        print(load, page_load, flush=True)
    refresh = incremental_refresh()
    if rollup_s:
        refresh["ratio_to_full_rebuild"] = round(refresh["seconds"] / rollup_s, 3)
    print({"incremental_refresh": refresh}, flush=True)
    return {"scale": scale, "models": models, "snapshot_rows": rows, "bootstrap_s": bootstrap_s, "growth": growth,
            "rollup_rebuild_s": None if rollup_s is None else round(rollup_s, 1), "metrics": metrics,
            "cached_json_load": load, "cached_page_load": page_load, "incremental_refresh": refresh}


def growth_curve(runs: list[dict]) -> dict:
    """Per metric, its cold time and its SQL baseline's at each scale, and the fold's."""
    curve = {}
    for run in runs:
        for row in run["metrics"]:
            curve.setdefault(row["metric"], []).append(
                {"scale": run["scale"], "load_and_compute_s": row["load_and_compute_s"], "sql_s": row["sql_s"]})
        curve.setdefault("incremental_refresh", []).append(
            {"scale": run["scale"], "seconds": run["incremental_refresh"]["seconds"],
             "rows": run["incremental_refresh"]["rows"]})
    return curve


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--scale", type=float, default=None, help="one fraction of 2.2M models / 30M daily rows")
    parser.add_argument("--scales", default="0.1,0.25,0.5,1.0",
                        help="the growth curve: fractions run in turn, each on a fresh catalogue (--scale: one)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=2, help="gunicorn threads per worker (few: the GIL)")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the catalogue an earlier run grew (one --scale)")
    parser.add_argument("--result", default="dashboard_bench",
                        help="bench/results/<RESULT>.json (a trial run at a small scale keeps the committed one)")
    args = parser.parse_args()
    try:
        scales = [args.scale] if args.scale is not None else sorted(float(x) for x in args.scales.split(","))
    except ValueError:
        parser.error(f"--scales takes fractions separated by commas, not {args.scales!r}")
    if not scales or any(not 0 < x <= 10 for x in scales):
        parser.error("each scale is a fraction above 0 (and at most 10) of the full Hub")
    if args.reuse and len(scales) > 1:
        parser.error("--reuse keeps one catalogue: give one --scale")

    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup("obs_dash_bench")

    # The cached loads hardly depend on the data's size: measured at the largest scale only.
    runs = [run_scale(args, scale, with_load=not args.skip_load and scale == scales[-1]) for scale in scales]
    largest = runs[-1]
    path = write_result(args.result, {
        "command": " ".join(sys.argv), **largest,
        "growth_curve": growth_curve(runs) if len(runs) > 1 else None,
        "scales": runs[:-1],  # the smaller runs in full (the largest is the top level)
        "cpu_count": os.cpu_count(),
    })
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
