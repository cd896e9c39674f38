"""Daily download series and monthly fine-tune counts (wide CSVs: one row a model).

Daily series: `model, <date>, <date>, …` with cumulative all-time counts; every non-empty cell
becomes one DownloadSnapshot. The Hub keeps no such history, which is why the observatory does.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from django.db import transaction

from ingest.curation import reapply_curation
from ingest.hub_records import resolve_pending_parents
from ingest.importers.csvfiles import parse_date, parse_float, read_rows
from ingest.importing import DataDirMissing, ImportFileError, progress
from ingest.lineage import HUB_ID
from observatory.catalog.models import DownloadSnapshot, HubModel, MonthlyFinetuneCount, Organization

BATCH = 5000
_MONTH_COLUMN = re.compile(r"^(\d+)-month$")


def _csv_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(path.glob("*.csv"))
        if not files:
            raise DataDirMissing(f"{path}: no CSV files")
        return files
    if not path.exists():
        raise DataDirMissing(f"{path}: not found")
    return [path]


def _model_id(path: Path, row: int, value: str) -> str:
    value = (value or "").strip()
    if not HUB_ID.match(value) or ".." in value:
        raise ImportFileError(path, f"not a Hub id: {value[:80]!r}", row=row, column="model")
    return value


def ensure_models(hub_ids: set[str]) -> dict[str, int]:
    """Minimal rows for models known only from a series; a crawl or hub-stats fills them in."""
    namespaces = {h.split("/", 1)[0] for h in hub_ids if "/" in h}
    Organization.objects.bulk_create(
        [Organization(namespace=ns, display_name=ns, region="unknown", region_source="default") for ns in namespaces],
        ignore_conflicts=True)
    org_ids = dict(Organization.objects.filter(namespace__in=namespaces).values_list("namespace", "id"))
    new = hub_ids - set(HubModel.objects.filter(hub_id__in=hub_ids).values_list("hub_id", flat=True))
    HubModel.objects.bulk_create(
        [HubModel(hub_id=h, author=h.split("/", 1)[0] if "/" in h else "",
                  organization_id=org_ids.get(h.split("/", 1)[0])) for h in new],
        ignore_conflicts=True, batch_size=2000)
    if new:
        reapply_curation(sorted(new))  # tracked lists and curated sizes apply to them too
    resolve_pending_parents()  # edges that were waiting for one of these models
    return dict(HubModel.objects.filter(hub_id__in=hub_ids).values_list("hub_id", "id"))


METADATA_COLUMNS = {"model", "created_at"}


def read_daily_series(path: Path, created: dict[str, dt.datetime] | None = None) -> list[tuple[str, dt.date, int]]:
    """[(hub_id, date, downloads_all_time)] for every non-empty cell, validated.

    Every column but `model` and `created_at` must be a date; `created_at` values go to `created`.
    """
    cells: list[tuple[str, dt.date, int]] = []
    dates: dict[str, dt.date] | None = None
    for number, row in read_rows(path, {"model"}):
        if dates is None:
            dates = {column: parse_date(path, 1, column, column, allow_empty=False)
                     for column in row if column not in METADATA_COLUMNS}
            if not dates:
                raise ImportFileError(path, "no date columns in the header", row=1)
        hub_id = _model_id(path, number, row["model"])
        if created is not None and row.get("created_at", "").strip():
            try:
                created[hub_id] = dt.datetime.fromisoformat(row["created_at"].strip())
            except ValueError:
                raise ImportFileError(path, f"not a date-time: {row['created_at'][:40]!r}", row=number,
                                      column="created_at") from None
        for column, day in dates.items():
            value = parse_float(path, number, column, row[column], minimum=0)
            if value is None:
                continue
            if value != int(value):
                raise ImportFileError(path, f"not a whole count: {row[column][:40]!r}", row=number, column=column)
            cells.append((hub_id, day, int(value)))
    return cells


def import_daily_downloads(path: Path, *, progress_bar: bool = False) -> dict[str, int]:
    """A folder of daily series (or one file) → DownloadSnapshot, one row per non-empty cell."""
    files = _csv_files(path)
    cells: dict[tuple[str, dt.date], int] = {}
    created: dict[str, dt.datetime] = {}
    for file in progress(files, desc="reading series", enabled=progress_bar):
        for hub_id, day, value in read_daily_series(file, created):
            cells[(hub_id, day)] = value  # a model in two files: the later file wins, no duplicates
    with transaction.atomic():
        model_ids = ensure_models({hub_id for hub_id, _ in cells})
        rows = [DownloadSnapshot(model_id=model_ids[h], date=d, downloads_all_time=v, source="daily-series")
                for (h, d), v in cells.items()]
        batches = range(0, len(rows), BATCH)
        for start in progress(batches, total=len(batches), desc="snapshots", enabled=progress_bar):
            DownloadSnapshot.objects.bulk_create(
                rows[start:start + BATCH], update_conflicts=True, unique_fields=["model", "date"],
                update_fields=["downloads_all_time", "source"])
        # Models that no Hub record described yet take their latest all-time count from the series.
        latest: dict[str, int] = {}
        for (hub_id, day), value in sorted(cells.items(), key=lambda item: item[0][1]):
            latest[hub_id] = value
        stale = list(HubModel.objects.filter(hub_id__in=list(latest), downloads_all_time__isnull=True))
        for model in stale:
            model.downloads_all_time = latest[model.hub_id]
        HubModel.objects.bulk_update(stale, ["downloads_all_time"], batch_size=2000)
        undated = list(HubModel.objects.filter(hub_id__in=list(created), created_at__isnull=True))
        for model in undated:
            model.created_at = created[model.hub_id]
            model.release_date = model.release_date or created[model.hub_id].date()
        HubModel.objects.bulk_update(undated, ["created_at", "release_date"], batch_size=2000)
    return {"files": len(files), "models": len(model_ids), "snapshots": len(rows)}


def import_finetune_counts(path: Path, *, progress_bar: bool = False) -> dict[str, int]:
    """Monthly cumulative fine-tune counts per base model (`model, 0-month, 1-month, …`)."""
    files = _csv_files(path)
    entries: dict[tuple[str, int], MonthlyFinetuneCount] = {}
    for file in progress(files, desc="fine-tune counts", enabled=progress_bar):
        for number, row in read_rows(file, {"model", "0-month"}):
            hub_id = _model_id(file, number, row["model"])
            for column, value in row.items():
                match = _MONTH_COLUMN.match(column)
                if not match:
                    continue
                count = parse_float(file, number, column, value, minimum=0)
                if count is None:
                    continue
                month = int(match.group(1))
                entries[(hub_id, month)] = MonthlyFinetuneCount(
                    base_hub_id=hub_id, months_since_creation=month, cumulative_count=int(count), source=file.name)
    with transaction.atomic():
        model_ids = dict(HubModel.objects.filter(hub_id__in={h for h, _ in entries}).values_list("hub_id", "id"))
        for (hub_id, _), entry in entries.items():
            entry.model_id = model_ids.get(hub_id)
        MonthlyFinetuneCount.objects.bulk_create(
            list(entries.values()), update_conflicts=True, unique_fields=["base_hub_id", "months_since_creation"],
            update_fields=["cumulative_count", "model", "source"], batch_size=BATCH)
    return {"files": len(files), "base_models": len({h for h, _ in entries}), "monthly_counts": len(entries)}
