"""Licence conflicts on a made-up lineage holding every (base class, derivative class) pair.

The real lineage has no copyleft pair, so the dashboards' own ranking (analytics.licences, the one
production uses) could swap copyleft and restricted unnoticed. The table of which pairs conflict is
written out by hand from the rule: a derivative conflicts when its class allows more than its base's
non-permissive class; an unknown class on either side is never judged.
"""

from __future__ import annotations

import itertools

import polars as pl

from observatory.analytics import licences
from observatory.analytics.frames import EDGE_SCHEMA, MODEL_SCHEMA

CLASSES = ("permissive", "copyleft", "restricted", "non-commercial", "unknown")
# (base class, derivative class): the six pairs that conflict, by hand.
CONFLICTS = {
    ("copyleft", "permissive"),
    ("restricted", "permissive"),
    ("restricted", "copyleft"),
    ("non-commercial", "permissive"),
    ("non-commercial", "copyleft"),
    ("non-commercial", "restricted"),
}


def _lineage():
    """One base per class, and under each base one derivative of every class (25 edges)."""
    models, edges = [], []
    for index, klass in enumerate(CLASSES):
        models.append({"model_id": 100 + index, "hub_id": f"base/{klass}", "licence_id": f"{klass}-licence",
                       "licence_class": klass})
    for child_id, (base, child) in enumerate(itertools.product(CLASSES, CLASSES), start=1):
        models.append({"model_id": child_id, "hub_id": f"child/{child}-of-{base}", "licence_id": f"{child}-licence",
                       "licence_class": child})
        edges.append({"child_id": child_id, "parent_id": 100 + CLASSES.index(base), "parent_hub_id": f"base/{base}",
                      "relation": "finetune"})
    return pl.DataFrame(models, schema=MODEL_SCHEMA), pl.DataFrame(edges, schema=EDGE_SCHEMA)


def test_it_flags_exactly_the_hand_written_conflicting_pairs():
    models, edges = _lineage()
    got = licences.licence_conflicts(models, edges)
    assert set(zip(got["base_class"], got["derivative_class"])) == CONFLICTS
    assert got.height == len(CONFLICTS)  # each pair once


def test_it_ranks_copyleft_above_restricted():
    models, edges = _lineage()
    got = licences.licence_conflicts(models, edges)
    pairs = set(zip(got["base_class"], got["derivative_class"]))
    assert ("restricted", "copyleft") in pairs
    assert ("copyleft", "restricted") not in pairs


def test_it_names_the_derivative_and_base_of_each_conflict():
    models, edges = _lineage()
    row = licences.licence_conflicts(models, edges).filter(
        (pl.col("base_class") == "restricted") & (pl.col("derivative_class") == "copyleft")).row(0, named=True)
    assert row == {"derivative": "child/copyleft-of-restricted", "derivative_licence": "copyleft-licence",
                   "derivative_class": "copyleft", "relation": "finetune", "base": "base/restricted",
                   "base_licence": "restricted-licence", "base_class": "restricted"}
