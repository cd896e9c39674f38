"""Size classes at their bounds, from parameter counts as the Hub and the names give them.

ATOM's classes are half-open in billions ([1, 5) is "1-5B"); a model of exactly 1B, 5B, 10B… counts
in the class above. The bounds are checked on whole parameter counts (what safetensors reports and
curated_fields divides), on the names that state them, and as a property: more parameters never
put a model in a smaller class.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.curation import Curation, curated_fields, size_class
from observatory import vocab

ORDER = ["<1B", "1-5B", "7-9B", "10-50B", "50-100B", "100-250B", "250B+"]  # ATOM's, written out
# (exact count at the bound, the class it opens, the class just below it)
BOUNDS = [
    (1_000_000_000, "1-5B", "<1B"),
    (5_000_000_000, "7-9B", "1-5B"),
    (10_000_000_000, "10-50B", "7-9B"),
    (50_000_000_000, "50-100B", "10-50B"),
    (100_000_000_000, "100-250B", "50-100B"),
    (250_000_000_000, "250B+", "100-250B"),
]
NOTHING_CURATED = Curation(params={}, corrections={}, listed={}, policy=None, known_orgs=set())


def _class_from_safetensors(total: int) -> str:
    record = {"id": "someone/unnamed-model", "safetensors": {"total": total},
              "createdAt": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}
    return curated_fields(record, NOTHING_CURATED)["size_class"]


@pytest.mark.parametrize(("count", "opens", "below"), BOUNDS, ids=[b[1] for b in BOUNDS])
def test_it_puts_a_model_of_exactly_the_bound_in_the_class_above(count, opens, below):
    assert _class_from_safetensors(count) == opens
    assert _class_from_safetensors(count - 1) == below


@pytest.mark.parametrize(("name", "expected"), [
    ("someone/model-1B", "1-5B"), ("someone/model-5B", "7-9B"), ("someone/model-10B", "10-50B"),
    ("someone/model-50B", "50-100B"), ("someone/model-100B", "100-250B"), ("someone/model-250B", "250B+"),
    ("someone/model-999M", "<1B"), ("someone/model-4.9B", "1-5B"),
])
def test_it_reads_a_size_stated_in_the_name_against_the_same_bounds(name, expected):
    record = {"id": name, "createdAt": dt.datetime(2025, 1, 1, tzinfo=dt.UTC)}
    assert curated_fields(record, NOTHING_CURATED)["size_class"] == expected


def test_it_gives_no_class_to_a_model_of_unknown_size():
    assert _class_from_safetensors(0) == ""
    assert size_class(None) == "" and size_class(-1.0) == ""


@given(st.floats(min_value=1e-6, max_value=5e3, allow_nan=False), st.floats(min_value=0, max_value=5e3))
def test_it_never_puts_a_larger_model_in_a_smaller_class(billions, more):
    assert ORDER.index(size_class(billions)) <= ORDER.index(size_class(billions + more))


@pytest.mark.parametrize(("count", "opens", "below"), BOUNDS, ids=[b[1] for b in BOUNDS])
def test_the_vocabulary_puts_exactly_the_bound_in_billions_in_the_class_above(count, opens, below):
    billions = count / 1e9  # 1.0, 5.0, 10.0, 50.0, 100.0, 250.0: exact in binary floating point
    assert vocab.size_class(billions) == opens
    assert vocab.size_class(billions - 1e-9) == below


def test_every_list_of_size_classes_is_atoms_order():
    from observatory.catalog.models import SizeClass

    assert list(vocab.SIZE_CLASS_VALUES) == ORDER
    assert list(SizeClass.values) == ORDER and list(SizeClass.labels) == ORDER
