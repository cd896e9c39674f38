"""Daily download series and monthly fine-tune counts (wide CSVs: one row a model).

Daily series: `model, <date>, <date>, …`, each a running sum of the Hub's 30-day count sampled
once a day (not all-time counts: see ingest.download_measures and the data README); they are
converted to the canonical measures on the way in. The Hub keeps no such history, which is why
the observatory does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from ingest import download_measures
from ingest.curation import reapply_curation
from ingest.hub_records import resolve_pending_parents
from ingest.importers.csvfiles import parse_float, read_rows
from ingest.importing import DataDirMissing, ImportFileError, progress
from ingest.lineage import HUB_ID
from observatory.catalog.models import DataQualityIssue, DownloadSnapshot, HubModel, MonthlyFinetuneCount, Organization

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
SERIES_SOURCE = download_measures.SERIES_SOURCE


def _day_column(path: Path, column: str) -> dt.date:
    """A date column of the wide series: `2024-07-02` or `2024-07-02 00:00:00`, nothing else."""
    try:
        return dt.datetime.fromisoformat(column.strip()).date()
    except ValueError:
        raise ImportFileError(path, f"not a date: {column[:40]!r} (every column but model and created_at is a day)",
                              row=1, column=column) from None


def read_daily_series(path: Path, created: dict[str, dt.datetime] | None = None,
                      first_seen: dict[str, tuple[Path, int]] | None = None
                      ) -> list[tuple[str, dt.date, int | None]]:
    """[(hub_id, date, running sum or None)] for every cell, validated.

    Every column but `model` and `created_at` must be a date; `created_at` values go to `created`.
    A model twice (in this file, or in an earlier one recorded in `first_seen`) would make a
    day's count ambiguous, so it is refused. Empty cells come back as None: what they mean
    (not sampled yet, or a gap) is the estimator's business (ingest.download_measures).
    """
    first_seen = {} if first_seen is None else first_seen
    cells: list[tuple[str, dt.date, int | None]] = []
    dates: dict[str, dt.date] | None = None
    for number, row in read_rows(path, {"model"}):
        if dates is None:
            dates = {column: _day_column(path, column) for column in row if column not in METADATA_COLUMNS}
            if not dates:
                raise ImportFileError(path, "no date columns in the header", row=1)
            if len(set(dates.values())) != len(dates):
                raise ImportFileError(path, "the same day appears in two columns", row=1)
        hub_id = _model_id(path, number, row["model"])
        if hub_id in first_seen:
            where, row_number = first_seen[hub_id]
            raise ImportFileError(path, f"duplicate row for model {hub_id!r} (first at {where.name} row {row_number})",
                                  row=number, column="model")
        first_seen[hub_id] = (path, number)
        if created is not None and row.get("created_at", "").strip():
            try:
                created[hub_id] = dt.datetime.fromisoformat(row["created_at"].strip())
            except ValueError:
                raise ImportFileError(path, f"not a date-time: {row['created_at'][:40]!r}", row=number,
                                      column="created_at") from None
        for column, day in dates.items():
            value = parse_float(path, number, column, row[column], minimum=0)
            if value is not None and value != int(value):
                raise ImportFileError(path, f"not a whole count: {row[column][:40]!r}", row=number, column=column)
            cells.append((hub_id, day, None if value is None else int(value)))
    return cells


Row = tuple[int, dt.date, int, float, str, "int | None"]  # model, date, cumulative, per day, kind, raw


def import_daily_downloads(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """A folder of daily series (or one file) → DownloadSnapshot in the canonical measures.

    Each series is a running sum of the Hub's 30-day count (ingest.download_measures says why
    and how it converts): one snapshot per sampled day, with the canonical cumulative count and
    downloads on that day, the series' own value kept as `raw_value`. Placeholders, gaps and
    implausible jumps go to the data-quality ledger (DataQualityIssue), replaced per model.
    Everything is read and validated before the first write; the writes are one transaction. A
    snapshot a crawl or hub-stats import already holds for the same day is kept as it is: it is
    the Hub's own all-time count, better than an estimate.
    """
    files = _csv_files(path)
    series: dict[str, list[tuple[dt.date, int | None]]] = defaultdict(list)
    first_seen: dict[str, tuple[Path, int]] = {}
    created: dict[str, dt.datetime] = {}
    for file in progress(files, desc="reading series", enabled=progress_bar):
        for hub_id, day, value in read_daily_series(file, created, first_seen):
            series[hub_id].append((day, value))
    sampled = {hub_id for hub_id, cells in series.items() if any(v for _, v in cells)}
    with transaction.atomic():
        model_ids = ensure_models(sampled)
        undated = list(HubModel.objects.filter(hub_id__in=[h for h in created if h in sampled],
                                               created_at__isnull=True))
        for model in undated:
            model.created_at = created[model.hub_id]
        HubModel.objects.bulk_update(undated, ["created_at"], batch_size=2000)
        if undated:  # release date and the policy's pre-ChatGPT rule depend on created_at
            reapply_curation([model.hub_id for model in undated])
        releases = dict(HubModel.objects.filter(hub_id__in=sampled).values_list("hub_id", "release_date"))
        rows: list[Row] = []
        issues: list[DataQualityIssue] = []
        for hub_id in sorted(series):
            release = releases.get(hub_id) or (created[hub_id].date() if hub_id in created else None)
            converted = download_measures.convert_running_sum(series[hub_id], release)
            model_id = model_ids.get(hub_id)
            rows.extend((model_id, p.date, p.cumulative, p.per_day, p.kind, p.raw) for p in converted.points)
            issues.extend(DataQualityIssue(source=SERIES_SOURCE, model_id=model_id, hub_id=hub_id, kind=i.kind,
                                           date=i.date, end_date=i.end_date, days=i.days, detail=i.detail)
                          for i in converted.issues)
        if connection.vendor == "postgresql":
            changed = _copy_snapshots(rows, progress_bar)
        else:
            changed = _bulk_create_snapshots(rows, progress_bar)
        DataQualityIssue.objects.filter(source=SERIES_SOURCE, hub_id__in=list(series)).delete()
        DataQualityIssue.objects.bulk_create(issues, batch_size=2000)
        _refresh_latest_counts(set(model_ids.values()))
    return {"files": len(files), "models": len(model_ids), "snapshots": len(rows), "changed": changed,
            "quality_issues": len(issues)}


_TABLE = DownloadSnapshot._meta.db_table
_COLUMNS = ("model_id", "date", "downloads_all_time", "downloads_day", "cumulative_kind", "raw_value")


def _copy_snapshots(rows: list[Row], progress_bar: bool) -> int:
    """PostgreSQL: COPY into a temporary table, then one INSERT … ON CONFLICT. Returns rows changed."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE daily_series_import "
                       "(model_id bigint NOT NULL, date date NOT NULL, downloads_all_time bigint NOT NULL, "
                       "downloads_day double precision NOT NULL, cumulative_kind text NOT NULL, raw_value bigint) "
                       "ON COMMIT DROP")
        with cursor.copy(f"COPY daily_series_import ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in progress(rows, total=len(rows), desc="snapshots", enabled=progress_bar):
                copy.write_row(row)
        # Only rows that really change are written, so a second import reports 0 and leaves the
        # table untouched; another source's row for the same day is never overwritten.
        cursor.execute(
            f"""
            INSERT INTO {_TABLE} AS s ({', '.join(_COLUMNS)}, source)
            SELECT {', '.join(_COLUMNS)}, %s FROM daily_series_import
            ON CONFLICT (model_id, date) DO UPDATE
               SET downloads_all_time = EXCLUDED.downloads_all_time, downloads_day = EXCLUDED.downloads_day,
                   cumulative_kind = EXCLUDED.cumulative_kind, raw_value = EXCLUDED.raw_value
             WHERE s.source = %s
               AND (s.downloads_all_time, s.downloads_day, s.cumulative_kind, s.raw_value) IS DISTINCT FROM
                   (EXCLUDED.downloads_all_time, EXCLUDED.downloads_day, EXCLUDED.cumulative_kind, EXCLUDED.raw_value)
            """,
            [SERIES_SOURCE] * 2,
        )
        changed = cursor.rowcount
        cursor.execute("DROP TABLE daily_series_import")
    return changed


def _bulk_create_snapshots(rows: list[Row], progress_bar: bool) -> int:
    """The embedded default (SQLite): the same result through bulk upserts."""
    existing = {
        (model_id, day): (source, (cumulative, per_day, kind, raw))
        for model_id, day, source, cumulative, per_day, kind, raw in DownloadSnapshot.objects.filter(
            model_id__in={row[0] for row in rows}).values_list(
            "model_id", "date", "source", "downloads_all_time", "downloads_day", "cumulative_kind",
            "raw_value").iterator(chunk_size=BATCH)
    }
    todo = []
    for model_id, day, cumulative, per_day, kind, raw in rows:
        source, stored = existing.get((model_id, day), (SERIES_SOURCE, None))
        if source == SERIES_SOURCE and stored != (cumulative, per_day, kind, raw):
            todo.append(DownloadSnapshot(model_id=model_id, date=day, downloads_all_time=cumulative,
                                         downloads_day=per_day, cumulative_kind=kind, raw_value=raw,
                                         source=SERIES_SOURCE))
    batches = range(0, len(todo), BATCH)
    for start in progress(batches, total=len(batches), desc="snapshots", enabled=progress_bar):
        DownloadSnapshot.objects.bulk_create(
            todo[start:start + BATCH], update_conflicts=True, unique_fields=["model", "date"],
            update_fields=["downloads_all_time", "downloads_day", "cumulative_kind", "raw_value"])
    return len(todo)


def _refresh_latest_counts(model_ids: set[int]) -> int:
    """HubModel.downloads_all_time is the newest snapshot's canonical count, whichever source it came from."""
    newest = (DownloadSnapshot.objects.filter(model_id=OuterRef("pk"), downloads_all_time__isnull=False)
              .order_by("-date").values("downloads_all_time")[:1])
    return (HubModel.objects.filter(pk__in=model_ids)
            .exclude(downloads_all_time=Subquery(newest)).update(downloads_all_time=Subquery(newest)))


def import_finetune_counts(path: Path, *, progress_bar: bool = False, run=None) -> dict[str, int]:
    """Monthly cumulative fine-tune counts per base model (`model, created_at, 0-month, 1-month, …`).

    `n-month` is the count n calendar months after the base's `created_at`, which is stored with
    every count (the month offsets mean nothing without it). An empty cell is a month the source
    did not observe (after its collection date), not zero: it is skipped, never stored as 0.
    """
    files = _csv_files(path)
    entries: dict[tuple[str, int], MonthlyFinetuneCount] = {}
    first_seen: dict[str, tuple[Path, int]] = {}
    for file in progress(files, desc="fine-tune counts", enabled=progress_bar):
        for number, row in read_rows(file, {"model", "0-month", "created_at"}):
            hub_id = _model_id(file, number, row["model"])
            if hub_id in first_seen:
                where, row_number = first_seen[hub_id]
                raise ImportFileError(file, f"duplicate row for model {hub_id!r} (first at {where.name} row "
                                            f"{row_number})", row=number, column="model")
            first_seen[hub_id] = (file, number)
            created_at = _created_at(file, number, row["created_at"])
            for column, value in row.items():
                match = _MONTH_COLUMN.match(column)
                if not match:
                    continue
                count = parse_float(file, number, column, value, minimum=0)
                if count is None:
                    continue
                if count != int(count):
                    raise ImportFileError(file, f"not a whole count: {value[:40]!r}", row=number, column=column)
                month = int(match.group(1))
                entries[(hub_id, month)] = MonthlyFinetuneCount(
                    base_hub_id=hub_id, months_since_creation=month, cumulative_count=int(count),
                    base_created_at=created_at, source=file.name)
    with transaction.atomic():
        model_ids = dict(HubModel.objects.filter(hub_id__in={h for h, _ in entries}).values_list("hub_id", "id"))
        for (hub_id, _), entry in entries.items():
            entry.model_id = model_ids.get(hub_id)
        if connection.vendor == "postgresql":
            changed = _copy_finetune_counts(list(entries.values()), progress_bar)
        else:
            MonthlyFinetuneCount.objects.bulk_create(
                list(entries.values()), update_conflicts=True, unique_fields=["base_hub_id", "months_since_creation"],
                update_fields=["cumulative_count", "model", "base_created_at", "source"], batch_size=BATCH)
            changed = len(entries)
    return {"files": len(files), "base_models": len({h for h, _ in entries}), "monthly_counts": len(entries),
            "changed": changed}


def _created_at(path: Path, row: int, value: str) -> dt.datetime:
    """The base's creation time, required: `2024-01-22 16:30:10+00:00` (no zone means UTC)."""
    text = (value or "").strip()
    if not text:
        raise ImportFileError(path, "created_at required (the month offsets count from it)", row=row,
                              column="created_at")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ImportFileError(path, f"not a date-time: {text[:40]!r}", row=row, column="created_at") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _copy_finetune_counts(entries: list[MonthlyFinetuneCount], progress_bar: bool) -> int:
    """PostgreSQL: COPY + one INSERT … ON CONFLICT that writes only rows whose values differ."""
    table = MonthlyFinetuneCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE finetune_import (base_hub_id text NOT NULL, months smallint NOT NULL, "
                       "cumulative_count integer NOT NULL, model_id bigint, base_created_at timestamptz NOT NULL, "
                       "source text NOT NULL) ON COMMIT DROP")
        with cursor.copy("COPY finetune_import FROM STDIN") as copy:
            for e in progress(entries, total=len(entries), desc="fine-tune counts", enabled=progress_bar):
                copy.write_row((e.base_hub_id, e.months_since_creation, e.cumulative_count, e.model_id,
                                e.base_created_at, e.source))
        cursor.execute(
            f"""
            INSERT INTO {table} AS f (base_hub_id, months_since_creation, cumulative_count, model_id,
                                      base_created_at, source)
            SELECT base_hub_id, months, cumulative_count, model_id, base_created_at, source FROM finetune_import
            ON CONFLICT (base_hub_id, months_since_creation) DO UPDATE
               SET cumulative_count = EXCLUDED.cumulative_count, model_id = EXCLUDED.model_id,
                   base_created_at = EXCLUDED.base_created_at, source = EXCLUDED.source
             WHERE (f.cumulative_count, f.model_id, f.base_created_at, f.source)
                   IS DISTINCT FROM (EXCLUDED.cumulative_count, EXCLUDED.model_id, EXCLUDED.base_created_at,
                                     EXCLUDED.source)
            """)
        changed = cursor.rowcount
        cursor.execute("DROP TABLE finetune_import")
    return changed
