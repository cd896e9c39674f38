"""The daily-gain rollup and the loaders that filter in SQL give exactly the raw computations' numbers.

All on the real shared data: the rollup PostgreSQL builds against the same cells built in polars
from the raw rows, every download metric from the rollup against the per-model metric over the
raw rows under many filters, and the rollup's freshness across writes, imports and version bumps.
"""

import collections
import datetime as dt

import polars as pl
import pytest

from observatory.analytics import adoption, frames, gains, rollups, shares
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
                       "m.size_class, m.pipeline_tag, m.created_at, m.licence_class, m.downloads_all_time, "
                       "m.hub_id, m.licence_id, m.release_date "
                       "FROM catalog_hubmodel m LEFT JOIN catalog_organization o ON o.id = m.organization_id")
        models = {row[0]: dict(zip(("organization", "region", "tracked", "size_class", "pipeline_tag", "created",
                                    "licence_class", "downloads_all_time", "hub_id", "licence_id", "release_date"),
                                   row[1:])) for row in cursor.fetchall()}
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


def _plain_tree_derivatives(models, regions, edges, scope, max_depth=32):
    """Like _plain_direct_derivatives, walking up resolved parents: {(month, base region, relation): n},
    each (child, base) once, found breadth first, a deeper base keeping the child's own relation to
    the direct parent it was reached through."""
    parents_of = collections.defaultdict(list)
    for child, parent_id, parent_hub_id, relation in edges:
        parents_of[child].append((parent_id, parent_hub_id, relation))
    counts = collections.Counter()
    for child in scope:
        if models[child]["created"] is None or child not in parents_of:
            continue
        month = models[child]["created"].astimezone(dt.UTC).date().replace(day=1)
        seen, frontier = set(), [(pid, hub, relation) for pid, hub, relation in parents_of[child]]
        for _depth in range(max_depth):  # lineage deeper than 32 is a data error: the walk stops
            found = []
            for parent_id, parent_hub_id, relation in frontier:
                key = f"#{parent_id}" if parent_id is not None else parent_hub_id.lower()
                if key in seen:
                    continue
                seen.add(key)
                found.append((parent_id, relation))
                counts[(month, regions.get(parent_hub_id.split("/")[0]) or "unknown", relation)] += 1
            frontier = [(pid, hub, relation) for parent_id, relation in found if parent_id is not None
                        for pid, hub, _ in parents_of[parent_id]]
            if not frontier:
                break
    return counts


def _plain_snapshots():
    """(model id, date, cumulative downloads, cumulative kind) of the daily rows (series and crawl)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT model_id, date, downloads_all_time, cumulative_kind FROM catalog_downloadsnapshot "
                       "WHERE source IN ('daily-series', 'crawl') AND downloads_all_time IS NOT NULL")
        return cursor.fetchall()


def _median(values):
    ordered, mid = sorted(values), len(values) // 2
    return ordered[mid] if len(values) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _plain_relative_adoption(models, snapshots, scope, rank=10):
    """hub id → RAM's figures, from the raw rows as RAM_METHODOLOGY words them: a model's curve is its
    all-time (or estimated since-release) counts at t days after release; it is read on its latest t;
    v1 divides by the median of its class's top `rank` latest counts, v2 by the class's rank-th
    highest count at that t (defined where at least `rank` models have one; never falling in t)."""
    sized = {m for m in scope if models[m]["size_class"]}
    curves = collections.defaultdict(dict)
    for model_id, date, cumulative, kind in snapshots:
        release = models[model_id]["release_date"]
        if model_id in sized and release is not None and date >= release and kind in ("all-time", "estimated"):
            curves[model_id][(date - release).days] = cumulative
    at = collections.defaultdict(list)  # (class, t) → the class's counts at t
    for model_id, points in curves.items():
        for days, cumulative in points.items():
            at[(models[model_id]["size_class"], days)].append(cumulative)
    reference, highest = {}, {}
    for size_class, days in sorted(at):
        counts = sorted(at[(size_class, days)], reverse=True)
        if len(counts) >= rank:
            highest[size_class] = max(highest.get(size_class, counts[rank - 1]), counts[rank - 1])
            reference[(size_class, days)] = highest[size_class]
    latest = {m: max(points) for m, points in curves.items()}
    top_median = {}
    for size_class in {models[m]["size_class"] for m in curves}:
        counts = sorted((curves[m][latest[m]] for m in curves if models[m]["size_class"] == size_class), reverse=True)
        top_median[size_class] = _median(counts[:rank])
    out = {}
    for model_id in sized:
        size_class, days = models[model_id]["size_class"], latest.get(model_id)
        cumulative = curves[model_id][days] if days is not None else None
        ref = reference.get((size_class, days)) if days is not None else None
        median = top_median.get(size_class)
        out[models[model_id]["hub_id"]] = {
            "days_since_release": days, "cumulative_downloads": cumulative, "reference_10th": ref,
            "models_at_t": len(at[(size_class, days)]) if days is not None else None,
            "top10_median_downloads": median,
            "ram_v1": cumulative / median if cumulative is not None and median else None,
            "ram_v2": cumulative / ref if ref else None,
            "explained": cumulative is None or not ref,  # a missing value comes with its reason
        }
    return out


# The licence classes by what they allow (the rule the licence mix flags: a derivative whose class
# allows more than its base's); unknown is not ranked and never conflicts.
ALLOWS = {"permissive": 3, "copyleft": 2, "restricted": 1, "non-commercial": 0}


@pytest.mark.parametrize("filters", [Filters(), Filters(scope="all"), Filters(regions=("china",), scope="all"),
                                     Filters(organization="meta-llama"), Filters(size_class="7-9B", scope="all")],
                         ids=lambda f: f.key())
def test_it_gets_the_plain_loops_numbers_when_the_loaders_filter_in_sql(loaded_db, filters):
    """Each metric's registry wiring (loaders filtering in PostgreSQL) against plain loops over the
    catalogue's raw rows: direct and tree-walked derivatives, the fine-tune share, the licence mix
    and its conflicts, and relative adoption (RAM v1 and v2) from the raw snapshot rows."""
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

    tree = METRICS["derivatives-by-base"].compute(ChartParams(filters=filters, top=5, depth="tree"))
    assert {(r["month"], r["base"], r["relation"]): r["new_derivatives"] for r in tree.rows.iter_rows(named=True)} \
        == dict(_plain_tree_derivatives(plain_models, regions, plain_edges, scope))

    relative = METRICS["relative-adoption"].compute(ChartParams(filters=filters, top=5)).rows
    expected_ram = _plain_relative_adoption(plain_models, _plain_snapshots(), scope)
    got_ram = {r["hub_id"]: r for r in relative.iter_rows(named=True)}
    assert set(got_ram) == set(expected_ram) and relative.height == len(expected_ram)
    assert any(want["ram_v1"] is not None for want in expected_ram.values())  # something to compare
    for hub_id, want in expected_ram.items():
        row = got_ram[hub_id]
        assert (row["ram_note"] is not None) == want.pop("explained"), (hub_id, row)
        for column, value in want.items():
            assert row[column] == (pytest.approx(value) if isinstance(value, float) else value), (hub_id, column)

    conflicts = []
    for child, parent_id, _, relation in plain_edges:
        if child not in scope or parent_id is None:
            continue
        derivative, base = plain_models[child], plain_models[parent_id]
        rank_child, rank_base = ALLOWS.get(derivative["licence_class"]), ALLOWS.get(base["licence_class"])
        if rank_child is not None and rank_base is not None and rank_child > rank_base:
            conflicts.append((derivative["hub_id"], derivative["licence_id"], derivative["licence_class"], relation,
                           base["hub_id"], base["licence_id"], base["licence_class"]))
    assert collections.Counter(mix.extra["conflicts"].iter_rows()) == collections.Counter(conflicts)
    newest = max(m["created"] for m in plain_models.values() if m["created"] is not None)
    assert mix.as_of == newest.astimezone(dt.UTC).date()


def _plain_flags(entries, models, filters: Filters) -> dict[str, int]:
    """{kind: flagged model-days in the filters' range} of the models in scope, by a plain loop."""
    counts = collections.Counter()
    for entry in entries:
        if (entry["kind"] not in ("implausible-jump", "gap", "leading-placeholder")
                or entry["source"] not in frames.DAILY_SOURCES or not _in_scope(models[entry["model_id"]], filters)):
            continue
        first = max(entry["date"], filters.start) if filters.start else entry["date"]
        last = min(entry["end_date"], filters.end) if filters.end else entry["end_date"]
        if last >= first:
            counts[entry["kind"]] += (last - first).days + 1
    return dict(counts)


def test_it_counts_the_flags_of_the_charts_read_from_the_rollup_over_the_filtered_models_only(loaded_db):
    from observatory.analytics import quality

    rollups.refresh(force=True)
    assert rollups.fresh()
    models, _, _ = _plain_catalogue()
    entries = quality.all_issues().to_dicts()
    checked = 0
    for filters in FILTERS:
        expected = _plain_flags(entries, models, filters)
        for name in ("cumulative-downloads-by-region", "download-share-by-org", "download-concentration"):
            info = METRICS[name].compute(ChartParams(filters=filters, by="organization")).info
            assert info["flagged"] == expected, (name, filters.key())
        checked += bool(expected)
    assert checked >= 6  # most filter sets draw flagged points: the comparison is not of empty dicts
