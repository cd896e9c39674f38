"""The vocabulary (observatory.vocab): size classes at their bounds, the licence ranking and
conflict rule as a hand-written table, and the Hub's id rule."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from observatory import vocab

CLASSES = ["permissive", "copyleft", "restricted", "non-commercial", "unknown"]
# (derivative, base) pairs that are conflicts: the derivative allows more than its base.
CONFLICTS = {
    ("permissive", "copyleft"), ("permissive", "restricted"), ("permissive", "non-commercial"),
    ("copyleft", "restricted"), ("copyleft", "non-commercial"),
    ("restricted", "non-commercial"),
}


@pytest.mark.parametrize(("billions", "expected"), [
    (None, ""), (0, ""), (-3.0, ""), (0.000001, "<1B"), (0.999, "<1B"),
    (1.0, "1-5B"), (4.999, "1-5B"), (5.0, "7-9B"), (9.99, "7-9B"), (10.0, "10-50B"), (49.9, "10-50B"),
    (50.0, "50-100B"), (100.0, "100-250B"), (249.99, "100-250B"), (250.0, "250B+"), (2000.0, "250B+"),
])
def test_it_opens_each_size_class_at_its_bound(billions, expected):
    assert vocab.size_class(billions) == expected


@given(st.floats(0.001, 5000), st.floats(0, 5000))
def test_a_larger_model_is_never_in_a_smaller_class(billions, more):
    order = list(vocab.SIZE_CLASS_VALUES)
    assert order.index(vocab.size_class(billions + more)) >= order.index(vocab.size_class(billions))


@pytest.mark.parametrize(("child", "parent"), list(itertools.product(CLASSES, CLASSES)))
def test_it_flags_exactly_the_hand_written_conflicts(child, parent):
    assert vocab.is_licence_conflict(child, parent) is ((child, parent) in CONFLICTS)


def test_it_lists_the_conflict_pairs_and_the_display_order():
    assert vocab.LICENCE_CONFLICT_PAIRS == CONFLICTS
    assert vocab.LICENCE_CLASS_DISPLAY_ORDER == tuple(CLASSES)
    assert not vocab.is_licence_conflict("made-up", "non-commercial")


@pytest.mark.parametrize(("value", "plain", "legacy"), [
    ("meta-llama/Llama-3.1-8B", True, True), ("_Spydaz_/x", True, True), ("a/b", True, True),
    ("gpt2", False, True), ("t5-small", False, True),
    ("a/b/c", False, False), ("a--b/c", False, False), ("a/b..c", False, False), ("a/b.git", False, False),
    ("-a/b", False, False), ("a/b-", False, False), ("a/b\n", False, False), ("", False, False),
    ("a/" + "x" * 96, True, True), ("a/" + "x" * 97, False, False), (42, False, False), (None, False, False),
])
def test_it_accepts_the_hubs_repo_ids(value, plain, legacy):
    assert vocab.is_hub_id(value) is plain
    assert vocab.is_hub_id(value, legacy=True) is legacy


def test_it_builds_each_hub_pattern_from_one_rule():
    assert vocab._hub_pattern("X", r"\Z") == r"^(?!.*(?:--|\.\.))(?!.*\.git\Z)X\Z"
    assert vocab.HUB_ID_PATTERN.endswith("$") and vocab.HUB_NAMESPACE.match("Qwen")
    assert not vocab.HUB_NAMESPACE.match("Qw--en") and not vocab.HUB_NAME.match("x.git")


def test_it_keys_every_spelling_of_one_repo_alike():
    assert vocab.hub_id_key("Qwen/Qwen2.5-7B") == vocab.hub_id_key("qwen/qwen2.5-7b") == "qwen/qwen2.5-7b"
