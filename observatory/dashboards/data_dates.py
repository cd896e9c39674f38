"""What "data as of" means, and where each source ends.

One meaning everywhere: a stamp is the newest date of the data the thing shown reads. A chart's
is its metric's `as_of` (the newest day its rows draw on); the home page's is the newest day of
the observatory's daily download history (analytics.frames.latest_snapshot_date: the daily series
and the crawls), which is what its chart draws. The sources do not end together (the daily
series stops in February 2025, the Hub's bulk snapshot is of June 2026), so the pages also list
where each source they read ends: `source_ends`.
"""

from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Max
from django.db.models.functions import Coalesce

from observatory.analytics import finetunes, frames
from observatory.catalog.models import DownloadSnapshot, LeaderboardEntry
from observatory.catalog.runs import data_version

# A metric's source (Metric.sources) → the dated parts it stands for, with what to call them.
PARTS = {
    "daily-series": [("daily-series", "daily download series")],
    "hub": [("crawl", "the observatory's daily crawls"), ("hub-stats", "Hub bulk snapshot (hub-stats)"),
            ("catalogue", "newest model created in the catalogue")],
    "finetune-counts": [("finetune-counts", "monthly fine-tune counts")],
    "epoch": [("epoch", "Epoch AI")],
    "lmarena": [("lmarena", "LMArena")],
    "probe": [("probe", "observatory probes")],
}
SECONDS = 300  # and keyed by data version: every import, crawl and probe run moves it on


def _ends() -> dict[str, str]:
    """{part: ISO date} for every dated part that has data."""
    key = f"data-dates:v{data_version()}"
    ends = cache.get(key)
    if ends is None:
        found: dict[str, dt.date | None] = {}
        for source, latest in DownloadSnapshot.objects.values_list("source").annotate(latest=Max("date")):
            found[source] = latest
        leaderboards = dict(LeaderboardEntry.objects.values_list("source").annotate(
            latest=Max(Coalesce("snapshot_date", "release_date"))))
        found["epoch"] = max([d for s, d in leaderboards.items() if s.startswith("epoch") and d], default=None)
        found["lmarena"], found["probe"] = leaderboards.get("lmarena"), leaderboards.get("probe")
        found["catalogue"] = frames.latest_created_date()
        found["finetune-counts"] = finetunes.latest_reading(frames.finetune_readings())
        ends = {part: day.isoformat() for part, day in found.items() if day}
        cache.set(key, ends, SECONDS)
    return ends


def source_ends(sources: list[str]) -> list[dict]:
    """[{"source", "label", "ends"}] for the dated parts of `sources` (Metric.sources keys) that have data."""
    ends, out = _ends(), []
    for source in sources:
        for part, label in PARTS.get(source, []):
            if part in ends and all(e["source"] != part for e in out):
                out.append({"source": part, "label": label, "ends": ends[part]})
    return out


def differ(entries: list[dict]) -> bool:
    return len({e["ends"] for e in entries}) > 1


def home_sources() -> list[dict]:
    """Every dated source the observatory holds, for the home page."""
    return source_ends(list(PARTS))
