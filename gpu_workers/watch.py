"""The release watch: every newly seen tracked release gets a probe plan on the `gpu` queue.

After a crawl, a hub-stats import or a bootstrap finishes (catalog.runs.data_changed, connected
in GpuWorkersConfig.ready), the `watch_releases` task plans and queues; `manage.py
watch_releases` prints the same plan. A release is planned when it is
- tracked by the policy (HubModel.tracked),
- new: created since the last watch, or first seen since then (a crawl that found it late),
  and released at most WATCH_MAX_AGE_DAYS ago (an explicit --since replaces both), and
- within the caps: its parameter count known and at most WATCH_MAX_PARAMS_B (and the probes'
  PROBE_MAX_PARAMS_B); at most WATCH_MAX_PER_DAY new models a day, the first by WATCH_PRIORITY.
Each is pinned to the commit the Hub reports (model_info's `sha`); a probe already asked for
the same (model, revision, probe, config hash) is not asked again, so a second crawl queues
nothing. A watched model whose sha moved gets its tooling probe again (the readiness timeline,
gpu_workers.tooling_schedule, reads that run). The probe configs are the registry's defaults
with WATCH_PROBE_CONFIG's overrides (`benchmark.limit=20;finetune.steps=4`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from gpu_workers import services
from gpu_workers.models import ProbeRun, ReleaseWatch
from observatory.catalog.models import HubModel, Run
from probes import registry
from probes.result import config_hash, full_config

log = logging.getLogger(__name__)
TOOLING = "tooling"  # the probe a new revision re-runs
PRIORITIES = ("downloads", "ram", "size_class")
SIZE_ORDER = ("<1B", "1-5B", "5-10B", "10-50B", "50-100B", "100-250B", ">250B")
TRIGGER_KINDS = (Run.Kind.CRAWL, Run.Kind.BOOTSTRAP)
TRIGGER_IMPORTS = ("import:hubstats",)
# Other apps may add a priority reader (model → sort key, smaller first): RAM lives in the
# dashboards layer, which registers "ram" (observatory.dashboards.apps); gpu_workers imports nothing above it.
PRIORITY_READERS: dict[str, Callable[[HubModel], float]] = {}


@dataclasses.dataclass(frozen=True)
class WatchConfig:
    probes: tuple[str, ...]
    overrides: dict[str, dict]  # probe → config keys that differ from its default
    max_per_day: int
    max_params_b: float
    max_age_days: int
    priority: str

    def config(self, probe: str) -> dict:
        return full_config(probe, self.overrides.get(probe))

    def hash(self, probe: str) -> str:
        return config_hash(probe, self.config(probe))


def watch_config() -> WatchConfig:
    """The settings, checked: a wrong one names itself (ImproperlyConfigured), never a worker error."""
    probes = tuple(settings.WATCH_PROBES)
    unknown = [p for p in probes if p not in registry.NAMES]
    if unknown:
        raise ImproperlyConfigured(f"WATCH_PROBES: unknown probe(s) {', '.join(unknown)}; known: {', '.join(registry.NAMES)}")
    if settings.WATCH_PRIORITY not in PRIORITIES:
        raise ImproperlyConfigured(f"WATCH_PRIORITY must be one of {', '.join(PRIORITIES)}, got {settings.WATCH_PRIORITY!r}")
    overrides: dict[str, dict] = {}
    for key, raw in settings.WATCH_PROBE_CONFIG.items():
        probe, _, name = key.partition(".")
        if probe not in registry.NAMES or not name:
            raise ImproperlyConfigured(f"WATCH_PROBE_CONFIG: {key!r} is not probe.key (probes: {', '.join(registry.NAMES)})")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw  # a bare word is a string
        overrides.setdefault(probe, {})[name] = value
    for probe, values in overrides.items():
        try:
            full_config(probe, values)
        except ValueError as exc:
            raise ImproperlyConfigured(f"WATCH_PROBE_CONFIG: {exc}") from None
    return WatchConfig(probes=probes, overrides=overrides, max_per_day=settings.WATCH_MAX_PER_DAY,
                       max_params_b=min(settings.WATCH_MAX_PARAMS_B, settings.PROBE_MAX_PARAMS_B),
                       max_age_days=settings.WATCH_MAX_AGE_DAYS, priority=settings.WATCH_PRIORITY)


@dataclasses.dataclass
class PlanItem:
    model: HubModel
    revision: str  # the Hub's commit sha; "" when it could not be resolved
    probes: list[str]
    why: str

    def line(self) -> str:
        return f"{self.model.hub_id}\t{self.revision or '-'}\t{','.join(self.probes) or '-'}\t{self.why}"


def hub_sha(hub_id: str) -> str:
    """The commit the Hub's main branch is at (model_info's sha), through the real client."""
    from huggingface_hub import HfApi

    sha = HfApi(endpoint=settings.HF_ENDPOINT, token=settings.HF_TOKEN or False).model_info(hub_id, timeout=20).sha
    if not sha or len(sha) != 40:
        raise ValueError(f"the Hub gave no commit for {hub_id}")
    return sha


def _watched_ids() -> set[int]:
    return set(ProbeRun.objects.filter(run__params__has_key="watch", model__isnull=False)
               .values_list("model_id", flat=True))


def _priority_key(priority: str) -> Callable[[HubModel], tuple]:
    if priority == "downloads":
        return lambda m: (-(m.downloads_all_time or 0), m.hub_id)
    if priority == "size_class":  # the smallest first: the cheapest profiles land soonest
        return lambda m: (SIZE_ORDER.index(m.size_class) if m.size_class in SIZE_ORDER else len(SIZE_ORDER),
                          m.total_params or 0, m.hub_id)
    reader = PRIORITY_READERS.get(priority)
    if reader is None:
        raise ImproperlyConfigured(f"WATCH_PRIORITY={priority}: no reader registered (the dashboards app adds 'ram')")
    return lambda m: (reader(m), m.hub_id)


def _asked(model: HubModel, revision: str, probe: str, digest: str) -> bool:
    return ProbeRun.objects.filter(model=model, probe=probe, config_hash=digest).filter(
        resolved_revision=revision).exclude(run__status=Run.Status.CANCELLED).exists()


def plan(*, since: dt.datetime | None = None, now: dt.datetime | None = None,
         resolve: Callable[[str], str] | None = hub_sha) -> list[PlanItem]:
    """One item per tracked release considered: what to queue and why (probes empty: nothing).

    `resolve=None` asks the Hub nothing (a dry run offline): every revision reads unresolved."""
    cfg = watch_config()
    now = now or timezone.now()
    last = ReleaseWatch.objects.order_by("-started_at").first()
    tracked = HubModel.objects.filter(tracked=True, created_at__isnull=False)
    watched = _watched_ids()
    if since is not None:
        fresh = tracked.filter(created_at__gte=since)
        recheck = HubModel.objects.none()
    else:
        window = tracked.filter(created_at__gte=now - dt.timedelta(days=cfg.max_age_days))
        fresh = window.exclude(pk__in=watched)
        if last is not None:
            pending = (last.counts or {}).get("unresolved", [])
            fresh = [m for m in fresh if m.created_at >= last.started_at or m.first_seen_at >= last.started_at
                     or m.hub_id in pending]
        recheck = window.filter(pk__in=watched)
    items: list[PlanItem] = []
    candidates: list[HubModel] = []
    for model in fresh:
        if model.pk in watched:
            recheck = [*recheck, model]
        elif model.total_params is None:
            items.append(PlanItem(model, "", [], "skipped: parameter count unknown (the probe caps cannot be checked)"))
        elif model.total_params > cfg.max_params_b * 1e9:
            items.append(PlanItem(model, "", [], f"skipped: {model.total_params / 1e9:.1f}B parameters is over the "
                                                 f"{cfg.max_params_b:g}B cap"))
        else:
            candidates.append(model)
    candidates.sort(key=_priority_key(cfg.priority))
    today = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    planned_today = (ProbeRun.objects.filter(run__params__watch__new=True, run__created_at__gte=today)
                     .values("model_id").distinct().count())
    room = max(0, cfg.max_per_day - planned_today)
    for rank, model in enumerate(candidates):
        if rank >= room:
            items.append(PlanItem(model, "", [], f"skipped today: WATCH_MAX_PER_DAY={cfg.max_per_day} reached "
                                                 f"(priority {cfg.priority})"))
            continue
        items.append(_pinned(model, list(cfg.probes), cfg, resolve,
                             f"new tracked release ({model.tracked_reason or 'tracked'}, created "
                             f"{model.created_at:%Y-%m-%d}, {model.total_params / 1e6:,.0f}M parameters)"))
    for model in recheck:
        if TOOLING in cfg.probes:
            items.append(_pinned(model, [TOOLING], cfg, resolve, "watched; new revision on the Hub"))
    return items


def _pinned(model: HubModel, probes: list[str], cfg: WatchConfig, resolve, why: str) -> PlanItem:
    if resolve is None:
        return PlanItem(model, "", probes, f"{why}; revision not resolved (dry run without the Hub)")
    try:
        sha = resolve(model.hub_id)
    except Exception as exc:  # the Hub is down or the repo went away: planned again next watch
        return PlanItem(model, "", [], f"{why}; revision unresolved ({exc.__class__.__name__}: {str(exc)[:120]})")
    wanted = [p for p in probes if not _asked(model, sha, p, cfg.hash(p))]
    if not wanted:
        return PlanItem(model, sha, [], "already asked for at this revision" if why.startswith("new") else
                        "watched; revision unchanged")
    return PlanItem(model, sha, wanted, why)


def queue(items: list[PlanItem], *, trigger: str, since: dt.datetime | None = None) -> ReleaseWatch:
    """Record the watch and create its probe runs, sent to the gpu queue once this commits."""
    cfg = watch_config()
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two watches at once would both pass the dedupe check
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('observatory-release-watch'))")
        watch = ReleaseWatch.objects.create(trigger=trigger[:32], since=since)
        queued, unresolved = [], []
        for item in items:
            if not item.revision:
                if item.probes or "unresolved" in item.why:
                    unresolved.append(item.model.hub_id)
                continue
            for probe in item.probes:
                if _asked(item.model, item.revision, probe, cfg.hash(probe)):
                    continue  # another watch got here first
                probe_run = services.create_probe_run(item.model.hub_id, probe, revision=item.revision,
                                                      config=cfg.overrides.get(probe))
                ProbeRun.objects.filter(pk=probe_run.pk).update(resolved_revision=item.revision)
                Run.objects.filter(pk=probe_run.run_id).update(params={
                    **probe_run.run.params, "watch": {"id": watch.pk, "new": item.why.startswith("new tracked release"),
                                                      "why": item.why[:300]}})
                services.enqueue(probe_run)
                queued.append(probe_run.pk)
        watch.counts = {"considered": len(items), "queued": len(queued), "probe_runs": queued, "unresolved": unresolved}
        watch.plan = [item.line() for item in items]
        watch.save(update_fields=["counts", "plan"])
    log.info("release watch %s (%s): %s probe runs queued for %s items", watch.pk, trigger, len(queued), len(items))
    return watch


@shared_task(name="gpu_workers.watch_releases", ignore_result=True)
def watch_releases(trigger: str = "beat") -> dict:
    watch = queue(plan(), trigger=trigger)
    return watch.counts


def needs_watch() -> bool:
    """Did a crawl, bootstrap or hub-stats import finish since the last watch started?"""
    last = ReleaseWatch.objects.order_by("-started_at").values_list("started_at", flat=True).first()
    finished = Run.objects.filter(status=Run.Status.SUCCEEDED, finished_at__isnull=False)
    finished = finished.filter(kind__in=TRIGGER_KINDS) | finished.filter(kind=Run.Kind.IMPORT, name__in=TRIGGER_IMPORTS)
    if last is not None:
        finished = finished.filter(finished_at__gte=last)
    return finished.exists()


def on_data_changed(sender=None, **kwargs) -> None:
    """catalog.runs.data_changed: after a crawl or import, watch (once its data is committed).
    Probe results send the signal too; with no crawl or import since the last watch, nothing."""
    if not settings.WATCH_ENABLED:
        return
    try:
        if needs_watch():
            transaction.on_commit(lambda: watch_releases.delay("data changed"))
    except Exception as exc:  # the broker may be down: the next crawl's watch covers this one
        log.warning("release watch not scheduled: %s", exc)
