"""Derivatives counted against their bases (analytics.derivatives) on a made-up lineage: the
ancestor walk (chains, cycles, diamonds, two names of one base, the depth bound), each grouping,
the relation filter of the fine-tune share, and the window's ends."""

from __future__ import annotations

import pytest

from observatory.analytics import derivatives
from tests.fast.made_up import day, edges, models, organizations, rows

WALK = edges(
    (1, 2, "o/two", "finetune"), (2, 3, "o/three", "finetune"), (2, None, "Ext/Base", "adapter"),
    (4, 5, "o/five", "merge"), (5, 4, "o/four", "merge"),  # a cycle
    (6, 7, "o/seven", "merge"), (6, 8, "o/eight", "merge"), (7, 9, "o/nine", "finetune"),
    (8, 9, "o/nine", "finetune"),  # a diamond: 6 reaches 9 twice
    (10, None, "Ext/Base", "quantized"), (10, None, "ext/base", "quantized"),  # one base, two spellings
    (11, None, "ext/a", "merge"), (11, None, "ext/b", "merge"),  # two unstored bases: two
)
DIRECT = [
    (1, "o/two", 2, "finetune", 1), (2, "Ext/Base", None, "adapter", 1), (2, "o/three", 3, "finetune", 1),
    (4, "o/five", 5, "merge", 1), (5, "o/four", 4, "merge", 1), (6, "o/eight", 8, "merge", 1),
    (6, "o/seven", 7, "merge", 1), (7, "o/nine", 9, "finetune", 1), (8, "o/nine", 9, "finetune", 1),
    (10, "Ext/Base", None, "quantized", 1), (11, "ext/a", None, "merge", 1), (11, "ext/b", None, "merge", 1),
]


def _walk(scope):
    got = derivatives.ancestors(WALK, scope=scope)
    assert got.columns == ["child_id", "base_hub_id", "base_id", "relation", "depth"]
    return sorted(rows(got), key=lambda r: (r[0], r[4], r[1]))


def test_it_gives_each_direct_base_once_whatever_name_points_at_it():
    assert _walk("direct") == sorted(DIRECT, key=lambda r: (r[0], r[4], r[1]))
    assert _walk("direct") == sorted(rows(derivatives.ancestors(WALK)), key=lambda r: (r[0], r[4], r[1]))


def test_it_walks_up_the_tree_once_per_base_through_cycles_and_diamonds():
    # The child's own relation is kept at every depth.
    assert _walk("tree") == sorted(DIRECT + [
        (1, "Ext/Base", None, "finetune", 2), (1, "o/three", 3, "finetune", 2),
        (4, "o/four", 4, "merge", 2), (5, "o/five", 5, "merge", 2),  # round the cycle, once
        (6, "o/nine", 9, "merge", 2),  # the diamond's top, once
    ], key=lambda r: (r[0], r[4], r[1]))


def test_it_stops_walking_at_the_depth_bound():
    chain = edges(*((i, i + 1, f"o/m{i + 1}", "finetune") for i in range(40)))
    depths = derivatives.ancestors(chain, scope="tree").filter(derivatives.pl.col("child_id") == 0)["depth"]
    assert sorted(depths.to_list()) == list(range(1, derivatives.MAX_DEPTH + 1)) == list(range(1, 33))


def test_it_refuses_an_unknown_scope_or_grouping():
    with pytest.raises(ValueError, match=r"^scope must be 'direct' or 'tree'$"):
        derivatives.ancestors(WALK, scope="forest")
    with pytest.raises(ValueError, match=r"^by must be 'region', 'organization' or 'base'$"):
        derivatives.derivatives_by_base(WALK, models({"model_id": 1}), organizations(), by="country")


ORGS = organizations(("meta", "us"), ("qwen", "china"), ("mistral", "eu"))
LINEAGE = edges(
    (11, 1, "meta/llama", "finetune"), (12, 1, "meta/llama", "adapter"), (20, 1, "meta/llama", "finetune"),
    (13, 2, "qwen/qwen", "finetune"), (14, None, "mistral/m7", "finetune"), (15, None, "nobody/x", "quantized"),
    (16, 1, "meta/llama", "finetune"), (17, 13, "qwen/ft", "finetune"),
    (18, 1, "meta/llama", "finetune"),  # its child is not among the models counted
    (19, 2, "qwen/qwen", "finetune"),  # its child has no creation date
)
CHILDREN = models(*({"model_id": i, "created_date": d} for i, d in [
    (11, day(1, 5)), (12, day(1, 6)), (20, day(1, 20)), (13, day(1, 31)), (14, day(2, 1)), (15, day(1, 10)),
    (16, day(2, 28)), (17, day(3, 1)), (19, None)]))
JAN, FEB, MAR = day(1, 1), day(2, 1), day(3, 1)


def _by(**kwargs):
    got = derivatives.derivatives_by_base(LINEAGE, CHILDREN, ORGS, **kwargs)
    assert got.columns == ["month", "base", "relation", "new_derivatives"]
    return rows(got)


def test_it_counts_new_derivatives_by_their_bases_region_each_relation_apart():
    assert _by() == [
        (JAN, "china", "finetune", 1), (JAN, "unknown", "quantized", 1), (JAN, "us", "adapter", 1),
        (JAN, "us", "finetune", 2),
        (FEB, "eu", "finetune", 1), (FEB, "us", "finetune", 1),
        (MAR, "china", "finetune", 1),
    ]


def test_it_counts_every_ancestor_in_the_tree_scope():
    assert _by(scope="tree")[-1] == (MAR, "china", "finetune", 2)  # qwen/ft and, above it, qwen/qwen


def test_it_counts_derivatives_created_on_the_first_and_last_day_of_the_window():
    assert _by(start=day(1, 31), end=day(2, 28)) == [
        (JAN, "china", "finetune", 1), (FEB, "eu", "finetune", 1), (FEB, "us", "finetune", 1)]
    assert _by(start=day(3, 2)) == []


def test_it_names_the_top_organisations_and_pools_the_rest():
    assert _by(by="organization", top_n=1) == [
        (JAN, "meta", "adapter", 1), (JAN, "meta", "finetune", 2), (JAN, "other", "finetune", 1),
        (JAN, "other", "quantized", 1),
        (FEB, "meta", "finetune", 1), (FEB, "other", "finetune", 1),
        (MAR, "other", "finetune", 1),
    ]


def test_it_breaks_ties_for_the_last_top_base_by_name():
    # meta/llama has 4; mistral/m7, nobody/x, qwen/ft and qwen/qwen 1 each: mistral/m7 comes first by name.
    assert _by(by="base", top_n=2) == [
        (JAN, "meta/llama", "adapter", 1), (JAN, "meta/llama", "finetune", 2), (JAN, "other", "finetune", 1),
        (JAN, "other", "quantized", 1),
        (FEB, "meta/llama", "finetune", 1), (FEB, "mistral/m7", "finetune", 1),
        (MAR, "other", "finetune", 1),
    ]


def test_it_names_ten_bases_by_default():
    assert {r[1] for r in _by(by="base")} == {"meta/llama", "mistral/m7", "nobody/x", "qwen/ft", "qwen/qwen"}
    many = edges(*((100 + i, None, f"b/{i:02d}", "finetune") for i in range(12)))
    children = models(*({"model_id": 100 + i, "created_date": day(1, 1)} for i in range(12)))
    got = derivatives.derivatives_by_base(many, children, ORGS, by="base")
    assert rows(got, "base", "new_derivatives") == [(f"b/{i:02d}", 1) for i in range(10)] + [("other", 2)]


def test_it_never_pools_regions():
    assert _by(top_n=1) == _by()


def test_it_shares_only_fine_tunes_by_their_bases_region():
    got = derivatives.finetune_share_by_base_region(LINEAGE, CHILDREN, ORGS)
    assert got.columns == ["month", "base_region", "finetunes", "share"]
    # Jan: us 11 and 20 (12 is an adapter), china 13 (15 is a quantisation); Feb: eu 14, us 16.
    assert rows(got) == [
        (JAN, "china", 1, pytest.approx(1 / 3)), (JAN, "us", 2, pytest.approx(2 / 3)),
        (FEB, "eu", 1, 0.5), (FEB, "us", 1, 0.5),
        (MAR, "china", 1, 1.0),
    ]


def test_it_shares_fine_tunes_within_the_window_only():
    got = derivatives.finetune_share_by_base_region(LINEAGE, CHILDREN, ORGS, start=day(2, 1), end=day(2, 28))
    assert rows(got) == [(FEB, "eu", 1, 0.5), (FEB, "us", 1, 0.5)]
