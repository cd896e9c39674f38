"""The dashboard bench's cold metric timings alone, on a catalogue it grew before (no growth, no
cached loads, no fold): for re-measuring a few metrics after a change.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/obs_dash_bench \\
        .venv/bin/python bench/metrics_only.py --metric tooling-readiness --result dashboard_bench_metrics

Each metric as in dashboard_bench.py (load + compute against the same aggregate in SQL, the
breakdown past --breakdown-over seconds). The result names the catalogue's size and the command.
"""

from __future__ import annotations

import argparse
import os
import sys

from _django import setup, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metric", action="append", required=True, metavar="LABEL",
                        help="a dashboard_bench label (e.g. tooling-readiness, download-concentration:by=family)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--breakdown-over", type=float, default=1.0)
    parser.add_argument("--result", default="dashboard_bench_metrics")
    args = parser.parse_args()
    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup("obs_dash_bench")
    import dashboard_bench

    if unknown := set(args.metric) - set(dashboard_bench.SQL):
        parser.error(f"--metric takes one of {sorted(dashboard_bench.SQL)}, not {sorted(unknown)}")
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM catalog_hubmodel), (SELECT count(*) FROM catalog_downloadsnapshot)")
        models, rows = cur.fetchone()
    skip = tuple(label for label in dashboard_bench.SQL if label not in args.metric)
    metrics = dashboard_bench.time_metrics(args.repeat, args.breakdown_over, skip)
    path = write_result(args.result, {"command": " ".join(sys.argv), "models": models, "snapshot_rows": rows,
                                      "metrics": [m for m in metrics if "skipped" not in m],
                                      "cpu_count": os.cpu_count()})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
