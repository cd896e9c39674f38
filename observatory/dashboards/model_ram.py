"""A model's Relative Adoption Metric, read from the one RAM computation (the relative-adoption
metric's default table), so the model card and /api/models/<org>/<name> show the table's numbers."""

from __future__ import annotations

import polars as pl

from observatory.analytics.filters import Filters
from observatory.catalog.models import HubModel
from observatory.dashboards import results
from observatory.dashboards.params import ChartParams


def model_ram(model: HubModel) -> dict:
    """{ram_v1, ram_v2, days_since_release, size_class, reference_10th, cumulative_downloads, note}."""
    empty = {"ram_v1": None, "ram_v2": None, "days_since_release": None, "size_class": model.size_class or None,
             "reference_10th": None, "cumulative_downloads": None}
    if not model.size_class:
        return {**empty, "note": "size unknown: no size class to compare with"}
    table = results.computed("relative-adoption", ChartParams(filters=Filters())).rows.filter(pl.col("hub_id") == model.hub_id)
    if table.is_empty():
        return {**empty, "note": "not in the default RAM table (it compares tracked models)"}
    row = table.to_dicts()[0]
    return {"ram_v1": row["ram_v1"], "ram_v2": row["ram_v2"], "days_since_release": row["days_since_release"],
            "size_class": row["size_class"], "reference_10th": row["reference_10th"],
            "cumulative_downloads": row["cumulative_downloads"], "note": row["ram_note"]}
