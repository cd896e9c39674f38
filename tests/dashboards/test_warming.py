"""Warm before switching (issue 17): after new data, pages read the old data version until the
cache holds the new one's default views and common filter sets; then every chart's default view
is served from the cache without a database query."""

import time
from urllib.parse import urlencode

import pytest

from observatory.catalog.models import HubModel
from observatory.catalog.runs import bump_data_version, data_version, pending_data_version, reading_version
from observatory.dashboards import tasks, warming
from observatory.dashboards.registry import METRICS
from observatory.vocab import REGION_VALUES, SIZE_CLASS_VALUES

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def warming_on(settings, broker_mode):
    """Bumps queue the warm on the real broker; no worker takes it, the test runs it itself. The
    default views only: the common filter sets multiply the warm's time by fifteen here (their plan
    is tested below, and one of them warmed)."""
    settings.DATA_VERSION_WARM, settings.WARM_FILTER_SETS = True, False
    settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS = 3600
    yield
    broker_mode.control.purge()  # the queued warm messages, so no later worker picks them up


def _licence_edit() -> None:
    model = HubModel.objects.filter(licence_class="permissive", tracked=True).order_by("-downloads_all_time").first()
    HubModel.objects.filter(pk=model.pk).update(licence_class="non-commercial")


@pytest.mark.slow
def test_pages_read_the_old_version_until_the_warm_publishes_the_new_one(loaded_db, client, warming_on,
                                                                         django_assert_num_queries):
    old = data_version()
    before = client.get("/api/metrics/licence-mix").json()
    _licence_edit()
    new = bump_data_version()
    assert new > old and pending_data_version() == new
    assert data_version() == old and client.get("/api/metrics/licence-mix").json() == before  # not switched yet

    report = tasks.warm_data_version.apply(args=[new]).get()
    assert report["published"] and report["failed"] == [] and data_version() == new
    after = {r["licence_class"]: r["models"] for r in client.get("/api/metrics/licence-mix").json()["rows"]}
    expected = {r["licence_class"]: r["models"] for r in before["rows"]}
    expected["permissive"] -= 1
    expected["non-commercial"] += 1
    assert after == expected
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200
    for name in METRICS:  # every chart's default view: page, embed and JSON, all from the cache
        for path in (f"/dashboards/{name}", f"/embed/{name}", f"/api/metrics/{name}"):
            with django_assert_num_queries(0):
                assert client.get(path).status_code == 200, path
    again = tasks.warm_data_version.apply(args=[new]).get()
    assert again == {"version": new, "skipped": "published already"}  # idempotent
    region = warming.common_views("relative-adoption", [])[1]
    with reading_version(data_version()):
        warming.warm_view("relative-adoption", region)
    with django_assert_num_queries(0):
        assert client.get(f"/dashboards/relative-adoption?{region.query()}").status_code == 200


def test_an_older_warm_finishing_last_neither_publishes_nor_takes_pages_back(loaded_db, warming_on):
    first = bump_data_version()
    second = bump_data_version()
    assert tasks.warm_data_version.apply(args=[first]).get() == {"version": first,
                                                                  "skipped": f"superseded by {second}"}
    assert data_version() < first
    assert warming.warm_and_publish(second)["published"] and data_version() == second
    assert warming.warm_and_publish(first) == {"version": first, "skipped": "published already"}
    assert data_version() == second


def test_a_warm_that_never_runs_delays_new_data_only_until_the_deadline(loaded_db, warming_on, settings):
    old = data_version()
    new = bump_data_version()
    assert data_version() == old
    settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS = 0  # as if the deadline had passed
    assert data_version() == new and pending_data_version() is None


def test_the_deadline_counts_from_the_oldest_bump_pages_have_not_read(loaded_db, warming_on, settings):
    settings.DATA_VERSION_PUBLISH_DEADLINE_SECONDS = 2
    old = data_version()
    bump_data_version()
    time.sleep(1.2)
    newest = bump_data_version()  # before the first one's deadline: it does not start the clock again
    assert data_version() == old
    time.sleep(1.0)  # 2.2 s after the first bump, 1 s after the newest
    assert data_version() == newest


def test_it_warms_the_default_view_its_choices_then_each_region_size_class_and_top_organisation(loaded_db):
    top = warming.top_organizations(3)
    by_downloads = {}
    for org, downloads in HubModel.objects.filter(organization__isnull=False).values_list(
            "organization__namespace", "downloads_all_time"):
        by_downloads[org] = by_downloads.get(org, 0) + (downloads or 0)
    assert top == sorted(by_downloads, key=lambda o: (-by_downloads[o], o))[:3]
    views = warming.common_views("relative-adoption", top)
    queries = [v.query() for v in views]
    assert queries == ["", *(urlencode({"region": r}) for r in REGION_VALUES),
                       *(urlencode({"size_class": s}) for s in SIZE_CLASS_VALUES),
                       *(urlencode({"organization": o}) for o in top)]
    # A chart without those filters warms its default view and its page's other choices.
    assert [v.query() for v in warming.common_views("open-closed-gap", top)] == ["", "source=lmarena", "source=probe"]
    assert [v.query() for v in warming.common_views("download-concentration", top)][:4] == [
        "", "by=family", "by=organization", urlencode({"region": REGION_VALUES[0]})]


@pytest.mark.celery
@pytest.mark.postgres
@pytest.mark.slow
def test_an_import_on_a_real_worker_is_warmed_and_published_by_a_worker(celery_worker_factory, broker_mode, settings,
                                                                        shared_data, client, django_assert_num_queries):
    from django.db import transaction

    from ingest.tasks import queue_import
    from observatory.catalog.models import Run
    from tests.conftest import wait_for

    settings.DATA_VERSION_WARM, settings.WARM_FILTER_SETS = True, False
    worker = celery_worker_factory(queues="default", env={"DATA_VERSION_WARM": "1", "WARM_FILTER_SETS": "0"})
    before = data_version()
    with transaction.atomic():
        run = queue_import("regions", shared_data)
    wait_for(lambda: Run.objects.filter(pk=run.pk, status="succeeded").exists(), timeout=90,
             message=f"the import on the worker\n{worker.logs()}")
    wait_for(lambda: data_version() > before and pending_data_version() is None, timeout=120,
             message=f"the worker to warm and publish the new version\n{worker.logs()}")
    assert "observatory.dashboards.tasks.warm_data_version" in worker.logs()
    for name in METRICS:
        with django_assert_num_queries(0):
            assert client.get(f"/dashboards/{name}").status_code == 200, name


def test_the_warm_knows_every_choice_a_chart_page_offers(loaded_db, client):
    import re

    from observatory.dashboards.params import DEFAULTS

    for name in METRICS:
        page = client.get(f"/dashboards/{name}").content.decode()
        offered = set()
        for select, options in re.findall(r'<select name="(by|depth|source)">(.*?)</select>', page, re.S):
            # Every option but the default parameter's (the default view): each is its own cache key.
            offered |= {f"{select}={value}" for value in re.findall(r'<option value="([^"]*)"', options)
                        if value != DEFAULTS[select]}
        assert offered == set(warming.CHOICE_VIEWS.get(name, ())), name
