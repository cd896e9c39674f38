"""A real Celery worker process takes an import task from the Redis broker and finishes it."""

import pytest

from ingest.tasks import queue_import
from observatory.catalog.models import Organization, Run
from tests.conftest import wait_for

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.postgres]


def test_it_imports_the_region_table_on_a_real_worker(celery_worker_factory, broker_mode, shared_data):
    worker = celery_worker_factory(queues="default")
    from django.db import transaction

    with transaction.atomic():
        run = queue_import("regions", shared_data)
    assert run.status == "queued"
    finished = wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(),
                        timeout=90, message=f"the worker to finish the import\n{worker.logs()}")
    assert finished.status == "succeeded", finished.error
    assert finished.counts["regions"] == 118
    assert Organization.objects.filter(region_source="atom").count() == 118
    assert "ingest.tasks.import_dataset" in worker.logs()


def test_it_records_a_failed_import_without_writing_anything(celery_worker_factory, broker_mode, tmp_path):
    celery_worker_factory(queues="default")
    (tmp_path / "atom" / "metadata").mkdir(parents=True)
    (tmp_path / "atom" / "metadata" / "organization_regions.csv").write_text("hf_org,region\nacme,atlantis\n")
    from django.db import transaction

    with transaction.atomic():
        run = queue_import("regions", tmp_path)
    finished = wait_for(lambda: Run.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first(), timeout=90)
    assert finished.status == "failed"
    assert "row 2" in finished.error and "atlantis" in finished.error
    assert not Organization.objects.filter(namespace="acme").exists()
