"""Licences: the Hub's strings to one id and class (ingest.licences), the licence mix and the
conflicts along lineage edges with every class pair (analytics.licences), against hand tables."""

from __future__ import annotations

import itertools

import pytest

from ingest.licences import _clean, classify_id, licence_raw_text, normalise_licence
from observatory.analytics import licences
from tests.fast.made_up import edges, models, rows
from tests.fast.test_vocabulary import CLASSES, CONFLICTS


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("   ", None), ("None", None), ("NULL", None), ("nan", None),
    ("  MIT ", "mit"), ("x" * 100, "x" * 96), (3, "3"),
])
def test_it_cleans_a_licence_string(value, expected):
    assert _clean(value) == expected


@pytest.mark.parametrize(("licence_id", "expected"), [
    (None, "unknown"), ("apache-2.0", "permissive"), ("gpl-3.0", "copyleft"), ("cc-by-nc-4.0", "non-commercial"),
    ("llama3", "restricted"), ("other", "unknown"), ("unknown", "unknown"),
    # Families, checked in order: non-commercial terms win over a family name.
    ("acme-research-only", "non-commercial"), ("gemma-research", "non-commercial"), ("acme-non_commercial", "non-commercial"),
    ("x-nc-y", "non-commercial"), ("x nc", "non-commercial"),
    ("meta-llama-custom", "restricted"), ("llama-apache", "restricted"), ("my-llama_2", "restricted"),
    ("acme-community-license", "restricted"), ("acceptable use policy", "restricted"),
    ("apache-like", "permissive"), ("mit-0", "permissive"), ("bsd-4-clause", "permissive"),
    ("gpl-1.0", "copyleft"), ("agpl-1.0", "copyleft"), ("lgpl-9", "copyleft"), ("mpl-1.1", "copyleft"),
    ("cc-by-sa-2.0", "copyleft"), ("proprietary", "unknown"), ("x-apache", "unknown"),
])
def test_it_classifies_an_id_by_the_table_then_the_families(licence_id, expected):
    assert classify_id(licence_id) == expected


@pytest.mark.parametrize(("raw", "name", "expected"), [
    ("Apache-2.0", None, ("apache-2.0", "permissive")),
    (None, None, ("", "unknown")),
    ("other", "My-Custom", ("my-custom", "restricted")),
    ("other", "license", ("other", "unknown")),  # a placeholder name says nothing
    (None, "cc-by-nc-4.0", ("cc-by-nc-4.0", "non-commercial")),
    ("", "qwen-research", ("qwen-research", "non-commercial")),
    ("mit", "something else", ("mit", "permissive")),  # the name only stands in for 'other' or nothing
    (["mit", "llama3"], None, ("llama3", "restricted")),  # the most restrictive member
    (["apache-2.0", "llama3"], None, ("llama3", "restricted")),  # by class, not by name
    (["zlib", "gpl-3.0", "bsd"], None, ("gpl-3.0", "copyleft")),
    (["cc-by-nc-4.0", "llama3", "gpl-3.0"], None, ("cc-by-nc-4.0", "non-commercial")),
    (("gpl-3.0", "mit"), None, ("gpl-3.0", "copyleft")),
    (["mit", "proprietary"], None, ("mit", "permissive")),  # an unreadable member is not the strictest
    (["", None], None, ("", "unknown")),
    (["", None], "qwen-research", ("qwen-research", "non-commercial")),
    (["other"], "llama-custom", ("llama-custom", "restricted")),
])
def test_it_normalises_the_hubs_licence_field(raw, name, expected):
    assert normalise_licence(raw, license_name=name) == expected


def test_it_keeps_the_raw_licence_text_with_the_custom_name():
    assert licence_raw_text(None) == ""
    assert licence_raw_text("MIT") == "MIT"
    assert licence_raw_text(["mit", "gpl"]) == "mit,gpl"
    assert licence_raw_text(("a", 3)) == "a,3"
    assert licence_raw_text("other", "Custom") == "other (Custom)"
    assert licence_raw_text(None, "Custom") == "(Custom)"
    assert licence_raw_text("x" * 3000) == "x" * 2000


MIX_MODELS = models(
    {"model_id": 1, "licence_class": "permissive", "downloads_all_time": 10},
    {"model_id": 2, "licence_class": "copyleft", "downloads_all_time": None},
    {"model_id": 3, "licence_class": "restricted", "downloads_all_time": 5},
    {"model_id": 4, "licence_class": "non-commercial", "downloads_all_time": 7},
    {"model_id": 5, "licence_class": "unknown", "downloads_all_time": 1},
    {"model_id": 6, "licence_class": "permissive", "downloads_all_time": 20},
)
MIX_EDGES = edges((6, 1, "o/1", "finetune"), (2, 1, "o/1", "merge"), (7, 1, "o/1", "adapter"),
                  (3, 2, "o/2", "finetune"), (1, 4, "o/4", "quantized"), (2, 3, "o/3", "finetune"),
                  (8, None, "ext/x", "finetune"))


def test_it_counts_models_downloads_and_derivatives_by_licence_class():
    got = licences.licence_mix(MIX_MODELS, MIX_EDGES)
    assert got.columns == ["licence_class", "models", "downloads_all_time", "derivatives"]
    assert rows(got) == [("permissive", 2, 30, 3), ("copyleft", 1, 0, 1), ("restricted", 1, 5, 1),
                         ("non-commercial", 1, 7, 1), ("unknown", 1, 1, 0)]


def test_it_shows_every_class_even_without_models():
    got = licences.licence_mix(MIX_MODELS.head(1), MIX_EDGES.head(0))
    assert rows(got) == [("permissive", 1, 10, 0), ("copyleft", 0, 0, 0), ("restricted", 0, 0, 0),
                         ("non-commercial", 0, 0, 0), ("unknown", 0, 0, 0)]


def _pair_lineage():
    """One base and one derivative for every (derivative class, base class) pair, copyleft included."""
    pairs = list(itertools.product(CLASSES, CLASSES))
    found = []
    for i, (child, parent) in enumerate(pairs):
        found += [{"model_id": 2 * i, "hub_id": f"base/{i:02d}-{parent}", "licence_class": parent,
                   "licence_id": f"id-{parent}"},
                  {"model_id": 2 * i + 1, "hub_id": f"derived/{i:02d}-{child}", "licence_class": child,
                   "licence_id": f"id-{child}"}]
    lineage = edges(*((2 * i + 1, 2 * i, f"base/{i:02d}", "finetune") for i in range(len(pairs))))
    return pairs, models(*found), lineage


def test_it_flags_exactly_the_conflicting_class_pairs_along_an_edge():
    pairs, everyone, lineage = _pair_lineage()
    got = licences.licence_conflicts(everyone, lineage)
    assert got.columns == ["derivative", "derivative_licence", "derivative_class", "relation", "base", "base_licence",
                           "base_class"]
    assert {(r[2], r[6]) for r in rows(got)} == CONFLICTS
    expected = sorted((f"base/{i:02d}-{p}", f"derived/{i:02d}-{c}") for i, (c, p) in enumerate(pairs)
                      if (c, p) in CONFLICTS)
    assert rows(got, "base", "derivative") == expected
    assert rows(got)[0] == ("derived/01-permissive", "id-permissive", "permissive", "finetune", "base/01-copyleft",
                            "id-copyleft", "copyleft")


def test_it_finds_a_base_outside_the_models_in_scope_only_when_given_everyone():
    pairs, everyone, lineage = _pair_lineage()
    derivatives_only = everyone.filter(everyone["hub_id"].str.starts_with("derived/"))
    assert licences.licence_conflicts(derivatives_only, lineage).is_empty()
    assert licences.licence_conflicts(derivatives_only, lineage, all_models=everyone).height == len(CONFLICTS)
