"""Lineage rules (ingest.lineage): a record's parents from the Hub's three statements, relation
names, the cycle check, stored ancestors (on the embedded default's SQLite here; PostgreSQL's
recursive query under `make test`), and the queryable conflicts with every class pair."""

from __future__ import annotations

import itertools

import pytest

from ingest import lineage
from tests.fast.test_vocabulary import CLASSES, CONFLICTS


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), (" Fine-Tune ", "finetune"), ("finetuned", "finetune"), ("finetune", "finetune"),
    ("LoRA", "adapter"), ("adapters", "adapter"), ("adapter", "adapter"), ("quantization", "quantized"),
    ("quantize", "quantized"), ("merged", "merge"), ("merge", "merge"), ("distillation", None),
])
def test_it_reads_a_relation_name(value, expected):
    assert lineage._relation(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (None, []), ("org/a", ["org/a"]), (" org/a ", ["org/a"]), ("gpt2", ["gpt2"]),
    ("https://huggingface.co/org/c", ["org/c"]), ("http://huggingface.co/org/c", []),
    (["org/a", {"id": "org/b"}, {"name": "org/x"}, 5, "not valid!", "a--b/c"], ["org/a", "org/b"]),
    (("org/a", "org/a"), ["org/a", "org/a"]),
])
def test_it_keeps_only_valid_hub_ids(value, expected):
    assert lineage._ids(value) == expected


CARD = {"base_model": ["card/p"], "base_model_relation": "adapter"}


@pytest.mark.parametrize(("record", "expected"), [
    ({}, []),
    ({"baseModels": {"relation": "quantized", "models": [{"id": "a/b"}, "a/c", "a/b"]},
      "tags": ["base_model:adapter:t/x"], "cardData": CARD},
     [("a/b", "quantized", "baseModels"), ("a/c", "quantized", "baseModels")]),
    ({"baseModels": {"models": ["a/b"]}}, [("a/b", "finetune", "baseModels")]),
    ({"baseModels": {"models": []}, "tags": ["base_model:t/y"]}, [("t/y", "finetune", "tag")]),
    ({"baseModels": ["a/b"], "tags": ["base_model:merge:t/y"]}, [("t/y", "merge", "tag")]),
    ({"tags": ["base_model:adapter:t/x", "base_model:t/y", "license:mit", 5, "base_model:bogus:t/z"],
      "cardData": CARD},
     [("t/x", "adapter", "tag"), ("t/y", "merge", "tag")]),  # a bare tag beside another: a merge
    ({"tags": ["base_model:t/y", "base_model:finetune:t/y"]}, [("t/y", "finetune", "tag")]),
    ({"tags": ["license:mit", "base_model:quantized:t/q"]}, [("t/q", "quantized", "tag")]),  # other tags first
    ({"tags": ["base_model:a:b:c:d"], "cardData": {"base_model": "card/p"}}, [("card/p", "finetune", "cardData")]),
    ({"cardData": {"base_model": ["card/p", "card/q"]}}, [("card/p", "merge", "cardData"),
                                                          ("card/q", "merge", "cardData")]),
    ({"cardData": CARD}, [("card/p", "adapter", "cardData")]),
    ({"cardData": {"base_model": "card/p", "base_model_relation": "nonsense"}}, [("card/p", "finetune", "cardData")]),
    ({"cardData": "not a dict", "tags": None, "baseModels": None}, []),
])
def test_it_takes_the_hubs_parents_first_then_its_tags_then_the_card(record, expected):
    assert lineage.parse_parents(record) == expected


def test_it_finds_a_cycle_through_the_known_parents():
    graph = lineage.LineageGraph({"a": {"b"}, "b": {"c"}, "x": {"y"}, "y": {"x"}})
    assert graph.creates_cycle("a", "a")
    assert graph.creates_cycle("c", "a")  # a → b → c: c cannot get a as parent
    assert graph.creates_cycle("b", "a")
    assert not graph.creates_cycle("a", "c")
    assert not graph.creates_cycle("z", "x")  # a loop elsewhere ends the walk, no cycle through z
    assert not graph.creates_cycle("d", "e")
    graph.replace("c", ["a"])
    assert graph.parents["c"] == {"a"} and graph.creates_cycle("a", "b")
    graph.replace("c", [])
    assert not graph.creates_cycle("a", "b")
    # A node reached twice is skipped, and the walk goes on with the rest.
    assert lineage.LineageGraph({"p": ["c", "m", "m"]}).creates_cycle("c", "p")


@pytest.fixture
def stored_lineage(db):
    from observatory.catalog.models import HubModel, LineageEdge

    a, b, c = (HubModel.objects.create(hub_id=h) for h in ("o/a", "o/b", "o/c"))
    LineageEdge.objects.create(child=a, parent=b, parent_hub_id="o/b", relation="finetune", source="import")
    LineageEdge.objects.create(child=b, parent=c, parent_hub_id="o/c", relation="finetune", source="import")
    LineageEdge.objects.create(child=c, parent=None, parent_hub_id="ext/x", relation="merge", source="import")
    LineageEdge.objects.create(child=a, parent=None, parent_hub_id="ext/y", relation="adapter", source="import")


def test_it_loads_every_stored_ancestor_up_to_the_depth(stored_lineage):
    full = {"o/a": {"o/b", "ext/y"}, "o/b": {"o/c"}, "o/c": {"ext/x"}}
    assert lineage.LineageGraph.around(["o/a", "o/a"]).parents == full
    assert lineage.LineageGraph.around(["o/a"], max_depth=1).parents == {"o/a": {"o/b", "ext/y"}}
    assert lineage.LineageGraph.around(["o/a"], max_depth=2).parents == {"o/a": {"o/b", "ext/y"}, "o/b": {"o/c"}}
    assert lineage.LineageGraph.around(["o/c", "nobody/z"]).parents == {"o/c": {"ext/x"}}
    assert lineage.LineageGraph.around([]).parents == {}
    many = [f"none/{i}" for i in range(1200)] + ["o/b"]
    assert lineage.LineageGraph.around(many).parents == {"o/b": {"o/c"}, "o/c": {"ext/x"}}


def test_it_queries_exactly_the_edges_whose_child_allows_more_than_its_parent(db):
    from observatory.catalog.models import HubModel, LineageEdge

    for i, (child_class, parent_class) in enumerate(itertools.product(CLASSES, CLASSES)):
        parent = HubModel.objects.create(hub_id=f"base/{i}", licence_class=parent_class)
        child = HubModel.objects.create(hub_id=f"derived/{i}", licence_class=child_class)
        LineageEdge.objects.create(child=child, parent=parent, parent_hub_id=parent.hub_id, relation="finetune",
                                   source="import")
    unresolved = HubModel.objects.create(hub_id="derived/x", licence_class="permissive")
    LineageEdge.objects.create(child=unresolved, parent=None, parent_hub_id="gone/x", relation="finetune",
                               source="import")
    got = {(e.child.licence_class, e.parent.licence_class) for e in lineage.licence_conflicts()}
    assert got == CONFLICTS and lineage.licence_conflicts().count() == len(CONFLICTS)
