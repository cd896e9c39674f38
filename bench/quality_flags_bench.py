"""What a download chart's data-quality flags cost, on a catalogue already grown by the dashboard
bench: the whole ledger (quality.all_issues, what registry._flags read before) against the
entries the flags count (quality.issues_of), in one process, with the flags of every chart's
default view checked equal both ways; then the cumulative-downloads chart cold (cache cleared),
as it is and with its flags read from the whole ledger as before.

    .venv/bin/python bench/dashboard_bench.py --scale 0.25 --skip-load   # grows obs_dash_bench
    .venv/bin/python bench/quality_flags_bench.py                        # then this, on it

DATABASE_URL picks another database (one the dashboard bench's builder filled). Results go to
bench/results/quality_flags_bench.json (--result to keep a trial apart).

    .venv/bin/python bench/quality_flags_bench.py --page --result trial_quality_page

--page measures the /data-quality page instead: cold (cache cleared, in a warm process) as computed
from the raw rows (all_issues, what it read before) and as read from the kept entries (analytics.
quality.fold), with the two pages and API listings checked equal; then folds two new crawl days
into the kept entries (appended to the database: some models skipped on the first, so the second
day opens gaps), timing each fold, checking the kept entries equal the raw ones after each. Only
the ledger's fold and the daily-gain rollup's run (the other aggregates have benches of their own).
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
    parser.add_argument("--page", action="store_true", help="the /data-quality page and the ledger's fold instead")
    args = parser.parse_args()
    if args.page:
        page_bench(args)
        return
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


# A new crawl day from the rows of the newest crawl day before the bench's: a small rise, a fall for one model in fifty
# (a contradiction), and every tenth model skipped on the first day (a gap when the second comes).
NEW_DAY = """
    INSERT INTO catalog_downloadsnapshot (model_id, date, downloads, downloads_all_time, cumulative_kind, likes, source)
    SELECT s.model_id, %(day)s, s.downloads,
           s.downloads_all_time + s.model_id %% 7 - CASE WHEN s.model_id %% 50 = 0 THEN 40 ELSE 0 END,
           'all-time', s.likes, 'crawl'
    FROM catalog_downloadsnapshot s
    WHERE s.source = 'crawl' AND s.date = %(last)s AND s.downloads_all_time IS NOT NULL
      AND (%(all)s OR s.model_id %% 10 <> 3)"""


def page_bench(args) -> None:
    import datetime as dt
    import logging

    import polars as pl

    os.environ.setdefault("CACHE_REDIS_URL", os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/13"))
    os.environ.setdefault("REDIS_URL", os.environ["CACHE_REDIS_URL"])
    setup("obs_dash_bench")
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client

    from observatory.analytics import quality, rollups

    rollups._FOLDS = {quality.NAME: quality.fold}  # this fold only (see the docstring)
    folds: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record):
            folds.append(record.getMessage())

    logging.getLogger("observatory.analytics.quality").addHandler(Lines())
    logging.getLogger("observatory.analytics.quality").setLevel(logging.INFO)

    def sql(statement: str, params=None):
        with connection.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else cur.rowcount

    def fold() -> dict:
        started = time.perf_counter()
        rollups.refresh()
        return {"refresh_s": round(time.perf_counter() - started, 3), "ledger_fold": folds[-1]}

    built = None
    if not quality.kept():
        sql("INSERT INTO catalog_rollupchange (kind) VALUES ('write')")
        built = fold()
    client = Client()
    client.get("/data-quality?model=x/y")  # the process's first request pays imports and connections
    queries = ["", "kind=contradiction", "source=crawl", "kind=gap", "model=meta-llama/Llama-3.1-8B"]

    def pages() -> tuple[dict, dict]:
        times, bodies = {}, {}
        for query in queries:
            best = float("inf")
            for _ in range(args.repeat):
                cache.clear()
                started = time.perf_counter()
                response = client.get(f"/data-quality?{query}")
                best = min(best, time.perf_counter() - started)
                assert response.status_code == 200, query
            times[query or "(all)"] = round(best, 3)
            cache.clear()
            bodies[query] = (response.content, client.get(f"/api/data-quality?{query}&limit=5000&offset=0".replace(
                "?&", "?")).json())
        return times, bodies

    def raw_then_kept() -> dict:
        assert quality.kept()
        kept_times, kept_bodies = pages()
        (write_id,) = sql("INSERT INTO catalog_rollupchange (kind) VALUES ('write') RETURNING id")[0]
        try:
            assert not quality.kept()
            raw_times, raw_bodies = pages()
            started = time.perf_counter()
            whole = quality.all_issues()
            raw_whole_s = time.perf_counter() - started
        finally:
            sql("DELETE FROM catalog_rollupchange WHERE id = %s", [write_id])
        assert quality.kept()
        assert raw_bodies == kept_bodies, "the page or the API differs read from the kept entries"
        count, listed = quality.kept_ledger(None, None, None, whole.height + 1, 0)
        assert count == whole.height and listed.equals(whole), "the kept ledger is not all_issues()"
        return {"entries": whole.height, "page_cold_raw_s": raw_times, "page_cold_kept_s": kept_times,
                "all_issues_raw_s": round(raw_whole_s, 3), "same_content": True}

    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_downloadsnapshot")
        rows = cur.fetchone()[0]
    before = raw_then_kept()
    appended = []
    (last,) = sql("SELECT MAX(date) FROM catalog_downloadsnapshot WHERE source = 'crawl'")[0]
    for days, all_models in ((1, False), (2, True)):
        day = last + dt.timedelta(days=days)
        written = sql(NEW_DAY, {"day": day, "last": last, "all": all_models})
        appended.append({"day": day.isoformat(), "rows": written, **fold()})
        kept = quality.kept_entries().sort(quality.ORDER)
        raw = pl.concat([quality.contradictions(), quality.crawl_gaps()]).sort(quality.ORDER)
        assert kept.equals(raw), "the folded entries differ from the raw ones"
    path = write_result(args.result, {
        "command": " ".join(sys.argv), "database": connection.settings_dict["NAME"], "catalogue": args.catalogue,
        "snapshot_rows_before": rows, "built": built, "before_new_days": before, "new_days": appended,
        "after_new_days": raw_then_kept()})
    print(path.read_text())


if __name__ == "__main__":
    main()
