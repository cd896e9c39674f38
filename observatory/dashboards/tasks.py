"""Celery tasks of the dashboards: warming the cache for a new data version (dashboards.warming)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from observatory.dashboards import warming


# A database connection lost mid-warm is worth another try; anything else is logged per chart.
@shared_task(bind=True, acks_late=True, ignore_result=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=3)
def warm_data_version(self, version: int) -> dict:
    """Warm the cache for `version`, then make it the version pages read. Idempotent."""
    return warming.warm_and_publish(int(version))
