"""Releases per region per quarter (analytics.releases) on made-up models and Epoch entries."""

from __future__ import annotations

import polars as pl
import pytest

from observatory.analytics import releases
from observatory.analytics.frames import ENTRY_SCHEMA
from tests.fast.made_up import day, models, rows


@pytest.mark.parametrize(("country", "region"), [
    (None, "unknown"), ("", "unknown"), ("  ", "unknown"), (", China", "unknown"),
    ("United States of America", "us"), ("United States of America, China", "us"),
    ("China", "china"), ("Hong Kong", "china"), (" China , France", "china"),
    ("France", "eu"), ("Czech Republic", "eu"), ("Germany,United States of America", "eu"),
    ("United Kingdom", "other"), ("Canada", "other"), ("United States", "other"),
])
def test_it_reads_a_region_from_the_first_country(country, region):
    assert releases.country_region(country) == region


CATALOGUE = models(
    {"model_id": 1, "region": "us", "release_date": day(1, 1)},
    {"model_id": 2, "region": "us", "release_date": day(3, 31)},
    {"model_id": 3, "region": "china", "release_date": day(4, 1)},
    {"model_id": 4, "region": "eu", "release_date": None},
    {"model_id": 5, "region": "china", "release_date": day(6, 30)},
)
Q1, Q2 = day(1, 1), day(4, 1)


def test_it_counts_releases_per_quarter_and_region_with_both_window_ends():
    got = releases.releases_by_region(CATALOGUE)
    assert got.columns == ["quarter", "region", "releases", "source"]
    assert rows(got) == [(Q1, "us", 2, "observatory"), (Q2, "china", 2, "observatory")]
    assert rows(releases.releases_by_region(CATALOGUE, start=day(3, 31), end=day(4, 1))) == [
        (Q1, "us", 1, "observatory"), (Q2, "china", 1, "observatory")]
    assert rows(releases.releases_by_region(CATALOGUE, start=day(7, 1))) == []


def _entries(*entries):
    out = [{"model_name": n, "country": c, "release_date": r, "organization": None, "open_weights": None,
            "benchmark": None, "score": None, "snapshot_date": None, "ci_lower": None, "ci_upper": None}
           for n, c, r in entries]
    return pl.DataFrame(out, schema=ENTRY_SCHEMA)


def test_it_counts_each_notable_model_once_by_its_first_entry():
    entries = _entries(("GPT-X", "United States of America", day(2, 1)), ("GPT-X", "China", day(5, 1)),
                       ("Qwen", "China", day(4, 1)), ("Mistral", "France", day(6, 30)), ("Undated", "France", None),
                       ("Nowhere", "", day(1, 1)))
    got = releases.notable_releases_by_region(entries)
    assert got.columns == ["quarter", "region", "releases", "source"]
    assert rows(got) == [(Q1, "unknown", 1, "epoch-notable"), (Q1, "us", 1, "epoch-notable"),
                         (Q2, "china", 1, "epoch-notable"), (Q2, "eu", 1, "epoch-notable")]
    assert rows(releases.notable_releases_by_region(entries, start=day(2, 1), end=day(6, 29))) == [
        (Q1, "us", 1, "epoch-notable"), (Q2, "china", 1, "epoch-notable")]
    assert rows(releases.notable_releases_by_region(entries, start=day(4, 1), end=day(6, 30))) == [
        (Q2, "china", 1, "epoch-notable"), (Q2, "eu", 1, "epoch-notable")]  # both ends counted
    empty = releases.notable_releases_by_region(entries, start=day(7, 1))
    assert empty.is_empty() and empty.schema == pl.Schema(
        {"quarter": pl.Date, "region": pl.Utf8, "releases": pl.Int64, "source": pl.Utf8})
