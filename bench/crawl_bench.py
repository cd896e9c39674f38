"""Crawl throughput: replay Hub over real HTTP → parse → upsert, with the database side as a ratio to COPY.

    .venv/bin/python bench/crawl_bench.py --data-dir ../shared/data --rows 2000000

Scaling: the 4,167 real hub-stats rows, in the list endpoint's wire format, are replicated with
suffixed ids (`org/name-r17`); every copy keeps the real field values (downloads, tags, cards,
licences, lineage pointing at the real parents). The replay Hub (ingest/hub/replay.py) serves them
in-process on a free port, 1,000 a page with `Link` cursors, and the crawl walks every page with
the crawler's own functions (`get_json` through huggingface_hub's session, `next_link`,
`upsert_hub_records` in `page_transaction`, one a page, as `process_page` does).

Figures: models per second end to end; the time spent fetching + parsing pages and the time spent
upserting them, measured around each call; and the database side as a ratio: a raw COPY of the same
rows (one model row and one snapshot row per record, into tables shaped like the real ones with
their indexes) divided by the upsert time. ATOM's curation is imported first so every row meets the
real size / release-date / tracked decisions.

The replicated records (millions of dicts, kept in memory only because the replay Hub serves them
from there) are frozen out of the garbage collector before anything is timed: otherwise every full
collection during the crawl walks them all, a cost a real crawl, which holds one page, never pays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import tempfile
import time
from pathlib import Path

from _django import setup
from results_file import publish


def wire_records(data_dir: Path, rows: int) -> list[dict]:
    from ingest.hub.replay import load_records

    base = load_records(data_dir)
    out: list[dict] = []
    copy = 0
    while len(out) < rows:
        for record in base:
            if len(out) >= rows:
                break
            if copy == 0:
                out.append(record)
            else:
                hub_id = f"{record['id']}-r{copy}"
                out.append({**record, "id": hub_id, "modelId": hub_id, "_id": f"{record['_id']}{copy:x}"})
        copy += 1
    return out


def crawl(hub_url: str, page_size: int) -> dict:
    from ingest.curation import load_curation
    from ingest.hub.client import get_json, list_url, next_link
    from ingest.hub.crawl import page_transaction
    from ingest.hub_records import upsert_hub_records

    curation = load_curation()
    url: str | None = list_url(hub_url, limit=page_size)
    fetch = upsert = 0.0
    pages = models = 0
    started = time.perf_counter()
    while url:
        t0 = time.perf_counter()
        page, response = get_json(url, timeout=120)
        t1 = time.perf_counter()
        with page_transaction():
            counts = upsert_hub_records(page, snapshot_date=dt.date(2026, 6, 5), source="crawl-bench",
                                        curation=curation)
        t2 = time.perf_counter()
        fetch, upsert = fetch + (t1 - t0), upsert + (t2 - t1)
        pages, models = pages + 1, models + counts["models"]
        url = next_link(response)
    return {"seconds": time.perf_counter() - started, "fetch_seconds": fetch, "upsert_seconds": upsert,
            "pages": pages, "models": models}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--result", default="crawl_bench",
                        help="bench/results/<RESULT>.json to write (a trial name keeps the committed figures)")
    args = parser.parse_args()
    os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="crawl-bench-hf-")
    setup()
    import logging

    logging.getLogger("ingest.hub_records").setLevel(logging.ERROR)  # thousands of replicated self-references
    logging.getLogger("httpx2").setLevel(logging.WARNING)  # a line a page otherwise

    from import_bench import load_curation_tables, time_copy, truncate

    from ingest.hub.replay import ReplayHub

    truncate()
    load_curation_tables(args.data_dir)
    records = wire_records(args.data_dir, args.rows)
    gc.freeze()  # the replica held in memory is not what is measured: keep it out of every GC pass
    hub = ReplayHub(args.data_dir, records=records, log_path=None)
    hub_url = hub.start()
    os.environ["HF_ENDPOINT"] = hub_url
    try:
        copied = time_copy(records, indexes=True)  # the same COPY as the import bench's, from the wire records
        walked = crawl(hub_url, args.page_size)
    finally:
        hub.stop()
    list_requests = sum(1 for entry in hub.log if entry["list"])
    result = {
        "rows": len(records),
        "scaling": "4,167 real hub-stats rows in wire format replicated with suffixed ids (org/name-rN)",
        "page_size": args.page_size,
        "models_ingested": walked["models"],
        "list_requests": list_requests,
        "models_per_s": round(walked["models"] / walked["seconds"]),
        "fetch_parse_seconds": round(walked["fetch_seconds"], 2),
        "upsert_seconds": round(walked["upsert_seconds"], 2),
        "copy_seconds": round(copied, 2),
        "copy_rows_per_s": round(len(records) / copied),
        "upsert_rows_per_s": round(walked["models"] / walked["upsert_seconds"]),
        "db_ratio_upsert_to_copy": round(copied / walked["upsert_seconds"], 4),
    }
    truncate()
    publish(args.result, result, goal="db ratio >= 0.5")


if __name__ == "__main__":
    main()
