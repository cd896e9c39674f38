"""How long the warm before switching takes (dashboards.warming), per chart, on a grown catalogue.

    .venv/bin/python bench/dashboard_bench.py --data-dir ../shared/data --scale 0.01 --skip-load  # grows it
    .venv/bin/python bench/warm_bench.py                 # then warms it, on the same database

It reads the catalogue dashboard_bench.py left in its database (obs_dash_bench, or DATABASE_URL),
clears the cache, and warms every chart's default view, then its common filter sets, under a
version no page reads, timing each chart. Reported: per chart its views and the seconds of its
default view and of the rest, the totals, and the total against DATA_VERSION_PUBLISH_DEADLINE_SECONDS
(past 1.0, pages would switch to the new version unwarmed before the warm finishes).
Results go to bench/results/warm_bench.json.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _django import setup, write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="obs_dash_bench")
    args = parser.parse_args()
    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup(args.database)
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection

    from observatory.catalog.runs import reading_version
    from observatory.dashboards import warming
    from observatory.dashboards.registry import METRICS

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_hubmodel")
        models = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM catalog_downloadsnapshot")
        rows = cur.fetchone()[0]
    cache.clear()
    charts, failed = [], []
    started = time.perf_counter()
    with reading_version(2**31 - 1):  # a version no page reads
        organizations = warming.top_organizations(settings.WARM_TOP_ORGANIZATIONS)
        for name in METRICS:
            views = warming.common_views(name, organizations)
            seconds = []
            for view in views:
                began = time.perf_counter()
                try:
                    warming.warm_view(name, view)
                except Exception as exc:  # reported, as the warm logs it and goes on
                    failed.append(f"{name}?{view.query()}: {exc}")
                seconds.append(time.perf_counter() - began)
            charts.append({"metric": name, "views": len(views), "default_s": round(seconds[0], 2),
                           "filter_sets_s": round(sum(seconds[1:]), 2)})
            print(charts[-1], flush=True)
    total = time.perf_counter() - started
    defaults = sum(c["default_s"] for c in charts)
    path = write_result("warm_bench", {
        "command": " ".join(sys.argv), "database": args.database, "models": models, "snapshot_rows": rows,
        "views": sum(c["views"] for c in charts), "total_s": round(total, 1), "defaults_s": round(defaults, 1),
        "deadline_s": settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS,
        "total_to_deadline": round(total / max(1, settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS), 3),
        "charts": charts, "failed": failed, "cpu_count": os.cpu_count(),
    })
    print(f"total {total:.1f} s, default views {defaults:.1f} s; wrote {path}")


if __name__ == "__main__":
    main()
