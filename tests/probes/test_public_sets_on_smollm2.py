"""The one model-running test of the public item sets: SmolLM2-135M on a 3-item HellaSwag subset
through the probe runner (kept tiny: the shared CPU runs it in well under a minute)."""

from __future__ import annotations

import pytest

from probes.public_sets import load_public_set
from probes.runner import run_probe

pytestmark = pytest.mark.probes


def test_smollm2_scores_a_seeded_hellaswag_subset_with_its_hash(smollm2_path, shared_data):
    bench = shared_data / "benchmarks"
    result = run_probe(str(smollm2_path), "benchmark", config={"item_set": "hellaswag", "limit": 3},
                       allow_local_paths=True, device="cpu", benchmarks_dir=bench)
    metrics = result["metrics"]
    expected = load_public_set("hellaswag", bench, limit=3)
    assert metrics["item_set"] == "hellaswag[limit=3]" and metrics["items"] == 3
    assert metrics["item_set_hash"] == expected.sha256
    assert [r["id"] for r in result["per_item"]] == [i["id"] for i in expected.items]
    # acc and acc_norm recomputed from the reported log-likelihoods: argmax, and argmax per character.
    acc = acc_norm = 0
    for row, item in zip(result["per_item"], expected.items):
        lls = row["loglikelihoods"]
        assert len(lls) == 4 and all(ll < 0 for ll in lls)
        acc += max(range(4), key=lambda k: lls[k]) == item["gold"]
        acc_norm += max(range(4), key=lambda k: lls[k] / len(item["choices"][k])) == item["gold"]
    assert metrics["accuracy"] == round(acc / 3, 6) and metrics["accuracy_norm"] == round(acc_norm / 3, 6)
