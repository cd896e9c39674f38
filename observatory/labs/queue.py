"""The public probe queue: what runs now, what waits, each one's position and estimated start.

Estimates assume the runs go first-in first-out through the GPU workers, each taking the median
duration of finished runs of its probe (the last 50 that succeeded); a running run is expected to
need the rest of that median in proportion to its progress. Private runs hold places in the line
too, so positions count them, but only public runs are listed.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from observatory.catalog.models import Run


@dataclass
class QueueRow:
    probe_run_id: int
    hub_id: str
    probe: str
    status: str
    public: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    progress: float
    current_step: str
    position: int = 0
    estimated_start: dt.datetime | None = None


def median_durations(limit: int = 50) -> dict[str, float]:
    from gpu_workers.models import ProbeRun

    medians = {}
    for probe in ProbeRun.objects.values_list("probe", flat=True).distinct():
        rows = (
            ProbeRun.objects.filter(probe=probe, run__status=Run.Status.SUCCEEDED, run__started_at__isnull=False,
                                    run__finished_at__isnull=False)
            .annotate(took=F("run__finished_at") - F("run__started_at"))
            .order_by("-run__finished_at")
            .values_list("took", flat=True)[:limit]
        )
        seconds = [d.total_seconds() for d in rows if d is not None]
        if seconds:
            medians[probe] = statistics.median(seconds)
    return medians


def estimate(rows: list[QueueRow], medians: dict[str, float], now: dt.datetime, workers: int = 1) -> list[QueueRow]:
    """Fill in position and estimated_start (None where a probe has no finished runs to go by)."""
    workers = max(1, workers)
    running = [r for r in rows if r.status == Run.Status.RUNNING]
    waiting = sorted((r for r in rows if r.status == Run.Status.QUEUED), key=lambda r: (r.created_at, r.probe_run_id))
    # Per worker slot: when it frees up (None once an unknown duration is involved).
    free_at: list[dt.datetime | None] = []
    for row in sorted(running, key=lambda r: (r.started_at or r.created_at, r.probe_run_id)):
        row.position = 0
        row.estimated_start = row.started_at
        median = medians.get(row.probe)
        if median is None:
            free_at.append(None)
        else:
            free_at.append(now + dt.timedelta(seconds=median * (1.0 - min(max(row.progress, 0.0), 1.0))))
    while len(free_at) < workers:
        free_at.append(now)
    for position, row in enumerate(waiting, start=1):
        row.position = position
        known = [t for t in free_at if t is not None]
        slot_time = min(known) if known and len(known) == len(free_at) else None
        row.estimated_start = slot_time
        median = medians.get(row.probe)
        index = free_at.index(slot_time) if slot_time is not None else 0
        free_at[index] = slot_time + dt.timedelta(seconds=median) if slot_time is not None and median is not None \
            else None
    return running + waiting


def snapshot(workers: int = 1) -> list[QueueRow]:
    from gpu_workers.models import ProbeRun

    rows = [
        QueueRow(probe_run_id=p.pk, hub_id=p.hub_id, probe=p.probe, status=p.run.status, public=p.public,
                 created_at=p.run.created_at, started_at=p.run.started_at, progress=float(p.run.progress or 0.0),
                 current_step=p.run.current_step)
        for p in ProbeRun.objects.select_related("run").filter(run__status__in=(Run.Status.QUEUED, Run.Status.RUNNING))
    ]
    return estimate(rows, median_durations(), timezone.now(), workers)
