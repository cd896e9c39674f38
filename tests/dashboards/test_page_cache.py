"""The dashboard page and the embed are cached whole per data version, like the JSON ("Load to hold")."""

import os

import pytest
import redis

from observatory.catalog.models import HubModel
from observatory.catalog.runs import bump_data_version

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


def _evict_rows(name: str) -> int:
    """Drop the metric's cached rows and JSON from the real cache Redis, as LRU eviction would."""
    store = redis.Redis.from_url(os.environ.get("CACHE_REDIS_URL") or os.environ["REDIS_URL"])
    keys = [k for kind in ("frames", "json") for k in store.scan_iter(f"*metric:{kind}:{name}:v*", count=1000)]
    return store.delete(*keys) if keys else 0


@pytest.mark.parametrize("path", ["/dashboards/licence-mix?scope=all", "/embed/licence-mix?scope=all"])
def test_it_serves_the_page_it_rendered_until_the_data_version_moves_on(loaded_db, client, path):
    first = client.get(path).content
    model = HubModel.objects.filter(licence_class="permissive").order_by("-downloads_all_time").first()
    HubModel.objects.filter(pk=model.pk).update(licence_class="non-commercial")
    assert _evict_rows("licence-mix") >= 1
    # Not rebuilt: neither the rows (recomputed, they would show the edit) nor the chart HTML.
    assert client.get(path).content == first
    bump_data_version()  # what every import and crawl does when it finishes
    assert client.get(path).content != first


def test_it_keeps_a_page_per_host_its_permalinks_name(loaded_db, client):
    here = client.get("/dashboards/licence-mix?scope=all").content.decode()
    there = client.get("/dashboards/licence-mix?scope=all", HTTP_HOST="localhost").content.decode()
    assert "http://testserver/embed/licence-mix?scope=all" in here
    assert "http://localhost/embed/licence-mix?scope=all" in there and "testserver" not in there
