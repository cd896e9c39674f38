"""hub-stats Parquet (the Hub's own `hub-stats` models dataset, Hub API field names) → the catalog."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
from django.db import transaction

from ingest.curation import load_curation
from ingest.hub_records import InvalidBatch, PlannerStats, prepared_ahead, write_batch
from ingest.identity import relink_edges
from ingest.importing import ImportFileError, progress, require_file

REQUIRED_COLUMNS = {"id", "createdAt", "downloads", "downloadsAllTime", "likes", "tags", "cardData", "pipeline_tag"}
BATCH = 5000


def snapshot_date_from_name(path: Path) -> dt.date | None:
    match = re.search(r"(\d{4}-\d{2}-\d{2})", path.name)
    return dt.date.fromisoformat(match.group(1)) if match else None


def read_hubstats(path: Path) -> pl.DataFrame:
    require_file(path)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for a damaged file
        raise ImportFileError(path, f"not a readable Parquet file ({exc.__class__.__name__}: {str(exc)[:200]})") from None
    missing = REQUIRED_COLUMNS - set(frame.columns)
    if missing:
        raise ImportFileError(path, f"missing columns {sorted(missing)}", row=0, column=sorted(missing)[0])
    return frame


def import_hubstats(path: Path | str, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """Import every row; a row that fails validation aborts the whole file, naming row and column.

    The snapshot date is the one in the file name (hub_stats_frozen_YYYY-MM-DD.parquet)."""
    path = Path(path)
    frame = read_hubstats(path)
    snapshot_date = snapshot_date_from_name(path)
    if snapshot_date is None:
        raise ImportFileError(path, "no snapshot date: put YYYY-MM-DD in the file name")
    curation = load_curation()
    with transaction.atomic():
        try:
            counts = store_rows(frame.to_dicts(), snapshot_date=snapshot_date, source="hub-stats", run=run,
                                curation=curation, progress_bar=progress_bar, desc=path.name)
        except InvalidBatch as exc:
            # Rows counted from 1, as a person would; the field is the column of the Parquet file.
            raise ImportFileError(path, str(exc), row=exc.row + 1, column=exc.field) from None
        # Parents a later batch stored under another casing, or named by a known alias: one node each.
        relinked = relink_edges(run=run)
        counts["rejected_edges"] = counts.get("rejected_edges", 0) + relinked["self_edges"]
        counts["merged_edges"] = relinked["duplicates"]
        return counts


def store_rows(rows: list[dict], *, snapshot_date: dt.date, source: str, curation, run=None, batch: int = BATCH,
               progress_bar: bool = False, desc: str = "") -> dict[str, int]:
    """Every row through the Hub-record path in batches, the next batch validated while this one
    is written. Call inside your transaction; an invalid row raises InvalidBatch."""
    totals: dict[str, int] = {}
    stats = PlannerStats()
    batches = prepared_ahead(rows, batch, source=source, run=run, quarantine_invalid=False, curation=curation)
    for _, prepared in progress(batches, total=-(-len(rows) // batch), desc=desc, enabled=progress_bar):
        counts = write_batch(prepared, snapshot_date=snapshot_date, source=source)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        stats.wrote(counts["models"])
    return totals

