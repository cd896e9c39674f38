"""Side-by-side probe results: a model's latest runs next to other models run with the same config."""

from __future__ import annotations

from dataclasses import dataclass, field

from gpu_workers.models import ProbeRun
from observatory.catalog.models import Run
from probes import registry
from probes.public_sets import parse_label

# The card's order, captions and rows are the registry's (probes.registry).
PROBE_ORDER = list(registry.NAMES)
fmt = registry.fmt


@dataclass
class Section:
    probe: str
    columns: list[ProbeRun]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    config_hash: str = ""
    item_set_hash: str = ""
    caption: str = ""


def on_a_public_set(run: ProbeRun) -> bool:
    """A benchmark run on HellaSwag, MMLU-Redux or GSM8K: the card shows those in its own
    public-benchmarks table (ModelPresenter.public_benchmarks), not as the project's benchmark."""
    return parse_label(str((run.result.get("metrics") or {}).get("item_set") or "")) is not None


def succeeded_newest_first(runs) -> dict[str, list[ProbeRun]]:
    """This model's succeeded runs by probe, newest first; the benchmark probe's on the project's
    own item set only, so a public-set run finishing last does not stand in for the own-set profile."""
    by_probe: dict[str, list[ProbeRun]] = {}
    for run in sorted(runs, key=lambda r: r.run.finished_at or r.run.created_at, reverse=True):
        if run.run.status == Run.Status.SUCCEEDED and run.result and not on_a_public_set(run):
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
        entry = registry.get(probe)
        section = Section(probe=probe, columns=columns, config_hash=own.config_hash[:12],
                          item_set_hash=(own.result["metrics"].get("item_set_hash") or "")[:12], caption=entry.heading)
        for row in entry.rows:
            section.rows.append((row.label, [fmt(c.result["metrics"].get(row.key), row.kind) for c in columns]))
        if entry.detail_rows is not None:
            section.rows.extend(entry.detail_rows(own.result, [c.result for c in columns]))
        section.rows.append(("Device", [f"{c.result['device'].get('type')} / {c.result['device'].get('dtype')}"
                                        for c in columns]))
        sections.append(section)
    return sections
