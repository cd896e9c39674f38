"""The item set is reproducible and hashed; configs merge strictly; runs claim, cancel and stop cleanly."""

from __future__ import annotations

import hashlib

import pytest

from probes.itemsets import ITEMS_DIR, generate_v1, load_item_set, write_v1
from probes.result import config_hash, full_config, validate

pytestmark = pytest.mark.probes


def test_it_regenerates_the_committed_v1_item_set_byte_for_byte(tmp_path):
    rebuilt = write_v1(tmp_path / "v1.jsonl").read_bytes()
    assert rebuilt == (ITEMS_DIR / "benchmark-v1.jsonl").read_bytes()
    assert load_item_set().sha256 == hashlib.sha256(rebuilt).hexdigest()


def test_it_ships_several_hundred_well_formed_items_across_three_kinds():
    items = generate_v1()
    assert len(items) >= 300 and len({i["id"] for i in items}) == len(items)
    assert {i["kind"] for i in items} == {"arithmetic", "factual", "reasoning"}
    for item in items:
        if item["format"] == "mc":
            assert 2 <= len(item["choices"]) == len(set(item["choices"])) and 0 <= item["gold"] < len(item["choices"])
        else:
            assert item["answer"] and not item["choices"]


def test_it_hashes_a_subset_differently_and_keeps_every_kind_in_it():
    subset = load_item_set(limit=3)
    assert subset.sha256 != load_item_set().sha256 and len(subset.items) == 12
    assert {(i["kind"], i["format"]) for i in subset.items} == {(i["kind"], i["format"]) for i in load_item_set().items}


def test_it_merges_configs_strictly_and_hashes_them_canonically():
    assert full_config("finetune", {"lora": {"r": 4}})["lora"] == {**full_config("finetune")["lora"], "r": 4}
    with pytest.raises(ValueError, match="unknown finetune config key"):
        full_config("finetune", {"trust_remote_code": True})
    a = full_config("benchmark", {"limit": 5})
    assert config_hash("benchmark", a) == config_hash("benchmark", dict(reversed(list(a.items()))))
    assert config_hash("benchmark", a) != config_hash("benchmark", full_config("benchmark"))


def test_it_rejects_a_result_that_breaks_the_schema():
    good = {"probe": "tooling", "model": {}, "config": {}, "versions": {}, "device": {}, "checks": [],
            "metrics": {"checks_passed": 0, "checks_total": 0}}
    assert validate(good) is good
    with pytest.raises(ValueError, match="lacks checks"):
        validate({k: v for k, v in good.items() if k != "checks"})
    with pytest.raises(ValueError, match="finetune metrics lack"):
        validate({**good, "probe": "finetune"})
    with pytest.raises(ValueError, match="malformed check"):
        validate({**good, "checks": [{"name": "x", "passed": "yes", "error": ""}]})


@pytest.mark.django_db
def test_it_stops_a_running_probe_at_its_next_step_once_cancelled():
    from gpu_workers import services
    from gpu_workers.tasks import ProgressWriter
    from observatory.catalog.models import Run
    from probes.errors import ProbeInterrupted

    probe_run = services.create_probe_run("HuggingFaceTB/SmolLM2-135M-Instruct", "tooling")
    assert probe_run.run.status == "queued" and len(probe_run.config_hash) == 64
    claim = Run.objects.claim
    assert claim(probe_run.run_id, task_id="task-1") and not claim(probe_run.run_id, task_id="task-2")  # claimed exactly once
    writer = ProgressWriter(probe_run.run_id)
    writer(0.5, "half way")
    probe_run.run.refresh_from_db()
    assert (probe_run.run.progress, probe_run.run.current_step) == (0.5, "half way")
    assert services.cancel(probe_run) and not services.cancel(probe_run)
    writer.last = 0.0
    with pytest.raises(ProbeInterrupted, match="cancelled"):
        writer(0.6, "next step")
    probe_run.run.refresh_from_db()
    assert probe_run.run.status == "cancelled" and probe_run.run.progress == 0.5


@pytest.mark.django_db
def test_it_stops_at_the_next_step_after_sigterm():
    from gpu_workers.tasks import ProgressWriter
    from probes.errors import ProbeInterrupted

    writer = ProgressWriter(run_id=0)
    writer.stop_reason = "worker received SIGTERM"
    with pytest.raises(ProbeInterrupted, match="SIGTERM"):
        writer(0.1, "anything")


@pytest.mark.django_db
def test_it_hides_a_private_probe_run_from_everyone_but_staff(client, django_user_model):
    from gpu_workers import services

    private = services.create_probe_run("acme/secret-model", "tooling", public=False)
    assert client.get(f"/api/probe-runs/{private.pk}").status_code == 404
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    body = client.get(f"/api/probe-runs/{private.pk}").json()
    assert body["status"] == "queued" and body["hub_id"] == "acme/secret-model" and "result" not in body
