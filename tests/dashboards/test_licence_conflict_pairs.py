"""Licence conflicts on a made-up lineage holding every (base class, derivative class) pair.

The real lineage has no copyleft pair, so the ranking (observatory.vocab, the one every page reads)
could swap copyleft and restricted unnoticed. The table of which pairs conflict is written out by
hand from the rule: a derivative conflicts when its class allows more than its base's non-permissive
class; an unknown class on either side is never judged. It is checked where production applies the
rule: the dashboards' licence-mix metric (on frames, and through /api/metrics from PostgreSQL), the
model JSON and the model card, and vocab.is_licence_conflict itself.
"""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from django.test import Client

from observatory import vocab
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


# The ranking, most permissive first, by hand.
RANKING = ("permissive", "copyleft", "restricted", "non-commercial")
ALL_PAIRS = list(itertools.product(CLASSES, CLASSES))  # (base, derivative), 25 pairs


def test_the_ranking_is_permissive_copyleft_restricted_non_commercial_with_unknown_unranked():
    assert sorted(vocab.PERMISSIVENESS, key=vocab.PERMISSIVENESS.get, reverse=True) == list(RANKING)
    assert "unknown" not in vocab.PERMISSIVENESS


@pytest.mark.parametrize(("base", "derivative"), ALL_PAIRS, ids=[f"{d}-of-{b}" for b, d in ALL_PAIRS])
def test_the_rule_itself_agrees_with_the_table_on_every_pair(base, derivative):
    assert vocab.is_licence_conflict(derivative, base) == ((base, derivative) in CONFLICTS)


def _store_lineage():
    """The same 5 bases and 25 derivatives in PostgreSQL; {child hub_id: (base class, derivative class)}."""
    from observatory.catalog.models import HubModel, LineageEdge, Organization

    bases = {klass: HubModel.objects.create(
        hub_id=f"base/{klass}", organization=Organization.objects.get_or_create(namespace="base")[0],
        licence_id=f"{klass}-licence", licence_class=klass) for klass in CLASSES}
    org = Organization.objects.create(namespace="child")
    children = {}
    for base, child in ALL_PAIRS:
        model = HubModel.objects.create(hub_id=f"child/{child}-of-{base}", organization=org,
                                        licence_id=f"{child}-licence", licence_class=child)
        LineageEdge.objects.create(child=model, parent=bases[base], parent_hub_id=bases[base].hub_id,
                                   relation="finetune", source="test")
        children[model.hub_id] = (base, child)
    return children


@pytest.mark.django_db
def test_the_licence_mix_endpoint_lists_exactly_the_conflicting_pairs(loaded_db):
    # On top of the real data (which has conflicts of its own), the made-up derivatives' organisation.
    children = _store_lineage()
    response = Client().get("/api/metrics/licence-mix?scope=all&organization=child")
    assert response.status_code == 200, response.content
    got = {(row["base_class"], row["derivative_class"]) for row in response.json()["conflicts"]}
    assert got == CONFLICTS
    assert len(response.json()["conflicts"]) == len(CONFLICTS)
    assert {row["derivative"] for row in response.json()["conflicts"]} == {
        hub_id for hub_id, pair in children.items() if pair in CONFLICTS}


@pytest.mark.django_db
def test_the_model_json_and_card_show_a_conflict_exactly_for_the_conflicting_pairs():
    children = _store_lineage()
    client = Client()
    for hub_id, (base, child) in children.items():
        expected = (base, child) in CONFLICTS
        document = client.get(f"/api/models/{hub_id}").json()
        assert document["licence_conflicts"] == ([{"parent": f"base/{base}", "parent_class": base}] if expected else []), hub_id
        card = client.get(f"/models/{hub_id}")
        assert card.status_code == 200
        assert ('id="conflicts"' in card.content.decode()) == expected, hub_id
