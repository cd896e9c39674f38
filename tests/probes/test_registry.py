"""The probe registry is the one list: the model's choices, the schema and the card read it."""

import pytest

from gpu_workers.comparison import PROBE_ORDER
from gpu_workers.models import ProbeKind
from probes import benchmark, finetune, registry, tooling
from probes.result import PROBES, REQUIRED_METRICS, default_config


def test_probe_kind_keeps_the_choices_its_migration_states():
    # As gpu_workers/migrations/0001_initial.py wrote them: values, labels and order.
    assert ProbeKind.choices == [("benchmark", "Benchmark"), ("finetune", "Fine-tunability"),
                                 ("tooling", "Tooling readiness")]
    assert ProbeKind.TOOLING == "tooling" and ProbeKind("finetune").label == "Fine-tunability"


def test_the_schema_and_the_card_read_the_registry():
    assert PROBES == ("benchmark", "finetune", "tooling") == tuple(PROBE_ORDER)
    assert REQUIRED_METRICS["tooling"] == ("checks_passed", "checks_total")
    assert default_config("benchmark") == benchmark.DEFAULT_CONFIG
    assert default_config("finetune") == finetune.DEFAULT_CONFIG and default_config("tooling") == tooling.DEFAULT_CONFIG
    config = default_config("finetune")
    config["lora"]["r"] = 999  # a copy: the module's defaults stay as they are
    assert finetune.DEFAULT_CONFIG["lora"]["r"] == 8
    assert [p.heading for p in registry.PROBES] == ["Benchmark", "Fine-tunability (LoRA)", "Tooling readiness"]


def test_it_refuses_an_unknown_probe_and_a_malformed_entry():
    with pytest.raises(ValueError, match="unknown probe 'nope'; expected one of benchmark, finetune, tooling"):
        registry.get("nope")
    with pytest.raises(ValueError, match="at most 16 characters"):
        registry.Probe("a-very-long-probe-name", "X", "probes.tooling", registry.entry("probes.tooling"), (), ())
    with pytest.raises(ValueError, match="unknown row kinds"):
        registry.Probe("x", "X", "probes.tooling", registry.entry("probes.tooling"), (),
                       (registry.Row("k", "K", "percent"),))
