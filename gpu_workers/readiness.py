"""Tooling readiness over time, as pure functions over dated checks (no database, no clock).

A model is re-checked with the tooling probe at fixed days after its release (CHECK_DAYS) and on
every new revision. Its *days to ready* is the day, counted from release, of the first check at
which every check passed. What is due is decided here from the checks already made, so the
scheduler (gpu_workers.tooling_schedule), the model card and the tooling-readiness dashboard
read one rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

CHECK_DAYS: tuple[int, ...] = (0, 1, 3, 7, 14, 30)


@dataclasses.dataclass(frozen=True)
class Check:
    """One finished tooling run: when it finished, the commit it ran on, and what passed."""

    date: dt.date
    revision: str
    passed: int
    total: int
    failing: tuple[str, ...] = ()

    @property
    def ready(self) -> bool:
        return self.total > 0 and self.passed == self.total


def timeline(release: dt.date, checks: list[Check]) -> list[dict]:
    """Each check in date order with its day since release; `first_ready` marks the check that
    made the model ready (at most one)."""
    out, ready_seen = [], False
    for check in sorted(checks, key=lambda c: (c.date, c.revision)):
        first = check.ready and not ready_seen
        ready_seen = ready_seen or check.ready
        out.append({"date": check.date, "day": (check.date - release).days, "revision": check.revision,
                    "passed": check.passed, "total": check.total, "ready": check.ready, "first_ready": first,
                    "failing": list(check.failing)})
    return out


def days_to_ready(release: dt.date, checks: list[Check]) -> int | None:
    """Days from release to the first check at which every check passed; None while none has.
    A check made before the release date (a pre-release repo) counts as day 0."""
    ready = [c.date for c in checks if c.ready]
    return max(0, (min(ready) - release).days) if ready else None


def ready_date(checks: list[Check]) -> dt.date | None:
    ready = [c.date for c in checks if c.ready]
    return min(ready) if ready else None


def due(release: dt.date, made: list[tuple[dt.date, str]], *, today: dt.date, current_revision: str = "",
        days: tuple[int, ...] = CHECK_DAYS) -> str | None:
    """Why a tooling check is due today, or None.

    `made`: (date asked, revision) of every check already asked for (queued, running or done).
    A check day counts as done when a check was asked on it or after it. Only the latest check
    day already reached matters: a model whose days 1, 3 and 7 were all missed (beat was down)
    gets one check now, not three. A revision no check has run on (the Hub's sha moved) is due
    whatever the day.
    """
    if current_revision and not any(rev == current_revision for _, rev in made):
        return f"new revision {current_revision[:12]}"
    reached = [d for d in sorted(days) if release + dt.timedelta(days=d) <= today]
    if not reached:
        return None
    latest_day = reached[-1]
    if any(asked >= release + dt.timedelta(days=latest_day) for asked, _ in made):
        return None
    return f"day {latest_day} after release"
