"""The catalogue loaders (analytics.frames) over rows stored in the embedded default's SQLite (a
file, no server): the canonical downloads per day, each filter pushed into SQL, the lineage
scopes, and the plain helpers. `make test` runs the same tests on PostgreSQL (COPY path)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.db import connection

from observatory.analytics import frames
from observatory.analytics.filters import Filters
from tests.fast.made_up import day, rows


@pytest.fixture
def catalogue(db):
    from observatory.catalog import models as catalog

    meta = catalog.Organization.objects.create(namespace="meta", region="us")
    catalog.Organization.objects.create(namespace="qwen", region="china")
    m1 = catalog.HubModel.objects.create(hub_id="meta/one", organization=meta, tracked=True, size_class="1-5B",
                                 release_date=day(1, 2), pipeline_tag="text-generation", licence_id="llama3",
                                 licence_class="restricted", downloads=9, downloads_all_time=400,
                                 created_at=dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC))
    m2 = catalog.HubModel.objects.create(hub_id="solo/two", author="solo", tracked=False, size_class="",
                                 pipeline_tag="text-to-image", licence_id="mit", licence_class="permissive",
                                 created_at=dt.datetime(2024, 6, 1, 8, 0, tzinfo=dt.UTC))
    m3 = catalog.HubModel.objects.create(hub_id="solo/three", author="solo", tracked=True, size_class="7-9B",
                                 pipeline_tag="text-generation")
    for date, count, source, extra in [
        (day(1, 1), 100, "crawl", {}), (day(1, 2), 150, "crawl", {}),
        (day(1, 3), 140, "crawl", {}),  # fell: no downloads that day
        (day(1, 4), 200, "crawl", {}),  # the rise from 140
        (day(1, 5), 300, "daily-series", {"downloads_day": 7.5, "cumulative_kind": "estimated"}),
        (day(1, 6), 400, "hub-stats", {}),
        (day(1, 7), None, "crawl", {}),  # no count: never read
    ]:
        catalog.DownloadSnapshot.objects.create(model=m1, date=date, downloads_all_time=count, source=source, **extra)
    catalog.DownloadSnapshot.objects.create(model=m2, date=day(1, 1), downloads_all_time=10, source="crawl")
    catalog.DownloadSnapshot.objects.create(model=m2, date=day(1, 2), downloads_all_time=15, source="crawl")
    catalog.LineageEdge.objects.create(child=m2, parent=m1, parent_hub_id="meta/one", relation="finetune", source="import")
    catalog.LineageEdge.objects.create(child=m3, parent=m2, parent_hub_id="solo/two", relation="adapter", source="import")
    catalog.LineageEdge.objects.create(child=m1, parent=None, parent_hub_id="gone/base", relation="merge", source="import")
    catalog.LeaderboardEntry.objects.create(source="epoch-eci", model_name="M", organization="meta", country="France",
                                    open_weights=True, benchmark="ECI", score=140.5, release_date=day(3, 1),
                                    ci_lower=139.0, ci_upper=142.0)
    catalog.LeaderboardEntry.objects.create(source="epoch-eci", model_name="N", benchmark="other", score=1.0)
    catalog.LeaderboardEntry.objects.create(source="lmarena", model_name="L", benchmark="text", score=1300.0,
                                    snapshot_date=day(4, 1))
    catalog.MonthlyFinetuneCount.objects.create(base_hub_id="meta/one", model=m1, months_since_creation=2,
                                        cumulative_count=7, base_created_at=dt.datetime(2024, 3, 31, 23, 0,
                                                                                        tzinfo=dt.UTC))
    catalog.MonthlyFinetuneCount.objects.create(base_hub_id="nobody/x", model=None, months_since_creation=0,
                                        cumulative_count=1)
    return m1.id, m2.id, m3.id


def test_it_gives_the_canonical_downloads_per_day_from_the_daily_sources(catalogue):
    m1, m2, _ = catalogue
    got = frames.snapshots()
    assert got.schema == pl.Schema(frames.SNAPSHOT_SCHEMA)
    assert sorted(rows(got)) == [
        (m1, day(1, 1), 100, None, "all-time"), (m1, day(1, 2), 150, 50.0, "all-time"),
        (m1, day(1, 3), 140, None, "all-time"), (m1, day(1, 4), 200, 60.0, "all-time"),
        (m1, day(1, 5), 300, 7.5, "estimated"),
        (m2, day(1, 1), 10, None, "all-time"), (m2, day(1, 2), 15, 5.0, "all-time"),
    ]


def test_it_reads_snapshots_up_to_the_end_and_from_the_sources_asked(catalogue):
    m1, m2, _ = catalogue
    assert sorted(rows(frames.snapshots(end=day(1, 2)), "model_id", "date")) == [
        (m1, day(1, 1)), (m1, day(1, 2)), (m2, day(1, 1)), (m2, day(1, 2))]
    assert rows(frames.snapshots(sources=("hub-stats",))) == [(m1, day(1, 6), 400, None, "all-time")]
    assert len(frames.snapshots(sources=None)) == 8
    assert frames.snapshots(start=day(1, 5)).height == 7  # the start is the metric's to apply


def test_it_reads_only_the_snapshots_of_the_models_the_filters_select(catalogue):
    m1, m2, _ = catalogue
    assert {r[0] for r in rows(frames.snapshots(filters=Filters()))} == {m1}
    assert {r[0] for r in rows(frames.snapshots(filters=Filters(scope="all", organization="solo")))} == {m2}
    assert rows(frames.snapshots(filters=Filters(scope="all", regions=("china",)))) == []


def test_it_keeps_only_rows_since_release_of_sized_models_for_the_curves(catalogue):
    m1, _, _ = catalogue
    # From the release day on; the day before is not a previous row any more.
    assert rows(frames.snapshots(since_release=True)) == [
        (m1, day(1, 2), 150, None, "all-time"), (m1, day(1, 3), 140, None, "all-time"),
        (m1, day(1, 4), 200, 60.0, "all-time"), (m1, day(1, 5), 300, 7.5, "estimated")]


def test_it_applies_the_filters_and_the_release_rule_together(catalogue):
    assert rows(frames.snapshots(filters=Filters(scope="all", organization="solo"), since_release=True)) == []
    assert {r[0] for r in rows(frames.snapshots(filters=Filters(regions=("us",)), since_release=True))} == {catalogue[0]}


def test_it_gives_the_newest_snapshot_date(catalogue):
    assert frames.latest_snapshot_date() == day(1, 5)
    assert frames.latest_snapshot_date(end=day(1, 3)) == day(1, 3)
    assert frames.latest_snapshot_date(sources=None) == day(1, 6)
    assert frames.latest_snapshot_date(sources=("crawl",)) == day(1, 4)
    assert frames.latest_snapshot_date(end=day(12, 1, 2024)) is None


def test_it_reads_each_model_once_with_its_organisation_or_author(catalogue):
    m1, m2, m3 = catalogue
    got = frames.models()
    assert got.schema == pl.Schema(frames.MODEL_SCHEMA)
    assert sorted(rows(got)) == [
        (m1, "meta/one", "meta", "us", True, "1-5B", "llama3", "restricted", "text-generation", day(1, 2),
         day(1, 31), 9, 400),
        (m2, "solo/two", "solo", "unknown", False, None, "mit", "permissive", "text-to-image", None, dt.date(2024, 6, 1),
         None, None),
        (m3, "solo/three", "solo", "unknown", True, "7-9B", "", "unknown", "text-generation", None, None, None, None),
    ]


def test_it_reads_the_filter_columns_and_those_asked_for(catalogue):
    assert frames.models(extra=()).columns == ["model_id", "organization", "region", "tracked", "size_class",
                                               "pipeline_tag"]
    assert frames.models(extra=("licence_class", "hub_id")).columns == [
        "model_id", "hub_id", "organization", "region", "tracked", "size_class", "licence_class", "pipeline_tag"]


@pytest.mark.parametrize(("filters", "expected"), [
    (Filters(), ["meta/one", "solo/three"]),
    (Filters(scope="all"), ["meta/one", "solo/three", "solo/two"]),
    (Filters(scope="all", regions=("unknown", "china")), ["solo/three", "solo/two"]),
    (Filters(regions=("us",)), ["meta/one"]),
    (Filters(scope="all", organization="solo"), ["solo/three", "solo/two"]),
    (Filters(size_class="7-9B"), ["solo/three"]),
    (Filters(scope="all", pipeline_tag="text-to-image"), ["solo/two"]),
    (Filters(organization="solo", pipeline_tag="text-generation", size_class="7-9B"), ["solo/three"]),
])
def test_it_selects_in_sql_what_filter_models_keeps(catalogue, filters, expected):
    assert sorted(frames.models(extra=("hub_id",), filters=filters)["hub_id"].to_list()) == expected


def test_it_adds_the_parents_of_the_selected_models_edges_once(catalogue):
    got = frames.models(extra=("hub_id",), filters=Filters(scope="all", organization="solo"), parents_of_edges=True)
    assert sorted(got["hub_id"].to_list()) == ["meta/one", "solo/three", "solo/two"]
    tracked = frames.models(extra=("hub_id",), filters=Filters(), parents_of_edges=True)
    assert sorted(tracked["hub_id"].to_list()) == ["meta/one", "solo/three", "solo/two"]  # solo/two: parent of three
    alone = frames.models(extra=("hub_id",), filters=Filters(regions=("us",)), parents_of_edges=True)
    assert alone["hub_id"].to_list() == ["meta/one"]  # its edge's parent is not stored
    assert frames.models(extra=("hub_id",), parents_of_edges=True).height == 3  # no filters: everyone already


def test_it_reads_the_edges_of_the_selected_children_and_those_touching_them(catalogue):
    m1, m2, m3 = catalogue
    assert sorted(rows(frames.edges())) == sorted([(m2, m1, "meta/one", "finetune"), (m3, m2, "solo/two", "adapter"),
                                                   (m1, None, "gone/base", "merge")])
    assert rows(frames.edges(Filters(regions=("us",)))) == [(m1, None, "gone/base", "merge")]
    assert sorted(rows(frames.edges(Filters(regions=("us",)), touching=True))) == sorted([
        (m1, None, "gone/base", "merge"), (m2, m1, "meta/one", "finetune")])
    assert frames.edges(Filters(regions=("china",)), touching=True).is_empty()


def test_it_reads_organisations_leaderboards_and_fine_tune_counts(catalogue):
    m1, _, _ = catalogue
    assert sorted(rows(frames.organizations())) == [("meta", "us"), ("qwen", "china")]
    eci = frames.leaderboard("epoch-eci")
    assert eci.schema == pl.Schema(frames.ENTRY_SCHEMA)
    assert sorted(eci["model_name"].to_list()) == ["M", "N"]
    assert rows(frames.leaderboard("epoch-eci", ["ECI"])) == [
        ("M", "meta", "France", True, "ECI", 140.5, day(3, 1), None, 139.0, 142.0)]
    assert rows(frames.leaderboard("lmarena"), "model_name", "snapshot_date") == [("L", day(4, 1))]
    assert frames.leaderboard("epoch-eci", ["nothing"]).is_empty()
    assert sorted(frames.leaderboard("epoch-eci", ["ECI", "other"])["model_name"].to_list()) == ["M", "N"]
    counts = frames.finetune_counts()
    assert counts.schema == pl.Schema(frames.FINETUNE_SCHEMA)
    assert sorted(rows(counts), key=str) == [("meta/one", 2, 7, dt.date(2024, 3, 31), True),
                                             ("nobody/x", 0, 1, None, False)]


def test_it_gives_the_newest_creation_date_in_utc(catalogue):
    assert frames.latest_created_date() == day(1, 31)


def test_it_gives_no_creation_date_for_an_empty_catalogue(db):
    assert frames.latest_created_date() is None
    assert frames.models().is_empty() and frames.snapshots().is_empty()


def test_it_writes_the_sql_conditions_of_each_filter():
    assert frames.model_conditions(None) == ([], [])
    assert frames.model_conditions(Filters(scope="all")) == ([], [])
    assert frames.model_conditions(Filters(regions=("us", "eu"), organization="o", size_class="1-5B",
                                           pipeline_tag="p")) == (
        ["m.tracked", "COALESCE(o.region, 'unknown') IN (%s, %s)", "COALESCE(o.namespace, m.author) = %s",
         "NULLIF(m.size_class, '') = %s", "m.pipeline_tag = %s"], ["us", "eu", "o", "1-5B", "p"])
    assert frames.model_conditions(Filters(organization="o"), {"tracked": "t", "region": "r", "organization": "org",
                                                               "size_class": "s", "pipeline_tag": "p"}) == (
        ["t", "org = %s"], ["o"])


def test_it_parses_copied_text_columns_into_the_schema():
    text = pl.DataFrame({"b": ["t", "f", None], "d": ["2025-01-02", "2024-12-31", None], "n": ["3", "-1", None]})
    got = text.select(frames._parse("b", pl.Boolean), frames._parse("d", pl.Date), frames._parse("n", pl.Int64))
    assert rows(got) == [(True, day(1, 2), 3), (False, day(12, 31, 2024), -1), (None, None, None)]


def test_it_reads_any_query_into_the_schema_with_dates_from_text(catalogue):
    got = frames.read("SELECT hub_id, DATE(created_at), release_date FROM catalog_hubmodel WHERE tracked = %s "
                      "ORDER BY hub_id", [True], {"hub_id": pl.Utf8, "created": pl.Date, "release": pl.Date})
    assert rows(got) == [("meta/one", day(1, 31), day(1, 2)), ("solo/three", None, None)]



def _database(monkeypatch, **values):
    for key, value in values.items():
        monkeypatch.setitem(connection.settings_dict, key, value)


def test_it_builds_the_arrow_uri_from_the_database_settings(monkeypatch):
    tail = "?options=-c%20TimeZone%3DUTC&application_name=observatory-arrow"
    _database(monkeypatch, NAME="obs", USER="us@er", PASSWORD="p:ss", HOST="db.example", PORT="6543")
    assert frames._adbc_uri() == "postgresql://us%40er:p%3Ass@db.example:6543/obs" + tail
    _database(monkeypatch, USER="", PASSWORD="", HOST="", PORT="")
    assert frames._adbc_uri() == "postgresql://@127.0.0.1:5432/obs" + tail
    _database(monkeypatch, USER="u", PASSWORD="")
    assert frames._adbc_uri() == "postgresql://u@127.0.0.1:5432/obs" + tail
    _database(monkeypatch, USER="a/b", PASSWORD="c/d")  # '/' is quoted too: it would end the authority
    assert frames._adbc_uri() == "postgresql://a%2Fb:c%2Fd@127.0.0.1:5432/obs" + tail


def test_it_reads_through_arrow_only_outside_a_transaction(db):
    assert frames._adbc_available() is True
    assert connection.in_atomic_block and frames._arrow_allowed() is False
