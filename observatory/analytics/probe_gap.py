"""Which probe scores the open/closed gap's `source=probe` draws: one public item set at one size.

The probe's leaderboard rows (gpu_workers.leaderboard) carry a public set's label as their
benchmark ("hellaswag[limit=1000]"; the full set is the bare name), so rows of one label scored
the same items. A frontier mixes no labels: the label most models were scored on is drawn (ties:
the label first by name), and the caption names the set, its size and the score drawn. The
project's own item set (`observatory-benchmark`) is no public benchmark and never drawn.
"""

from __future__ import annotations

import polars as pl

from probes.public_sets import HEADLINE, TITLES, parse_label


def public_label(benchmark: str, size: int | None) -> str:
    """"HellaSwag acc_norm, 1,000-item subset" (or ", full set")."""
    name = parse_label(benchmark)[0]
    subset = f"{size:,}-item subset" if size is not None else "full set"
    return f"{TITLES[name]} {HEADLINE[name][1]}, {subset}"


def public_probe_entries(entries: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """The probe rows of the one public benchmark label drawn, and what was chosen (empty if none)."""
    labels = entries["benchmark"].unique().to_list() if not entries.is_empty() else []
    public = {label: parse_label(label) for label in labels if parse_label(label) is not None}
    rows = entries.filter(pl.col("benchmark").is_in(list(public)))
    if rows.is_empty():
        return rows, {}
    covered = rows.group_by("benchmark").agg(pl.col("model_name").n_unique().alias("models"))
    benchmark = covered.sort(["models", "benchmark"], descending=[True, False])["benchmark"][0]
    name, size = public[benchmark]
    return rows.filter(pl.col("benchmark") == benchmark), {
        "benchmark": benchmark, "item_set": name, "subset_size": size, "metric": HEADLINE[name][1],
        "source_label": f"observatory probes: {public_label(benchmark, size)}"}
