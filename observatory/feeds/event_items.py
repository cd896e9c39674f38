"""The events feed's entries: thresholds crossed by tracked models.

- `ram-v2-crossed-1.0`: the first day a model's RAM v2 reached 1.0 (it caught up with the 10th
  most downloaded model of its size class at the same age);
- `licence-conflict`: a derivative whose licence class allows more than its base's (the rule
  of observatory.vocab), dated by the derivative's creation day;
- `tooling-ready`: the first tooling check at which every check passed (gpu_workers.readiness);
- `profile-finished-<probe>`: a model's first public probe run of that probe that succeeded;
- `forecast-on-track`: the first crawl day whose adoption forecast, as of that day, gave the model
  P(RAM v2 ≥ 1 at day 90) ≥ 0.5 (feeds.on_track_items).

The scope is the RAM table's and the licence chart's default: tracked models. Every event is
dated from the data, and its id is a tag: URI of Hub id, kind and that date (feeds.tags), so ids
survive rebuilds. Computed once per data version (every import, crawl and probe bumps it).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from django.core.cache import cache

from gpu_workers import readiness, tooling_checks
from gpu_workers.models import ProbeRun
from observatory.analytics import adoption, frames, licences, release_events
from observatory.analytics.filters import Filters, filter_models
from observatory.catalog.models import HubModel, Run
from observatory.catalog.runs import data_version
from observatory.feeds.on_track_items import on_track_events
from observatory.feeds.release_items import profile_summary
from observatory.feeds.tags import FeedItem, day_start, tag_uri

ITEMS = 100
CACHE_SECONDS = 3600


def _ram_events(snaps, models) -> list[FeedItem]:
    curves = adoption.adoption_curves(snaps, models)
    crossings = release_events.ram_v2_crossings(curves, adoption.reference_curves(curves), models)
    return [FeedItem(
        id=tag_uri("ram-v2-crossed-1.0", r["hub_id"], r["date"]), title=f"{r['hub_id']}: RAM v2 reached 1.0",
        link=f"/models/{r['hub_id']}", published=day_start(r["date"]), categories=("ram-v2", r["size_class"]),
        description=(f"{r['cumulative']:,} downloads {r['days']} days after release, against {r['reference']:,} for "
                     f"the 10th most downloaded {r['size_class']} model at the same age (RAM v2 {r['ram_v2']:.2f})."),
        extra={"kind": "ram-v2-crossed-1.0", **{k: (v.isoformat() if isinstance(v, dt.date) else v)
                                                for k, v in r.items()}})
        for r in crossings.to_dicts()]


def _conflict_events(filters: Filters) -> list[FeedItem]:
    everyone = frames.models(("hub_id", "licence_id", "licence_class", "created_date"), filters, parents_of_edges=True)
    models = filter_models(everyone, filters)
    conflicts = licences.licence_conflicts(models, frames.edges(filters, touching=True), everyone)
    rows = release_events.conflict_events(conflicts, models).to_dicts()
    return [FeedItem(
        id=tag_uri("licence-conflict", f"{r['derivative']}/base/{r['base']}", r["date"]),
        title=f"Licence conflict: {r['derivative']} ({r['derivative_class']}) on {r['base']} ({r['base_class']})",
        link=f"/models/{r['derivative']}", published=day_start(r["date"]), categories=("licence-conflict",),
        description=(f"{r['derivative']} ({r['derivative_licence'] or 'no licence id'}, {r['derivative_class']}) is a "
                     f"{r['relation']} of {r['base']} ({r['base_licence'] or 'no licence id'}, {r['base_class']}): "
                     "its licence class allows more than its base's."),
        extra={"kind": "licence-conflict", **{k: (v.isoformat() if isinstance(v, dt.date) else v)
                                              for k, v in r.items()}}) for r in rows]


def _tooling_events() -> list[FeedItem]:
    by_model = tooling_checks.checks_by_model()
    out = []
    for model in HubModel.objects.filter(pk__in=list(by_model), tracked=True):
        release, checks = tooling_checks.release_day(model), by_model[model.pk]
        ready_on = readiness.ready_date(checks)
        if release is None or ready_on is None:
            continue
        days = readiness.days_to_ready(release, checks)
        out.append(FeedItem(
            id=tag_uri("tooling-ready", model.hub_id, ready_on), title=f"{model.hub_id}: tooling ready",
            link=f"/models/{model.hub_id}#tooling-timeline", published=day_start(ready_on),
            categories=("tooling-ready",),
            description=f"Every tooling check passed on {ready_on.isoformat()}, {days} days after release.",
            extra={"kind": "tooling-ready", "hub_id": model.hub_id, "days_to_ready": days,
                   "date": ready_on.isoformat()}))
    return out


def _profile_events() -> list[FeedItem]:
    firsts: dict[tuple[int, str], ProbeRun] = {}
    for probe_run in (ProbeRun.objects.select_related("run", "model")
                      .filter(public=True, model__tracked=True, run__status=Run.Status.SUCCEEDED,
                              run__finished_at__isnull=False, result__isnull=False)
                      .order_by("run__finished_at", "pk")):
        firsts.setdefault((probe_run.model_id, probe_run.probe), probe_run)
    out = []
    for probe_run in firsts.values():
        hub_id, day = probe_run.model.hub_id, probe_run.run.finished_at.astimezone(dt.UTC).date()
        kind = f"profile-finished-{probe_run.probe}"
        out.append(FeedItem(
            id=tag_uri(kind, hub_id, day), title=f"{hub_id}: {probe_run.get_probe_display().lower()} profile finished",
            link=f"/models/{hub_id}#probes", published=probe_run.run.finished_at, categories=("profile", probe_run.probe),
            description=profile_summary(probe_run),
            extra={"kind": kind, "hub_id": hub_id, "config_hash": probe_run.config_hash, "date": day.isoformat()}))
    return out


def build_events() -> list[FeedItem]:
    """Every event, newest first (ties by id), at most ITEMS."""
    filters = Filters()  # tracked models, as the RAM table and the licence chart by default
    snaps = frames.snapshots(filters=filters, since_release=True)
    models = frames.models(("hub_id", "release_date"), filters)
    # The forecast's growth law learns from every sized model, as the adoption-forecast metric's does.
    everyone = frames.models(("hub_id", "release_date"))
    forecast_snaps = frames.snapshots(filters=Filters(scope="all"), since_release=True)
    events = [*_ram_events(snaps, models), *_conflict_events(filters), *_tooling_events(), *_profile_events(),
              *on_track_events(forecast_snaps, everyone, filter_models(everyone, filters))]
    unique = {e.id: e for e in events}  # an id is its event: two of one kind on one day are one
    return sorted(unique.values(), key=lambda e: (e.published, e.id), reverse=True)[:ITEMS]


def _from_json(item: dict) -> FeedItem:
    return FeedItem(**{**item, "published": dt.datetime.fromisoformat(item["published"]),
                       "updated": dt.datetime.fromisoformat(item["updated"]) if item["updated"] else None,
                       "categories": tuple(item["categories"])})


def events() -> list[FeedItem]:
    """build_events, kept as JSON text (no pickled objects in the cache) for the data version."""
    key = f"feeds:events:v{data_version()}"
    stored = cache.get(key)
    if stored is None:
        stored = json.dumps([dataclasses.asdict(e) for e in build_events()], default=str)
        cache.set(key, stored, CACHE_SECONDS)
    return [_from_json(item) for item in json.loads(stored)]
