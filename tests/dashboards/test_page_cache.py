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


def _keys(pattern: str) -> set[str]:
    store = redis.Redis.from_url(os.environ.get("CACHE_REDIS_URL") or os.environ["REDIS_URL"])
    return {k.decode() for k in store.scan_iter(pattern, count=1000)}


@pytest.mark.parametrize("path", ["/dashboards/licence-mix?scope=all", "/embed/licence-mix?scope=all"])
def test_a_second_request_for_a_page_is_served_from_the_cache_without_a_query(loaded_db, client, path,
                                                                                  django_assert_num_queries):
    first = client.get(path)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        second = client.get(path)
    assert second.status_code == 200 and second.content == first.content


def test_a_logged_in_visitor_gets_the_same_page_with_nothing_of_theirs_in_it(loaded_db, client,
                                                                               django_user_model):
    path = "/dashboards/licence-mix?scope=all"
    client.force_login(django_user_model.objects.create_user("page-cache-visitor-7"))
    theirs = client.get(path).content  # built while they are logged in, and cached
    client.logout()
    anonymous = client.get(path).content
    assert theirs == anonymous
    assert b"page-cache-visitor-7" not in theirs and b"csrfmiddlewaretoken" not in theirs


def test_one_entry_serves_every_host_with_its_own_permalinks(loaded_db, client):
    client.get("/dashboards/licence-mix?scope=all")
    entries = _keys("*metric:page*:licence-mix:v*")
    there = client.get("/dashboards/licence-mix?scope=all", HTTP_HOST="localhost").content.decode()
    assert "http://localhost/embed/licence-mix?scope=all" in there
    assert _keys("*metric:page*:licence-mix:v*") == entries and len(entries) == 1


@pytest.mark.parametrize("query", [
    "region=mars", "organization=%3Cscript%3E", "start=2025-13-40", "top=0", "unknown=1",  # refused: 400
    # Unused by the chart, or before all its data:
    "region=us", "size_class=7-9B", "pipeline_tag=text-generation", "start=1800-01-01", "forecast=1",
])
def test_hostile_filter_values_leave_no_page_in_the_cache(loaded_db, client, query):
    # open-closed-gap filters by start, end and source only.
    client.get("/dashboards/open-closed-gap")
    client.get("/embed/open-closed-gap")
    pages = _keys("*metric:page*:open-closed-gap:v*") | _keys("*metric:embed*:open-closed-gap:v*")
    assert len(pages) == 2
    for path in (f"/dashboards/open-closed-gap?{query}", f"/embed/open-closed-gap?{query}"):
        assert client.get(path).status_code in (200, 400)
    assert _keys("*metric:page*:open-closed-gap:v*") | _keys("*metric:embed*:open-closed-gap:v*") == pages


def test_a_page_asked_with_an_unused_filter_shows_the_asked_form_and_the_default_chart(loaded_db, client):
    default = client.get("/dashboards/open-closed-gap").content.decode()
    asked = client.get("/dashboards/open-closed-gap?start=1800-01-01").content.decode()
    assert 'name="start" value="1800-01-01"' in asked and 'name="start" value=""' in default

    def figure(page: str) -> str:
        return page.split('id="chart-figure">', 1)[1].split("</script>", 1)[0]

    assert figure(asked) == figure(default)  # a start before all the data is all the data
