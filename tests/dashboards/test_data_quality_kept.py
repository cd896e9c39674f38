"""The data-quality ledger's kept entries (analytics.quality.fold, catalog.quality_aggregates): after
every fold of a crawl or an import they are the entries the raw rows give (quality.contradictions
and crawl_gaps, the old computation) and a plain loop over the rows gives, on made-up cases (a crawl
day missing, a late day filling the gap, a model first seen mid-window, a count that falls, a row
deleted, a model renamed) and on the session's real data; the page and the API show the same
content read from them as computed from the raw rows, and refuse hostile parameters with a 400.
"""

import datetime as dt
import logging

import polars as pl
import pytest
from django.core.cache import cache
from django.db import connection

from observatory.analytics import quality, rollups
from observatory.catalog.models import DownloadSnapshot, HubModel

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

D = {day: dt.date(2031, 5, day) for day in range(1, 11)}


@pytest.fixture(autouse=True)
def only_this_fold(monkeypatch):
    """The daily-gain rollup and the ledger's fold only: aggregates other sessions are building
    register theirs in the same process, and this file tests this one."""
    monkeypatch.setattr(rollups, "_FOLDS", {quality.NAME: quality.fold})


def _fold(caplog) -> str:
    """Fold the writes in; the ledger's log line says how (full=True or False)."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="observatory.analytics.quality"):
        assert rollups.refresh() is not None
    (line,) = [r.getMessage() for r in caplog.records if r.name == "observatory.analytics.quality"]
    assert quality.kept()
    return line


def _ordered(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(list(quality.ISSUE_SCHEMA)).sort(quality.ORDER, nulls_last=True)


def _raw() -> pl.DataFrame:
    return _ordered(pl.concat([quality.contradictions(), quality.crawl_gaps()]))


def _by_hand(models) -> list[tuple]:
    """The cross-source entries of these models by a plain loop over their rows in day order."""
    out = []
    for model in models:
        model.refresh_from_db()
        peak, last_crawl = None, None
        for row in DownloadSnapshot.objects.filter(model=model).order_by("date"):
            if row.downloads_all_time is not None:
                if row.cumulative_kind == "all-time" and peak is not None and row.downloads_all_time < peak:
                    out.append((row.source, model.id, model.hub_id, "contradiction", row.date, row.date, 1,
                                f"the all-time count {row.downloads_all_time} is below the cumulative count {peak} "
                                "the model already had: a contradiction, not drawn"))
                peak = row.downloads_all_time if peak is None else max(peak, row.downloads_all_time)
            if row.source == "crawl":
                if last_crawl is not None and (row.date - last_crawl).days > 1:
                    missing = (row.date - last_crawl).days - 1
                    out.append(("crawl", model.id, model.hub_id, "gap", last_crawl + dt.timedelta(days=1),
                                row.date - dt.timedelta(days=1), missing,
                                f"{missing} days without a crawl: the rise since the previous crawl lands on "
                                f"{row.date.isoformat()}"))
                last_crawl = row.date
    return sorted(out, key=lambda r: (r[0], r[2], r[4], r[3]))


def _mine(models) -> list[tuple]:
    ids = [m.id for m in models]
    return [tuple(r) for r in _ordered(quality.kept_entries()).filter(pl.col("model_id").is_in(ids)).rows()]


def _crawl(model, *days_counts, source="crawl"):
    DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=model, date=D[day], downloads_all_time=count,
                                                           source=source) for day, count in days_counts])


@pytest.fixture
def made_up(caplog):
    """Three models: a crawled on days 1 and 2, b on days 1 and 2 with a count that falls, c not yet
    crawled; folded in (a full build the first time), the kept entries equal to the raw ones."""
    a, b, c = (HubModel.objects.create(hub_id=f"quality-test/{name}", author="quality-test") for name in "abc")
    _crawl(a, (1, 100), (2, 110))
    _crawl(b, (1, 500), (2, 450))
    _fold(caplog)
    assert _ordered(quality.kept_entries()).equals(_raw())
    return a, b, c


def _folded_equals_raw(caplog, models, *, full=False) -> list[tuple]:
    assert f"full={full}" in _fold(caplog)
    assert _ordered(quality.kept_entries()).equals(_raw())
    mine = _mine(models)
    assert mine == _by_hand(models)
    # And a full recount from the raw rows keeps the same entries.
    rollups.refresh(force=True)
    assert _mine(models) == mine
    return mine


def test_a_missing_crawl_day_is_a_gap_found_from_the_new_day_alone(made_up, caplog):
    a, b, c = made_up
    _crawl(a, (5, 150))  # days 3 and 4 missing
    _crawl(b, (5, 520))
    mine = _folded_equals_raw(caplog, made_up)
    assert [(r[2], r[3], r[4], r[5], r[6]) for r in mine] == [
        ("quality-test/a", "gap", D[3], D[4], 2),
        ("quality-test/b", "contradiction", D[2], D[2], 1),
        ("quality-test/b", "gap", D[3], D[4], 2)]


def test_a_late_day_fills_part_of_the_gap(made_up, caplog):
    a, b, c = made_up
    _crawl(a, (5, 150))
    _fold(caplog)
    _crawl(a, (3, 120))  # late: before the newest day already folded
    mine = _folded_equals_raw(caplog, made_up)
    assert [(r[3], r[4], r[5], r[6]) for r in mine if r[2] == "quality-test/a"] == [("gap", D[4], D[4], 1)]


def test_a_model_first_seen_mid_window_has_no_gap_before_its_first_crawl(made_up, caplog):
    a, b, c = made_up
    _crawl(a, (3, 120))
    _crawl(c, (3, 10))
    _folded_equals_raw(caplog, made_up)
    _crawl(c, (4, 5), (7, 20))  # two new days at once: a fall, then a gap of two days
    mine = _folded_equals_raw(caplog, made_up)
    assert [(r[3], r[4], r[5], r[6]) for r in mine if r[2] == "quality-test/c"] == [
        ("contradiction", D[4], D[4], 1), ("gap", D[5], D[6], 2)]


def test_a_later_count_is_checked_against_every_source_s_earlier_peak(made_up, caplog):
    a, b, c = made_up
    _crawl(c, (1, 900), source="hub-stats")
    _crawl(c, (2, 800))  # below hub-stats' count the day before
    mine = _folded_equals_raw(caplog, made_up)
    assert ("crawl", c.id, "quality-test/c", "contradiction", D[2], D[2], 1,
            "the all-time count 800 is below the cumulative count 900 the model already had: "
            "a contradiction, not drawn") in mine


def test_a_deleted_row_a_changed_count_and_a_rename_recompute_their_model(made_up, caplog):
    a, b, c = made_up
    _crawl(a, (5, 150))
    _crawl(b, (5, 480))
    _fold(caplog)
    DownloadSnapshot.objects.filter(model=b, date=D[1]).delete()  # b's peak goes: no contradiction left
    DownloadSnapshot.objects.filter(model=a, date=D[2]).update(downloads_all_time=200)  # a now falls on day 5
    HubModel.objects.filter(pk=a.pk).update(hub_id="quality-test/a-renamed")
    mine = _folded_equals_raw(caplog, made_up)
    assert [(r[2], r[3], r[4]) for r in mine] == [
        ("quality-test/a-renamed", "gap", D[3]), ("quality-test/a-renamed", "contradiction", D[5]),
        ("quality-test/b", "gap", D[3])]


def test_a_fold_without_the_ledger_s_makes_the_next_one_recount_it(made_up, caplog, monkeypatch):
    a, b, c = made_up
    monkeypatch.setattr(rollups, "_FOLDS", {})  # a process that never imported analytics.quality
    _crawl(a, (5, 150))
    rollups.refresh()
    assert rollups.fresh() and not quality.kept()  # the kept entries miss day 5: not read
    monkeypatch.setattr(rollups, "_FOLDS", {quality.NAME: quality.fold})
    _crawl(b, (6, 600))
    _folded_equals_raw(caplog, made_up, full=True)


def test_the_coverage_and_counts_it_keeps_are_the_raw_rows(made_up, caplog):
    a, b, c = made_up
    _crawl(c, (4, 1), (6, 2), source="daily-series")
    DownloadSnapshot.objects.bulk_create([DownloadSnapshot(model=c, date=D[7], downloads_all_time=None)])
    _fold(caplog)
    assert quality.kept_coverage().sort("source").equals(quality.coverage().sort("source"))
    raw = pl.concat([quality.stored_issues(), quality.contradictions(), quality.crawl_gaps()])
    assert quality.summary_of_counts(quality.kept_counts(), quality.kept_coverage()) == quality.summary(
        raw, quality.coverage())


# --- the page and the API, on the real data -----------------------------------------------------

QUERIES = ["", "kind=contradiction", "source=crawl", "source=daily-series&kind=implausible-jump",
           "kind=leading-placeholder&limit=7&offset=13", "limit=5000", "offset=400&limit=300", "offset=9999999",
           "model=mistralai/Mathstral-7B-v0.1", "model=MISTRALAI/mathstral-7b-v0.1&kind=implausible-jump"]


def _unfolded():
    """A write not folded in yet (the real log's own kind): the readers compute from the raw rows."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO catalog_rollupchange (kind) VALUES ('write')")
    assert not quality.kept()


@pytest.fixture
def folded(loaded_db, caplog):
    rollups.refresh(force=True)
    assert quality.kept()
    cache.clear()
    yield
    cache.clear()


def test_on_the_real_data_it_keeps_what_the_raw_rows_give(folded):
    kept = _ordered(quality.kept_entries())
    assert kept.height > 0 and kept.equals(_raw())
    assert quality.kept_coverage().sort("source").equals(quality.coverage().sort("source"))
    whole, flags = quality.all_issues(), quality.issues_of()
    _unfolded()
    assert quality.all_issues().equals(whole) and quality.issues_of().equals(flags)


def test_on_the_real_data_the_api_and_page_read_from_the_kept_entries_say_the_same(folded, client):
    # And a model with a kept contradiction, asked for in another case.
    contradicted = quality.kept_entries(kinds=("contradiction",)).sort("hub_id")["hub_id"][0]
    queries = [*QUERIES, f"model={contradicted.upper()}", f"model={contradicted}&source=crawl&kind=contradiction"]
    kept = {q: client.get(f"/api/data-quality?{q}").json() for q in queries}
    pages = {q: client.get(f"/data-quality?{q}").content for q in queries if "limit" not in q and "offset" not in q}
    assert kept[""]["count"] > 0 and kept["kind=contradiction"]["count"] > 0
    assert kept["model=mistralai/Mathstral-7B-v0.1"]["count"] > 0 and kept[f"model={contradicted.upper()}"]["count"] > 0
    cache.clear()
    _unfolded()
    for q in queries:
        assert client.get(f"/api/data-quality?{q}").json() == kept[q], q
    for q, page in pages.items():
        assert client.get(f"/data-quality?{q}").content == page, q


def test_the_whole_ledger_paged_through_the_api_is_all_issues(folded, client):
    entries, offset = [], 0
    while True:
        body = client.get(f"/api/data-quality?limit=5000&offset={offset}").json()
        entries += body["issues"]
        offset += 5000
        if offset >= body["count"]:
            break
    expected = quality.all_issues().drop("model_id")
    assert len(entries) == body["count"] == expected.height
    assert [tuple(e.values()) for e in entries] == [
        tuple(v.isoformat() if isinstance(v, dt.date) else v for v in row) for row in expected.rows()]


HOSTILE = ["limit=-1", "limit=0", "limit=5001", "limit=1e3", "limit=NaN", "limit=99999999999999999999", "offset=-1",
           "offset=10000001", "offset=1.5", "offset=%00", "offset=0x10", "limit=1&limit=2",
           "source=crawl&source=hub-stats", "source=crawl%27%3B--", "kind=gap%20OR%201%3D1", "model=" + "a" * 300 + "/b",
           "model=a/b%27)--", "window=all", "start=2024-01-01"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_window_and_filter_values_get_a_clear_400(folded, client, query):
    response = client.get(f"/api/data-quality?{query}")
    assert response.status_code == 400 and response.json()["error"], query
    page = client.get(f"/data-quality?{query}")
    assert page.status_code == 400 and b"<" in page.content, query
