"""Which failed watched runs a later release watch asks for again, and when.

A probe run's failure is recorded by Run.objects.fail with a step naming its kind
(gpu_workers.tasks). Some say nothing about the model and may pass on another try:
TRANSIENT_STEPS (its worker was lost, it ran past its time budget on a busy host, the Hub's
download failed, its queue message was lost, its worker was shut down). The rest are permanent:
`refused` (pickle-only weights, a config asking for custom code, over a size cap, gated, gone)
and `failed` (the probe raised: the same code on the same files raises again); they are never
asked again.

Runs are keyed as the watch deduplicates them: (model, revision, probe, config hash). A key with
a run queued, running or succeeded is never asked again, whatever failed before; one with a
permanent failure never; one whose transient failures reached WATCH_RETRY_MAX_ATTEMPTS is given
up. Otherwise its n-th retry is due WATCH_RETRY_BACKOFF_MINUTES × 2^(n-1) after its last failure.
A retry re-asks the failed run's own stored config, so it lands on the same key even when the
policy changed since.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings

from gpu_workers.models import ProbeRun
from gpu_workers.watch_policy import BENCHMARK, Ask
from observatory.catalog.models import HubModel, Run
from probes.public_sets import NAMES as PUBLIC_SETS

TRANSIENT_STEPS = frozenset({"worker lost", "timed out", "download failed", "lost in the queue", "interrupted"})
LIVE = (Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.SUCCEEDED)


@dataclasses.dataclass(frozen=True)
class Verdict:
    action: str  # "retry", "wait" (backoff not over), "never" (permanent), "gave up", "done" (live or succeeded)
    failures: int = 0
    due_at: dt.datetime | None = None
    step: str = ""


def decide(runs: list[tuple[str, str, dt.datetime | None]], *, now: dt.datetime, max_attempts: int,
           backoff_minutes: float) -> Verdict:
    """One key's runs as (status, step, finished_at) → what a watch at `now` does about it."""
    if any(status in LIVE for status, _, _ in runs):
        return Verdict("done")
    failed = [(step, finished) for status, step, finished in runs if status == Run.Status.FAILED]
    if not failed:
        return Verdict("done")  # cancelled only: someone chose to stop it
    permanent = [step for step, _ in failed if step not in TRANSIENT_STEPS]
    if permanent:
        return Verdict("never", len(failed), step=permanent[0])
    last = max((finished for _, finished in failed if finished is not None), default=now)
    step = max(failed, key=lambda x: x[1] or now)[0]  # the latest failure's kind
    if len(failed) >= max_attempts:
        return Verdict("gave up", len(failed), step=step)
    due_at = last + dt.timedelta(minutes=backoff_minutes * 2 ** (len(failed) - 1))
    return Verdict("retry" if now >= due_at else "wait", len(failed), due_at, step)


@dataclasses.dataclass(frozen=True)
class Retry:
    model: HubModel
    revision: str
    ask: Ask
    verdict: Verdict

    @property
    def why(self) -> str:
        limit = settings.WATCH_RETRY_MAX_ATTEMPTS
        if self.verdict.action == "retry":
            return f"retry {self.ask.label} (attempt {self.ask.attempt} of {limit}: the last one {self.verdict.step})"
        if self.verdict.action == "wait":
            return f"{self.ask.label} retried after {self.verdict.due_at:%Y-%m-%d %H:%M} UTC (the last attempt " \
                   f"{self.verdict.step})"
        return f"{self.ask.label} given up after {self.verdict.failures} attempts (the last {self.verdict.step})"


def _label(probe: str, config: dict) -> str:
    item_set = config.get("item_set") if probe == BENCHMARK else None
    return f"{probe}:{item_set}" if item_set in PUBLIC_SETS else probe


def _runs_by_key(model_ids: set[int]) -> dict[tuple, list]:
    keys: dict[tuple, list] = {}
    rows = (ProbeRun.objects.filter(model_id__in=model_ids).exclude(run__status=Run.Status.CANCELLED)
            .values_list("model_id", "resolved_revision", "revision", "probe", "config_hash", "config",
                         "run__status", "run__current_step", "run__finished_at", "run__params"))
    for model_id, resolved, revision, probe, digest, config, status, step, finished, params in rows:
        entry = keys.setdefault((model_id, resolved or revision, probe, digest),
                                {"config": config, "runs": [], "watched": False})
        entry["runs"].append((status, step, finished))
        entry["watched"] = entry["watched"] or "watch" in (params or {})
    return keys


def pending(*, now: dt.datetime) -> list[Retry]:
    """Every failed watched key not settled for good: due retries ("retry"), those still backing off
    ("wait") and those given up this time round are all returned, so the plan can say so."""
    failed_models = set(ProbeRun.objects.filter(run__params__has_key="watch", run__status=Run.Status.FAILED,
                                                model__isnull=False).values_list("model_id", flat=True))
    if not failed_models:
        return []
    models = HubModel.objects.in_bulk(failed_models)
    out = []
    for (model_id, revision, probe, _), entry in sorted(_runs_by_key(failed_models).items(),
                                                         key=lambda kv: (kv[0][0], kv[0][2], kv[0][3])):
        if not entry["watched"] or not revision:
            continue
        verdict = decide(entry["runs"], now=now, max_attempts=settings.WATCH_RETRY_MAX_ATTEMPTS,
                         backoff_minutes=settings.WATCH_RETRY_BACKOFF_MINUTES)
        if verdict.action in ("retry", "wait", "gave up"):
            ask = Ask(probe, dict(entry["config"]), _label(probe, entry["config"]), attempt=verdict.failures + 1)
            out.append(Retry(models[model_id], revision, ask, verdict))
    return out


def still_due(model: HubModel, revision: str, ask: Ask, *, now: dt.datetime) -> bool:
    """At queue time, under the watch's lock: the retry is still due and no other watch took it."""
    runs = _runs_by_key({model.pk}).get((model.pk, revision, ask.probe, ask.hash()), {"runs": []})["runs"]
    verdict = decide(runs, now=now, max_attempts=settings.WATCH_RETRY_MAX_ATTEMPTS,
                     backoff_minutes=settings.WATCH_RETRY_BACKOFF_MINUTES)
    return verdict.action == "retry" and verdict.failures + 1 == ask.attempt
