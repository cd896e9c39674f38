"""Side-by-side probe results: a model's latest runs next to other models run with the same config."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpu_workers.models import ProbeRun
from observatory.catalog.models import Run

PROBE_ORDER = ["benchmark", "finetune", "tooling"]
METRIC_ROWS = {
    "benchmark": [("accuracy", "Accuracy (multiple choice)", "pct"), ("accuracy_norm", "Accuracy, length-normalised", "pct"),
                  ("exact_match", "Exact match (generative)", "pct"), ("items", "Items", "int"),
                  ("mc_tokens_per_second", "Scoring tokens/s", "num")],
    "finetune": [("initial_loss", "Initial loss", "num"), ("final_loss", "Final loss", "num"),
                 ("heldout_gain", "Held-out gain (nats)", "num"), ("forgetting", "Forgetting (nats, general text)", "num"),
                 ("lr_sensitivity", "LR sensitivity", "num"), ("diverged", "Diverged", "bool"),
                 ("peak_memory_mb", "Peak memory (MB)", "int"), ("tokens_per_second", "Training tokens/s", "num"),
                 ("wall_seconds", "Wall time (s)", "num")],
    "tooling": [("checks_passed", "Checks passed", "int"), ("checks_total", "Checks", "int")],
}


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


@dataclass
class Section:
    probe: str
    columns: list[ProbeRun]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    config_hash: str = ""
    item_set_hash: str = ""


def succeeded_newest_first(runs) -> dict[str, list[ProbeRun]]:
    by_probe: dict[str, list[ProbeRun]] = {}
    for run in sorted(runs, key=lambda r: r.run.finished_at or r.run.created_at, reverse=True):
        if run.run.status == Run.Status.SUCCEEDED and run.result:
            by_probe.setdefault(run.probe, []).append(run)
    return by_probe


def peers_of(own: ProbeRun, limit: int) -> list[ProbeRun]:
    others = (ProbeRun.objects.select_related("run")
              .filter(probe=own.probe, config_hash=own.config_hash, public=True, run__status=Run.Status.SUCCEEDED)
              .exclude(hub_id=own.hub_id).order_by("-run__finished_at"))
    picked, seen = [], set()
    for other in others:
        if other.hub_id not in seen and other.result:
            seen.add(other.hub_id)
            picked.append(other)
        if len(picked) >= limit:
            break
    return picked


def compare(probe_runs, *, peers: int = 4) -> list[Section]:
    """One section per probe: this model's latest result, then up to `peers` other models' latest
    results with the same config hash (so the numbers are comparable)."""
    mine = succeeded_newest_first(list(probe_runs))
    sections = []
    for probe in PROBE_ORDER:
        if probe not in mine:
            continue
        # The newest run that other models share a config with (so there is something to compare
        # against); else simply the newest.
        own, peers_found = mine[probe][0], []
        for candidate in mine[probe]:
            peers_found = peers_of(candidate, peers)
            if peers_found:
                own = candidate
                break
        columns = [own, *peers_found]
        section = Section(probe=probe, columns=columns, config_hash=own.config_hash[:12],
                          item_set_hash=(own.result["metrics"].get("item_set_hash") or "")[:12])
        for key, label, kind in METRIC_ROWS[probe]:
            section.rows.append((label, [fmt(c.result["metrics"].get(key), kind) for c in columns]))
        if probe == "finetune":
            tasks = list(own.result["metrics"].get("steps_to_target", {}))
            for task in tasks:
                section.rows.append((f"Steps to target loss: {task}",
                                     [fmt(c.result["metrics"].get("steps_to_target", {}).get(task), "int")
                                      if c.result["metrics"].get("steps_to_target", {}).get(task) is not None
                                      else "not reached" for c in columns]))
        if probe == "tooling":
            for check in own.result.get("checks", []):
                values = []
                for c in columns:
                    match = next((x for x in c.result.get("checks", []) if x["name"] == check["name"]), None)
                    values.append("—" if match is None else "pass" if match["passed"] else f"fail: {match['error'][:120]}")
                section.rows.append((check["name"].replace("_", " "), values))
        section.rows.append(("Device", [f"{c.result['device'].get('type')} / {c.result['device'].get('dtype')}"
                                        for c in columns]))
        sections.append(section)
    return sections
