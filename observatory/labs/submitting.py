"""Accept, deduplicate, cancel and publish submissions; describe their runs for pages and the API.

A submission becomes one gpu_workers ProbeRun per probe, created through gpu_workers.services and
enqueued only after the transaction commits (enqueue uses transaction.on_commit).
"""

from __future__ import annotations

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from observatory.catalog.models import Run
from observatory.labs import access_tokens, audit, limits, pinning
from observatory.labs.models import AuditEvent, Lab, Submission
from observatory.labs.validation import SubmissionRequest

ACTIVE = (Run.Status.QUEUED, Run.Status.RUNNING)
UNSUCCESSFUL = (Run.Status.FAILED, Run.Status.CANCELLED)


def submission_hash(req: SubmissionRequest) -> str:
    """The submission's probes and their overrides, hashed: what makes two submissions of one model
    version duplicates (stored as Submission.config_hash). Not a probe config hash
    (probes.result.config_hash hashes one probe's full config, which results compare by)."""
    canonical = json.dumps({"probes": list(req.probes), "config": req.config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_duplicate(lab: Lab, hub_id: str, resolved_revision: str, chash: str) -> Submission | None:
    """The lab's earlier submission of the same model version and probe config, unless it failed or was cancelled."""
    candidates = Submission.objects.filter(lab=lab, hub_id=hub_id, resolved_revision=resolved_revision,
                                           config_hash=chash).order_by("-created_at")
    for candidate in candidates:
        if not candidate.probe_runs.filter(run__status__in=UNSUCCESSFUL).exists():
            return candidate
    return None


def submit(lab: Lab, req: SubmissionRequest, *, user=None, token=None, request=None) -> tuple[Submission, bool]:
    """Accept `req` for `lab`: returns (submission, created). Raises pinning.Refused or limits.LimitExceeded."""
    from gpu_workers import services as gpu

    limits.check_submission_allowed(lab)
    pin = pinning.pin(req.hub_id, req.revision, req.access_token)
    chash = submission_hash(req)
    with transaction.atomic():
        # One submission at a time per lab: the duplicate check and both quotas (daily, active runs)
        # see each other's rows. Checked outside this lock, 8 concurrent submissions passed a cap of 5.
        Lab.objects.select_for_update().get(pk=lab.pk)
        existing = find_duplicate(lab, req.hub_id, pin.resolved_revision, chash)
        if existing is not None:
            audit.record(AuditEvent.Action.SUBMISSION_DUPLICATE, request=request, lab=lab, user=user, token=token,
                         submission=existing)
            return existing, False
        limits.check_daily_quota(lab)
        limits.check_active_runs(lab, len(req.probes))
        submission = Submission.objects.create(
            lab=lab, submitted_by=user, token=token, hub_id=req.hub_id, revision=req.revision,
            resolved_revision=pin.resolved_revision, pin_kind=pin.pin_kind, probes=list(req.probes),
            config_hash=chash, visibility=req.visibility, gated=pin.gated,
            published_at=timezone.now() if req.visibility == Submission.Visibility.PUBLIC else None,
        )
        # A Hub model runs at its pinned commit; a registered local copy is the only version there is.
        run_revision = pin.resolved_revision if pin.pin_kind == Submission.PinKind.HUB_COMMIT else ""
        for probe in req.probes:
            try:
                probe_run = gpu.create_probe_run(req.hub_id, probe, revision=run_revision,
                                                 config=req.config.get(probe) or None,
                                                 public=req.visibility == Submission.Visibility.PUBLIC)
            except ValueError as exc:  # the probe library refused the config; the transaction rolls back
                raise pinning.Refused("config", str(exc)) from None
            if probe_run.resolved_revision != pin.resolved_revision:
                probe_run.resolved_revision = pin.resolved_revision
                probe_run.save(update_fields=["resolved_revision"])
            submission.probe_runs.add(probe_run)
            if req.access_token:
                access_tokens.store(probe_run, req.access_token)
            gpu.enqueue(probe_run)
        audit.record(AuditEvent.Action.SUBMISSION_CREATED, request=request, lab=lab, user=user, token=token,
                     submission=submission, hub_id=req.hub_id, resolved_revision=pin.resolved_revision,
                     pin_kind=pin.pin_kind, probes=list(req.probes), visibility=req.visibility)
    return submission, True


def cancel(submission: Submission, *, user=None, token=None, request=None) -> int:
    """Cancel its queued and running runs; returns how many were asked to stop."""
    from gpu_workers import services as gpu

    count = 0
    for probe_run in submission.probe_runs.select_related("run").filter(run__status__in=ACTIVE):
        gpu.cancel(probe_run)
        count += 1
    access_tokens.purge_ended()  # a cancelled run's Hub token goes at once
    audit.record(AuditEvent.Action.SUBMISSION_CANCELLED, request=request, lab=submission.lab, user=user, token=token,
                 submission=submission, runs=count)
    return count


def publish(submission: Submission, *, user=None, token=None, request=None) -> bool:
    """Make the submission and its runs public; True if it was private until now.

    Its finished benchmark scores then feed the public leaderboard (the gap's probe source, the
    model card) exactly once: a second publish changes nothing, and a run still going feeds it
    when it ends (gpu_workers.tasks.store_result sees it public). Cached public metrics move on
    with the data version.
    """
    from gpu_workers.leaderboard import record_probe_score
    from gpu_workers.models import ProbeRun
    from observatory.catalog.runs import bump_data_version

    with transaction.atomic():
        changed = Submission.objects.filter(pk=submission.pk, visibility=Submission.Visibility.PRIVATE).update(
            visibility=Submission.Visibility.PUBLIC, published_at=timezone.now())
        # Locks the runs' rows: a worker storing a result waits for this, or this for it.
        submission.probe_runs.update(public=True)
        if changed:
            finished = ProbeRun.objects.filter(submissions=submission, run__status=Run.Status.SUCCEEDED,
                                               result__isnull=False).select_related("run", "model__organization")
            for probe_run in finished.order_by("run__finished_at"):
                record_probe_score(probe_run)
    submission.refresh_from_db()
    if changed:
        # Committed: public pages now show these runs (gap, model card, profile), so the cached
        # ones move on, as after a probe run's own result (store_result).
        bump_data_version()
        audit.record(AuditEvent.Action.SUBMISSION_PUBLISHED, request=request, lab=submission.lab, user=user,
                     token=token, submission=submission)
    return bool(changed)


def overall_status(statuses: list[str]) -> str:
    if not statuses:
        return Run.Status.QUEUED
    if Run.Status.RUNNING in statuses:
        return Run.Status.RUNNING
    if Run.Status.QUEUED in statuses:
        return Run.Status.QUEUED
    if all(s == Run.Status.SUCCEEDED for s in statuses):
        return Run.Status.SUCCEEDED
    if Run.Status.FAILED in statuses:
        return Run.Status.FAILED
    return Run.Status.CANCELLED


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def describe(submission: Submission, *, with_results: bool = False) -> dict:
    runs = []
    for probe_run in submission.probe_runs.select_related("run").order_by("probe"):
        run = probe_run.run
        entry = {
            "id": probe_run.pk,
            "probe": probe_run.probe,
            "status": run.status,
            "progress": round(float(run.progress or 0.0), 4),
            "current_step": run.current_step,
            "error": run.error[:2000] if run.status == Run.Status.FAILED else "",
            "created_at": _iso(run.created_at),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "config": probe_run.config,
            "config_hash": probe_run.config_hash,
        }
        if with_results:
            entry["result"] = probe_run.result
        runs.append(entry)
    statuses = [r["status"] for r in runs]
    return {
        "id": submission.pk,
        "lab": submission.lab.slug,
        "hub_id": submission.hub_id,
        "revision": submission.revision,
        "resolved_revision": submission.resolved_revision,
        "pin_kind": submission.pin_kind,
        "probes": submission.probes,
        "visibility": submission.visibility,
        "published_at": _iso(submission.published_at),
        "gated": submission.gated,
        "created_at": _iso(submission.created_at),
        "status": overall_status(statuses),
        "progress": round(sum(r["progress"] for r in runs) / len(runs), 4) if runs else 0.0,
        "runs": runs,
    }


def artefacts(submission: Submission) -> dict:
    """Everything needed to reproduce the runs: pinned version, probe configs, and each run's result record
    (item-set hashes, library versions, seeds and device are recorded there by the probe)."""
    body = describe(submission, with_results=True)
    body["reproduce"] = {
        "note": ("pinned to a Hub commit" if submission.pin_kind == Submission.PinKind.HUB_COMMIT
                 else "pinned to the SHA-256 of the locally registered weight files (no Hub commit)"),
        "hub_id": submission.hub_id,
        "resolved_revision": submission.resolved_revision,
    }
    return body
