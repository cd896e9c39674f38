"""Our open/closed gap on Epoch's index beside the figures Epoch published for the same window.

The methodology page renders this, so every number of ours on it comes from the metric code;
only Epoch's published figures are written down here, with where they were published.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics

import polars as pl
from django.core.cache import cache

from observatory.analytics import gap
from observatory.analytics.filters import Filters
from observatory.catalog.runs import data_version
from observatory.dashboards import results
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import GAP_SOURCES, gap_models

# Epoch AI, "Open-weight models lag state-of-the-art by around 3 months on average", Data Insight,
# 30 October 2025: models from January 2023 to October 2025.
EPOCH_PUBLISHED = {
    "url": "https://epoch.ai/data-insights/open-weights-vs-closed-weights-models",
    "published": "2025-10-30",
    "start": dt.date(2023, 1, 1), "end": dt.date(2025, 10, 31),
    "months": 3.5, "low": 1.1, "high": 5.3, "level": 0.9,
    "vertical_points": 7.0, "vertical_low": 0.0, "vertical_high": 14.0,
}
# The closed model of Epoch's worked example: "DeepSeek-V2 is counted as having caught up to GPT-4
# after about 14 months, despite getting an ECI score of 125 vs. GPT-4's 126."
EXAMPLE_CLOSED_MODEL = "GPT-4 (Mar 2023)"
RULE_LABELS = {
    "interval-difference": "difference within the intervals (Epoch's wording; what the chart uses)",
    "interval-overlap": "intervals overlap",
    "tolerance": "within 1 ECI point, ignoring intervals",
}


def epoch_comparison() -> dict:
    """Our gap for Epoch's window under each match rule, Epoch's figures, and the worked example."""
    key = f"gap-comparison:v{data_version()}"
    stored = cache.get(key)
    if stored is not None:
        return json.loads(stored)
    params = ChartParams(filters=Filters(start=EPOCH_PUBLISHED["start"], end=EPOCH_PUBLISHED["end"]),
                         source="epoch-eci")
    body = results.payload("open-closed-gap", params)
    models, as_of, _info = gap_models(params)
    threshold = GAP_SOURCES["epoch-eci"][4]
    rules = []
    for rule in gap.RULES:
        gaps = gap.horizontal_gaps(models, threshold=threshold, as_of=as_of, rule=rule)
        example = gaps.filter(pl.col("closed_model") == EXAMPLE_CLOSED_MODEL).to_dicts()
        rules.append({"rule": rule, "label": RULE_LABELS[rule], "gap": gap.mean_horizontal_gap(gaps),
                      "example": _plain(example[0]) if example else None})
    closed = gap.closed_frontier(models).drop_nulls("ci_lower")
    half_widths = [s - lo for s, lo in zip(closed["score"].to_list(), closed["ci_lower"].to_list())]
    comparison = {
        "epoch": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in EPOCH_PUBLISHED.items()},
        "ours": body["gap"], "vertical": body["vertical_gap"], "rule": body["match_rule"],
        "params": body["params"], "rules": rules, "as_of": body["as_of"],
        "closed_frontier": len(body["horizontal_gaps"]),
        "median_half_width": round(statistics.median(half_widths), 1) if half_widths else None,
        "example_model": EXAMPLE_CLOSED_MODEL,
    }
    # The key carries the data version, so the cache's own default lifetime is enough.
    cache.set(key, json.dumps(comparison))
    return comparison


def _plain(row: dict) -> dict:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
