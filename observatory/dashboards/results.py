"""Metric results, cached in the Django cache (Redis in deployments) by name, normalised
parameters and the data version that every import and crawl bumps.

Frames travel through the cache as Arrow IPC bytes, not as pickled Python objects.

What bounds the cache (a distinct query string must not mean a new day-long entry):
- parameters are normalised to what changes the result: filters a metric does not use are
  dropped, a `start` before the oldest data date is one value (the day before it), an `end` on
  or after the newest is no end (all the data), so the unbounded dates outside the data collapse;
- views with a date range or a free-text filter (organisation, task), unbounded in number, are
  kept for METRIC_CACHE_SHORT_SECONDS; the finite menu of the pages' selects for a day;
- a computation that misses the cache is charged to the client first (`charge`, the per-client
  limit of chart_views), so one client cannot fill the cache faster than that limit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable

import polars as pl
from django.conf import settings
from django.core.cache import cache
from django.db.models import Max, Min

from observatory.catalog.models import DownloadSnapshot, HubModel, LeaderboardEntry
from observatory.catalog.runs import data_version
from observatory.charts.theme import ATTRIBUTIONS
from observatory.dashboards.params import FORECAST_NAMES, ChartParams
from observatory.dashboards.registry import METRICS, Computed

# A metric whose `end` is also its as-of date (the gap is measured up to it), so an `end` past
# the data still changes the result and is kept as asked.
END_IS_AS_OF = frozenset({"open-closed-gap"})
ONE_DAY = dt.timedelta(days=1)

Charge = Callable[[], None] | None


def data_dates() -> tuple[dt.date | None, dt.date | None]:
    """The oldest and newest date any metric compares `start` or `end` with: snapshot dates, model
    creation and release dates, leaderboard dates. Index look-ups, once per data version."""
    key = f"metric:data-dates:v{data_version()}"
    stored = cache.get(key)
    if stored is None:
        found: list[dt.date] = []
        for model, fields in ((DownloadSnapshot, ("date",)), (HubModel, ("created_at", "release_date")),
                              (LeaderboardEntry, ("release_date", "snapshot_date"))):
            aggregates = {}
            for field in fields:
                aggregates[f"{field}_min"], aggregates[f"{field}_max"] = Min(field), Max(field)
            for value in model.objects.aggregate(**aggregates).values():
                if value is not None:  # created_at is a UTC datetime; the metrics use its UTC date
                    found.append(value.date() if isinstance(value, dt.datetime) else value)
        stored = [min(found).isoformat(), max(found).isoformat()] if found else [None, None]
        cache.set(key, stored, settings.METRIC_CACHE_SECONDS)
    return tuple(dt.date.fromisoformat(d) if d else None for d in stored)


def normalised(name: str, params: ChartParams) -> ChartParams:
    """The same result's one parameter set (see the module's docstring)."""
    metric, f = METRICS[name], params.filters
    defaults = type(f)()
    # `uses` names the query parameters (`region`); the filter field holding them is `regions`.
    used = {"regions" if name == "region" else name for name in metric.uses}
    unused = {field.name: getattr(defaults, field.name) for field in dataclasses.fields(f)
              if field.name not in used}
    start, end = f.start, f.end
    if start or end:
        oldest, newest = data_dates()
        if oldest is None:  # no data: every range gives the same empty result
            start = end = None
        else:
            if start and start < oldest:
                start = oldest - ONE_DAY
            elif start and start > newest:
                start = newest + ONE_DAY
            if end and name not in END_IS_AS_OF:
                if end >= newest:
                    end = None
                elif end < oldest:
                    end = oldest - ONE_DAY
    changes = {"start": start, "end": end, **unused}
    # The forecast's own parameters change nothing elsewhere: dropped, one cache entry.
    forecast_unused = {n: None for n in FORECAST_NAMES if n not in metric.uses}
    if "forecast" not in metric.uses:
        forecast_unused["forecast"] = False
    return dataclasses.replace(params, filters=dataclasses.replace(f, **changes), **forecast_unused)


def lifetime(params: ChartParams) -> int:
    """Seconds a (normalised) view stays cached: a day for the finite menu, briefly for the rest."""
    f = params.filters
    if f.start or f.end or f.organization or f.pipeline_tag or any(getattr(params, n) for n in FORECAST_NAMES):
        return settings.METRIC_CACHE_SHORT_SECONDS
    return settings.METRIC_CACHE_SECONDS


def cache_key(kind: str, name: str, params: ChartParams) -> str:
    digest = hashlib.sha256(params.key().encode()).hexdigest()[:24]
    return f"metric:{kind}:{name}:v{data_version()}:{digest}"


def remembered(kind: str, name: str, params: ChartParams, build: Callable[[], bytes], *,
               charge: Charge = None, normalise: bool = True) -> bytes:
    """`build()`'s bytes for this view, from the cache or built (charged to the client) and kept.
    `normalise=False` keys by the parameters as asked (for what shows them, such as a page's form)."""
    if normalise:
        params = normalised(name, params)
    key = cache_key(kind, name, params)
    value = cache.get(key)
    if value is None:
        if charge is not None:
            charge()
        value = build()
        cache.set(key, value, lifetime(params))
    return value


def _to_ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def computed(name: str, params: ChartParams, *, charge: Charge = None) -> Computed:
    params = normalised(name, params)
    key = cache_key("frames", name, params)
    stored = cache.get(key)
    if stored is not None:
        return Computed(
            rows=pl.read_ipc(io.BytesIO(stored["rows"])),
            as_of=dt.date.fromisoformat(stored["as_of"]) if stored["as_of"] else None,
            extra={k: pl.read_ipc(io.BytesIO(v)) for k, v in stored["extra"].items()},
            info=json.loads(stored["info"]),
        )
    if charge is not None:
        charge()
    result = METRICS[name].compute(params)
    cache.set(key, {
        "rows": _to_ipc(result.rows), "as_of": result.as_of.isoformat() if result.as_of else None,
        "extra": {k: _to_ipc(v) for k, v in result.extra.items()}, "info": json.dumps(result.info),
    }, lifetime(params))
    return result


def _jsonable(frame: pl.DataFrame) -> list[dict]:
    # Dates as ISO strings, floats rounded for readability (NaN/inf → null, JSON has neither).
    out = frame.with_columns([pl.col(c).cast(pl.Utf8) for c, t in frame.schema.items() if t in (pl.Date, pl.Datetime)])
    rows = out.to_dicts()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float):
                row[k] = None if v != v or v in (float("inf"), float("-inf")) else round(v, 6)
    return rows


def sources(name: str, params: ChartParams) -> list[str]:
    return [ATTRIBUTIONS.get(s, s) for s in METRICS[name].sources(params)]


def payload(name: str, params: ChartParams, *, charge: Charge = None) -> dict:
    """The rows and their context; `params` in it is the normalised query they were computed under."""
    params = normalised(name, params)
    return payload_of(name, params, computed(name, params, charge=charge))


def payload_of(name: str, params: ChartParams, result: Computed) -> dict:
    """`payload` for a result already computed (a page that also draws it computes it once)."""
    params = normalised(name, params)
    body = {"metric": name, "rows": _jsonable(result.rows), "as_of": result.as_of.isoformat() if result.as_of else None,
            "sources": sources(name, params), "params": params.query(),
            "methodology": dict(METRICS[name].methodology)}
    for key, frame in result.extra.items():
        if key in ("curves", "reference"):
            continue  # chart inputs; the rows are the RAM table
        body[key] = _jsonable(frame)
    body.update(result.info)
    return body


def json_bytes(name: str, params: ChartParams, *, charge: Charge = None) -> bytes:
    """The JSON response body, cached whole so a warm request does no polars work at all."""
    # Charged once, for the miss of the body (building it may reuse cached frames).
    return remembered("json", name, params, lambda: json.dumps(payload(name, params), separators=(",", ":")).encode(),
                      charge=charge)
