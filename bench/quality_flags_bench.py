"""What a download chart's data-quality flags cost, on a catalogue already grown by the dashboard
bench: the whole ledger (quality.all_issues, what registry._flags read before) against the
entries the flags count (quality.issues_of), in one process, with the flags of every chart's
default view checked equal both ways; then the cumulative-downloads chart cold (cache cleared),
as it is and with its flags read from the whole ledger as before.

    .venv/bin/python bench/dashboard_bench.py --scale 0.25 --skip-load   # grows obs_dash_bench
    .venv/bin/python bench/quality_flags_bench.py                        # then this, on it

DATABASE_URL picks another database (one the dashboard bench's builder filled). Results go to
bench/results/quality_flags_bench.json (--result to keep a trial apart).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from _django import setup, write_result

CHART = "cumulative-downloads-by-region"  # where the flags were measured at 20.5 of its 21 s cold (scale 0.25)


def best_of(repeat: int, run) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--result", default="quality_flags_bench")
    parser.add_argument("--catalogue", default="", help="how the catalogue was grown (kept in the result)")
    args = parser.parse_args()
    # The dashboard bench's defaults: the chart's cold time below clears this cache.
    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup("obs_dash_bench")
    from django.core.cache import cache
    from django.db import connection

    from observatory.analytics import frames, quality, rollups
    from observatory.analytics.filters import Filters
    from observatory.dashboards.params import ChartParams
    from observatory.dashboards.registry import METRICS

    def chart():
        cache.clear()
        return METRICS[CHART].compute(ChartParams(filters=Filters()))

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_downloadsnapshot")
        rows = cur.fetchone()[0]
    quality.stored_issues()  # the connection's first query pays its setup: not the ledger's cost
    whole_s, whole = best_of(args.repeat, quality.all_issues)
    flagged_s, flagged = best_of(args.repeat, quality.issues_of)
    parts = {name: round(best_of(args.repeat, getattr(quality, name))[0], 3)
             for name in ("stored_issues", "contradictions", "crawl_gaps")}
    # The flags every download chart's default view prints (all models, no window), both ways.
    before = quality.flagged_in_view(whole, None, start=None, end=None)
    after = quality.flagged_in_view(flagged, None, start=None, end=None)
    assert before == after, (before, after)
    chart_s, computed = best_of(args.repeat, chart)
    # The same chart reading the whole ledger, as registry._flags did before issues_of.
    reader, quality.issues_of = quality.issues_of, lambda *_: quality.all_issues()
    try:
        before_s, computed_before = best_of(args.repeat, chart)
    finally:
        quality.issues_of = reader
    assert computed_before.info == computed.info and computed_before.rows.equals(computed.rows)
    path = write_result(args.result, {
        "command": " ".join(sys.argv), "database": connection.settings_dict["NAME"], "catalogue": args.catalogue,
        "snapshot_rows": rows,
        "all_issues_s": round(whole_s, 3),
        "all_issues_rows": whole.height, "issues_of_s": round(flagged_s, 3), "issues_of_rows": flagged.height,
        "ratio_issues_of_to_all_issues": round(flagged_s / whole_s, 3), "parts_s": parts, "flagged": after,
        "default_sources": list(frames.DAILY_SOURCES), "default_kinds": list(quality.FLAGGED_KINDS),
        "chart": CHART, "chart_reads": "rollup" if rollups.fresh() else "raw rows (the rollup is stale)",
        "chart_flagged": computed.info["flagged"],
        "chart_cold_s": round(chart_s, 3), "chart_cold_whole_ledger_s": round(before_s, 3),
        "ratio_chart_cold_to_whole_ledger": round(chart_s / before_s, 3)})
    print(path.read_text())


if __name__ == "__main__":
    main()
