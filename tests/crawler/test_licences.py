"""Licence normalisation on every distinct licence string in the real hub-stats rows."""

import json

import polars as pl
import pytest

from ingest.licences import classify_id, normalise_licence
from observatory.vocab import LICENCE_CLASS_VALUES, is_licence_conflict

EXPECTED_FAMILIES = {
    "apache-2.0": "permissive", "mit": "permissive", "bsd-3-clause-clear": "permissive", "afl-3.0": "permissive",
    "gpl-3.0": "copyleft", "cc-by-sa-4.0": "copyleft", "osl-3.0": "copyleft",
    "cc-by-nc-4.0": "non-commercial", "cc-by-nc-sa-4.0": "non-commercial", "cc-by-nc-nd-4.0": "non-commercial",
    "llama2": "restricted", "llama3.1": "restricted", "llama3.3": "restricted", "gemma": "restricted",
    "creativeml-openrail-m": "restricted", "bigscience-bloom-rail-1.0": "restricted", "bigcode-openrail-m": "restricted",
    "tongyi-qianwen": "restricted", "qwen-research": "non-commercial", "falcon-llm-license": "restricted",
    "deepseek": "restricted", "nvidia-open-model-license": "restricted", "gemma-terms-of-use": "restricted",
}


def _distinct_licence_inputs(shared_data):
    frame = pl.read_parquet(next((shared_data / "hub").glob("hub_stats_frozen_*.parquet")))
    seen = {}
    for card, tags in zip(frame["cardData"].to_list(), frame["tags"].to_list()):
        data = json.loads(card) if card else {}
        key = (json.dumps(data.get("license")), data.get("license_name"))
        seen[key] = (data.get("license"), data.get("license_name"))
        for tag in tags or []:
            if tag.startswith("license:"):
                seen[(json.dumps(tag[8:]), None)] = (tag[8:], None)
    return list(seen.values())


def test_it_gives_exactly_one_known_class_to_every_distinct_licence_string(shared_data):
    inputs = _distinct_licence_inputs(shared_data)
    assert len(inputs) > 60
    unknown_with_a_name = []
    for raw, name in inputs:
        licence_id, licence_class = normalise_licence(raw, license_name=name)
        assert licence_class in LICENCE_CLASS_VALUES
        if licence_class == "unknown" and (name or raw not in (None, "other", "unknown")):
            unknown_with_a_name.append((raw, name, licence_id))
    # Every named licence in the real rows is classified; only 'other'/'unknown'/missing stay unknown.
    assert unknown_with_a_name == []


@pytest.mark.parametrize("licence_id, expected", sorted(EXPECTED_FAMILIES.items()))
def test_it_puts_each_well_known_licence_in_its_family(licence_id, expected):
    assert classify_id(licence_id) == expected


def test_it_reads_other_with_a_custom_name_lists_casing_and_missing_values():
    assert normalise_licence("other", license_name="tongyi-qianwen") == ("tongyi-qianwen", "restricted")
    assert normalise_licence("Apache-2.0") == ("apache-2.0", "permissive")
    assert normalise_licence(["mit"]) == ("mit", "permissive")
    assert normalise_licence(["apache-2.0", "cc-by-nc-4.0"]) == ("cc-by-nc-4.0", "non-commercial")
    assert normalise_licence(None) == ("", "unknown")
    assert normalise_licence("  ") == ("", "unknown")
    assert normalise_licence("other") == ("other", "unknown")
    assert normalise_licence(None, license_name="falcon-llm-license") == ("falcon-llm-license", "restricted")
    assert normalise_licence("some-brand-new-research-only-licence")[1] == "non-commercial"


def test_it_flags_a_derivative_more_permissive_than_its_restrictive_parent():
    assert is_licence_conflict("permissive", "restricted")
    assert is_licence_conflict("permissive", "non-commercial")
    assert is_licence_conflict("restricted", "non-commercial")
    assert not is_licence_conflict("restricted", "restricted")
    assert not is_licence_conflict("non-commercial", "restricted")
    assert not is_licence_conflict("permissive", "permissive")
    assert not is_licence_conflict("unknown", "restricted")
