"""A worker SIGKILLed in the middle of a bootstrap: its import rolls back, the reaper fails the
killed import and re-sends the bootstrap, and a new worker loads only the datasets not yet
loaded. Every count matches the raw files; no run is left running."""

import csv
import time

import pyarrow.parquet as pq
import pytest
from django.db import transaction

from ingest.datasets import DATASETS
from ingest.tasks import queue_bootstrap, reap_stale_import_runs
from observatory.catalog.models import DownloadSnapshot, LeaderboardEntry, Run
from tests.conftest import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

ORDER = [dataset.name for dataset in DATASETS]
KILLED = "daily_downloads"  # killed in the middle of its import
BEFORE_THE_KILL, AFTER_THE_KILL = ORDER[:ORDER.index(KILLED)], ORDER[ORDER.index(KILLED):]
STALE_SECONDS = 2


def csv_rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def daily_cells(folder) -> set[tuple[str, str]]:
    """(model, day) of every non-empty daily-series cell from the series' first non-zero value on
    (the cells before it are placeholders), over every CSV of the folder."""
    cells = set()
    for path in sorted(folder.glob("*.csv")):
        for row in csv_rows(path):
            started = False
            for column, value in row.items():
                if column in ("model", "created_at"):
                    continue
                value = (value or "").strip()
                started = started or bool(value and float(value))
                if started and value:
                    cells.add((row["model"], column[:10]))
    return cells


def test_it_continues_a_killed_bootstrap_with_the_datasets_not_yet_loaded(
        celery_worker_factory, broker_mode, shared_data, settings):
    # The worker beats every 1.25 s (a quarter of its threshold) so the test sees a beat quickly.
    worker = celery_worker_factory(queues="default", env={"IMPORT_HEARTBEAT_STALE_SECONDS": "5"})
    with transaction.atomic():
        bootstrap = queue_bootstrap(shared_data)

    def daily_import_beating():
        """Its heartbeat, on its own connection, shows the importer's per-batch progress report."""
        run = Run.objects.filter(kind="import", name="import:daily_downloads", status="running").first()
        beating = run is not None and run.heartbeat_at > run.started_at
        return run if beating and run.current_step.startswith("reading series: ") else None

    killed_import = wait_for(daily_import_beating, timeout=120, interval=0.1,
                             message=f"the daily-downloads import to run and beat\n{worker.logs()}")
    worker.kill()  # SIGKILL to the worker's whole process group, mid-import
    bootstrap.refresh_from_db()
    assert bootstrap.status == "running" and bootstrap.current_step == "daily_downloads"
    assert bootstrap.cursor["done"] == BEFORE_THE_KILL and bootstrap.cursor["attempts"] == 1
    assert not DownloadSnapshot.objects.filter(source="daily-series").exists()  # the killed import rolled back

    celery_worker_factory(queues="default")
    assert reap_stale_import_runs() == {"requeued": 0, "failed": 0}  # heartbeats still fresh: left alone
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = STALE_SECONDS
    time.sleep(STALE_SECONDS + 0.5)
    assert reap_stale_import_runs() == {"requeued": 1, "failed": 1}
    killed_import.refresh_from_db()
    assert killed_import.status == "failed" and "worker lost" in killed_import.error
    assert f"bootstrap run {bootstrap.pk}" in killed_import.error

    finished = wait_for(lambda: Run.objects.filter(pk=bootstrap.pk, status__in=["succeeded", "failed"]).first(),
                        timeout=240, interval=0.5, message="the re-sent bootstrap to finish")
    assert finished.status == "succeeded", finished.error
    assert finished.cursor == {"attempts": 2, "done": BEFORE_THE_KILL + AFTER_THE_KILL}
    assert not Run.objects.filter(status__in=["queued", "running"]).exists()
    # The datasets loaded before the kill were not loaded again; the killed one was, once.
    imports = list(Run.objects.filter(kind="import").values_list("name", "status"))
    succeeded = sorted(name for name, status in imports if status == "succeeded")
    assert succeeded == sorted(f"import:{name}" for name in BEFORE_THE_KILL + AFTER_THE_KILL)
    assert [name for name, status in imports if status == "failed"] == ["import:daily_downloads"]

    counts = finished.counts
    assert counts["regions"]["regions"] == len(csv_rows(shared_data / "atom/metadata/organization_regions.csv"))
    assert counts["parameters"]["parameter_counts"] == len(csv_rows(shared_data / "atom/metadata/model_parameters.csv"))
    tracked = {row["modelId"] for name in ("models.csv", "extra_models.csv") for row in csv_rows(shared_data / "atom" / name)}
    assert counts["tracked_lists"]["tracked_ids"] == len(tracked)
    hubstats = next((shared_data / "hub").glob("hub_stats_frozen_*.parquet"))
    assert counts["hubstats"]["records"] == pq.ParquetFile(hubstats).metadata.num_rows
    daily = len(daily_cells(shared_data / "downloads/download"))
    assert counts["daily_downloads"]["snapshots"] == daily
    assert DownloadSnapshot.objects.filter(source="daily-series").count() == daily
    finetune_files = sorted((shared_data / "downloads/finetune").glob("*.csv"))
    assert counts["finetune_counts"]["monthly_counts"] == sum(
        1 for path in finetune_files for row in csv_rows(path)
        for column, value in row.items() if column.endswith("-month") and (value or "").strip())
    assert counts["finetune_counts"]["base_models"] == sum(len(csv_rows(path)) for path in finetune_files)
    assert LeaderboardEntry.objects.count() == sum(counts["leaderboards"].values())
