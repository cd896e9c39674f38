"""Which probe rows the gap's `source=probe` draws (analytics.probe_gap), on made-up leaderboard
rows: public item-set labels only, the label most models ran (a tie goes to the first by name, a
model scored twice counts once), and the caption naming the set, its size and its score."""

from __future__ import annotations

import polars as pl
import pytest

from observatory.analytics import probe_gap
from observatory.analytics.frames import ENTRY_SCHEMA
from probes.public_sets import parse_label


def entries(*rows: tuple[str, str, float]) -> pl.DataFrame:
    """(model_name, benchmark, score) tuples."""
    return pl.DataFrame([{"model_name": m, "organization": "o", "country": "", "open_weights": True, "benchmark": b,
                          "score": s, "release_date": None, "snapshot_date": None, "ci_lower": None, "ci_upper": None}
                         for m, b, s in rows], schema=ENTRY_SCHEMA)


@pytest.mark.parametrize(("label", "parsed"), [
    ("hellaswag[limit=1000]", ("hellaswag", 1000)), ("mmlu-redux", ("mmlu-redux", None)), ("gsm8k[limit=5]", ("gsm8k", 5)),
    ("benchmark-v1", None), ("observatory-benchmark", None), ("hellaswag[limit=0]", None), ("hellaswag[1000]", None),
    ("HellaSwag", None), ("", None), ("gsm8k[limit=5] ", None),
])
def test_it_reads_only_the_labels_a_public_set_writes(label, parsed):
    assert parse_label(label) == parsed


def test_it_draws_the_public_label_most_models_ran_never_the_own_set():
    frame = entries(("a", "observatory-benchmark", 0.9), ("b", "observatory-benchmark", 0.9),
                    ("c", "observatory-benchmark", 0.9), ("d", "observatory-benchmark", 0.9),
                    ("a", "mmlu-redux[limit=100]", 0.3), ("b", "mmlu-redux[limit=100]", 0.31),
                    ("a", "hellaswag[limit=100]", 0.4), ("b", "hellaswag[limit=100]", 0.41),
                    ("c", "hellaswag[limit=100]", 0.42), ("c", "hellaswag[limit=200]", 0.5))
    rows, info = probe_gap.public_probe_entries(frame)
    assert sorted(rows["model_name"]) == ["a", "b", "c"] and set(rows["benchmark"]) == {"hellaswag[limit=100]"}
    assert info == {"benchmark": "hellaswag[limit=100]", "item_set": "hellaswag", "subset_size": 100,
                    "metric": "acc_norm", "source_label": "observatory probes: HellaSwag acc_norm, 100-item subset"}


def test_a_tie_goes_to_the_first_label_by_name_and_a_model_counts_once():
    # gsm8k has three rows but two models; mmlu-redux two models: a tie, and "gsm8k" < "mmlu-redux".
    frame = entries(("a", "mmlu-redux", 0.3), ("b", "mmlu-redux", 0.31),
                    ("a", "gsm8k", 0.02), ("a", "gsm8k", 0.03), ("b", "gsm8k", 0.05))
    rows, info = probe_gap.public_probe_entries(frame)
    assert info["benchmark"] == "gsm8k" and info["subset_size"] is None and rows.height == 3
    assert info["source_label"] == "observatory probes: GSM8K exact match, strict, full set"


def test_without_a_public_label_nothing_is_drawn():
    for frame in (entries(("a", "observatory-benchmark", 0.9)), entries()):
        rows, info = probe_gap.public_probe_entries(frame)
        assert rows.is_empty() and info == {}


def test_the_caption_writes_thousands_with_a_comma():
    assert probe_gap.public_label("mmlu-redux[limit=5700]", 5700) == "MMLU-Redux acc, 5,700-item subset"
