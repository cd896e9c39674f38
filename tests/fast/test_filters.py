"""analytics.filters on a made-up catalogue: each filter alone, the scope, and the cache key."""

from __future__ import annotations

import datetime as dt

import pytest

from observatory.analytics.filters import Filters, filter_models
from tests.fast.made_up import models

CATALOGUE = models(
    {"model_id": 1, "organization": "a", "region": "us", "size_class": "1-5B", "pipeline_tag": "text-generation"},
    {"model_id": 2, "organization": "b", "region": "china", "size_class": "7-9B", "pipeline_tag": "text-generation"},
    {"model_id": 3, "organization": "a", "region": "eu", "size_class": "7-9B", "pipeline_tag": "image-to-text"},
    {"model_id": 4, "organization": "c", "region": "us", "size_class": "1-5B", "pipeline_tag": "image-to-text",
     "tracked": False, "licence_class": "copyleft"},
)


def _ids(**filters) -> list[int]:
    return sorted(filter_models(CATALOGUE, Filters(**filters))["model_id"].to_list())


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, [1, 2, 3]),
    ({"scope": "all"}, [1, 2, 3, 4]),
    ({"regions": ("us",)}, [1]),
    ({"regions": ("us",), "scope": "all"}, [1, 4]),
    ({"regions": ("china", "eu")}, [2, 3]),
    ({"organization": "a"}, [1, 3]),
    ({"organization": "c", "scope": "all"}, [4]),
    ({"size_class": "7-9B"}, [2, 3]),
    ({"pipeline_tag": "image-to-text", "scope": "all"}, [3, 4]),
    ({"organization": "a", "size_class": "7-9B", "pipeline_tag": "image-to-text", "regions": ("eu",)}, [3]),
    ({"organization": "nobody"}, []),
    ({"licence_class": "copyleft", "scope": "all"}, [4]),
    ({"licence_class": "permissive"}, [1, 2, 3]),
])
def test_it_keeps_exactly_the_models_each_filter_selects(filters, expected):
    assert _ids(**filters) == expected


def test_it_gives_a_stable_key_naming_every_field():
    # The known fields, in declaration order (a field added later goes after them).
    assert Filters().key().startswith(
        "start=None&end=None&regions=()&organization=&size_class=&pipeline_tag=&scope=tracked")
    assert Filters(start=dt.date(2025, 1, 2), regions=("us", "eu"), scope="all").key().startswith(
        "start=2025-01-02&end=None&regions=('us', 'eu')&organization=&size_class=&pipeline_tag=&scope=all")
    assert Filters(end=dt.date(2025, 3, 4)).key() == Filters(end=dt.date(2025, 3, 4)).key()


@pytest.mark.parametrize(("field", "value"), [
    ("start", dt.date(2025, 1, 1)), ("end", dt.date(2025, 1, 1)), ("regions", ("us",)), ("organization", "a"),
    ("size_class", "1-5B"), ("pipeline_tag", "x"), ("scope", "all"),
])
def test_it_gives_another_key_when_any_one_filter_changes(field, value):
    assert Filters(**{field: value}).key() != Filters().key()
    assert f"{field}={value}" in Filters(**{field: value}).key()
