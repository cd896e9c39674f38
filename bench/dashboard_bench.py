"""Dashboard metrics at scale against the same aggregates in SQL, cached throughput, and the
rollup's fold of one day's crawl, at the scales of the growth curve.

    make bench-env                                                                   # aiohttp, once
    .venv/bin/python bench/dashboard_bench.py --data-dir ../shared/data              # 0.1, 0.25, 0.5, 1.0
    .venv/bin/python bench/dashboard_bench.py --data-dir ../shared/data --scale 1.0  # one scale

What it does, in one process, on its own PostgreSQL database (obs_dash_bench):
1. Bootstraps the real shared data (the real importers), then grows it synthetically to
   `scale` × (2.2M models, 30M daily snapshot rows), derived from the real distributions:
   - models: sampled with replacement from the real catalogue (4.8k models), each copy keeping
     its source's organisation (so region), size class, licence class, pipeline tag, tracked
     flag, creation and release dates and all-time downloads, under a new id `org/name-s<i>`;
     copies of models that have parents get the same lineage edges (same parents, relations);
   - daily rows: a real series has ~120 rows (over a 231-day span), so 30M rows are ~250k models with a daily series;
     each is a copy of one of the 830 real daily download series (the real dates and growth
     shape), multiplied by a log-normal factor (sigma 1) so counts spread like real ones.
   - what the newer metrics read (grow_extras; also added once to a --reuse catalogue grown
     before it): monthly fine-tune series (copies of the real bases' series, FULL_FINETUNE_BASES)
     and succeeded public probe runs, tooling checks and finetune profiles of catalogue models
     (synthetic: the real data has no probe run; FULL_TOOLING_RELEASES, FULL_FINETUNE_MODELS).
   Then the daily-gain rollup is rebuilt (what every import's data-version bump does); --rebuild
   times a full recount (rollups.rebuild()) even when it is fresh: rollup_rebuild_s.
2. Each metric cold (cache cleared): what the chart endpoint runs (the loaders, which filter in
   SQL or read the rollup, plus the pure metric function), against the same aggregate written in
   SQL over the raw tables and run by PostgreSQL. Reported: load+compute seconds, compute-only
   seconds (the per-model function over whole frames already in memory), SQL seconds, both
   ratios to SQL; for the two metrics the rollup serves, also the same SQL over the rollup
   table and the cold time while the rollup is stale (raw rows, before a rebuild). The newer
   metrics too (download concentration by organisation and by family, fine-tunes by origin,
   fine-tunability, tooling readiness, the adoption forecast, whose fit is not SQL: its baseline
   is its data load). A metric over --breakdown-over seconds (and the forecast always) gets a
   `breakdown`: its loaders' SQL seconds, the compute around them, the chart, the JSON body.
   --profile METRIC runs one cold compute under cProfile instead of the bench.
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
import importlib.util
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
# What the newer metrics read, at the full Hub's size. None of these is in the real data at that
# size (the real files hold 3,903 bases with fine-tune counts, the bootstrap no probe run at all):
# assumptions, stated so the lead can change them.
# - Bases with a monthly fine-tune series: about one model in eleven (the Hub's base_model targets
#   are of that order); each a copy of a real base's series (~16 months each, so ~3.2M rows).
FULL_FINETUNE_BASES = 200_000
# - Releases the watch ran the tooling probe on (up to six checks each, CHECK_DAYS), and models it
#   profiled with the finetune probe (a GPU-half-hour each): what a small GPU pool gets through in a year.
FULL_TOOLING_RELEASES = 20_000
FULL_FINETUNE_MODELS = 5_000
PROBE_RUN_PREFIX = "bench-probe:"  # the Run names of the synthetic probe runs (grown once, kept by --reuse)

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
    # The newer metrics. {DAY} is the loaders' downloads-per-day (frames.DAY_SQL: the series'
    # estimate, else the rise of the Hub's count since the model's previous row), over the rows the
    # loader keeps, so the SQL sums what the metric sums.
    "download-concentration": """
        WITH d AS (
          SELECT s.date, COALESCE(o.namespace, m.author) AS grp, {DAY} AS day
          FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
          LEFT JOIN catalog_organization o ON o.id = m.organization_id
          WHERE m.tracked AND s.source IN ('daily-series', 'crawl') AND s.downloads_all_time IS NOT NULL),
        g AS (SELECT date_trunc('month', date)::date AS month, grp, SUM(COALESCE(day, 0)) AS n FROM d GROUP BY 1, 2),
        {CONCENTRATION}""",
    "download-concentration:by=family": """
        WITH RECURSIVE up AS (
          SELECT DISTINCT ON (child_id) child_id, parent_id, parent_hub_id FROM catalog_lineageedge
          ORDER BY child_id, lower(parent_hub_id) COLLATE "C", parent_hub_id COLLATE "C"),
        walk AS (
          SELECT m.id AS model_id, m.id AS node_id, m.hub_id::text AS family, 0 AS depth
          FROM catalog_hubmodel m WHERE m.tracked
          UNION ALL
          SELECT w.model_id, u.parent_id, COALESCE(p.hub_id, u.parent_hub_id)::text, w.depth + 1
          FROM walk w JOIN up u ON u.child_id = w.node_id LEFT JOIN catalog_hubmodel p ON p.id = u.parent_id
          WHERE w.depth < 32),
        fam AS (SELECT DISTINCT ON (model_id) model_id, family FROM walk ORDER BY model_id, depth DESC),
        d AS (
          SELECT s.date, s.model_id, {DAY} AS day
          FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
          WHERE m.tracked AND s.source IN ('daily-series', 'crawl') AND s.downloads_all_time IS NOT NULL),
        g AS (SELECT date_trunc('month', d.date)::date AS month, f.family AS grp, SUM(COALESCE(d.day, 0)) AS n
              FROM d JOIN fam f USING (model_id) GROUP BY 1, 2),
        {CONCENTRATION}""",
    "finetunes-by-origin": """
        WITH c AS (
          SELECT f.base_hub_id, f.months_since_creation AS n, f.cumulative_count AS cnt,
                 DATE(f.base_created_at) AS created, COALESCE(m.tracked, FALSE) AS tracked
          FROM catalog_monthlyfinetunecount f LEFT JOIN catalog_hubmodel m ON m.id = f.model_id
          WHERE f.base_created_at IS NOT NULL),
        window_end AS (SELECT date_trunc('month', MAX(created + make_interval(months => n)))::date AS month FROM c),
        steps AS (
          SELECT base_hub_id, (date_trunc('month', created) + make_interval(months => n))::date AS month,
                 cnt - LAG(cnt) OVER w AS new, n - LAG(n) OVER w AS step
          FROM c WHERE tracked WINDOW w AS (PARTITION BY base_hub_id ORDER BY n)),
        r AS (
          SELECT s.month, COALESCE(o.region, 'unknown') AS region, SUM(s.new) AS new FROM steps s
          LEFT JOIN catalog_organization o ON o.namespace = split_part(s.base_hub_id, '/', 1)
          WHERE s.step = 1 AND s.month < (SELECT month FROM window_end) GROUP BY 1, 2)
        SELECT month, region, new, new::float / NULLIF(SUM(new) OVER (PARTITION BY month), 0) FROM r
        ORDER BY 1, 2""",
    # Not SQL: the growth law's fit (analytics.forecast) is numpy over every trajectory. The
    # baseline is its data load, the same three queries run by PostgreSQL (see time_metrics).
    "adoption-forecast": [
        """SELECT s.model_id, s.date, s.downloads_all_time, {DAY}, s.cumulative_kind
           FROM catalog_downloadsnapshot s JOIN catalog_hubmodel m ON m.id = s.model_id
           WHERE m.size_class <> '' AND m.release_date IS NOT NULL AND s.date >= m.release_date
             AND s.downloads_all_time IS NOT NULL AND s.source IN ('daily-series', 'crawl')""",
        """SELECT m.id, m.hub_id, COALESCE(o.namespace, m.author), COALESCE(o.region, 'unknown'), m.tracked,
                  NULLIF(m.size_class, ''), m.pipeline_tag, m.release_date
           FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id""",
        """SELECT f.base_hub_id, f.months_since_creation, f.cumulative_count, DATE(f.base_created_at),
                  COALESCE(m.tracked, FALSE)
           FROM catalog_monthlyfinetunecount f LEFT JOIN catalog_hubmodel m ON m.id = f.model_id"""],
    # Each (model, config)'s latest public succeeded run ranked within its config, and the ranked
    # runs' mean loss curves (the tasks' curves averaged step by step, to the shortest).
    "fine-tunability": ["""
        WITH r AS (
          SELECT pr.id, pr.model_id, pr.hub_id, pr.config_hash, ru.finished_at, pr.result -> 'metrics' AS mt
          FROM gpu_workers_proberun pr JOIN catalog_run ru ON ru.id = pr.run_id
          WHERE pr.probe = 'finetune' AND pr.public AND ru.status = 'succeeded' AND pr.result IS NOT NULL),
        latest AS (SELECT DISTINCT ON (hub_id, config_hash) * FROM r ORDER BY hub_id, config_hash, finished_at DESC, id DESC),
        t AS (
          SELECT l.hub_id, l.config_hash, l.finished_at, COALESCE(o.region, 'unknown') AS region,
                 NULLIF(m.size_class, '') AS size_class, m.licence_class, (l.mt ->> 'diverged')::boolean AS diverged,
                 (l.mt ->> 'heldout_gain')::float AS gain, (l.mt ->> 'forgetting')::float AS forgetting,
                 (SELECT avg(v::float) FROM jsonb_each_text(l.mt -> 'steps_to_target') x(k, v)) AS steps_mean,
                 l.mt ->> 'peak_memory_mb', l.mt ->> 'tokens_per_second', l.mt ->> 'wall_seconds'
          FROM latest l LEFT JOIN catalog_hubmodel m ON m.id = l.model_id
          LEFT JOIN catalog_organization o ON o.id = m.organization_id),
        c AS (SELECT config_hash, count(*) AS models, max(finished_at) AS newest FROM t GROUP BY 1)
        SELECT t.*, c.models, dense_rank() OVER (ORDER BY c.models DESC, c.newest DESC, c.config_hash) - 1,
               row_number() OVER (PARTITION BY t.config_hash
                                  ORDER BY t.diverged, t.gain DESC NULLS LAST, t.forgetting NULLS LAST, t.hub_id)
        FROM t JOIN c USING (config_hash)""", """
        WITH latest AS (
          SELECT DISTINCT ON (pr.hub_id, pr.config_hash) pr.hub_id, pr.config_hash, pr.result -> 'metrics' -> 'tasks' AS tasks
          FROM gpu_workers_proberun pr JOIN catalog_run ru ON ru.id = pr.run_id
          WHERE pr.probe = 'finetune' AND pr.public AND ru.status = 'succeeded' AND pr.result IS NOT NULL
          ORDER BY pr.hub_id, pr.config_hash, ru.finished_at DESC, pr.id DESC),
        points AS (
          SELECT l.hub_id, l.config_hash, p.step, p.loss::float AS loss,
                 min(jsonb_array_length(t.v -> 'loss_curve')) OVER (PARTITION BY l.hub_id, l.config_hash) AS steps
          FROM latest l, jsonb_each(l.tasks) t(k, v),
               jsonb_array_elements_text(t.v -> 'loss_curve') WITH ORDINALITY p(loss, step))
        SELECT hub_id, config_hash, step, avg(loss) FROM points WHERE step <= steps GROUP BY 1, 2, 3"""],
    # Per tracked release with a public tooling check: its first all-passing check's day from
    # release (NULL while none passed: GREATEST alone would skip the NULL and say day 0); by region
    # and release month, as tooling_readiness.by_group counts them.
    "tooling-readiness": """
        WITH c AS (
          SELECT pr.model_id, (ru.finished_at AT TIME ZONE 'UTC')::date AS day,
                 (pr.result -> 'metrics' ->> 'checks_passed')::int AS passed,
                 (pr.result -> 'metrics' ->> 'checks_total')::int AS total
          FROM gpu_workers_proberun pr JOIN catalog_run ru ON ru.id = pr.run_id
          WHERE pr.probe = 'tooling' AND pr.public AND ru.status = 'succeeded' AND ru.finished_at IS NOT NULL
            AND pr.result IS NOT NULL AND pr.model_id IS NOT NULL),
        r AS (SELECT model_id, MIN(day) FILTER (WHERE total > 0 AND passed = total) AS ready_on FROM c GROUP BY 1),
        t AS (
          SELECT COALESCE(o.region, 'unknown') AS grp, date_trunc('month', m.release_date)::date AS month,
                 m.release_date AS released,
                 CASE WHEN r.ready_on IS NOT NULL THEN GREATEST(0, r.ready_on - m.release_date) END AS days,
                 (now() AT TIME ZONE 'UTC')::date AS today
          FROM r JOIN catalog_hubmodel m ON m.id = r.model_id LEFT JOIN catalog_organization o ON o.id = m.organization_id
          WHERE m.tracked AND m.release_date IS NOT NULL),
        g AS (
          SELECT grp, month, count(*) AS releases, count(days) AS ready,
                 percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median_days,
                 count(*) FILTER (WHERE days <= 0) AS r0, count(*) FILTER (WHERE days <= 0 OR released <= today) AS o0,
                 count(*) FILTER (WHERE days <= 7) AS r7, count(*) FILTER (WHERE days <= 7 OR released <= today - 7) AS o7,
                 count(*) FILTER (WHERE days <= 30) AS r30,
                 count(*) FILTER (WHERE days <= 30 OR released <= today - 30) AS o30
          FROM t GROUP BY 1, 2)
        SELECT *, r0::float / NULLIF(o0, 0), r7::float / NULLIF(o7, 0), r30::float / NULLIF(o30, 0) FROM g
        ORDER BY 1, 2""",
}

# Shares, HHI and top-N shares of each month's positive gains by group (g: month, grp, n), as
# analytics.concentration ranks them (larger gain first, ties by the group's name).
_CONCENTRATION_SQL = """
        r AS (SELECT month, grp, n / SUM(n) OVER (PARTITION BY month) AS share,
                     row_number() OVER (PARTITION BY month ORDER BY n DESC, grp COLLATE "C") AS rank
              FROM g WHERE n > 0)
        SELECT month, SUM((100 * share) ^ 2), SUM(share) FILTER (WHERE rank <= 1), SUM(share) FILTER (WHERE rank <= 5),
               SUM(share) FILTER (WHERE rank <= 10), count(*)
        FROM r GROUP BY month ORDER BY month"""

# What each bench row asks the metric for: (metric, ChartParams fields besides the filters).
CASES = {label: (label.split(":")[0], dict(part.split("=") for part in label.split(":")[1:])) for label in SQL}

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
    "download-concentration": """
        WITH g AS (SELECT date_trunc('month', date)::date AS month, organization AS grp, SUM(gain) AS n
                   FROM catalog_dailygain WHERE tracked GROUP BY 1, 2),
        {CONCENTRATION}""",
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
    # A real series does not cover every day (770 series, 120 rows each over 231 days): dividing
    # by the days gave a scale-1.0 catalogue 15.8M rows, not 30M (bench/top_up_series.py mends one).
    per_series = series.height / max(len(series_models), 1)
    n_series = min(int(FULL_ROWS * scale / per_series), n_models)
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

    copy = _copy
    timings = {"models_copy_s": copy("catalog_hubmodel", models),
               "snapshots_copy_s": copy("catalog_downloadsnapshot",
                                        rows),
               "edges_copy_s": copy("catalog_lineageedge", new_edges)}
    with raw.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('catalog_hubmodel', 'id'), (SELECT max(id) FROM catalog_hubmodel))")
        cur.execute("ANALYZE")
    raw.commit()
    return {"synthetic_models": n_models, "synthetic_series_models": n_series, "synthetic_rows": rows.height,
            "synthetic_edges": new_edges.height, **timings, **grow_extras(scale, seed)}


def _copy(table: str, frame) -> float:
    """COPY a frame's rows into `table` (its columns by name) and commit; the seconds it took."""
    from django.db import connection

    started = time.perf_counter()
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="")
    buffer.seek(0)
    raw = connection.connection
    with raw.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN (FORMAT csv, NULL '')") as out:
            while block := buffer.read(1 << 24):
                out.write(block)
    raw.commit()
    return time.perf_counter() - started


def grow_extras(scale: float, seed: int = 7) -> dict:
    """The fine-tune counts and probe runs at `scale`, once: a catalogue grown before these
    existed (a --reuse run) gets them on its first run, later runs find them and add nothing."""
    import numpy as np

    rng = np.random.default_rng(seed + 1)
    return {**_grow_finetune_counts(scale, rng), **_grow_probe_runs(scale, rng)}


def _grow_finetune_counts(scale: float, rng) -> dict:
    """Copies of the real monthly fine-tune series (catalog_monthlyfinetunecount, source 'bench')
    up to FULL_FINETUNE_BASES × scale bases. A real base that is a catalogue model lends its
    series to that model's synthetic copies (so the copy's tracked flag and size class apply, as
    for the real one); the others' copies are bases outside the catalogue, `<base>-f<i>`. Counts
    are multiplied by a log-normal factor (sigma 1) per copy and floored: still cumulative."""
    import polars as pl
    from django.db import connection

    from observatory.analytics import frames

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_monthlyfinetunecount WHERE source = 'bench'")
        if cur.fetchone()[0]:
            return {"finetune_counts": "already grown"}
    real = frames.read(
        "SELECT f.base_hub_id, f.months_since_creation, f.cumulative_count, f.model_id, m.hub_id, "
        "to_char(f.base_created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00') "
        "FROM catalog_monthlyfinetunecount f LEFT JOIN catalog_hubmodel m ON m.id = f.model_id", [],
        {"base": pl.Utf8, "months_since_creation": pl.Int64, "cumulative_count": pl.Int64, "real_model": pl.Int64,
         "model_hub_id": pl.Utf8, "base_created_at": pl.Utf8})
    bases = real.select("base", "model_hub_id").unique("base").sort("base")
    n_new = max(int(FULL_FINETUNE_BASES * scale) - bases.height, 0)
    picks = bases[rng.integers(0, bases.height, n_new)].with_columns(pl.int_range(pl.len()).alias("i"))
    # The synthetic copies of each catalogue base (grow() names a copy `<source hub id>-s<id>`).
    copies = frames.read(
        "SELECT id, hub_id, regexp_replace(hub_id, '-s[0-9]+$', '') FROM catalog_hubmodel "
        "WHERE tracked_reason = 'bench'", [], {"model_id": pl.Int64, "hub_id": pl.Utf8, "model_hub_id": pl.Utf8})
    copies = (copies.join(bases.drop_nulls("model_hub_id").select("model_hub_id"), on="model_hub_id", how="semi")
              .with_columns(pl.int_range(pl.len()).over("model_hub_id").alias("k")))
    picks = (picks.with_columns(pl.int_range(pl.len()).over("base").alias("k"))
             .join(copies, on=["model_hub_id", "k"], how="left")
             .with_columns(pl.coalesce("hub_id", pl.col("base") + "-f" + pl.col("i").cast(pl.Utf8)).alias("new_base"),
                           pl.Series("factor", rng.lognormal(0.0, 1.0, n_new))))
    rows = (picks.select("base", "new_base", "model_id", "factor").join(real, on="base")
            .select(pl.col("new_base").alias("base_hub_id"), "months_since_creation",
                    (pl.col("cumulative_count") * pl.col("factor")).floor().cast(pl.Int64).alias("cumulative_count"),
                    pl.lit("bench").alias("source"), "model_id", "base_created_at"))
    seconds = _copy("catalog_monthlyfinetunecount", rows)
    return {"synthetic_finetune_bases": n_new, "synthetic_finetune_linked_bases": picks["model_id"].is_not_null().sum(),
            "synthetic_finetune_rows": rows.height, "finetune_counts_copy_s": round(seconds, 1)}


def _grow_probe_runs(scale: float, rng) -> dict:
    """Succeeded public probe runs (catalog_run + gpu_workers_proberun) of the catalogue's models,
    once: the bootstrap of the real data has none (the probes run on GPU workers).

    - tooling: FULL_TOOLING_RELEASES × scale tracked models with a release date, each checked on the
      first 1-6 of the check days after its release (gpu_workers.readiness.CHECK_DAYS); half are
      ready at their first check, the rest pass every check from a later one or (a fifth) never;
      a check that is not ready fails one to three of the probe's checks.
    - finetune: FULL_FINETUNE_MODELS × scale tracked sized models, each with a run of the default
      config (a third also with a 20-step variant), its result the real Gemma-3-270M CPU run's
      (bench/results/probe_gemma3_270m_finetune_cpu.json) with its losses, gains and speeds
      scaled per model, a tenth diverged.
    Both in the record schema (probes.result.validate, checked on a sample)."""
    import json

    import numpy as np
    import polars as pl
    from django.db import connection

    from gpu_workers.readiness import CHECK_DAYS
    from observatory.analytics import frames
    from probes import result as probe_result
    from probes import tooling

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_run WHERE name LIKE %s", [PROBE_RUN_PREFIX + "%"])
        if cur.fetchone()[0]:
            return {"probe_runs": "already grown"}
    candidates = frames.read(
        "SELECT id, hub_id, release_date, size_class FROM catalog_hubmodel WHERE tracked AND release_date IS NOT NULL",
        [], {"model_id": pl.Int64, "hub_id": pl.Utf8, "release_date": pl.Date, "size_class": pl.Utf8}).sort("model_id")
    real = json.loads((ROOT / "bench" / "results" / "probe_gemma3_270m_finetune_cpu.json").read_text())
    runs: list[dict] = []

    def add(model_id, hub_id, probe, finished: dt.datetime, config: dict, metrics: dict, checks: list) -> None:
        revision = f"{rng.integers(0, 2**63):016x}" * 2 + "00000000"
        record = {"probe": probe, "model": {"hub_id": hub_id, "revision": revision}, "config": config,
                  "versions": real["versions"], "device": {"type": "cuda", "dtype": "bfloat16", "name": "NVIDIA L4"},
                  "metrics": metrics, "checks": checks, "seed": 1234, "wall_seconds": metrics.get("wall_seconds", 60.0)}
        runs.append({"model_id": model_id, "hub_id": hub_id, "probe": probe, "finished": finished, "config": config,
                     "config_hash": probe_result.config_hash(probe, config), "revision": revision, "result": record})

    tooling_config = probe_result.full_config("tooling")
    n_tooling = min(int(FULL_TOOLING_RELEASES * scale), candidates.height)
    for model_id, hub_id, release, _size in candidates[rng.choice(candidates.height, n_tooling, replace=False)].iter_rows():
        made = int(rng.integers(1, len(CHECK_DAYS) + 1))
        ready_from = 0 if rng.random() < 0.5 else (made if rng.random() < 0.4 else int(rng.integers(1, len(CHECK_DAYS))))
        for j, day in enumerate(CHECK_DAYS[:made]):
            failing = () if j >= ready_from else tuple(tooling.CHECKS[-int(rng.integers(1, 4)):])
            checks = [{"name": c, "passed": c not in failing, "error": f"{c} failed" if c in failing else ""}
                      for c in tooling.CHECKS]
            passed = len(checks) - len(failing)
            finished = dt.datetime.combine(release + dt.timedelta(days=day), dt.time(int(rng.integers(0, 24))), dt.UTC)
            add(model_id, hub_id, "tooling", finished, tooling_config,
                {"checks_passed": passed, "checks_total": len(checks), "readiness": round(passed / len(checks), 4),
                 "wall_seconds": round(float(rng.uniform(40, 400)), 1)}, checks)

    base_config = probe_result.full_config("finetune")
    configs = [base_config, probe_result.full_config("finetune", {"steps": 20})]
    sized = candidates.filter(pl.col("size_class") != "")
    n_finetune = min(int(FULL_FINETUNE_MODELS * scale), sized.height)
    for model_id, hub_id, release, _size in sized[rng.choice(sized.height, n_finetune, replace=False)].iter_rows():
        for config in configs[:1 + (rng.random() < 1 / 3)]:
            loss, gain, speed = (float(x) for x in rng.lognormal(0.0, [0.3, 0.5, 0.8]))
            metrics = json.loads(json.dumps(real["metrics"]))
            for task in metrics["tasks"].values():
                curve = [round(v * loss * float(rng.uniform(0.9, 1.1)), 5) for v in task["loss_curve"]]
                task["loss_curve"] = (curve * 2)[:config["steps"]]
                task["heldout_gain"] = round(task["heldout_gain"] * gain, 5)
            metrics.update({
                "initial_loss": round(metrics["initial_loss"] * loss, 5), "final_loss": round(metrics["final_loss"] * loss, 5),
                "heldout_gain": round(metrics["heldout_gain"] * gain, 5),
                "forgetting": round(metrics["forgetting"] * float(rng.lognormal(0.0, 0.5)), 5),
                "lr_sensitivity": round(metrics["lr_sensitivity"] * float(rng.lognormal(0.0, 0.5)), 5),
                "diverged": bool(rng.random() < 0.1), "tokens_per_second": round(metrics["tokens_per_second"] * speed, 2),
                "peak_memory_mb": round(metrics["peak_memory_mb"] * float(rng.lognormal(1.0, 0.7)), 1),
                "wall_seconds": round(metrics["wall_seconds"] / speed, 1),
                "steps_to_target": {k: (None if v is None or rng.random() < 0.2 else int(rng.integers(1, config["steps"] + 1)))
                                    for k, v in metrics["steps_to_target"].items()}})
            finished = dt.datetime.combine(release + dt.timedelta(days=int(rng.integers(1, 60))),
                                           dt.time(int(rng.integers(0, 24))), dt.UTC)
            add(model_id, hub_id, "finetune", finished, config, metrics, [])

    for run in runs[:: max(len(runs) // 50, 1)]:
        probe_result.validate(run["result"])  # the shape the worker writes (a sample: validating all is slow)
    with connection.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM catalog_run")
        first_id = cur.fetchone()[0] + 1
    ids = np.arange(first_id, first_id + len(runs))
    finished = pl.Series([r["finished"] for r in runs], dtype=pl.Datetime("us", "UTC"))
    run_rows = pl.DataFrame({
        "id": ids, "kind": "probe", "name": [f"{PROBE_RUN_PREFIX}{r['probe']}:{r['hub_id']}" for r in runs],
        "status": "succeeded", "params": "{}", "counts": "{}", "cursor": "{}", "progress": 1.0, "current_step": "",
        "error": "", "task_id": "", "created_at": finished - dt.timedelta(minutes=30),
        "started_at": finished - dt.timedelta(minutes=20), "finished_at": finished})
    probe_rows = pl.DataFrame({
        "run_id": ids, "hub_id": [r["hub_id"] for r in runs], "revision": "main",
        "resolved_revision": [r["revision"] for r in runs], "model_id": [r["model_id"] for r in runs],
        "probe": [r["probe"] for r in runs], "config": [json.dumps(r["config"]) for r in runs],
        "config_hash": [r["config_hash"] for r in runs], "budget_seconds": 1800, "attempts": 1, "resends": 0,
        "result": [json.dumps(r["result"]) for r in runs], "public": True})
    seconds = _copy("catalog_run", run_rows) + _copy("gpu_workers_proberun", probe_rows)
    with connection.cursor() as cur:
        cur.execute("SELECT setval(pg_get_serial_sequence('catalog_run', 'id'), (SELECT max(id) FROM catalog_run))")
        cur.execute("ANALYZE catalog_run")
        cur.execute("ANALYZE gpu_workers_proberun")
    return {"synthetic_tooling_releases": n_tooling, "synthetic_finetune_models": n_finetune,
            "synthetic_probe_runs": len(runs), "synthetic_tooling_runs": sum(r["probe"] == "tooling" for r in runs),
            "probe_runs_copy_s": round(seconds, 1)}


def _sql_text(text: str) -> str:
    from observatory.analytics import frames

    return text.replace("{CONCENTRATION}", _CONCENTRATION_SQL).replace("{DAY}", frames.DAY_SQL)


def time_metrics(repeat: int, breakdown_over: float = 1.0, skip: tuple[str, ...] = ()) -> list[dict]:
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

    def sql(text: str | list[str]) -> tuple[float, int]:
        # A list: the statements run one after another, timed together (rows: the first's).
        statements = [_sql_text(t) for t in ([text] if isinstance(text, str) else text)]

        def run():
            with connection.cursor() as cur:
                counts = []
                for statement in statements:
                    cur.execute(statement)
                    counts.append(len(cur.fetchall()))
                return counts[0]
        return best_of(run)

    out = []
    params = {label: ChartParams(filters=Filters(), **fields) for label, (_, fields) in CASES.items()}
    for label, (name, _) in CASES.items():
        if label in skip:
            out.append({"metric": label, "skipped": "--skip-metric (measured at a smaller scale: see the note)"})
            print(out[-1], flush=True)
            continue
        fresh = rollups.fresh()
        best_total, result = best_of(lambda name=name, label=label: METRICS[name].compute(params[label]))
        best_sql, sql_rows = sql(SQL[label])
        best_compute = _compute_only(label, params[label], repeat)
        reads_rollup = label in SQL_ROLLUP and fresh
        row = {"metric": label, "reads": "rollup" if reads_rollup else "raw rows filtered in SQL",
               "rows": result.rows.height, "sql_rows": sql_rows,
               "load_and_compute_s": round(best_total, 3), "compute_only_s": round(best_compute, 3),
               "sql_s": round(best_sql, 3), "ratio_load_and_compute_to_sql": round(best_total / best_sql, 3),
               "ratio_compute_only_to_sql": round(best_compute / best_sql, 3)}
        if label in SQL_BASELINE_NOTES:
            row["sql_baseline"] = SQL_BASELINE_NOTES[label]
        if label in SQL_ROLLUP:
            rollup_sql, _ = sql(SQL_ROLLUP[label])
            # The same request while the rollup is stale (after a write, before the rebuild).
            rollups_fresh, rollups.fresh = rollups.fresh, lambda: False
            try:
                raw_total, raw_result = best_of(lambda name=name, label=label: METRICS[name].compute(params[label]))
            finally:
                rollups.fresh = rollups_fresh
            _assert_same(label, raw_result.rows, result.rows)
            row.update({"sql_over_rollup_s": round(rollup_sql, 3),
                        "ratio_load_and_compute_to_sql_over_rollup": round(best_total / rollup_sql, 3),
                        "stale_rollup_load_and_compute_s": round(raw_total, 3),
                        "ratio_stale_rollup_to_sql": round(raw_total / best_sql, 3)})
        if best_total > breakdown_over or label in LOAD_COMPUTE_SPLIT:
            cache.clear()
            row["breakdown"] = breakdown(name, params[label])
        out.append(row)
        print(out[-1], flush=True)
    return out


# Baselines that are not the metric's aggregate in SQL, and why.
SQL_BASELINE_NOTES = {
    "adoption-forecast": "data load only: the growth law's fit and quantiles (numpy, per trajectory) have no "
                         "SQL equivalent; PostgreSQL runs the loader's three queries (since-release snapshots of "
                         "every sized model, the models, the fine-tune counts); see breakdown for load vs compute",
}
LOAD_COMPUTE_SPLIT = ("adoption-forecast",)  # its breakdown is its answer: always measured


def _assert_same(label: str, a, b) -> None:
    """The rollup and the raw rows give the same rows (floats to 1e-9: a sum's order differs)."""
    from polars.testing import assert_frame_equal

    if label in ("cumulative-downloads-by-region", "download-share-by-org"):  # integers: exactly, as before
        assert a.sort(a.columns).equals(b.sort(b.columns)), label
    else:
        assert_frame_equal(a.sort(a.columns), b.sort(b.columns), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


def breakdown(name: str, params) -> dict:
    """One cold request of `name`, its seconds split (time.perf_counter around the loaders):
    - load_sql_s: in the frame loaders (analytics.frames: the query, the rows' transfer, parsing
      into polars; the rollup's reads too) and every other statement through Django's cursor;
    - probe_orm_s: in the probe-result loaders (analytics.probe_frames: ORM rows and their JSON
      documents turned into frames), their statements included (they are also in load_sql_s);
    - compute_s: the rest of compute(), the metric's polars and Python;
    - chart_s: the figure built and serialised as the page embeds it (figure_html);
    - json_s: the JSON body the API serves (payload_of + json.dumps);
    - slowest_loads: the four statements (or probe loaders) that took longest, with their seconds."""
    import json

    from django.db import connection

    from observatory.analytics import frames, probe_frames
    from observatory.charts.embedding import figure_html
    from observatory.dashboards import results
    from observatory.dashboards.registry import METRICS

    spent = {"load": 0.0, "probe": 0.0}
    depth = {"load": 0, "probe": 0}
    by_query: dict[str, float] = {}

    def timed(kind, function, what=None):
        def wrapper(*args, **kwargs):
            depth[kind] += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                depth[kind] -= 1
                if not depth[kind]:  # nested loaders (a loader calling one) count once
                    seconds = time.perf_counter() - started
                    spent[kind] += seconds
                    key = what or " ".join(str(args[0]).split())[:160]
                    by_query[key] = by_query.get(key, 0.0) + seconds
        return wrapper

    def statement(execute, sql, params, many, context):
        return timed("load", lambda *_: execute(sql, params, many, context))(sql)

    patched = [(frames, "_frame"), (probe_frames, "finetune_runs"), (probe_frames, "readiness_by_model"),
               (probe_frames, "models_of")]
    saved = [(module, attr, getattr(module, attr)) for module, attr in patched]
    for module, attr, function in saved:
        setattr(module, attr, timed("load", function) if attr == "_frame" else
                timed("probe", function, f"probe_frames.{attr}()"))
    try:
        with connection.execute_wrapper(statement):
            started = time.perf_counter()
            result = METRICS[name].compute(params)
            total = time.perf_counter() - started
    finally:
        for module, attr, function in saved:
            setattr(module, attr, function)
    started = time.perf_counter()
    figure_html(METRICS[name].chart(result, params), div_id="chart")
    chart_s = time.perf_counter() - started
    started = time.perf_counter()
    body = json.dumps(results.payload_of(name, params, result), separators=(",", ":")).encode()
    json_s = time.perf_counter() - started
    return {"load_and_compute_s": round(total, 3), "load_sql_s": round(spent["load"], 3),
            "probe_orm_s": round(spent["probe"], 3), "compute_s": round(total - max(spent["load"], spent["probe"]), 3),
            "chart_s": round(chart_s, 3), "json_s": round(json_s, 3), "json_bytes": len(body),
            # Where the load goes: the slowest statements (the SQL's start) and probe loaders.
            "slowest_loads": [{"seconds": round(v, 3), "query": k} for k, v in
                              sorted(by_query.items(), key=lambda kv: -kv[1])[:4]]}


def _compute_only(label: str, params, repeat: int) -> float:
    """The pure metric function alone, on frames already loaded (what a warm worker would do)."""
    import polars as pl

    from observatory.analytics import (
        adoption,
        concentration,
        derivatives,
        fine_tunability,
        finetunes,
        forecast,
        frames,
        licences,
        probe_frames,
        releases,
        shares,
        tooling_readiness,
    )
    from observatory.analytics.filters import Filters, filter_models

    everyone = frames.models()
    models = filter_models(everyone, params.filters)
    snaps = frames.snapshots() if label in ("cumulative-downloads-by-region", "download-share-by-org",
                                            "relative-adoption", "download-concentration",
                                            "download-concentration:by=family") else None
    edges, orgs = frames.edges(), frames.organizations()
    counts = frames.finetune_counts() if label in ("finetunes-by-origin", "adoption-forecast") else None
    if label == "adoption-forecast":
        as_of = frames.latest_snapshot_date()
        since_release = frames.snapshots(end=as_of, filters=Filters(scope="all"), since_release=True)
    if label == "fine-tunability":
        runs, curves, _ = probe_frames.finetune_runs()
        profiled = probe_frames.models_of(runs["model_id"].drop_nulls().unique().to_list())
    readiness = probe_frames.readiness_by_model() if label == "tooling-readiness" else None

    def by_group(groups):
        return concentration.concentration(
            adoption.daily_increments(snaps).join(groups, on="model_id").select("date", "group", "increment"))

    def fine_tunability_table():
        table = fine_tunability.leaderboard(runs, profiled)
        return table, fine_tunability.ranked_curves(curves, table)

    run = {
        "cumulative-downloads-by-region": lambda: adoption.cumulative_downloads_by_region(snaps, models, scope="all"),
        "download-share-by-org": lambda: shares.download_share_by_org(snaps, models),
        "download-concentration": lambda: by_group(models.select("model_id", pl.col("organization").alias("group"))),
        "download-concentration:by=family": lambda: by_group(
            concentration.family_roots(edges, models, everyone).rename({"family": "group"})),
        "derivatives-by-base": lambda: derivatives.derivatives_by_base(edges, models, orgs),
        "finetunes-by-origin": lambda: (finetunes.finetunes_by_origin(counts, orgs), finetunes.partial_month(counts)),
        "licence-mix": lambda: (licences.licence_mix(models, edges), licences.licence_conflicts(models, edges, everyone)),
        "releases-by-region": lambda: releases.releases_by_region(models),
        "relative-adoption": lambda: adoption.relative_adoption(snaps, models),
        "adoption-forecast": lambda: forecast.adoption_forecast(
            since_release, everyone, counts, as_of=as_of, chosen=models,
            reference_models=filter_models(everyone, Filters(scope=params.filters.scope))),
        "fine-tunability": fine_tunability_table,
        "tooling-readiness": lambda: tooling_readiness.by_group(
            tooling_readiness.per_model(models.filter(pl.col("release_date").is_not_null()), readiness,
                                        today=dt.datetime.now(dt.UTC).date()), by="region"),
    }[label]
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
    else:
        growth["extras"] = grow_extras(scale)  # a catalogue grown before the newer metrics' tables
    from observatory.analytics import rollups

    # What every import's data-version bump does (None: already fresh). After the growth's COPY
    # (every day of the series) that is a full recount: the baseline of incremental_refresh.
    rollup_s = rollups.refresh()
    if args.rebuild:
        # A full recount (manage.py rebuild_rollups) whatever the state: on a reused catalogue the
        # refresh above has nothing to do, so this is the only rebuild figure it gets.
        rollup_s = rollups.rebuild()
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_hubmodel")
        models = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM catalog_downloadsnapshot")
        rows = cur.fetchone()[0]
    print(f"scale {scale}: {models:,} models, {rows:,} snapshot rows", flush=True)
    metrics = time_metrics(args.repeat, args.breakdown_over, tuple(args.skip_metric))
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


def profile(label: str) -> None:
    """One cold compute of a bench case under cProfile: where a slow metric's time goes."""
    import cProfile
    import pstats

    from django.core.cache import cache

    from observatory.analytics.filters import Filters
    from observatory.dashboards.params import ChartParams
    from observatory.dashboards.registry import METRICS

    if label not in CASES:
        raise SystemExit(f"--profile takes one of {', '.join(CASES)}")
    name, fields = CASES[label]
    params = ChartParams(filters=Filters(), **fields)
    cache.clear()
    profiler = cProfile.Profile()
    profiler.runcall(METRICS[name].compute, params)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


def growth_curve(runs: list[dict]) -> dict:
    """Per metric, its cold time and its SQL baseline's at each scale, and the fold's."""
    curve = {}
    for run in runs:
        for row in run["metrics"]:
            if "skipped" in row:
                continue
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
    parser.add_argument("--rebuild", action="store_true",
                        help="time a full recount of the rollup (rollups.rebuild()) even when it is fresh (--reuse)")
    parser.add_argument("--breakdown-over", type=float, default=1.0,
                        help="split a metric's cold seconds (load SQL, compute, chart, JSON) when over this")
    parser.add_argument("--profile", metavar="METRIC[:by=family]",
                        help="only profile one bench case cold (cProfile, top 30 by cumulative time), no bench")
    parser.add_argument("--skip-metric", action="append", default=[], metavar="LABEL",
                        help="leave one metric (an SQL key, e.g. adoption-forecast) out of this run; repeatable")
    parser.add_argument("--result", default="dashboard_bench",
                        help="bench/results/<RESULT>.json (a trial run at a small scale keeps the committed one)")
    args = parser.parse_args()
    try:
        scales = [args.scale] if args.scale is not None else sorted(float(x) for x in args.scales.split(","))
    except ValueError:
        parser.error(f"--scales takes fractions separated by commas, not {args.scales!r}")
    if not scales or any(not 0 < x <= 10 for x in scales):
        parser.error("each scale is a fraction above 0 (and at most 10) of the full Hub")
    if unknown := set(args.skip_metric) - set(SQL):
        parser.error(f"--skip-metric takes one of {sorted(SQL)}, not {sorted(unknown)}")
    if args.reuse and len(scales) > 1:
        parser.error("--reuse keeps one catalogue: give one --scale")
    if not args.skip_load and importlib.util.find_spec("aiohttp") is None:
        # Found now, not after an hour of growing the catalogue.
        parser.error("the load test needs aiohttp: `make bench-env` (or pass --skip-load)")

    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup("obs_dash_bench")

    if args.profile:
        profile(args.profile)
        return
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
