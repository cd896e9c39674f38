"""The `gpu` queue: one probe run at a time, with heartbeats, a time budget and a reaper.

Start the worker with a fresh process per job (see README):
    celery -A observatory worker -Q gpu -c 1 --prefetch-multiplier 1 --max-tasks-per-child 1
Tasks take ids and claim their run (Run.objects.claim, like every status change here a
conditional UPDATE: observatory/catalog/run_lifecycle.py), so a redelivered message (acks_late)
does nothing once the run has been claimed, finished or reaped. A worker that consumes the gpu
queue refuses to start without the probes extra (torch, transformers, …).
"""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys
import threading
import time
import traceback

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gpu_workers.hub_tokens import hub_token
from gpu_workers.models import ProbeRun
from observatory.catalog.models import Run
from observatory.catalog.runs import Heartbeat, bump_data_version

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 2  # a run whose worker died is requeued once, then failed
GPU_QUEUE = "gpu"
PROBE_LIBRARIES = ("torch", "transformers", "peft", "gguf", "safetensors", "accelerate")  # the probes extra


@worker_init.connect
def refuse_a_gpu_worker_without_the_probe_libraries(sender=None, **kwargs) -> None:
    """Stop a worker that takes the gpu queue but could not run a probe, before it takes a run.

    The web app and the crawl workers install without torch and import this module too, so the
    libraries are imported where a probe runs, and only a gpu worker's start checks for them.
    """
    queues = sender.app.amqp.queues.consume_from if sender is not None else {}
    if GPU_QUEUE not in queues:
        return
    missing = [name for name in PROBE_LIBRARIES if importlib.util.find_spec(name) is None]
    if missing:
        message = (f"this worker consumes the {GPU_QUEUE!r} queue but cannot run probes: {', '.join(missing)} "
                   "not installed; install the probes extra (pip install -e '.[probes]') or drop the queue")
        log.critical(message)
        raise SystemExit(message)  # not an Exception: Celery logs and ignores those from a signal receiver


def send(probe_run_id: int, budget_seconds: int) -> None:
    """Send run_probe for a queued run, with its time budget as the task's limits."""
    # When it was sent: a run still queued long after, with no message in the broker, lost it
    # (gpu_workers.lost_messages).
    ProbeRun.objects.filter(pk=probe_run_id).update(sent_at=timezone.now())
    # Soft limit at the budget so the task can free the device and record the failure; hard at 1.2×.
    run_probe.apply_async(args=[probe_run_id], soft_time_limit=budget_seconds,
                          time_limit=int(budget_seconds * 1.2) + 1)


def sender(probe_run: ProbeRun):
    """What Run.objects.requeue (or on_commit) calls to send `probe_run` again."""
    pk, budget = probe_run.pk, probe_run.budget_seconds
    return lambda: send(pk, budget)


class ProgressWriter:
    """The callback the probe library calls: progress + current step on the run row, at most once a second.

    It raises ProbeInterrupted when the run was cancelled or the worker got SIGTERM, which the
    probe lets propagate at its next step.
    """

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last = 0.0
        self.stop_reason = ""

    def __call__(self, fraction: float, step: str) -> None:
        from probes.errors import ProbeInterrupted

        if self.stop_reason:
            raise ProbeInterrupted(self.stop_reason)
        now = time.monotonic()
        if now - self.last < 1.0 and fraction < 1.0:
            return
        self.last = now
        if not Run.objects.progress(self.run_id, step, fraction):
            raise ProbeInterrupted("the run was cancelled or taken over")


@shared_task(bind=True, acks_late=True, ignore_result=True)
def run_probe(self, probe_run_id: int) -> None:
    from probes.errors import DownloadFailed, ModelRefused, ProbeInterrupted, ProbeTimeout
    from probes.runner import run_probe as run_library_probe
    from probes.sources import Limits

    probe_run = ProbeRun.objects.select_related("run").filter(pk=probe_run_id).first()
    if probe_run is None or Run.objects.claim(probe_run.run_id, task_id=self.request.id or "", count_attempt=False,
                                              progress=0.0, current_step="starting") is None:
        log.info("probe run=%s gone or already claimed; nothing to do", probe_run_id)
        return
    ProbeRun.objects.filter(pk=probe_run.pk).update(attempts=probe_run.attempts + 1)
    run_id = probe_run.run_id
    progress = ProgressWriter(run_id)

    def on_sigterm(signum, frame):  # stop at the next progress report, then leave cleanly
        progress.stop_reason = "worker received SIGTERM"

    # Only the main thread may set handlers (embedded mode runs tasks in a web thread).
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, on_sigterm) if in_main else None
    interval = max(1.0, min(30.0, settings.PROBE_HEARTBEAT_STALE_SECONDS / 4))
    heartbeat = Heartbeat(run_id, interval)
    heartbeat.start()
    log.info("probe start run=%s probe=%s model=%s budget=%ss", probe_run_id, probe_run.probe, probe_run.hub_id,
             probe_run.budget_seconds)
    try:
        result = run_library_probe(
            probe_run.hub_id, probe_run.probe, revision=probe_run.resolved_revision or probe_run.revision,
            config=probe_run.config, local_sources=dict(settings.PROBE_LOCAL_SOURCES), allow_local_paths=False,
            limits=Limits(max_params_b=settings.PROBE_MAX_PARAMS_B, max_disk_gb=settings.PROBE_MAX_DISK_GB,
                          max_seconds=probe_run.budget_seconds),
            progress=progress, hf_endpoint=settings.HF_ENDPOINT, hf_token=hub_token(probe_run.pk),
            benchmarks_dir=settings.OBSERVATORY_BENCHMARKS_DIR,
        )
    except ModelRefused as exc:
        Run.objects.fail(run_id, f"refused: {exc}", step="refused")
        log.warning("probe refused run=%s error=%s", probe_run_id, exc)
    except DownloadFailed as exc:  # the Hub's trouble, not the model's: the release watch retries it
        Run.objects.fail(run_id, f"download failed: {exc}", step="download failed")
        log.warning("probe download failed run=%s error=%s", probe_run_id, exc)
    except (ProbeTimeout, SoftTimeLimitExceeded) as exc:
        Run.objects.fail(run_id, f"time budget of {probe_run.budget_seconds}s exceeded: {exc}", step="timed out")
    except ProbeInterrupted as exc:
        if progress.stop_reason:
            probe_run.refresh_from_db()
            if probe_run.attempts < MAX_ATTEMPTS:
                Run.objects.requeue(run_id, "worker shut down", restart=True, send=sender(probe_run))
            else:
                Run.objects.fail(run_id, f"interrupted: {exc}", step="interrupted")
        log.info("probe interrupted run=%s reason=%s", probe_run_id, exc)
    except Exception as exc:  # recorded on the run row; a probe failure is not worth a retry
        Run.objects.fail(run_id, f"{exc.__class__.__name__}: {exc}\n\n{traceback.format_exc(limit=8)}", step="failed")
        log.exception("probe failed run=%s", probe_run_id)
    else:
        store_result(probe_run, result)
    finally:
        heartbeat.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
        memory = free_device_memory()
        log.info("probe end run=%s device=%s allocated_after=%s", probe_run_id, memory["device"],
                 memory["allocated_bytes_after"])


def free_device_memory() -> dict:
    """Free cached device memory and say what is still allocated (0 expected after a job)."""
    import gc

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is None:  # the probe failed before loading torch: it allocated nothing on a device
        return {"device": "none", "allocated_bytes_after": 0}
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        allocated = int(torch.cuda.memory_allocated())
        if allocated:
            log.warning("device memory still allocated after probe: %s bytes", allocated)
        return {"device": "cuda", "allocated_bytes_after": allocated}
    return {"device": "cpu", "allocated_bytes_after": 0}


def store_result(probe_run: ProbeRun, result: dict) -> None:
    from gpu_workers.leaderboard import record_probe_score

    with transaction.atomic():
        ProbeRun.objects.filter(pk=probe_run.pk).update(
            result=result, resolved_revision=probe_run.resolved_revision or result["model"].get("revision", "")[:64])
        if not Run.objects.finish(probe_run.run_id, step="done", counts={"wall_seconds": result.get("wall_seconds")}):
            return  # cancelled meanwhile: keep the result for the record, but it feeds nothing
        probe_run.refresh_from_db()
        # A lab's private run feeds nothing public: its score joins the gap and the model card
        # when the lab publishes (observatory.labs.submitting.publish). The ProbeRun row is locked
        # by the update above, so a publish racing this sees the run either before or after.
        if probe_run.public:
            record_probe_score(probe_run)
    bump_data_version()


@shared_task(ignore_result=True)
def reap_stale_runs() -> dict:
    """Runs whose heartbeat went stale (their worker died): requeue once, then fail. Never left running."""
    cutoff = timezone.now() - timezone.timedelta(seconds=settings.PROBE_HEARTBEAT_STALE_SECONDS)
    counts = {"requeued": 0, "failed": 0}
    stale = ProbeRun.objects.select_related("run").filter(run__status=Run.Status.RUNNING, run__heartbeat_at__lt=cutoff)
    for probe_run in stale:
        with transaction.atomic():
            if probe_run.attempts < MAX_ATTEMPTS:
                if Run.objects.requeue(probe_run.run_id,
                                       f"worker lost (no heartbeat since {probe_run.run.heartbeat_at:%H:%M:%S})",
                                       restart=True, stale_before=cutoff, send=sender(probe_run)):
                    counts["requeued"] += 1
            elif Run.objects.fail(probe_run.run_id, f"worker lost: no heartbeat since {probe_run.run.heartbeat_at.isoformat()} "
                                  f"after {probe_run.attempts} attempts; not requeued again",
                                  step="worker lost", stale_before=cutoff):
                counts["failed"] += 1
    if any(counts.values()):
        log.warning("reaped stale probe runs %s", counts)
    return counts


@shared_task(ignore_result=True)
def resend_lost_probe_runs() -> dict:
    """Probe runs queued for PROBE_QUEUED_RESEND_SECONDS since their last send whose message is in
    no broker queue and held by no worker (gpu_workers.lost_messages): re-sent at most
    PROBE_MAX_RESENDS times, then failed. Either way the run row says so."""
    from django.db.models import Q

    from gpu_workers.lost_messages import probe_runs_in_broker

    bound, most = settings.PROBE_QUEUED_RESEND_SECONDS, settings.PROBE_MAX_RESENDS
    cutoff = timezone.now() - timezone.timedelta(seconds=bound)
    counts = {"resent": 0, "failed": 0}
    waiting = list(ProbeRun.objects.select_related("run").filter(run__status=Run.Status.QUEUED).filter(
        Q(sent_at__lt=cutoff) | Q(sent_at__isnull=True, run__created_at__lt=cutoff)).order_by("pk"))
    if not waiting:
        return counts
    in_broker = probe_runs_in_broker()
    if in_broker is None:
        log.info("broker cannot be inspected; %s long-queued probe run(s) left alone", len(waiting))
        return counts
    for probe_run in waiting:
        if probe_run.pk in in_broker:
            continue  # waiting its turn behind other runs, not lost
        with transaction.atomic():
            if probe_run.resends < most:
                if ProbeRun.objects.filter(pk=probe_run.pk, resends=probe_run.resends).update(
                        resends=probe_run.resends + 1) != 1:
                    continue  # another beat got it first
                Run.objects.filter(pk=probe_run.run_id, status=Run.Status.QUEUED).update(
                    current_step=f"re-sent ({probe_run.resends + 1} of {most}): its queue message was lost, "
                                 f"no worker took it within {bound}s"[:200])
                transaction.on_commit(sender(probe_run))
                counts["resent"] += 1
            elif Run.objects.fail(
                    probe_run.run_id, step="lost in the queue", from_statuses=(Run.Status.QUEUED,),
                    error=f"lost in the queue: its broker message was lost and no worker took it; re-sent "
                          f"{probe_run.resends} time(s), it was lost again each time (none in the broker "
                          f"{bound}s after the send). Failed so that it no longer counts against the lab's "
                          "active runs: submit it again once the gpu queue is healthy."):
                counts["failed"] += 1
    if any(counts.values()):
        log.warning("probe runs lost in the queue %s", counts)
    return counts
