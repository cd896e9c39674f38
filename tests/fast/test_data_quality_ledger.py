"""The data-quality ledger (analytics.quality): flagged model-days in a view at the window's ends,
the chart note, the per-source summary, and the cross-source entries read from stored snapshots
(on the embedded default's SQLite here: a file, no server)."""

from __future__ import annotations

import polars as pl
import pytest

from ingest.download_measures import SOURCES
from observatory.analytics import quality
from tests.fast.made_up import day, rows

ISSUES = pl.DataFrame([
    ("daily-series", 1, "o/a", "implausible-jump", day(1, 5), day(1, 5), 1, "jump"),
    ("daily-series", 1, "o/a", "gap", day(1, 10), day(1, 19), 10, "gap"),
    ("crawl", 2, "o/b", "gap", day(1, 1), day(1, 3), 3, "gap"),
    ("hub-stats", 1, "o/a", "gap", day(1, 1), day(1, 31), 31, "not a daily source"),
    ("daily-series", 2, "o/b", "leading-placeholder", day(12, 25, 2024), day(1, 2), 9, "placeholders"),
    ("daily-series", 3, "o/c", "contradiction", day(1, 6), day(1, 6), 1, "not drawn"),
], schema=quality.ISSUE_SCHEMA, orient="row")


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, {"gap": 13, "implausible-jump": 1, "leading-placeholder": 9}),
    ({"start": day(1, 2), "end": day(1, 15)}, {"gap": 8, "implausible-jump": 1, "leading-placeholder": 1}),
    ({"start": day(1, 19), "end": day(1, 19)}, {"gap": 1}),  # a run's last day
    ({"start": day(1, 5), "end": day(1, 5)}, {"implausible-jump": 1}),
    ({"start": day(1, 20)}, {}),  # the day after a run: nothing
    ({"end": day(12, 31, 2024)}, {"leading-placeholder": 7}),
    ({"model_ids": pl.Series([1])}, {"gap": 10, "implausible-jump": 1}),
    ({"model_ids": pl.Series([], dtype=pl.Int64)}, {}),
    ({"sources": ("hub-stats",)}, {"gap": 31}),
    ({"kinds": ("contradiction",)}, {"contradiction": 1}),
])
def test_it_counts_each_flagged_model_day_the_view_overlaps(kwargs, expected):
    args = {"model_ids": None, "start": None, "end": None, **kwargs}
    got = quality.flagged_in_view(ISSUES, args.pop("model_ids"), **args)
    assert got == expected and list(got) == sorted(expected)


def test_it_writes_the_chart_note_for_drawn_and_missing_points():
    assert quality.flag_note({"gap": 1234, "implausible-jump": 1, "leading-placeholder": 9}) == (
        "Draws points the data-quality ledger flags (1,234 model-days in a gap, 1 model-days with an implausible jump)"
        "; 9 model-days not sampled yet are missing, not zero: see /data-quality")
    assert quality.flag_note({"implausible-jump": 2}) == (
        "Draws points the data-quality ledger flags (2 model-days with an implausible jump): see /data-quality")
    assert quality.flag_note({"leading-placeholder": 3000}) == (
        "3,000 model-days not sampled yet are missing, not zero: see /data-quality")
    for nothing in ({}, {"leading-placeholder": 0}, {"contradiction": 5}):
        assert quality.flag_note(nothing) is None


def test_it_summarises_every_source_with_its_coverage_and_issues_by_kind():
    covered = pl.DataFrame([("crawl", 2, 10, day(1, 1), day(1, 31))],
                           schema={"source": pl.Utf8, "models": pl.Int64, "rows": pl.Int64, "first_date": pl.Date,
                                   "last_date": pl.Date}, orient="row")
    got = quality.summary(ISSUES, covered)
    assert [s["name"] for s in got] == list(SOURCES) == ["daily-series", "crawl", "hub-stats"]
    series, crawl, stats = got
    assert series == {"name": "daily-series", "measures": SOURCES["daily-series"].measures,
                      "estimator": SOURCES["daily-series"].estimator, "converts": SOURCES["daily-series"].converts,
                      "coverage": {"models": 0, "rows": 0, "first_date": None, "last_date": None},
                      "issues": {"contradiction": {"entries": 1, "days": 1}, "gap": {"entries": 1, "days": 10},
                                 "implausible-jump": {"entries": 1, "days": 1},
                                 "leading-placeholder": {"entries": 1, "days": 9}}}
    assert list(series["issues"]) == sorted(series["issues"])
    assert crawl["coverage"] == {"models": 2, "rows": 10, "first_date": "2025-01-01", "last_date": "2025-01-31"}
    assert crawl["issues"] == {"gap": {"entries": 1, "days": 3}}
    assert stats["issues"] == {"gap": {"entries": 1, "days": 31}}


@pytest.fixture
def stored(db):
    from observatory.catalog.models import DataQualityIssue, DownloadSnapshot, HubModel

    a = HubModel.objects.create(hub_id="o/a")
    b = HubModel.objects.create(hub_id="o/b")
    for date, count in [(day(1, 1), 100), (day(1, 2), 150), (day(1, 5), 140), (day(1, 6), 160)]:
        DownloadSnapshot.objects.create(model=a, date=date, downloads_all_time=count, source="crawl")
    DownloadSnapshot.objects.create(model=b, date=day(1, 1), downloads_all_time=50, cumulative_kind="estimated",
                                    source="daily-series")
    DownloadSnapshot.objects.create(model=b, date=day(1, 2), downloads_all_time=40, source="daily-series")
    DownloadSnapshot.objects.create(model=b, date=day(1, 3), downloads_all_time=None, source="daily-series")
    DataQualityIssue.objects.create(source="daily-series", model=b, hub_id="o/b", kind="gap", date=day(1, 4),
                                    end_date=day(1, 5), days=2, detail="two days")
    DataQualityIssue.objects.create(source="daily-series", model=b, hub_id="o/b", kind="no-samples", date=None,
                                    end_date=None, days=0, detail="no sample at all")
    return a.id, b.id


def test_it_lists_a_later_all_time_count_below_an_earlier_cumulative_count(stored):
    a, b = stored
    assert quality.contradictions().schema == pl.Schema(quality.ISSUE_SCHEMA)
    assert rows(quality.contradictions()) == sorted([
        ("crawl", a, "o/a", "contradiction", day(1, 5), day(1, 5), 1,
         "the all-time count 140 is below the cumulative count 150 the model already had: a contradiction, not drawn"),
        ("daily-series", b, "o/b", "contradiction", day(1, 2), day(1, 2), 1,
         "the all-time count 40 is below the cumulative count 50 the model already had: a contradiction, not drawn"),
    ])


def test_it_lists_the_days_between_two_crawls(stored):
    a, _ = stored
    assert quality.crawl_gaps().schema == pl.Schema(quality.ISSUE_SCHEMA)
    assert rows(quality.crawl_gaps()) == [
        ("crawl", a, "o/a", "gap", day(1, 3), day(1, 4), 2,
         "2 days without a crawl: the rise since the previous crawl lands on 2025-01-05")]


def test_it_orders_every_entry_by_source_model_and_date(stored):
    got = quality.all_issues()
    assert got.schema == pl.Schema(quality.ISSUE_SCHEMA)
    assert rows(got, "source", "hub_id", "kind", "date") == [
        ("crawl", "o/a", "gap", day(1, 3)), ("crawl", "o/a", "contradiction", day(1, 5)),
        ("daily-series", "o/b", "contradiction", day(1, 2)), ("daily-series", "o/b", "gap", day(1, 4)),
        ("daily-series", "o/b", "no-samples", None)]  # an undated entry last
    stored_rows = quality.stored_issues()
    assert stored_rows.schema == pl.Schema(quality.ISSUE_SCHEMA)
    assert sorted(rows(stored_rows, "source", "model_id", "kind", "days", "detail")) == [
        ("daily-series", stored[1], "gap", 2, "two days"), ("daily-series", stored[1], "no-samples", 0, "no sample at all")]


def test_it_gives_each_sources_coverage(stored):
    assert quality.coverage().columns == ["source", "models", "rows", "first_date", "last_date"]
    assert sorted(rows(quality.coverage())) == [("crawl", 1, 4, day(1, 1), day(1, 6)),
                                                ("daily-series", 1, 3, day(1, 1), day(1, 3))]



@pytest.mark.parametrize(("sources", "kinds", "expected"), [
    # What a chart's flags count: the stored gap and the gap between two crawls, no contradiction.
    (("daily-series", "crawl"), quality.FLAGGED_KINDS,
     [("crawl", "o/a", "gap", day(1, 3)), ("daily-series", "o/b", "gap", day(1, 4))]),
    (("daily-series",), ("gap", "implausible-jump"), [("daily-series", "o/b", "gap", day(1, 4))]),
    (("crawl",), ("gap",), [("crawl", "o/a", "gap", day(1, 3))]),
    (("daily-series", "crawl"), ("leading-placeholder",), []),
    (("crawl",), ("contradiction",), [("crawl", "o/a", "contradiction", day(1, 5))]),
    (("hub-stats", "daily-series", "crawl"), ("no-samples", "contradiction"),
     [("crawl", "o/a", "contradiction", day(1, 5)), ("daily-series", "o/b", "contradiction", day(1, 2)),
      ("daily-series", "o/b", "no-samples", None)]),
    ((), quality.FLAGGED_KINDS, []),
    (("daily-series", "crawl"), (), []),
])
def test_it_reads_only_the_entries_of_the_sources_and_kinds_asked_for(stored, sources, kinds, expected):
    got = quality.issues_of(sources, kinds)
    assert got.schema == pl.Schema(quality.ISSUE_SCHEMA)
    assert rows(got, "source", "hub_id", "kind", "date") == expected


def test_by_default_it_reads_what_a_chart_flags(stored):
    assert quality.FLAGGED_KINDS == ("implausible-jump", "gap", "leading-placeholder")
    a, b = stored
    assert rows(quality.issues_of()) == [
        ("crawl", a, "o/a", "gap", day(1, 3), day(1, 4), 2,
         "2 days without a crawl: the rise since the previous crawl lands on 2025-01-05"),
        ("daily-series", b, "o/b", "gap", day(1, 4), day(1, 5), 2, "two days")]
