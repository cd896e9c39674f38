"""The relative-adoption chart's optional forecast (forecast=1): each drawn model's downloads
forecast by the adoption-forecast law (analytics.forecast), fitted as that metric fits it: on every
sized model's history dated by the chart's last day."""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics import forecast, frames
from observatory.analytics.filters import Filters


def drawn_forecast(hub_ids: list[str], end: dt.date | None) -> pl.DataFrame:
    """forecast.ROW_SCHEMA rows (downloads) of `hub_ids`, as of `end` (the newest snapshot when None)."""
    as_of = frames.latest_snapshot_date(end)
    if as_of is None or not hub_ids:
        return pl.DataFrame(schema=forecast.ROW_SCHEMA)
    snaps = frames.snapshots(end=as_of, filters=Filters(scope="all"), since_release=True)
    trajectories = forecast.download_trajectories(snaps, frames.models(("hub_id", "release_date")), as_of=as_of)
    return forecast.forecast_rows(trajectories, "downloads", as_of=as_of, keep={h.lower() for h in hub_ids})
