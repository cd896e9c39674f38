"""Every probe the observatory runs, in one table: name → implementation, default config,
required metrics and the rows the model card shows for it.

What reads it: `gpu_workers.models.ProbeKind` (the choices of ProbeRun.probe, so the submission
API, its OpenAPI enum and the labs' form), `probes.runner` (which function runs a probe, whether
it runs when the model fails to load), `probes.result` (PROBES, REQUIRED_METRICS, default and
full configs, validation), `gpu_workers.comparison` and the card's probe tables (order, caption,
metric rows, detail rows), and the `probe` management command's --probe choices.

Django-free, and it imports no probe module until one is run or its config is asked for, so the
web processes that read the table never import torch or transformers.

Adding a probe:
1. Write `probes/<name>.py` with `DEFAULT_CONFIG` (a dict; every key a submission may override)
   and `run(loaded, config, report, context) -> {"metrics": {...}, "checks": [...], ...}`
   (`loaded` is a probes.loading.LoadedModel, or None when `runs_unloaded` and the load failed,
   the reason in `context.load_error`; `report(fraction, step)` reports progress; keys besides
   metrics and checks are copied into the result record as they are).
2. Add one `Probe(...)` line to PROBES below: its name (at most 16 characters, it is stored in
   ProbeRun.probe), label, `entry("probes.<name>")`, the metrics every result must hold and the
   rows its table on the card shows.
3. Run `manage.py makemigrations gpu_workers` (ProbeKind's choices changed; the migration is
   generated, not written) and commit it with the module.
Nothing else changes: the runner, the schema, the queue, the submission API and the card read
the table.
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

MAX_NAME = 16  # ProbeRun.probe's max_length


@dataclass(frozen=True)
class Context:
    """What a probe may need besides the model and its config."""

    spec: str  # the model as asked (Hub id or local path)
    versions: dict  # the result's versions (probes.result.versions())
    load_error: str = ""  # why the model did not load (only for probes that run unloaded)
    benchmarks_dir: Any = None  # settings.OBSERVATORY_BENCHMARKS_DIR: the public item sets' files


@dataclass(frozen=True)
class Row:
    """One metric row of the card's table: the result's metric key, its label, how it is shown
    (`pct`, `int`, `num`, `bool`; see fmt)."""

    key: str
    label: str
    kind: str = "num"


RunFn = Callable[[Any, dict, Callable, Context], dict]
# (this model's result, every column's result, own first) → [(row label, [cell per column])]
DetailRows = Callable[[dict, list[dict]], list[tuple[str, list[str]]]]


@dataclass(frozen=True)
class Probe:
    name: str
    label: str  # ProbeKind's label
    module: str  # the module holding DEFAULT_CONFIG
    run: RunFn
    required_metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    caption: str = ""  # the card table's caption; the label when empty
    detail_rows: DetailRows | None = None  # rows after the metric rows (per task, per check)
    runs_unloaded: bool = False  # still runs (loaded=None) when loading the model raised

    def __post_init__(self):
        if not self.name.isidentifier() or len(self.name) > MAX_NAME:
            raise ValueError(f"probe name {self.name!r}: an identifier of at most {MAX_NAME} characters")
        unknown = {r.kind for r in self.rows} - set(KINDS)
        if unknown:
            raise ValueError(f"probe {self.name}: unknown row kinds {sorted(unknown)}; known: {', '.join(KINDS)}")

    @property
    def heading(self) -> str:
        return self.caption or self.label

    def default_config(self) -> dict:
        return copy.deepcopy(importlib.import_module(self.module).DEFAULT_CONFIG)


def entry(module: str, function: str = "run") -> RunFn:
    """A probe's run function, imported when it is first called (see the module docstring)."""

    def run(loaded, config: dict, report, context: Context) -> dict:
        return getattr(importlib.import_module(module), function)(loaded, config, report, context)

    run.__qualname__ = f"{module}.{function}"
    return run


# --- display -----------------------------------------------------------------------------------

KINDS = ("pct", "int", "num", "bool")


def fmt(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{100 * float(value):.1f} %"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "bool":
        return "yes" if value else "no"
    return f"{float(value):.3g}" if abs(float(value)) < 1000 else f"{float(value):,.0f}"


def _steps_to_target(own: dict, columns: list[dict]) -> list[tuple[str, list[str]]]:
    rows = []
    for task in own["metrics"].get("steps_to_target", {}):
        cells = []
        for result in columns:
            steps = result["metrics"].get("steps_to_target", {}).get(task)
            cells.append("not reached" if steps is None else fmt(steps, "int"))
        rows.append((f"Steps to target loss: {task}", cells))
    return rows


def _checks(own: dict, columns: list[dict]) -> list[tuple[str, list[str]]]:
    rows = []
    for check in own.get("checks", []):
        cells = []
        for result in columns:
            match = next((x for x in result.get("checks", []) if x["name"] == check["name"]), None)
            cells.append("—" if match is None else "pass" if match["passed"] else f"fail: {match['error'][:120]}")
        rows.append((check["name"].replace("_", " "), cells))
    return rows


# --- the three probes' run functions (they predate the one signature) ---------------------------

def _run_benchmark(loaded, config: dict, report, context: Context) -> dict:
    from probes.benchmark import lm_eval_results, run_benchmark
    from probes.itemsets import load_item_set
    from probes.public_sets import NAMES as PUBLIC_SETS
    from probes.public_sets import load_public_set

    name, limit = config["item_set"], config["limit"]
    # Read (and checked) whole before the model sees an item: a malformed file leaves no partial result.
    items = load_public_set(name, context.benchmarks_dir, limit=limit) if name in PUBLIC_SETS \
        else load_item_set(name, limit=limit)
    body = run_benchmark(loaded, items, config, report)
    return {**body, "lm_eval": lm_eval_results(context.spec, body["metrics"], config, context.versions)}


def _run_finetune(loaded, config: dict, report, context: Context) -> dict:
    from probes.finetune import run_finetune

    return run_finetune(loaded, config, report)


def _run_tooling(loaded, config: dict, report, context: Context) -> dict:
    from probes.tooling import run_tooling

    return run_tooling(loaded, config, report, load_error=context.load_error)


# --- the table ---------------------------------------------------------------------------------
# The order is ProbeKind's (a migration states it) and the card's.

PROBES: tuple[Probe, ...] = (
    Probe("benchmark", "Benchmark", "probes.benchmark", _run_benchmark,
          required_metrics=("accuracy", "accuracy_norm", "items", "item_set_hash"),
          rows=(Row("accuracy", "Accuracy (multiple choice)", "pct"),
                Row("accuracy_norm", "Accuracy, length-normalised", "pct"),
                Row("exact_match", "Exact match (generative)", "pct"), Row("items", "Items", "int"),
                Row("mc_tokens_per_second", "Scoring tokens/s"))),
    Probe("finetune", "Fine-tunability", "probes.finetune", _run_finetune, caption="Fine-tunability (LoRA)",
          required_metrics=("initial_loss", "final_loss", "heldout_gain", "forgetting", "lr_sensitivity", "diverged",
                            "peak_memory_mb", "tokens_per_second", "wall_seconds"),
          rows=(Row("initial_loss", "Initial loss"), Row("final_loss", "Final loss"),
                Row("heldout_gain", "Held-out gain (nats)"), Row("forgetting", "Forgetting (nats, general text)"),
                Row("lr_sensitivity", "LR sensitivity"), Row("diverged", "Diverged", "bool"),
                Row("peak_memory_mb", "Peak memory (MB)", "int"), Row("tokens_per_second", "Training tokens/s"),
                Row("wall_seconds", "Wall time (s)")),
          detail_rows=_steps_to_target),
    Probe("tooling", "Tooling readiness", "probes.tooling", _run_tooling, runs_unloaded=True,
          required_metrics=("checks_passed", "checks_total"),
          rows=(Row("checks_passed", "Checks passed", "int"), Row("checks_total", "Checks", "int")),
          detail_rows=_checks),
)

BY_NAME: dict[str, Probe] = {p.name: p for p in PROBES}
NAMES: tuple[str, ...] = tuple(BY_NAME)
if len(BY_NAME) != len(PROBES):
    raise ValueError("two probes share a name")


def get(name: str) -> Probe:
    """The probe called `name`; a clear error for any other name."""
    probe = BY_NAME.get(name)
    if probe is None:
        raise ValueError(f"unknown probe {name!r}; expected one of {', '.join(NAMES)}")
    return probe
