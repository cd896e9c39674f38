"""The daily-gain rollup and the loaders that filter in SQL give exactly the raw computations' numbers.

All on the real shared data: the rollup PostgreSQL builds against the same cells built in polars
from the raw rows, every download metric from the rollup against the per-model metric over the
raw rows under many filters, and the rollup's freshness across writes, imports and version bumps.
"""

import collections
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


def _plain_catalogue():
    """Models, organisations and lineage edges read with plain SQL, for plain-loop expectations."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT m.id, COALESCE(o.namespace, m.author), COALESCE(o.region, 'unknown'), m.tracked, "
                       "m.size_class, m.pipeline_tag, m.created_at, m.licence_class, m.downloads_all_time "
                       "FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id")
        models = {row[0]: dict(zip(("organization", "region", "tracked", "size_class", "pipeline_tag", "created",
                                    "licence_class", "downloads_all_time"), row[1:])) for row in cursor.fetchall()}
        cursor.execute("SELECT namespace, region FROM catalog_organization")
        regions = dict(cursor.fetchall())
        cursor.execute("SELECT child_id, parent_id, parent_hub_id, relation FROM catalog_lineageedge ORDER BY id")
        edges = cursor.fetchall()
    return models, regions, edges


def _in_scope(model: dict, filters: Filters) -> bool:
    return ((filters.scope == "all" or model["tracked"])
            and (not filters.regions or model["region"] in filters.regions)
            and (not filters.organization or model["organization"] == filters.organization)
            and (not filters.size_class or model["size_class"] == filters.size_class)
            and (not filters.pipeline_tag or model["pipeline_tag"] == filters.pipeline_tag))


def _plain_direct_derivatives(models, regions, edges, scope):
    """{(month, base region, relation): derivatives}, each (child, base) once, a base being its row or,
    unstored, its case-folded id; the base's region is its namespace's."""
    seen, counts = set(), collections.Counter()
    for child, parent_id, parent_hub_id, relation in edges:
        if child not in scope or models[child]["created"] is None:
            continue
        key = (child, f"#{parent_id}" if parent_id is not None else parent_hub_id.lower())
        if key in seen:
            continue
        seen.add(key)
        created = models[child]["created"].astimezone(dt.UTC).date()
        region = regions.get(parent_hub_id.split("/")[0]) or "unknown"
        counts[(created.replace(day=1), region, relation)] += 1
    return counts


@pytest.mark.parametrize("filters", [Filters(), Filters(scope="all"), Filters(regions=("china",), scope="all"),
                                     Filters(organization="meta-llama"), Filters(size_class="7-9B", scope="all")],
                         ids=lambda f: f.key())
def test_it_gets_the_plain_loops_numbers_when_the_loaders_filter_in_sql(loaded_db, filters):
    """Each metric's registry wiring (loaders filtering in PostgreSQL) against plain loops over the
    catalogue's rows (direct derivatives, the fine-tune share, the licence mix), and, for what no
    short loop redoes (relative adoption, the tree walk, conflicts), against the metric over the
    whole, unfiltered frames."""
    plain_models, regions, plain_edges = _plain_catalogue()
    scope = {m for m, model in plain_models.items() if _in_scope(model, filters)}

    direct = _plain_direct_derivatives(plain_models, regions, plain_edges, scope)
    got = METRICS["derivatives-by-base"].compute(ChartParams(filters=filters, top=5, depth="direct"))
    assert {(r["month"], r["base"], r["relation"]): r["new_derivatives"] for r in got.rows.iter_rows(named=True)} \
        == dict(direct)
    finetunes = collections.Counter()
    for (month, region, relation), n in direct.items():
        if relation == "finetune":
            finetunes[(month, region)] += n
    month_totals = collections.Counter()
    for (month, _), n in finetunes.items():
        month_totals[month] += n
    share = {(r["month"], r["base_region"]): (r["finetunes"], r["share"])
             for r in got.extra["finetune_share"].iter_rows(named=True)}
    assert share == {key: (n, pytest.approx(n / month_totals[key[0]])) for key, n in finetunes.items()}

    mix = METRICS["licence-mix"].compute(ChartParams(filters=filters, top=5))
    expected = {c: [0, 0, 0] for c in ("permissive", "copyleft", "restricted", "non-commercial", "unknown")}
    for model_id in scope:
        expected[plain_models[model_id]["licence_class"]][0] += 1
        expected[plain_models[model_id]["licence_class"]][1] += plain_models[model_id]["downloads_all_time"] or 0
    for _, parent_id, _, _ in plain_edges:
        if parent_id in scope:
            expected[plain_models[parent_id]["licence_class"]][2] += 1
    assert {r["licence_class"]: [r["models"], r["downloads_all_time"], r["derivatives"]]
            for r in mix.rows.iter_rows(named=True)} == expected

    everyone, edges, orgs, snaps = frames.models(), frames.edges(), frames.organizations(), frames.snapshots()
    models = filter_models(everyone, filters)
    relative = METRICS["relative-adoption"].compute(ChartParams(filters=filters, top=5)).rows
    assert _sorted(relative).equals(_sorted(adoption.relative_adoption(snaps, models)))
    tree = METRICS["derivatives-by-base"].compute(ChartParams(filters=filters, top=5, depth="tree"))
    assert tree.rows.equals(derivatives.derivatives_by_base(edges, models, orgs, scope="tree", top_n=5))
    assert mix.extra["conflicts"].equals(licences.licence_conflicts(models, edges, everyone))
    assert mix.as_of == everyone["created_date"].max()
