"""hub-stats import rate against a raw COPY of the same rows into the same PostgreSQL.

    .venv/bin/python bench/import_bench.py --data-dir ../shared/data --rows 1000000

Scaling: the 4,167 real hub-stats rows are replicated with suffixed ids (`org/name-r17`), so
every copy keeps the real distributions of downloads, tags, card data, licences and lineage
(the copies' parents point at the same real parents). ATOM's curation (regions, policy,
parameters, corrections, tracked lists) is imported first, so every row goes through the real
size/release-date/tracked decisions. Both sides run in this process against the same database,
one after the other; the figure that matters is the ratio.

The baseline: a raw COPY, from the same Python rows, of what the import stores (one model row
and one snapshot row per record) into fresh tables shaped like the real ones. Two variants:
with the real tables' indexes and constraints (`LIKE … INCLUDING ALL`, the like-for-like
comparison: the headline ratio), and without any index (the cheapest possible write, reported too).

The replicated rows, kept in memory for both sides, are frozen out of the garbage collector before
anything is timed, so neither side pays for full collections walking a million dicts it does not own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import time
from pathlib import Path

from _django import setup
from results_file import publish


def scaled_rows(data_dir: Path, rows: int) -> list[dict]:
    import polars as pl

    frame = pl.read_parquet(next((data_dir / "hub").glob("hub_stats_frozen_*.parquet")))
    base = frame.to_dicts()
    out = []
    copy = 0
    while len(out) < rows:
        for record in base:
            if len(out) >= rows:
                break
            out.append({**record, "id": record["id"] if copy == 0 else f"{record['id']}-r{copy}"})
        copy += 1
    return out


def truncate() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_lineageedge, catalog_downloadsnapshot, catalog_hubmodel, "
                       "catalog_organization, catalog_quarantinedrecord RESTART IDENTITY CASCADE")


def load_curation_tables(data_dir: Path) -> None:
    from ingest.datasets import run_import

    for name in ("regions", "policy", "parameters", "release_corrections", "tracked_lists"):
        run_import(name, data_dir=data_dir)


def time_import(records: list[dict], batch: int) -> float:
    """The hub-stats importer's own loop (ingest.importers.hubstats.store_rows) over the replicated rows."""
    from django.db import transaction

    from ingest.curation import load_curation
    from ingest.importers import hubstats

    curation = load_curation()
    started = time.perf_counter()
    with transaction.atomic():
        hubstats.store_rows(records, snapshot_date=dt.date(2026, 6, 5), source="bench", curation=curation,
                            batch=batch)
    return time.perf_counter() - started


def time_copy(records: list[dict], *, indexes: bool) -> float:
    """Raw COPY of the same rows into tables shaped like the model and snapshot tables (hub-stats
    rows or the crawl's wire records: the card data a JSON string in the one, a dict in the other)."""
    from django.db import connection

    like = "INCLUDING ALL" if indexes else "INCLUDING DEFAULTS"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_model, bench_copy_snapshot")
        cursor.execute(f"CREATE TABLE bench_copy_model (LIKE catalog_hubmodel {like})")
        cursor.execute(f"CREATE TABLE bench_copy_snapshot (LIKE catalog_downloadsnapshot {like})")
        started = time.perf_counter()
        raw = cursor.cursor
        with raw.copy("COPY bench_copy_model (id, hub_id, author, created_at, pipeline_tag, library_name, licence_raw,"
                      " licence_id, licence_class, gated, tags, card_data, downloads, downloads_all_time, likes,"
                      " tracked, tracked_reason, release_date_source, params_source, size_class, first_seen_at)"
                      " FROM STDIN") as copy:
            now = dt.datetime.now(dt.UTC)
            for i, r in enumerate(records, 1):
                copy.write_row((i, r["id"], r.get("author") or "", r.get("createdAt"), r.get("pipeline_tag") or "",
                                r.get("library_name") or "", "", "", "unknown", "", json.dumps(r.get("tags") or []),
                                _card_json(r.get("cardData")), r.get("downloads"), r.get("downloadsAllTime"),
                                r.get("likes"), False, "", "hub", "", "", now))
        with raw.copy("COPY bench_copy_snapshot (id, model_id, date, downloads, downloads_all_time, likes, source)"
                      " FROM STDIN") as copy:
            for i, r in enumerate(records, 1):
                copy.write_row((i, i, dt.date(2026, 6, 5), r.get("downloads"), r.get("downloadsAllTime"),
                                r.get("likes"), "bench"))
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_copy_model, bench_copy_snapshot")
    return elapsed


def _card_json(card: str | dict | None) -> str:
    return card if isinstance(card, str) and card else json.dumps(card or {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--no-reimport", action="store_true", help="skip the second, all-conflicts import")
    parser.add_argument("--result", default="import_bench",
                        help="bench/results/<RESULT>.json to write (a trial name keeps the committed figures)")
    args = parser.parse_args()
    setup()
    import logging

    logging.getLogger("ingest.hub_records").setLevel(logging.ERROR)  # replicated self-references, once a copy
    truncate()
    load_curation_tables(args.data_dir)
    records = scaled_rows(args.data_dir, args.rows)
    gc.freeze()  # the replica held in memory is not what is measured: keep it out of every GC pass
    copy_seconds = time_copy(records, indexes=True)
    bare_copy_seconds = time_copy(records, indexes=False)
    import_seconds = time_import(records, args.batch)
    # The idempotent re-run: every row a conflict.
    again_seconds = None if args.no_reimport else time_import(records, args.batch)
    result = {
        "rows": len(records),
        "scaling": "4,167 real hub-stats rows replicated with suffixed ids (org/name-rN)",
        "batch": args.batch,
        "copy_rows_per_s": round(len(records) / copy_seconds),
        "copy_without_indexes_rows_per_s": round(len(records) / bare_copy_seconds),
        "import_rows_per_s": round(len(records) / import_seconds),
        "reimport_rows_per_s": round(len(records) / again_seconds) if again_seconds else None,
        "ratio_import_to_copy": round(copy_seconds / import_seconds, 4),
        "ratio_import_to_copy_without_indexes": round(bare_copy_seconds / import_seconds, 4),
    }
    truncate()
    publish(args.result, result, goal=">= 0.5")


if __name__ == "__main__":
    main()
