"""Finished probe runs as the gpu worker leaves them, written straight to the database: a Run
(kind probe, succeeded, with its dates) and its ProbeRun holding a result record that passes
probes.result.validate. For tests of what reads probe results (feeds, leaderboards, timelines)
without loading a model; the numbers are realistic (the shapes of SmolLM2's and Gemma-3's CPU runs)."""

from __future__ import annotations

import datetime as dt

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Run
from probes import result as probe_result
from probes import tooling

VERSIONS = {"schema": 1, "python": "3.11.2", "torch": "2.13.0", "transformers": "4.57.1", "peft": "0.17.1",
            "gguf": "0.17.1", "huggingface_hub": "0.35.3"}
DEVICE = {"type": "cpu", "dtype": "float32", "threads": 2, "name": "x86_64"}


def _record(probe: str, hub_id: str, revision: str, config: dict, metrics: dict, checks=()) -> dict:
    return probe_result.validate({
        "probe": probe, "model": {"hub_id": hub_id, "revision": revision}, "config": config, "versions": VERSIONS,
        "device": DEVICE, "metrics": metrics, "checks": list(checks), "seed": 1234,
        "wall_seconds": metrics.get("wall_seconds", 30.0)})


def finetune_metrics(*, curve: list[float], heldout_gain: float, forgetting: float, lr_sensitivity: float,
                     diverged: bool = False, steps: dict | None = None, peak_memory_mb: float = 1800.0,
                     tokens_per_second: float = 900.0, wall_seconds: float = 120.0) -> dict:
    """The finetune probe's metrics: `curve` is the first task's loss curve."""
    final = round(sum(curve[-3:]) / 3, 5)
    return {"initial_loss": curve[0], "final_loss": final, "loss_drop": round(curve[0] - final, 5),
            "heldout_gain": heldout_gain, "forgetting": forgetting, "general_nll_before": 3.1,
            "steps_to_target": steps or {"addition": 6, "uppercase": 4, "reverse": None},
            "lr_sensitivity": lr_sensitivity,
            "lr_sweep": {"0.0005": {"final_loss": final + 0.4, "diverged": False},
                         "0.002": {"final_loss": final, "diverged": diverged},
                         "0.008": {"final_loss": final + 0.1, "diverged": False}},
            "diverged": diverged, "peak_memory_mb": peak_memory_mb, "tokens_per_second": tokens_per_second,
            "train_tokens": 11520, "trainable_params": 1843200, "wall_seconds": wall_seconds,
            "tasks": {"addition": {"learning_rate": 0.002, "loss_curve": curve, "initial_loss": curve[0],
                                   "final_loss": final, "steps_to_target": 6, "heldout_before": 3.2,
                                   "heldout_after": 3.2 - heldout_gain, "heldout_gain": heldout_gain,
                                   "general_after": 3.1 + forgetting, "diverged": diverged,
                                   "trainable_params": 1843200, "train_tokens": 3840, "train_seconds": 4.1}}}


def tooling_checks(failing: tuple[str, ...] = ()) -> list[dict]:
    return [{"name": name, "passed": name not in failing, "error": f"{name} failed" if name in failing else ""}
            for name in tooling.CHECKS]


def finished_run(model: HubModel | None, probe: str, *, finished: dt.datetime, metrics: dict | None = None,
                 checks=(), config: dict | None = None, public: bool = True, revision: str = "a" * 40,
                 hub_id: str | None = None) -> ProbeRun:
    """A succeeded probe run of `model` that finished at `finished` (asked a minute before)."""
    hub_id = hub_id or model.hub_id
    config = probe_result.full_config(probe, config)
    if probe == "tooling":
        passed = sum(1 for c in checks if c["passed"])
        metrics = {"checks_passed": passed, "checks_total": len(checks), "readiness": round(passed / len(checks), 4)}
    run = Run.objects.create(kind=Run.Kind.PROBE, name=f"probe:{probe}:{hub_id}", status=Run.Status.SUCCEEDED,
                             started_at=finished - dt.timedelta(minutes=1), finished_at=finished, progress=1.0)
    Run.objects.filter(pk=run.pk).update(created_at=finished - dt.timedelta(minutes=1))
    return ProbeRun.objects.create(
        run=run, hub_id=hub_id, model=model, probe=probe, config=config,
        config_hash=probe_result.config_hash(probe, config), revision="main", resolved_revision=revision,
        public=public, result=_record(probe, hub_id, revision, config, metrics, checks))


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
