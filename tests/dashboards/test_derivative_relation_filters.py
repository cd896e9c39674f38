"""Derivative metrics on made-up lineage: which relations each one counts.

The real lineage mixes fine-tunes with adapters, quantisations and merges under the same bases, so a
metric that loses its relation filter still returns plausible numbers. These made-up edges put every
relation under bases in two regions, and the expected tables are written out by hand.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import derivatives
from observatory.analytics.frames import EDGE_SCHEMA, MODEL_SCHEMA, ORG_SCHEMA

JAN, FEB = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
ORGS = pl.DataFrame([{"namespace": "eu-lab", "region": "Europe"}, {"namespace": "us-lab", "region": "North America"}],
                    schema=ORG_SCHEMA)

# child id: (created, relation, parent hub id)
CHILDREN = {
    1: (dt.date(2025, 1, 3), "finetune", "eu-lab/base"),
    2: (dt.date(2025, 1, 9), "finetune", "us-lab/base"),
    3: (dt.date(2025, 1, 12), "finetune", "us-lab/base"),
    4: (dt.date(2025, 1, 15), "adapter", "eu-lab/base"),
    5: (dt.date(2025, 1, 20), "quantization", "eu-lab/base"),
    6: (dt.date(2025, 1, 21), "quantization", "eu-lab/base"),
    7: (dt.date(2025, 1, 25), "merge", "us-lab/base"),
    8: (dt.date(2025, 2, 2), "adapter", "us-lab/base"),
    9: (dt.date(2025, 2, 5), "quantization", "us-lab/base"),
    10: (dt.date(2025, 2, 28), "finetune", "eu-lab/base"),
    11: (dt.date(2025, 2, 14), "finetune", "mystery/base"),  # an organisation with no region
}


def _edges() -> pl.DataFrame:
    return pl.DataFrame([{"child_id": child, "parent_id": None, "parent_hub_id": parent, "relation": relation}
                         for child, (_, relation, parent) in CHILDREN.items()], schema=EDGE_SCHEMA)


def _models() -> pl.DataFrame:
    return pl.DataFrame([{"model_id": child, "hub_id": f"someone/child-{child}", "created_date": created}
                         for child, (created, _, _) in CHILDREN.items()], schema=MODEL_SCHEMA)


def test_it_counts_only_fine_tunes_in_the_fine_tune_share_by_base_region():
    got = derivatives.finetune_share_by_base_region(_edges(), _models(), ORGS)
    # January: fine-tunes 1 (Europe), 2 and 3 (North America); the adapter, quantisations and merge
    # under the same bases are not fine-tunes. February: 10 (Europe) and 11 (unknown region).
    assert got.rows() == [
        (JAN, "Europe", 1, 1 / 3),
        (JAN, "North America", 2, 2 / 3),
        (FEB, "Europe", 1, 1 / 2),
        (FEB, "unknown", 1, 1 / 2),
    ]


def test_it_keeps_each_relation_apart_when_counting_derivatives_by_region():
    got = derivatives.derivatives_by_base(_edges(), _models(), ORGS, by="region")
    assert got.rows() == [
        (JAN, "Europe", "adapter", 1),
        (JAN, "Europe", "finetune", 1),
        (JAN, "Europe", "quantization", 2),
        (JAN, "North America", "finetune", 2),
        (JAN, "North America", "merge", 1),
        (FEB, "Europe", "finetune", 1),
        (FEB, "North America", "adapter", 1),
        (FEB, "North America", "quantization", 1),
        (FEB, "unknown", "finetune", 1),
    ]


def test_it_gives_no_fine_tune_share_for_a_month_of_adapters_and_quantisations_alone():
    edges = _edges().filter(pl.col("relation") != "finetune")
    assert derivatives.finetune_share_by_base_region(edges, _models(), ORGS).is_empty()


def test_it_leaves_fine_tunes_created_outside_the_window_out_of_the_share():
    got = derivatives.finetune_share_by_base_region(_edges(), _models(), ORGS, start=dt.date(2025, 1, 9),
                                                    end=dt.date(2025, 2, 27))
    # 1 (3 Jan) is before the window, 10 (28 Feb) after it; 2 (9 Jan, the first day) is in.
    assert got.rows() == [(JAN, "North America", 2, 1.0), (FEB, "unknown", 1, 1.0)]
