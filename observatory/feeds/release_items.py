"""The releases feeds' entries: tracked releases, newest first, with region, licence class, size
and, once its first probes have finished, the first profile.

Only public, succeeded probe runs make a profile (a lab's private run shows nowhere public).
"""

from __future__ import annotations

from gpu_workers.models import ProbeRun
from observatory.catalog.models import HubModel, Organization, Run
from observatory.feeds.tags import FeedItem, day_start, tag_uri
from probes import registry

ITEMS = 50
KIND = "release"


def _params(model: HubModel) -> str:
    if not model.total_params:
        return f"size class {model.size_class}" if model.size_class else "size unknown"
    billions = model.total_params / 1e9
    return f"{billions:.3g}B parameters" + (f" (size class {model.size_class})" if model.size_class else "")


def first_profiles(model_ids: list[int]) -> dict[int, dict[str, ProbeRun]]:
    """model id → probe → the model's first public probe run of it that succeeded."""
    out: dict[int, dict[str, ProbeRun]] = {}
    runs = (ProbeRun.objects.select_related("run")
            .filter(model_id__in=model_ids, public=True, run__status=Run.Status.SUCCEEDED, result__isnull=False)
            .order_by("run__finished_at", "pk"))
    for probe_run in runs:
        out.setdefault(probe_run.model_id, {}).setdefault(probe_run.probe, probe_run)
    return out


def profile_summary(probe_run: ProbeRun) -> str:
    """`Label: metric value, …` with the card's own rows and formats (probes.registry)."""
    entry = registry.get(probe_run.probe)
    metrics = probe_run.result.get("metrics", {})
    cells = [f"{row.label} {registry.fmt(metrics.get(row.key), row.kind)}" for row in entry.rows
             if metrics.get(row.key) is not None]
    return f"{entry.heading}: " + ", ".join(cells)


def release_item(model: HubModel, profile: dict[str, ProbeRun]) -> FeedItem:
    region = model.organization.region if model.organization else "unknown"
    licence = f"{model.licence_class}" + (f" ({model.licence_id})" if model.licence_id else "")
    lines = [f"Region: {region}", f"Licence class: {licence}", f"Size: {_params(model)}"]
    ordered = [profile[name] for name in registry.NAMES if name in profile]
    if ordered:
        lines.append("First profile (observatory probes): " + "; ".join(profile_summary(p) for p in ordered))
    else:
        lines.append("First profile: not yet (probes queued or not run)")
    released = day_start(model.release_date)
    profiled = max((p.run.finished_at for p in ordered), default=None)
    return FeedItem(
        id=tag_uri(KIND, model.hub_id, model.release_date), title=f"{model.hub_id} released",
        link=f"/models/{model.hub_id}", description="\n".join(lines), published=released,
        updated=max(released, profiled) if profiled else released,
        categories=(region, model.licence_class, *([model.size_class] if model.size_class else [])),
        extra={"hub_id": model.hub_id, "region": region, "licence_class": model.licence_class,
               "licence": model.licence_id or None, "size_class": model.size_class or None,
               "total_params": model.total_params, "release_date": model.release_date.isoformat(),
               "profile": {p.probe: {"config_hash": p.config_hash, "finished_at": p.run.finished_at.isoformat(),
                                     "metrics": {row.key: p.result["metrics"].get(row.key)
                                                 for row in registry.get(p.probe).rows}} for p in ordered}})


def releases(organization: Organization | None = None, limit: int = ITEMS) -> list[FeedItem]:
    """The newest tracked releases (by release date, then Hub id), optionally one organisation's."""
    models = HubModel.objects.select_related("organization").filter(tracked=True, release_date__isnull=False)
    if organization is not None:
        models = models.filter(organization=organization)
    chosen = list(models.order_by("-release_date", "hub_id")[:limit])
    profiles = first_profiles([m.pk for m in chosen])
    return [release_item(m, profiles.get(m.pk, {})) for m in chosen]
