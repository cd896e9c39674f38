"""The loaders' two PostgreSQL paths (analytics.frames), on a hand-written catalogue: COPY inside a
transaction (Django's connection, which sees its uncommitted rows) and ADBC outside one (pooled
Arrow connections, in a UTC session); the same rows and dtypes either way, parameters bound, an
empty answer, a literal percent sign, a terminated backend retried, and COPY when the driver is
missing. tests/fast/test_catalogue_frames.py runs the same loaders on SQLite (and, on PostgreSQL,
inside a transaction: COPY)."""

import datetime as dt
import sys
import time

import polars as pl
import pytest
from django.db import connection

from observatory.analytics import frames
from observatory.analytics.filters import Filters
from observatory.catalog.models import DownloadSnapshot, HubModel, LeaderboardEntry, Organization

pytestmark = [pytest.mark.postgres]

D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
# 23:30 in New York on the 1st is 04:30 UTC on the 2nd: the UTC date is the 2nd.
CREATED = dt.datetime(2024, 1, 2, 4, 30, tzinfo=dt.UTC)

# frames.models() of the catalogue below, written out by hand (hub id order).
EXPECTED_MODELS = [
    {"model_id": None, "hub_id": "acme/a", "organization": "acme", "region": "us", "tracked": True,
     "size_class": "7-9B", "licence_id": "apache-2.0", "licence_class": "permissive",
     "pipeline_tag": "text-generation", "release_date": D2, "created_date": dt.date(2024, 1, 2), "downloads": 12,
     "downloads_all_time": 150},
    {"model_id": None, "hub_id": "solo/b", "organization": "solo", "region": "unknown", "tracked": False,
     "size_class": None, "licence_id": "", "licence_class": "unknown", "pipeline_tag": "", "release_date": None,
     "created_date": None, "downloads": None, "downloads_all_time": None},
]


def _catalogue():
    # The session's real data may be committed already (loaded_db) when these run: start from an
    # empty catalogue, rolled back with the test's transaction (copy path) or flushed after the
    # test as pytest-django flushes after every transactional one (Arrow path).
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE catalog_organization, catalog_hubmodel, catalog_downloadsnapshot, "
                       "catalog_leaderboardentry CASCADE")
    acme = Organization.objects.create(namespace="acme", region="us")
    a = HubModel.objects.create(hub_id="acme/a", organization=acme, author="acme", tracked=True, size_class="7-9B",
                                pipeline_tag="text-generation", licence_id="apache-2.0", licence_class="permissive",
                                release_date=D2, created_at=CREATED, downloads=12, downloads_all_time=150)
    b = HubModel.objects.create(hub_id="solo/b", author="solo", tracked=False, licence_class="unknown")
    DownloadSnapshot.objects.bulk_create([
        DownloadSnapshot(model=a, date=D1, downloads_all_time=100),
        DownloadSnapshot(model=a, date=D2, downloads_all_time=150),
        DownloadSnapshot(model=a, date=D3, downloads_all_time=140),
        DownloadSnapshot(model=b, date=D2, downloads_all_time=10, downloads_day=7.0, source="daily-series",
                         cumulative_kind="estimated"),
    ])
    LeaderboardEntry.objects.bulk_create([
        LeaderboardEntry(source="epoch-eci", model_name="M", benchmark="ECI", score=140.5, open_weights=True),
        LeaderboardEntry(source="epoch-eci", model_name="N", benchmark="other", score=1.0),
        LeaderboardEntry(source="epoch-eci", model_name="O", benchmark="third", score=2.0),
    ])
    return a.id, b.id


def _expected_models(a, b):
    return [{**EXPECTED_MODELS[0], "model_id": a}, {**EXPECTED_MODELS[1], "model_id": b}]


@pytest.fixture
def in_transaction(db):
    """Rows inside the test's transaction: only Django's connection sees them, so frames copies."""
    ids = _catalogue()
    assert connection.in_atomic_block and not frames._arrow_allowed()
    return ids


@pytest.fixture
def committed(transactional_db):
    """Committed rows, no transaction open: frames reads through the pooled Arrow connections."""
    ids = _catalogue()
    assert not connection.in_atomic_block and frames._arrow_allowed()
    yield ids
    frames.close_arrow_connections()  # before the flush: an idle backend holds no lock, but tidy


# Each test below runs on both paths: "copy" in the test's transaction, "arrow" on committed rows.
on_either_path = pytest.mark.parametrize("path", [
    pytest.param("copy", marks=pytest.mark.django_db),
    pytest.param("arrow", marks=pytest.mark.django_db(transaction=True))])


@pytest.fixture
def catalogue(path):
    ids = _catalogue()
    assert frames._arrow_allowed() is (path == "arrow")  # in a transaction exactly on the copy path
    yield path, ids
    frames.close_arrow_connections()


def _arrow_backends() -> list[int]:
    """This database's ADBC backends (frames names them ARROW_APPLICATION_NAME)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                       [frames.ARROW_APPLICATION_NAME])
        return [pid for (pid,) in cursor.fetchall()]


def _arrow_backend_states() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                       "AND application_name = %s", [frames.ARROW_APPLICATION_NAME])
        return [state for (state,) in cursor.fetchall()]


@on_either_path
def test_models_come_with_every_column_in_its_dtype_on_either_path(catalogue):
    path, (a, b) = catalogue
    frames.close_arrow_connections()
    got = frames.models()
    assert got.schema == pl.Schema(frames.MODEL_SCHEMA)
    assert got.sort("hub_id").to_dicts() == _expected_models(a, b)
    # Only the Arrow path opens a connection of its own, and it holds no transaction (nor the
    # locks a transaction keeps) between queries: autocommit.
    assert _arrow_backend_states() == (["idle"] if path == "arrow" else [])


@on_either_path
def test_parameters_are_bound_on_either_path(catalogue):
    _, (a, b) = catalogue
    got = frames.snapshots(end=D2).sort("model_id", "date")
    # (model_id, date, all-time count, downloads that day, kind): acme/a's first row has no
    # previous one; solo/b's series row carries its estimate.
    assert got.rows() == [(a, D1, 100, None, "all-time"), (a, D2, 150, 50.0, "all-time"),
                          (b, D2, 10, 7.0, "estimated")]
    assert got.schema == pl.Schema(frames.SNAPSHOT_SCHEMA)
    tracked = frames.read("SELECT hub_id, release_date FROM catalog_hubmodel WHERE tracked = %s AND hub_id <> %s",
                          [True, "x"], {"hub_id": pl.Utf8, "release": pl.Date})
    assert tracked.rows() == [("acme/a", D2)]


@on_either_path
def test_an_empty_answer_is_an_empty_frame_in_the_schema(catalogue):
    got = frames.read("SELECT hub_id, tracked, release_date FROM catalog_hubmodel WHERE hub_id = %s", ["nobody/x"],
                      {"hub_id": pl.Utf8, "tracked": pl.Boolean, "release": pl.Date})
    assert got.height == 0
    assert got.schema == pl.Schema({"hub_id": pl.Utf8, "tracked": pl.Boolean, "release": pl.Date})


@on_either_path
def test_a_query_without_parameters_travels_as_written_percent_signs_and_all(catalogue):
    got = frames.read("SELECT hub_id FROM catalog_hubmodel WHERE hub_id LIKE 'acme/%'", [], {"hub_id": pl.Utf8})
    assert got.rows() == [("acme/a",)]


@on_either_path
def test_text_that_looks_like_a_number_stays_the_text_it_was(catalogue):
    # COPY hands every column over as text: a namespace such as "0042" must not be read as 42.
    got = frames.read("SELECT '0042', '1.50', '1e3'", [], {"a": pl.Utf8, "b": pl.Utf8, "c": pl.Utf8})
    assert got.rows() == [("0042", "1.50", "1e3")]


@on_either_path
def test_two_benchmarks_select_the_entries_of_both(catalogue):
    got = frames.leaderboard("epoch-eci", ["ECI", "third"])
    assert sorted(got["model_name"].to_list()) == ["M", "O"]


@on_either_path
def test_the_release_rule_keeps_the_filters_it_joins(catalogue):
    _, (a, b) = catalogue
    got = frames.snapshots(filters=Filters(scope="all", organization="acme"), since_release=True)
    assert got.select("model_id", "date").rows() == [(a, D2), (a, D3)]  # from its release day on
    assert frames.snapshots(filters=Filters(scope="all", organization="solo"), since_release=True).is_empty()


def test_the_newest_creation_date_is_the_utc_date_whatever_the_process_time_zone(in_transaction, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert frames.latest_created_date() == dt.date(2024, 1, 2)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_terminated_arrow_backend_is_replaced_and_the_query_answered(committed):
    a, b = committed
    frames.close_arrow_connections()
    assert frames.models().height == 2
    (pid,) = _arrow_backends()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    for _ in range(100):  # the backend exits asynchronously
        if pid not in _arrow_backends():
            break
        time.sleep(0.05)
    assert frames.models().sort("hub_id").to_dicts() == _expected_models(a, b)
    assert len(_arrow_backends()) == 1 and pid not in _arrow_backends()


def test_without_the_driver_it_copies_outside_a_transaction_too(committed, monkeypatch):
    a, b = committed
    frames.close_arrow_connections()
    monkeypatch.setitem(sys.modules, "adbc_driver_postgresql.dbapi", None)  # `import` raises ImportError
    assert frames._adbc_available() is False and frames._arrow_allowed() is False
    assert frames.models().sort("hub_id").to_dicts() == _expected_models(a, b)
    assert _arrow_backends() == []

