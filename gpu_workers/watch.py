"""The release watch: every newly seen tracked release gets a probe plan on the `gpu` queue.

After a crawl, a hub-stats import or a bootstrap finishes (catalog.runs.data_changed, connected
in GpuWorkersConfig.ready), the `watch_releases` task plans and queues; `manage.py
watch_releases` prints the same plan. The policy is the admin's WatchPolicy when one is saved,
else the WATCH_* settings (gpu_workers.watch_policy). A release is planned when it is
- tracked by the policy (HubModel.tracked),
- new: created since the last watch, or first seen since then (a crawl that found it late),
  and released at most max-age days ago (an explicit --since replaces both), and
- within the caps: its parameter count known and at most the size cap (and the probes'
  PROBE_MAX_PARAMS_B); at most max-per-day new models a day, the first by the priority.
Each is pinned to the commit the Hub reports: the `sha` the last crawl stored on HubModel, or,
for a model stored without one, model_info's. A run already asked for the same (model,
revision, probe, config hash) is not asked again, so a second crawl queues nothing. A watched
model whose stored sha moved gets its tooling probe again (the readiness timeline,
gpu_workers.tooling_schedule, reads that run). The benchmark probe is planned once per public
set too, on its fixed subset (WATCH_PUBLIC_SETS; whole on a CUDA fleet, WATCH_GPU_HOSTS). A
watched run that failed for a transient reason is asked again by a later watch, with backoff
and a bound; a permanent failure never is (gpu_workers.watch_retries).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from gpu_workers import services, watch_policy, watch_retries
from gpu_workers.models import ProbeRun, ReleaseWatch
from gpu_workers.watch_policy import Ask
from observatory.catalog.models import HubModel, Run

log = logging.getLogger(__name__)
TOOLING = "tooling"  # the probe a new revision re-runs
SIZE_ORDER = ("<1B", "1-5B", "5-10B", "10-50B", "50-100B", "100-250B", ">250B")
TRIGGER_KINDS = (Run.Kind.CRAWL, Run.Kind.BOOTSTRAP)
TRIGGER_IMPORTS = ("import:hubstats",)
# Other apps may add a priority reader (model → sort key, smaller first): RAM lives in the
# dashboards layer, which registers "ram" (observatory.dashboards.apps); gpu_workers imports nothing above it.
PRIORITY_READERS: dict[str, Callable[[HubModel], float]] = {}


WatchConfig = watch_policy.WatchConfig


def watch_config() -> WatchConfig:
    """The policy in force: the admin's WatchPolicy when one is saved, else the WATCH_* settings
    (checked: a wrong one names itself, ImproperlyConfigured, never a worker error)."""
    return watch_policy.effective()


@dataclasses.dataclass
class PlanItem:
    model: HubModel
    revision: str  # the Hub's commit sha; "" when it could not be resolved
    asks: list[Ask]
    why: str

    @property
    def probes(self) -> list[str]:
        """The runs to queue as the plan names them: `benchmark`, `benchmark:hellaswag`, `tooling`…"""
        return [ask.label for ask in self.asks]

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
    """Any run, not cancelled, of this (model, revision, probe, config hash). A run queued with a
    revision but not yet pinned (a tooling re-check asks for the sha itself) counts too. A failed
    one counts as well: whether it is asked again is watch_retries' decision, not a new plan's."""
    return ProbeRun.objects.filter(model=model, probe=probe, config_hash=digest).filter(
        Q(resolved_revision=revision) | Q(resolved_revision="", revision=revision)).exclude(
        run__status=Run.Status.CANCELLED).exists()


def plan(*, since: dt.datetime | None = None, now: dt.datetime | None = None,
         resolve: Callable[[str], str] | None = hub_sha) -> list[PlanItem]:
    """One item per tracked release considered: what to queue and why (probes empty: nothing).

    A model's revision is the sha the last crawl stored (HubModel.sha); only a model without one
    is asked about (`resolve`, model_info). `resolve=None` asks the Hub nothing (a dry run
    offline): those revisions read unresolved."""
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
    cap = "WATCH_MAX_PER_DAY" if cfg.source == "settings" else "the admin's max per day"
    for rank, model in enumerate(candidates):
        if rank >= room:
            items.append(PlanItem(model, "", [], f"skipped today: {cap}={cfg.max_per_day} reached "
                                                 f"(priority {cfg.priority})"))
            continue
        items.append(_pinned(model, cfg.asks(), resolve,
                             f"new tracked release ({model.tracked_reason or 'tracked'}, created "
                             f"{model.created_at:%Y-%m-%d}, {model.total_params / 1e6:,.0f}M parameters)"))
    for model in recheck:
        if TOOLING in cfg.probes:
            items.append(_pinned(model, cfg.asks([TOOLING]), resolve, "watched; new revision on the Hub"))
    if since is None:
        _add_retries(items, now)
    return items


def _pinned(model: HubModel, asks: list[Ask], resolve, why: str) -> PlanItem:
    sha = model.sha or ""
    if not sha:
        if resolve is None:
            return PlanItem(model, "", asks, f"{why}; revision not resolved (dry run without the Hub)")
        try:
            sha = resolve(model.hub_id)
        except Exception as exc:  # the Hub is down or the repo went away: planned again next watch
            return PlanItem(model, "", [], f"{why}; revision unresolved ({exc.__class__.__name__}: {str(exc)[:120]})")
    wanted = [ask for ask in asks if not _asked(model, sha, ask.probe, ask.hash())]
    if not wanted:
        return PlanItem(model, sha, [], "already asked for at this revision" if why.startswith("new") else
                        "watched; revision unchanged")
    return PlanItem(model, sha, wanted, why)


def _add_retries(items: list[PlanItem], now: dt.datetime) -> None:
    """Failed watched runs due again (gpu_workers.watch_retries) join their model's line; those
    backing off or given up are said there too. A model with nothing else gets a line of its own."""
    for retry in watch_retries.pending(now=now):
        item = next((i for i in items if i.model.pk == retry.model.pk and (i.revision == retry.revision
                                                                           or not i.asks)), None)
        if item is None:
            item = PlanItem(retry.model, retry.revision, [], "watched")
            items.append(item)
        if retry.verdict.action == "retry":
            if not item.asks:
                item.revision, item.why = retry.revision, "watched"
            item.asks.append(retry.ask)
        item.why = f"{item.why}; {retry.why}"


def queue(items: list[PlanItem], *, trigger: str, since: dt.datetime | None = None,
          now: dt.datetime | None = None) -> ReleaseWatch:
    """Record the watch and create its probe runs, sent to the gpu queue once this commits.
    A retry is checked again here, at `now` (the plan's), under the watch's lock."""
    now = now or timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":  # two watches at once would both pass the dedupe check
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext('observatory-release-watch'))")
        watch = ReleaseWatch.objects.create(trigger=trigger[:32], since=since)
        queued, unresolved = [], []
        for item in items:
            if not item.revision:
                if item.asks or "unresolved" in item.why:
                    unresolved.append(item.model.hub_id)
                continue
            for ask in item.asks:
                if ask.attempt > 1:
                    if not watch_retries.still_due(item.model, item.revision, ask, now=now):
                        continue  # another watch retried it first, or it succeeded meanwhile
                elif _asked(item.model, item.revision, ask.probe, ask.hash()):
                    continue  # another watch got here first
                probe_run = services.create_probe_run(item.model.hub_id, ask.probe, revision=item.revision,
                                                      config=ask.overrides)
                ProbeRun.objects.filter(pk=probe_run.pk).update(resolved_revision=item.revision)
                marks = {"id": watch.pk, "new": item.why.startswith("new tracked release"), "why": item.why[:300],
                         "label": ask.label, **({"attempt": ask.attempt} if ask.attempt > 1 else {})}
                Run.objects.filter(pk=probe_run.run_id).update(params={**probe_run.run.params, "watch": marks})
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
