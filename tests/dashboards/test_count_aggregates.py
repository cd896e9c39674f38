"""The count aggregates (analytics.counts) answer licence-mix, derivatives-by-base and
releases-by-region exactly as the raw rows do, on the real shared data under the 12 filter sets of
test_rollups; and folding writes into them gives what a rebuild gives: the real data's edges and
models held back then written again, and made-up cases (a new model, a model changing licence,
organisation, region or tracked, an edge added or deleted, a parent arriving late, an organisation
created after its models). Every test runs in a transaction rolled back after it.
"""

import datetime as dt

import polars as pl
import pytest
from django.db import connection

from observatory.analytics import counts, frames, rollups
from observatory.analytics.filters import Filters
from observatory.catalog.models import HubModel, LineageEdge, Organization
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS
from tests.dashboards.rollup_folding import sorted_rows
from tests.dashboards.test_rollups import FILTERS

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CHARTS = [("licence-mix", "region"), ("derivatives-by-base", "region"), ("derivatives-by-base", "organization"),
          ("releases-by-region", "region")]


def _computed(name: str, filters: Filters, by: str):
    c = METRICS[name].compute(ChartParams(filters=filters, by=by))
    return {"rows": sorted_rows(c.rows), "as_of": c.as_of, **{k: sorted_rows(v) for k, v in c.extra.items()}}


def _log_a_write() -> None:
    """What any write leaves until folded: the charts read the raw rows meanwhile."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_rollupchange (kind) VALUES ('write')")


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: f.key())
@pytest.mark.parametrize(("name", "by"), CHARTS, ids=lambda v: v)
def test_each_chart_from_the_counts_equals_the_chart_from_the_raw_rows(loaded_db, name, by, filters):
    rollups.refresh()
    assert counts.readable(filters)
    from_counts = _computed(name, filters, by)
    _log_a_write()
    assert not counts.readable(filters)
    from_raw = _computed(name, filters, by)
    assert from_counts.keys() == from_raw.keys()
    for key, value in from_raw.items():
        assert (from_counts[key] == value) if key == "as_of" else from_counts[key].equals(value), key


def test_the_default_views_count_something_in_every_part(loaded_db):
    rollups.refresh()
    licence = _computed("licence-mix", Filters(scope="all"), "region")
    assert licence["rows"]["models"].sum() == HubModel.objects.count()
    assert licence["rows"]["derivatives"].sum() == LineageEdge.objects.filter(parent__isnull=False).count()
    assert licence["conflicts"].height > 0
    derivatives = _computed("derivatives-by-base", Filters(scope="all"), "region")
    assert derivatives["rows"]["new_derivatives"].sum() > 1000 and derivatives["finetune_share"].height > 10
    releases = _computed("releases-by-region", Filters(), "region")
    assert releases["rows"].filter(pl.col("source") == "observatory")["releases"].sum() == (
        HubModel.objects.filter(tracked=True, release_date__isnull=False).count())


# --- folding ---------------------------------------------------------------------------------------

def _tables() -> dict[str, pl.DataFrame]:
    out = {}
    with connection.cursor() as cursor:
        for table in counts.TABLES:
            cursor.execute(f"SELECT * FROM {table} LIMIT 0")
            columns = [d.name for d in cursor.description if d.name != "id"]
            cursor.execute(f"SELECT {', '.join(columns)} FROM {table}")
            rows = [tuple(str(v) if v is not None else None for v in row) for row in cursor.fetchall()]
            out[table] = pl.DataFrame(rows, schema=columns, orient="row").sort(columns, nulls_last=True)
    return out


def _folded_equals_rebuilt() -> dict[str, pl.DataFrame]:
    assert rollups.refresh() is not None
    assert rollups.fresh() and counts.readable(Filters())
    folded = _tables()
    with connection.cursor() as cursor:
        counts._rebuild(cursor)
    rebuilt = _tables()
    for table in counts.TABLES:
        assert folded[table].equals(rebuilt[table]), table
    return folded


def test_edges_and_models_held_back_then_written_fold_to_the_rebuild(loaded_db):
    rollups.refresh()
    with connection.cursor() as cursor:
        # Every third edge, and the copies of 200 models (with their organisations, dates and
        # licences) and of the edges of their originals, as an import brings them.
        cursor.execute("CREATE TEMPORARY TABLE held ON COMMIT DROP AS "
                       "SELECT * FROM catalog_lineageedge WHERE id % 3 = 0")
        cursor.execute("DELETE FROM catalog_lineageedge WHERE id % 3 = 0")
        assert cursor.rowcount > 500
    _folded_equals_rebuilt()
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_lineageedge SELECT * FROM held WHERE id % 2 = 0")
        cursor.execute("INSERT INTO catalog_lineageedge SELECT * FROM held WHERE id % 2 = 1")
        cursor.execute(
            "INSERT INTO catalog_hubmodel (hub_id, author, organization_id, created_at, release_date, "
            "release_date_source, pipeline_tag, library_name, licence_raw, licence_id, licence_class, params_source, "
            "size_class, gated, tags, card_data, downloads_all_time, tracked, tracked_reason, first_seen_at) "
            "SELECT hub_id || '-copy', author, organization_id, created_at, release_date, release_date_source, "
            "pipeline_tag, library_name, licence_raw, licence_id, licence_class, params_source, size_class, gated, "
            "tags, card_data, downloads_all_time, tracked, tracked_reason, first_seen_at FROM catalog_hubmodel "
            "WHERE id IN (SELECT child_id FROM catalog_lineageedge ORDER BY child_id LIMIT 200)")
        cursor.execute(
            "INSERT INTO catalog_lineageedge (child_id, parent_id, parent_hub_id, relation, source) "
            "SELECT c.id, e.parent_id, e.parent_hub_id, e.relation, e.source FROM catalog_lineageedge e "
            "JOIN catalog_hubmodel m ON m.id = e.child_id JOIN catalog_hubmodel c ON c.hub_id = m.hub_id || '-copy'")
        assert cursor.rowcount >= 200
        # A bulk reclassification: a licence class, the tracked flag and an organisation change.
        cursor.execute("UPDATE catalog_hubmodel SET licence_class = 'non-commercial' WHERE id % 7 = 0")
        cursor.execute("UPDATE catalog_hubmodel SET tracked = NOT tracked WHERE id % 11 = 0")
        cursor.execute("UPDATE catalog_hubmodel SET organization_id = NULL WHERE id % 13 = 0")
    folded = _folded_equals_rebuilt()
    assert folded["catalog_licencecount"].height > 100


# --- made-up cases ---------------------------------------------------------------------------------

CREATED = dt.datetime(2031, 5, 20, 23, 30, tzinfo=dt.UTC)  # late in the UTC day: the day is the 20th


@pytest.fixture
def made_up():
    """An organisation with a tracked base model and a derivative (a fine-tune), folded in."""
    rollups.refresh()
    org = Organization.objects.create(namespace="count-test", region="eu")
    base = HubModel.objects.create(hub_id="count-test/base", organization=org, author="count-test", tracked=True,
                                   size_class="7-9B", pipeline_tag="text-generation", licence_id="cc-by-nc-4.0",
                                   licence_class="non-commercial", created_at=CREATED,
                                   release_date=dt.date(2031, 5, 21), downloads_all_time=1000)
    child = HubModel.objects.create(hub_id="count-test/tuned", organization=org, author="count-test", tracked=True,
                                    size_class="7-9B", pipeline_tag="text-generation", licence_id="mit",
                                    licence_class="permissive", created_at=CREATED + dt.timedelta(days=40),
                                    downloads_all_time=10)
    LineageEdge.objects.create(child=child, parent=base, parent_hub_id="count-test/base", relation="finetune",
                               source="baseModels")
    _folded_equals_rebuilt()
    return org, base, child


def _licence_cells() -> dict:
    rows = counts.licence_counts(Filters(scope="all", organization="count-test"))
    return {(r["tracked"], r["region"], r["licence_class"]): (r["models"], r["downloads_all_time"], r["derivatives"])
            for r in rows.iter_rows(named=True)}


def _derivative_cells() -> dict:
    rows = counts.derivative_counts(Filters(scope="all", organization="count-test"))
    return {(r["region"], r["created"], r["base_namespace"], r["relation"]): (r["derivatives"], r["finetunes"])
            for r in rows.iter_rows(named=True)}


def _conflicts() -> list[tuple]:
    return counts.conflicts(Filters(scope="all", organization="count-test")).rows()


def test_a_new_model_and_its_fine_tune_are_counted_by_their_cells(made_up):
    assert _licence_cells() == {(True, "eu", "non-commercial"): (1, 1000, 1), (True, "eu", "permissive"): (1, 10, 0)}
    assert _derivative_cells() == {("eu", dt.date(2031, 6, 29), "count-test", "finetune"): (1, 1)}
    released = counts.day_counts(Filters(organization="count-test"), "released")
    assert released.select("date", "models").rows() == [(dt.date(2031, 5, 21), 1)]
    created = counts.day_counts(Filters(organization="count-test"), "created")
    assert sorted(created.select("date", "models").rows()) == [(dt.date(2031, 5, 20), 1), (dt.date(2031, 6, 29), 1)]
    assert _conflicts() == [("count-test/tuned", "mit", "permissive", "finetune", "count-test/base", "cc-by-nc-4.0",
                             "non-commercial")]


def test_a_base_changing_licence_moves_its_counts_and_ends_the_conflict(made_up):
    _, base, _ = made_up
    HubModel.objects.filter(pk=base.pk).update(licence_id="apache-2.0", licence_class="permissive")
    _folded_equals_rebuilt()
    assert _licence_cells() == {(True, "eu", "permissive"): (2, 1010, 1)}
    assert _conflicts() == []


def test_a_model_leaving_the_tracked_set_moves_to_the_untracked_cells(made_up):
    _, _, child = made_up
    HubModel.objects.filter(pk=child.pk).update(tracked=False, downloads_all_time=25)
    _folded_equals_rebuilt()
    assert _licence_cells() == {(True, "eu", "non-commercial"): (1, 1000, 1), (False, "eu", "permissive"): (1, 25, 0)}
    assert _conflicts() and not counts.conflicts(Filters(organization="count-test")).height


def test_an_organisation_moving_region_moves_its_models_and_its_bases_region(made_up):
    org, _, _ = made_up
    Organization.objects.filter(pk=org.pk).update(region="china")
    _folded_equals_rebuilt()
    assert set(_licence_cells()) == {(True, "china", "non-commercial"), (True, "china", "permissive")}
    assert _derivative_cells() == {("china", dt.date(2031, 6, 29), "count-test", "finetune"): (1, 1)}
    rows = METRICS["derivatives-by-base"].compute(ChartParams(filters=Filters(organization="count-test"))).rows
    assert rows.rows() == [(dt.date(2031, 6, 1), "china", "finetune", 1)]


def test_an_edge_added_then_deleted_is_counted_then_not(made_up):
    org, base, _ = made_up
    adapter = HubModel.objects.create(hub_id="count-test/adapter", organization=org, author="count-test", tracked=True,
                                      size_class="7-9B", pipeline_tag="text-generation", licence_class="copyleft",
                                      created_at=CREATED)
    edge = LineageEdge.objects.create(child=adapter, parent=base, parent_hub_id="count-test/base", relation="adapter",
                                      source="baseModels")
    _folded_equals_rebuilt()
    assert _licence_cells()[(True, "eu", "non-commercial")] == (1, 1000, 2)
    assert _derivative_cells()[("eu", dt.date(2031, 5, 20), "count-test", "adapter")] == (1, 0)
    assert len(_conflicts()) == 2
    edge.delete()
    _folded_equals_rebuilt()
    assert _licence_cells()[(True, "eu", "non-commercial")] == (1, 1000, 1)
    assert ("eu", dt.date(2031, 5, 20), "count-test", "adapter") not in _derivative_cells()
    assert len(_conflicts()) == 1


def test_a_parent_arriving_late_is_counted_once_under_either_spelling(made_up):
    org, _, child = made_up
    # Two spellings of one base not yet in the catalogue: one pair, keyed by the case-folded id.
    for spelling, relation in (("Late-Org/Base", "quantized"), ("late-org/base", "finetune")):
        LineageEdge.objects.create(child=child, parent=None, parent_hub_id=spelling, relation=relation,
                                   source="baseModels")
    _folded_equals_rebuilt()
    cells = _derivative_cells()
    # The smallest spelling ("L" < "l") is the pair's; among fine-tune edges alone, the fine-tune's.
    assert cells[("eu", dt.date(2031, 6, 29), "Late-Org", "quantized")] == (1, 0)
    assert cells[("eu", dt.date(2031, 6, 29), "late-org", "finetune")] == (0, 1)
    late_org = Organization.objects.create(namespace="late-org", region="us")
    parent = HubModel.objects.create(hub_id="late-org/base", organization=late_org, author="late-org", tracked=False,
                                     licence_class="restricted", created_at=CREATED)
    LineageEdge.objects.filter(parent_hub_id__in=["Late-Org/Base", "late-org/base"]).update(parent=parent)
    _folded_equals_rebuilt()
    assert counts.licence_counts(Filters(scope="all", organization="late-org"))["derivatives"].to_list() == [2]
    assert {row[4] for row in _conflicts()} == {"count-test/base", "late-org/base"}
    for by in ("region", "organization"):
        filters = Filters(scope="all", organization="count-test")
        from_counts = _computed("derivatives-by-base", filters, by)
        _log_a_write()
        from_raw = _computed("derivatives-by-base", filters, by)
        assert from_counts["rows"].equals(from_raw["rows"]), by
        assert from_counts["finetune_share"].equals(from_raw["finetune_share"]), by
        rollups.refresh()


def test_models_written_before_their_organisation_join_its_cells_when_it_arrives(made_up):
    with connection.cursor() as cursor:  # the foreign key is checked at commit: the organisation may come later
        cursor.execute("SELECT COALESCE(MAX(id), 0) + 1000 FROM catalog_organization")
        (org_id,) = cursor.fetchone()
    HubModel.objects.create(hub_id="early/model", organization_id=org_id, author="early", tracked=True,
                            pipeline_tag="text-generation", licence_class="permissive", created_at=CREATED,
                            downloads_all_time=5)
    _folded_equals_rebuilt()
    Organization.objects.create(pk=org_id, namespace="early-org", region="us")
    _folded_equals_rebuilt()
    rows = counts.licence_counts(Filters(organization="early-org"))
    assert rows.select("region", "licence_class", "models", "downloads_all_time").rows() == [
        ("us", "permissive", 1, 5)]
    assert frames.models(("hub_id",), Filters(organization="early-org"))["hub_id"].to_list() == ["early/model"]


def test_every_trigger_on_the_catalogue_runs_without_jit():
    # A statement's transition tables have no statistics: a crawl page's 1,000-model update was
    # costed at 5.1M and JIT-compiled with inlining for ~20 s per statement, for ~0.2 s of work.
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT p.proname, p.proconfig FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                       "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname LIKE 'catalog\\_%%'")
        configs = dict(cursor.fetchall())
    assert {f"catalog_counts_{table}_{event}" for table in ("models", "orgs", "edges")
            for event in ("inserted", "updated", "deleted")} <= set(configs)
    assert len(configs) >= 23 and {name: config for name, config in configs.items() if config != ["jit=off"]} == {}


def test_no_trigger_on_the_catalogue_filters_by_not_in_a_subquery():
    # The planner knows a transition table's size: past the hash memory, NOT IN (SELECT ...) is a
    # plain subplan scanned once per outer row, and one COPY of 2.4M edges ran for hours (0015).
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
                       "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relname LIKE 'catalog\\_%%' "
                       "AND p.prosrc ~* 'not\\s+in\\s*\\(\\s*select'")
        assert cursor.fetchall() == []
