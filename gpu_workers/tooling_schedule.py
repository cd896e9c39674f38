"""Beat's tooling re-checks: every watched model is checked again at TOOLING_CHECK_DAYS after its
release and whenever a revision appears that no tooling check ran on (gpu_workers.readiness.due).

A new revision is the Hub's sha as the last crawl stored it (HubModel.sha; without one, the
newest commit a probe run was pinned to) when no tooling check ran on it. A watched model is one
with a public tooling run already (the release watch's first check, or a published submission).
Beat runs this hourly; a check already asked for (queued, running or done)
counts, so a second beat in the same day queues nothing and missed days are caught up once.
Imported by the worker through CELERY_IMPORTS (gpu_workers.tasks holds the probe tasks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gpu_workers import readiness, services
from gpu_workers.models import ProbeRun
from gpu_workers.tooling_checks import TOOLING, release_day
from observatory.catalog.models import HubModel, Run


@dataclasses.dataclass(frozen=True)
class Due:
    model: HubModel
    revision: str  # asked for: the new revision, or "" (the default branch) for a day's check
    reason: str


def _revisions_seen(model_ids: list[int]) -> dict[int, str]:
    """Each model's newest revision any public probe run was pinned to (the watch pins its runs
    to the Hub's sha, so a moved sha shows up here first)."""
    newest: dict[int, str] = {}
    for model_id, revision in (ProbeRun.objects.filter(model_id__in=model_ids, public=True)
                               .exclude(resolved_revision="").order_by("run__created_at", "pk")
                               .values_list("model_id", "resolved_revision")):
        newest[model_id] = revision
    return newest


def due_checks(*, today: dt.date | None = None, days: tuple[int, ...] | None = None) -> list[Due]:
    """The watched models a tooling check is due for today, those released first first."""
    today = today or timezone.now().astimezone(dt.UTC).date()
    days = tuple(days or settings.TOOLING_CHECK_DAYS)
    asked: dict[int, list[tuple[dt.date, str]]] = {}
    tooling = (ProbeRun.objects.filter(probe=TOOLING, public=True, model__isnull=False)
               .exclude(run__status=Run.Status.CANCELLED)
               .values_list("model_id", "run__created_at", "resolved_revision", "revision"))
    for model_id, created, resolved, revision in tooling:
        asked.setdefault(model_id, []).append((created.astimezone(dt.UTC).date(), resolved or revision))
    models = HubModel.objects.filter(pk__in=list(asked))
    revisions = _revisions_seen(list(asked))
    out = []
    for model in models:
        release = release_day(model)
        if release is None:
            continue
        # The crawl's stored sha is the Hub's current commit; without one, the newest pinned run's.
        current = model.sha or revisions.get(model.pk, "")
        reason = readiness.due(release, asked[model.pk], today=today, current_revision=current, days=days)
        if reason:
            out.append(Due(model, current if reason.startswith("new revision") else "", reason))
    return sorted(out, key=lambda d: (release_day(d.model), d.model.hub_id))


def queue_due_checks(*, today: dt.date | None = None, limit: int | None = None) -> list[Due]:
    """Queue the due checks (at most `limit`, TOOLING_CHECKS_PER_RUN) on the gpu queue after commit."""
    chosen = due_checks(today=today)[:settings.TOOLING_CHECKS_PER_RUN if limit is None else limit]
    with transaction.atomic():
        for item in chosen:
            services.enqueue(services.create_probe_run(item.model.hub_id, TOOLING, revision=item.revision))
    return chosen


@shared_task(ignore_result=True)
def schedule_tooling_checks() -> dict:
    chosen = queue_due_checks()
    return {"queued": len(chosen), "models": [f"{d.model.hub_id}: {d.reason}" for d in chosen]}
