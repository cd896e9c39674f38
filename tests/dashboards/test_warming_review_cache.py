"""The review of warm-before-switching (issue 17): what the warm leaves in the cache when it
publishes, and whether one view's cache key can serve another's. On made-up rows, in a transaction
rolled back after each test; the cache is the real Redis."""

import dataclasses
import datetime as dt
import json
import time

import polars as pl
import pytest
from django.core.cache import cache
from django.db import connection

from observatory.analytics import rollups
from observatory.analytics.filters import Filters
from observatory.catalog.models import DownloadSnapshot, HubModel, Organization
from observatory.catalog.runs import bump_data_version, data_version, reading_version
from observatory.dashboards import chart_pages, data_dates, results, views, warming
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS

pytestmark = [pytest.mark.django_db, pytest.mark.redis, pytest.mark.postgres]

CUMULATIVE = "cumulative-downloads-by-region"


@pytest.fixture
def made_up(settings):
    """One tracked model with three days of the Hub's counts; the default views only."""
    settings.WARM_FILTER_SETS = False
    # The session's real data may be committed already (loaded_db ran first): the warm and the
    # hand sums read the whole catalogue, so start from an empty one, rolled back with the test.
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_organization, catalog_hubmodel, catalog_downloadsnapshot, "
                       "catalog_leaderboardentry CASCADE")
    org = Organization.objects.create(namespace="warm-review", region="eu")
    model = HubModel.objects.create(hub_id="warm-review/a", organization=org, author="warm-review", tracked=True,
                                    size_class="7-9B", pipeline_tag="text-generation", downloads_all_time=160)
    DownloadSnapshot.objects.bulk_create([
        DownloadSnapshot(model=model, date=dt.date(2031, 3, day), downloads_all_time=count)
        for day, count in ((1, 100), (2, 130), (3, 160))])
    return model


def _written_ms(key: str, lifetime_s: float) -> float:
    """When the entry under `key` was written (ms since the epoch), from what it has left to live."""
    left = cache.pttl(key)
    assert left > 0, key
    return time.time() * 1000 + left - lifetime_s * 1000


def test_the_home_pages_short_lived_entries_are_written_after_every_view_so_they_last_past_the_publication(made_up):
    """They live five minutes (counts, source ends), a warm at the Hub's scale longer: written first,
    they would lapse before the version is read and its first visitor would count again."""
    version = data_version() + 1
    warming.warm(version)
    with reading_version(version):
        summary = _written_ms(f"stats:summary:v{version}", views.COUNTS_SECONDS)
        ends = _written_ms(f"data-dates:v{version}", data_dates.SECONDS)
        written = []
        for name in METRICS:
            params = warming.common_views(name, [])[0]
            key = results.cache_key("json", name, params)
            if cache.pttl(key) > 0:
                written.append(_written_ms(key, results.lifetime(params)))
    assert len(written) > len(METRICS) // 2
    assert min(summary, ends) >= max(written) - 5  # ms: the clock between two reads


def test_the_warm_folds_writes_since_the_bump_so_its_download_charts_read_the_rollup(made_up):
    """A crawl commits its pages as it goes and bumps at its end: a page committed after the
    bump's fold leaves the rollup stale, and every download chart of the warm would read the raw
    rows instead (the same numbers, at the Hub's scale minutes each)."""
    bump_data_version()
    assert rollups.fresh()
    DownloadSnapshot.objects.create(model=made_up, date=dt.date(2031, 3, 4), downloads_all_time=200)  # a crawl page
    assert not rollups.fresh()
    params = ChartParams(filters=Filters(scope="tracked"))
    from_raw_rows = METRICS[CUMULATIVE].compute(params).rows  # the raw path, while the rollup is stale
    version = data_version() + 1
    warming.warm(version)
    assert rollups.fresh()
    with reading_version(version):
        warmed = json.loads(results.json_bytes(CUMULATIVE, params))
    assert pl.DataFrame(warmed["rows"]).with_columns(pl.col("date").str.to_date()).equals(
        from_raw_rows.select(pl.DataFrame(warmed["rows"]).columns))
    # By hand: the model's all-time count on its last day, the region's cumulative downloads.
    assert [r["cumulative_downloads"] for r in warmed["rows"] if r["region"] == "eu"][-1] == 100.0


def test_every_chart_parameter_is_in_the_cache_key_so_one_views_entry_never_serves_another():
    default = ChartParams(filters=Filters())
    changed = {"top": 9, "by": "organization", "depth": "tree", "source": "probe", "as_of": dt.date(2030, 1, 1),
               "target_date": dt.date(2030, 6, 1), "horizon_days": 30, "forecast": True}
    filters = {"start": dt.date(2030, 1, 1), "end": dt.date(2030, 2, 1), "regions": ("eu",), "organization": "x",
               "size_class": "7-9B", "pipeline_tag": "text-generation", "scope": "all", "licence_class": "permissive"}
    assert set(changed) | {"filters"} == {f.name for f in dataclasses.fields(ChartParams)}
    assert set(filters) == {f.name for f in dataclasses.fields(Filters)}
    variants = [dataclasses.replace(default, **{name: value}) for name, value in changed.items()]
    variants += [dataclasses.replace(default, filters=dataclasses.replace(default.filters, **{name: value}))
                 for name, value in filters.items()]
    keys = {results.cache_key("json", CUMULATIVE, p) for p in [default, *variants]}
    assert len(keys) == 1 + len(variants)
    # The page's two export variants and the embed: three kinds, three keys for one view.
    kinds = {chart_pages.page_kind(True), chart_pages.page_kind(False), chart_pages.embed_kind()}
    assert len({results.cache_key(kind, CUMULATIVE, default) for kind in kinds}) == 3


def test_the_most_downloaded_organisations_are_those_with_the_most_downloads_not_those_without_counts(made_up):
    """An organisation whose models carry no all-time count sums to NULL, which PostgreSQL sorts
    first in a descending order: it must come last, as a zero would."""
    uncounted = Organization.objects.create(namespace="warm-review-uncounted", region="us")
    HubModel.objects.create(hub_id="warm-review-uncounted/a", organization=uncounted, author=uncounted.namespace)
    small = Organization.objects.create(namespace="warm-review-small", region="us")
    HubModel.objects.create(hub_id="warm-review-small/a", organization=small, author=small.namespace,
                            downloads_all_time=3)
    by_hand = {}  # every organisation's models' counts, summed in Python (no count: nothing)
    for org, downloads in HubModel.objects.filter(organization__isnull=False).values_list(
            "organization__namespace", "downloads_all_time"):
        by_hand[org] = by_hand.get(org, 0) + (downloads or 0)
    top = warming.top_organizations(len(by_hand))
    assert top == sorted(by_hand, key=lambda org: (-by_hand[org], org))


@pytest.mark.slow
def test_an_organisations_views_kept_briefly_last_their_lifetime_from_the_end_of_the_warm(made_up, settings):
    """Free-text filters are kept for METRIC_CACHE_SHORT_SECONDS (five minutes); the warm writes
    the first organisation's views early, and at the Hub's scale takes longer than that."""
    settings.WARM_FILTER_SETS, settings.WARM_TOP_ORGANIZATIONS = True, 1
    version = data_version() + 1
    warming.warm(version)
    brief, kept = [], []
    with reading_version(version):
        for name in METRICS:
            for params in warming.common_views(name, ["warm-review"]):
                key = results.cache_key("json", name, params)
                if cache.pttl(key) > 0:
                    lifetime = results.lifetime(params)
                    (brief if lifetime < settings.METRIC_CACHE_SECONDS else kept).append(
                        (_written_ms(key, lifetime), name, params.query()))
    assert len(brief) >= 5 and all(query == "organization=warm-review" for _, _, query in brief)
    assert min(brief)[0] >= max(kept)[0] - 5, min(brief)  # ms: the clock between two reads
