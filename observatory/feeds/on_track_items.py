"""The events feed's `forecast-on-track` entries: the first crawl day whose adoption forecast gave
a tracked model P(RAM v2 ≥ 1 at day 90) ≥ analytics.on_track.THRESHOLD, dated that day.

Each crawl day's forecast is refitted on the data dated on or before it (analytics.on_track), a
fraction of a second a day at today's size. A day's probabilities are kept in the cache under a
digest of exactly those inputs (the snapshots dated by then, the catalogue rows the forecast
reads, the method and the threshold), not under the data version: a crawl adds a day and leaves
the past days' inputs, and so their cache entries, as they were; a re-import that changes a past
day's data changes that day's digest, and the day is refitted.
"""

from __future__ import annotations

import hashlib
import io

import numpy as np
import polars as pl
from django.core.cache import cache

from observatory.analytics import forecast, on_track
from observatory.feeds.tags import FeedItem, day_start, tag_uri

KIND = "forecast-on-track"
# A day's entry is read only under its own digest, so a long life serves stale data to nobody.
DAY_CACHE_SECONDS = 30 * 24 * 3600
SNAPSHOT_COLUMNS = ("model_id", "date", "downloads_all_time", "cumulative_kind")
MODEL_COLUMNS = ("model_id", "hub_id", "size_class", "release_date", "tracked")


def _digest(frame: pl.DataFrame) -> str:
    """Order-free digest of a frame's rows (polars row hashes, sorted)."""
    return hashlib.sha256(np.sort(frame.hash_rows().to_numpy()).tobytes()).hexdigest()


def _day_key(snapshots: pl.DataFrame, models: pl.DataFrame, day) -> str:
    inputs = _digest(snapshots.filter(pl.col("date") <= day).select(SNAPSHOT_COLUMNS)) + _digest(
        models.filter(pl.col("release_date") <= day).select(MODEL_COLUMNS))
    tail = hashlib.sha256(f"{pl.__version__}|{inputs}".encode()).hexdigest()[:32]
    return f"feeds:on-track:{forecast.METHODOLOGY}:{on_track.THRESHOLD}:{day.isoformat()}:{tail}"


def daily_probabilities(snapshots: pl.DataFrame, models: pl.DataFrame, tracked: pl.DataFrame) -> pl.DataFrame:
    """on_track.probabilities as of every forecast day of the tracked models, each day read
    from the cache when its inputs are unchanged (JSON text: nothing is unpickled)."""
    frames = []
    for day in on_track.forecast_days(snapshots, tracked):
        key = _day_key(snapshots, models, day)
        stored = cache.get(key)
        if stored is None:
            rows = on_track.probabilities(snapshots, models, tracked, tracked, as_of=day)
            stored = rows.write_json()
            cache.set(key, stored, DAY_CACHE_SECONDS)
        frames.append(pl.read_json(io.StringIO(stored), schema=on_track.PROBABILITY_SCHEMA))
    return pl.concat(frames) if frames else pl.DataFrame(schema=on_track.PROBABILITY_SCHEMA)


def on_track_events(snapshots: pl.DataFrame, models: pl.DataFrame, tracked: pl.DataFrame) -> list[FeedItem]:
    """`snapshots`: every sized model's (the growth law learns from all of them, as the metric's
    does); `models` those models; `tracked` the feed's scope, which also defines the 10th place."""
    out = []
    for r in on_track.first_on_track(daily_probabilities(snapshots, models, tracked)).to_dicts():
        date, hub_id = r["as_of"], r["hub_id"]
        out.append(FeedItem(
            id=tag_uri(KIND, hub_id, date), title=f"{hub_id}: on track for a top-10 {r['size_class']} model",
            link=f"/models/{hub_id}", published=day_start(date), categories=(KIND, r["size_class"]),
            description=(f"As of {date.isoformat()}, {r['days_observed']} days after release with "
                         f"{r['observed']:,.0f} downloads, the adoption forecast ({forecast.METHODOLOGY}) gave "
                         f"{r['p_on_track']:.0%} for RAM v2 ≥ 1 at day {forecast.ON_TRACK_DAY}: at least "
                         f"{r['reference']:,.0f} downloads, the 10th most downloaded {r['size_class']} model's "
                         f"then (first day at or above {on_track.THRESHOLD:.0%})."),
            extra={"kind": KIND, "hub_id": hub_id, "size_class": r["size_class"], "date": date.isoformat(),
                   "days": r["days_observed"], "downloads": r["observed"], "reference": r["reference"],
                   "p_on_track": r["p_on_track"], "threshold": on_track.THRESHOLD,
                   "methodology": forecast.METHODOLOGY}))
    return out
