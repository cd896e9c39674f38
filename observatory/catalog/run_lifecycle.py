"""Every status change of a Run (imports, bootstraps, crawls, probes): `Run.objects.<transition>`.

    queued ──claim──▶ running ──finish──▶ succeeded
      ▲                 │ ──fail────▶ failed        (also queued → failed: a message lost for good)
      └────requeue──────┘ ──cancel──▶ cancelled     (also queued → cancelled)

Each transition is one UPDATE conditioned on the status it leaves (claim takes the row's lock
first, to count the attempt in the same step), and says whether it happened. So a redelivered
message, a reaper and a cancel can race each other: exactly one of them moves the run, and the
others see False and do nothing. Nothing here imports the model (models.py imports this), nor
anything above the catalog.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

ERROR_CHARS = 20_000  # a traceback is kept, a runaway message is cut
STEP_CHARS = 200  # Run.current_step's max_length


class RunQuerySet(models.QuerySet):
    def _moves(self, pk: int, from_statuses: Iterable[str], **conditions) -> models.QuerySet:
        return self.filter(pk=pk, status__in=list(from_statuses), **conditions)

    def queue(self, *, send: Callable | None = None, **fields):
        """Create a queued run; `send(run)` (which sends its task) runs once the row is committed,
        because a worker must be able to read the row the message names."""
        run = self.create(status=self.model.Status.QUEUED, **fields)
        if send is not None:
            transaction.on_commit(lambda: send(run))
        return run

    def start(self, **fields):
        """A run recorded inside the process doing the work (a command-line import): running at once."""
        now = timezone.now()
        return self.create(status=self.model.Status.RUNNING, started_at=now, heartbeat_at=now, **fields)

    def claim(self, pk: int, *, task_id: str = "", count_attempt: bool = True, **fields):
        """queued → running, exactly once: the run, or None if it is gone or another worker has it.

        Under the row's lock, so the attempt counted in cursor["attempts"] (which the import
        reaper reads to re-send a killed run once) is never lost to a concurrent claim. A probe
        counts its attempts on its ProbeRun instead (count_attempt=False).
        """
        Status = self.model.Status
        now = timezone.now()
        with transaction.atomic():
            run = self.select_for_update()._moves(pk, (Status.QUEUED,)).first()
            if run is None:
                return None
            changes = {"status": Status.RUNNING, "started_at": now, "heartbeat_at": now, "error": "",
                       "task_id": task_id[:64], **fields}
            if count_attempt:
                changes["cursor"] = {**run.cursor, "attempts": int(run.cursor.get("attempts", 0)) + 1}
            self.filter(pk=pk).update(**changes)
        for name, value in changes.items():
            setattr(run, name, value)
        return run

    def heartbeat(self, pk: int, *, from_statuses: Iterable[str] | None = None, **fields) -> bool:
        """The worker is alive: heartbeat_at now (and, say, the newest progress), while it still runs."""
        statuses = from_statuses or (self.model.Status.RUNNING,)
        return self._moves(pk, statuses).update(heartbeat_at=timezone.now(), **fields) == 1

    def progress(self, pk: int, step: str, fraction: float | None = None) -> bool:
        """What the run is doing now; False once it was cancelled or taken over (the worker stops)."""
        fields = {"current_step": step[:STEP_CHARS]}
        if fraction is not None:
            fields["progress"] = fraction
        return self.heartbeat(pk, **fields)

    def advance(self, pk: int, *, cursor: dict, counts: dict, step: str, fraction: float, done: bool) -> bool:
        """A crawl applied one page: its checkpoint moves on, queued/running → running, or → succeeded
        with the last page. The caller holds the row's lock and applied the page in the same transaction."""
        Status = self.model.Status
        now = timezone.now()
        fields = {"cursor": cursor, "counts": counts, "current_step": step[:STEP_CHARS], "progress": fraction,
                  "heartbeat_at": now, "started_at": Coalesce("started_at", now),
                  "status": Status.SUCCEEDED if done else Status.RUNNING}
        if done:
            fields["finished_at"] = now
        return self._moves(pk, (Status.QUEUED, Status.RUNNING)).update(**fields) == 1

    def finish(self, pk: int, *, counts: dict | None = None, step: str = "") -> bool:
        """running → succeeded. False if a cancel or a reaper moved the run first."""
        fields = {"status": self.model.Status.SUCCEEDED, "finished_at": timezone.now(), "progress": 1.0, "error": ""}
        if counts is not None:
            fields["counts"] = counts
        if step:
            fields["current_step"] = step[:STEP_CHARS]
        return self._moves(pk, (self.model.Status.RUNNING,)).update(**fields) == 1

    def fail(self, pk: int, error: str, *, step: str = "", from_statuses: Iterable[str] | None = None,
             stale_before=None) -> bool:
        """running (or, where said, queued) → failed with its reason. A reaper passes `stale_before`:
        it fails the run only if its heartbeat is still older than that when the UPDATE runs."""
        fields = {"status": self.model.Status.FAILED, "finished_at": timezone.now(), "error": error[:ERROR_CHARS]}
        if step:
            fields["current_step"] = step[:STEP_CHARS]
        statuses = from_statuses or (self.model.Status.RUNNING,)
        return self._moves(pk, statuses, **_stale(stale_before)).update(**fields) == 1

    def cancel(self, pk: int) -> bool:
        """queued or running → cancelled. A running worker sees it at its next progress report and stops."""
        Status = self.model.Status
        return self._moves(pk, (Status.QUEUED, Status.RUNNING)).update(
            status=Status.CANCELLED, finished_at=timezone.now(), current_step="cancelled") == 1

    def requeue(self, pk: int, reason: str, *, send: Callable[[], object] | None = None, stale_before=None,
                restart: bool = False) -> bool:
        """running → queued (its worker was lost or shut down); `send()` re-sends its task once this
        commits. `stale_before` as for fail; `restart` zeroes the progress (a probe starts over, a
        bootstrap continues from its checkpoint and keeps it)."""
        fields = {"progress": 0.0} if restart else {}
        moved = self._moves(pk, (self.model.Status.RUNNING,), **_stale(stale_before)).update(
            status=self.model.Status.QUEUED, current_step=f"requeued: {reason}"[:STEP_CHARS], **fields) == 1
        if moved and send is not None:
            transaction.on_commit(send)
        return moved


def _stale(before) -> dict:
    return {} if before is None else {"heartbeat_at__lt": before}
