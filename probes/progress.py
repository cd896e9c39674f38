"""Progress reporting and the time budget, shared by every probe.

The caller (the CLI, or gpu_workers' task) passes a callback `(fraction, step) -> None`; it may
write a heartbeat, print, or raise ProbeInterrupted to stop the run. The reporter also enforces
the run's deadline between steps, so a probe stops with ProbeTimeout rather than being killed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from probes.errors import ProbeTimeout

ProgressCallback = Callable[[float, str], None]


class Reporter:
    def __init__(self, callback: ProgressCallback | None = None, *, max_seconds: float | None = None,
                 start: float = 0.0, span: float = 1.0):
        self.callback = callback
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.max_seconds = max_seconds
        self.start = start
        self.span = span

    def __call__(self, fraction: float, step: str) -> None:
        overall = self.start + self.span * min(max(fraction, 0.0), 1.0)
        if self.callback is not None:
            self.callback(round(overall, 4), step[:200])
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise ProbeTimeout(f"probe exceeded its time budget of {self.max_seconds:.0f}s (at: {step})")

    def part(self, start: float, span: float) -> Reporter:
        """A reporter for a sub-phase covering [start, start+span] of this one's range."""
        child = Reporter(self.callback, start=self.start + self.span * start, span=self.span * span)
        child.deadline, child.max_seconds = self.deadline, self.max_seconds
        return child
