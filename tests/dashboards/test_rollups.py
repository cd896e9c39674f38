"""The daily-gain rollup and the loaders that filter in SQL give exactly the raw computations' numbers.

All on the real shared data: the rollup PostgreSQL builds against the same cells built in polars
from the raw rows, every download metric from the rollup against the per-model metric over the
raw rows under many filters, and the rollup's freshness across writes, imports and version bumps.
"""

import datetime as dt

import polars as pl
import pytest

from observatory.analytics import adoption, derivatives, frames, gains, licences, rollups, shares
from observatory.analytics.filters import Filters, filter_models
from observatory.catalog.models import DownloadSnapshot, HubModel, Run
from observatory.catalog.runs import bump_data_version, recorded_run
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db

FILTERS = [
    Filters(),
    Filters(scope="all"),
    Filters(start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31)),
    Filters(start=dt.date(2024, 10, 1), end=dt.date(2024, 12, 31), scope="all"),
    Filters(start=dt.date(2020, 1, 1), scope="all"),  # before the first snapshot: every count from zero
    Filters(start=dt.date(2030, 1, 1)),  # after the last one: nothing in range
    Filters(end=dt.date(2020, 1, 1)),  # before the first one: nothing at all
    Filters(regions=("china",), scope="all"),
    Filters(regions=("us", "eu")),
    Filters(organization="meta-llama", scope="all"),
    Filters(size_class="7-9B"),
    Filters(pipeline_tag="text-generation", scope="all", start=dt.date(2025, 2, 14)),
]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def test_it_builds_in_postgresql_the_same_cells_polars_builds_from_the_raw_rows(loaded_db):
    rollups.refresh(force=True)
    built = rollups.daily_gains()
    expected = gains.daily_gains(frames.snapshots(), frames.models())
    assert built.height > 1000 and built["rows"].sum() == frames.snapshots().height
    assert _sorted(built).equals(_sorted(expected.select(built.columns)))


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.key())
def test_it_computes_cumulative_downloads_from_the_rollup_exactly_as_from_raw_rows(loaded_db, filters):
    rollups.refresh(force=True)
    raw = adoption.cumulative_downloads_by_region(
        frames.snapshots(end=filters.end), filter_models(frames.models(), filters), start=filters.start,
        end=filters.end, scope="all")
    cells = filter_models(rollups.daily_gains(filters, end=filters.end), filters)
    assert gains.cumulative_downloads_by_region(cells, start=filters.start, end=filters.end).equals(raw)


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.key())
def test_it_computes_download_shares_from_the_rollup_exactly_as_from_raw_rows(loaded_db, filters):
    rollups.refresh(force=True)
    raw = shares.download_share_by_org(frames.snapshots(end=filters.end), filter_models(frames.models(), filters),
                                       start=filters.start, end=filters.end, top_n=5)
    cells = filter_models(rollups.daily_gains(filters, end=filters.end), filters)
    got = gains.download_share_by_org(cells, start=filters.start, end=filters.end, top_n=5)
    assert _sorted(got).equals(_sorted(raw))


def test_it_uses_the_rollup_only_while_no_write_has_touched_its_sources(loaded_db, client):
    rollups.refresh()
    assert rollups.fresh()
    url = "/api/metrics/cumulative-downloads-by-region?scope=all"
    before = {(r["date"], r["region"]): r["cumulative_downloads"] for r in client.get(url).json()["rows"]}
    snapshot = DownloadSnapshot.objects.filter(source="daily-series").order_by("-date").select_related("model").first()
    DownloadSnapshot.objects.filter(pk=snapshot.pk).update(downloads_day=snapshot.downloads_day + 1000)
    assert not rollups.fresh()  # the metrics read raw rows now, not the outdated sums

    bump_data_version()  # what every import and crawl does when it finishes: the rollup is rebuilt
    assert rollups.fresh()
    after = {(r["date"], r["region"]): r["cumulative_downloads"] for r in client.get(url).json()["rows"]}
    region = snapshot.model.organization.region if snapshot.model.organization else "unknown"
    changed = {key for key in after if after[key] != before[key]}
    assert changed == {(snapshot.date.isoformat(), region)}
    assert after[(snapshot.date.isoformat(), region)] == before[(snapshot.date.isoformat(), region)] + 1000


def test_it_rebuilds_the_rollup_when_an_import_run_finishes(loaded_db):
    model = HubModel.objects.filter(tracked=True).first()
    with recorded_run(Run.Kind.IMPORT, "test import"):
        DownloadSnapshot.objects.create(model=model, date=dt.date(2031, 1, 1), downloads_all_time=10**12,
                                        source="daily-series")
        HubModel.objects.filter(pk=model.pk).update(pipeline_tag="an-imported-tag")
        assert not rollups.fresh()
    assert rollups.fresh()
    cells = rollups.daily_gains(Filters(pipeline_tag="an-imported-tag"))
    assert cells.filter(pl.col("date") == dt.date(2031, 1, 1))["rows"].to_list() == [1]


def test_it_answers_the_charts_the_same_with_a_fresh_rollup_as_with_a_stale_one(loaded_db):
    params = ChartParams(filters=Filters(regions=("china", "us"), start=dt.date(2024, 11, 1)), top=4)
    rollups.refresh(force=True)
    fast = {name: METRICS[name].compute(params) for name in ("cumulative-downloads-by-region", "download-share-by-org")}
    HubModel.objects.filter(pk=HubModel.objects.first().pk).update(likes=1)  # no metric reads likes; still stale
    assert not rollups.fresh()
    for name, computed in fast.items():
        slow = METRICS[name].compute(params)
        assert _sorted(slow.rows).equals(_sorted(computed.rows)) and slow.as_of == computed.as_of


@pytest.mark.parametrize("filters", [Filters(), Filters(scope="all"), Filters(regions=("china",), scope="all"),
                                     Filters(organization="meta-llama"), Filters(size_class="7-9B", scope="all")],
                         ids=lambda f: f.key())
def test_it_gets_the_same_numbers_when_the_loaders_filter_in_sql(loaded_db, filters):
    """Each metric's registry wiring (loaders filtering in PostgreSQL) against the same metric
    function over the whole, unfiltered frames."""
    everyone, edges, orgs, snaps = frames.models(), frames.edges(), frames.organizations(), frames.snapshots()
    models = filter_models(everyone, filters)
    p = ChartParams(filters=filters, top=5)
    relative = METRICS["relative-adoption"].compute(p).rows
    assert _sorted(relative).equals(_sorted(adoption.relative_adoption(snaps, models)))
    for depth in ("direct", "tree"):
        got = METRICS["derivatives-by-base"].compute(ChartParams(filters=filters, top=5, depth=depth))
        assert got.rows.equals(derivatives.derivatives_by_base(edges, models, orgs, scope=depth, top_n=5))
        assert got.extra["finetune_share"].equals(derivatives.finetune_share_by_base_region(edges, models, orgs))
    mix = METRICS["licence-mix"].compute(p)
    assert mix.rows.equals(licences.licence_mix(models, edges))
    assert mix.extra["conflicts"].equals(licences.licence_conflicts(models, edges, everyone))
    assert mix.as_of == everyone["created_date"].max()
