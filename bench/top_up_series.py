"""Top a grown bench catalogue's daily rows up to a target, the way dashboard_bench.grow makes them.

    .venv/bin/python bench/top_up_series.py --database obs_dash_bench --rows 30000000

grow() chose its series models as FULL_ROWS × scale ÷ (distinct days), but a real series does
not cover every day (770 real series, 92,655 rows over 231 days: 120 rows each), so a scale-1.0
catalogue held 15.8M rows, not 30M. grow() now divides by the real series' mean length; this
adds to a catalogue grown before that fix what grow() would have added: more synthetic models
(those without a series yet, at random) each given a copy of one real series (real dates and
shape) times a log-normal factor (sigma 1), until the rows reach the target. Plain psycopg and
COPY, through the tables' triggers (the next rollup refresh recounts), no Django: it runs on a
catalogue whatever migrations the checkout holds.
"""

from __future__ import annotations

import argparse
import io
import time

import numpy as np
import polars as pl
import psycopg

SERIES_SQL = ("SELECT model_id, date, downloads_all_time, downloads_day, cumulative_kind FROM catalog_downloadsnapshot "
              "WHERE model_id <= %s AND source = 'daily-series' AND downloads_all_time IS NOT NULL")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="obs_dash_bench")
    parser.add_argument("--rows", type=int, default=30_000_000)
    parser.add_argument("--real-max-id", type=int, default=None,
                        help="the last real model's id (default: the last id before the first synthetic '-s<id>' one)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{args.database}") as conn:
        real_max = args.real_max_id or conn.execute(
            "SELECT min(id) - 1 FROM catalog_hubmodel WHERE right(hub_id, length('-s' || id)) = '-s' || id").fetchone()[0]
        have = conn.execute("SELECT count(*) FROM catalog_downloadsnapshot WHERE source = 'daily-series'").fetchone()[0]
        if have >= args.rows:
            print(f"{have:,} daily rows already: nothing to add")
            return
        with conn.cursor() as cur:
            cur.execute(SERIES_SQL, [real_max])
            series = pl.DataFrame(cur.fetchall(), orient="row",
                                  schema=["real", "date", "downloads_all_time", "downloads_day", "cumulative_kind"])
        per_model = series.height / series["real"].n_unique()
        free = np.array([r[0] for r in conn.execute(
            "SELECT m.id FROM catalog_hubmodel m WHERE m.id > %s AND NOT EXISTS "
            "(SELECT 1 FROM catalog_downloadsnapshot s WHERE s.model_id = m.id)", [real_max]).fetchall()])
        n_series = min(int((args.rows - have) / per_model), len(free))
        mapping = pl.DataFrame({"model_id": rng.choice(free, n_series, replace=False),
                                "real": rng.choice(series["real"].unique().to_numpy(), n_series),
                                "factor": rng.lognormal(0.0, 1.0, n_series)})
        rows = (mapping.join(series, on="real")
                .select("model_id", "date", (pl.col("downloads_all_time") * pl.col("factor")).cast(pl.Int64)
                        .alias("downloads_all_time"), (pl.col("downloads_day") * pl.col("factor")).alias("downloads_day"),
                        "cumulative_kind", pl.lit("daily-series").alias("source")))
        started = time.perf_counter()
        buffer = io.BytesIO()
        rows.write_csv(buffer, include_header=False, null_value="")
        buffer.seek(0)
        with conn.cursor() as cur, cur.copy(
                f"COPY catalog_downloadsnapshot ({', '.join(rows.columns)}) FROM STDIN (FORMAT csv, NULL '')") as out:
            while chunk := buffer.read(1 << 20):
                out.write(chunk)
        conn.commit()
        conn.execute("ANALYZE catalog_downloadsnapshot")
        print(f"added {rows.height:,} rows for {n_series:,} models ({per_model:.0f} rows a series) "
              f"in {time.perf_counter() - started:.0f} s; {have + rows.height:,} daily rows now")


if __name__ == "__main__":
    main()
