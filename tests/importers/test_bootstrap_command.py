"""`manage.py bootstrap`: says plainly when there is no data, skips what is absent, runs on a worker task."""

import csv
import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ingest.tasks import bootstrap_datasets
from observatory.catalog.models import HubModel, Organization, Run, TrackedListEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_catalog(loaded_db, settings):
    """The bootstrapped catalogue emptied inside this test's transaction (rolled back after)."""
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {HubModel._meta.db_table} CASCADE")
    settings.HF_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there: "not reachable"
    assert not HubModel.objects.exists()


def test_it_says_plainly_that_there_is_no_data_and_still_exits_0(empty_catalog, settings):
    settings.OBSERVATORY_DATA_DIR = None
    out = io.StringIO()
    call_command("bootstrap", "--if-empty", stdout=out)
    assert out.getvalue().startswith("No data directory: set OBSERVATORY_DATA_DIR (it is not set)")
    assert "not reachable" in out.getvalue() and "empty observatory" in out.getvalue()


def test_it_names_a_data_directory_that_does_not_exist(empty_catalog, settings, tmp_path):
    settings.OBSERVATORY_DATA_DIR = tmp_path / "nowhere"
    out = io.StringIO()
    call_command("bootstrap", "--if-empty", stdout=out)
    assert f"No data directory: set OBSERVATORY_DATA_DIR ({tmp_path / 'nowhere'} is not a directory)" in out.getvalue()
    with pytest.raises(CommandError, match="No data directory"):
        call_command("bootstrap", stdout=io.StringIO())


def test_it_skips_when_models_are_already_loaded(loaded_db, settings):
    settings.OBSERVATORY_DATA_DIR = None
    out = io.StringIO()
    call_command("bootstrap", "--if-empty", stdout=out)
    assert f"already holds {HubModel.objects.count():,} models: bootstrap skipped" in out.getvalue()


def test_it_skips_missing_datasets_with_a_warning(empty_catalog, shared_data, tmp_path):
    (tmp_path / "atom" / "metadata").mkdir(parents=True)
    shutil.copy(shared_data / "atom" / "metadata" / "organization_regions.csv", tmp_path / "atom" / "metadata")
    (tmp_path / "hub").mkdir()  # the folder without its hub-stats file
    out = io.StringIO()
    call_command("bootstrap", "--data-dir", str(tmp_path), "--no-progress", stdout=out)
    text = out.getvalue()
    assert "warning: hubstats skipped" in text and "hub_stats_frozen_*.parquet: no file matches" in text
    assert "warning: policy skipped" in text and "model_policy.yml: not found" in text
    assert "regions=118" in text
    assert Organization.objects.filter(region_source="atom").count() == 118
    assert not HubModel.objects.exists()


def test_a_bootstrap_with_the_progress_bar_on_loads_what_the_files_hold(empty_catalog, shared_data, tmp_path, capsys):
    """What `make run` does (no --no-progress): the bar over a CSV reader's generator and the
    tracked lists' folder, the counts read back from the files with plain csv."""
    (tmp_path / "atom" / "metadata").mkdir(parents=True)
    shutil.copy(shared_data / "atom" / "metadata" / "organization_regions.csv", tmp_path / "atom" / "metadata")
    for name in ("models.csv", "extra_models.csv"):
        shutil.copy(shared_data / "atom" / name, tmp_path / "atom")
    with open(shared_data / "atom" / "metadata" / "organization_regions.csv", encoding="utf-8") as handle:
        namespaces = {row["hf_org"].strip() for row in csv.DictReader(handle)}
    tracked = set()
    for name in ("models.csv", "extra_models.csv"):
        with open(shared_data / "atom" / name, encoding="utf-8") as handle:
            tracked |= {row["modelId"].strip() for row in csv.DictReader(handle)}
    out = io.StringIO()
    call_command("bootstrap", "--data-dir", str(tmp_path), stdout=out)
    assert f"regions={len(namespaces):,}" in out.getvalue()
    assert f"tracked_ids={len(tracked):,}" in out.getvalue()
    assert set(TrackedListEntry.objects.values_list("hub_id", flat=True)) == tracked
    assert Run.objects.filter(name="import:tracked_lists", status="succeeded").exists()


def test_the_bootstrap_task_runs_every_importer_and_records_what_it_skipped(empty_catalog, shared_data, tmp_path):
    (tmp_path / "atom" / "metadata").mkdir(parents=True)
    for name in ("organization_regions.csv", "model_parameters.csv"):
        shutil.copy(shared_data / "atom" / "metadata" / name, tmp_path / "atom" / "metadata")
    run = Run.objects.create(kind="bootstrap", name="bootstrap", params={"data_dir": str(tmp_path)})
    bootstrap_datasets(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    assert run.counts["regions"]["regions"] == 118
    assert run.counts["parameters"]["parameter_counts"] == 299
    assert run.counts["leaderboards"].startswith("skipped:")
    bootstrap_datasets(run.pk)  # a redelivered message finds the run already done
    assert Run.objects.filter(kind="import", name="import:regions", status="succeeded").count() >= 1
    run.refresh_from_db()
    assert run.status == "succeeded"
