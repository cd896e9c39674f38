"""Metric results, cached in the Django cache (Redis in deployments) by name, normalised
parameters and the data version that every import and crawl bumps.

Frames travel through the cache as Arrow IPC bytes, not as pickled Python objects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json

import polars as pl
from django.core.cache import cache

from observatory.catalog.runs import data_version
from observatory.charts.theme import ATTRIBUTIONS
from observatory.dashboards.params import ChartParams
from observatory.dashboards.registry import METRICS, Computed

TIMEOUT = 24 * 3600


def cache_key(kind: str, name: str, params: ChartParams) -> str:
    digest = hashlib.sha256(params.key().encode()).hexdigest()[:24]
    return f"metric:{kind}:{name}:v{data_version()}:{digest}"


def _to_ipc(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_ipc(buffer)
    return buffer.getvalue()


def computed(name: str, params: ChartParams) -> Computed:
    key = cache_key("frames", name, params)
    stored = cache.get(key)
    if stored is not None:
        return Computed(
            rows=pl.read_ipc(io.BytesIO(stored["rows"])),
            as_of=dt.date.fromisoformat(stored["as_of"]) if stored["as_of"] else None,
            extra={k: pl.read_ipc(io.BytesIO(v)) for k, v in stored["extra"].items()},
            info=json.loads(stored["info"]),
        )
    result = METRICS[name].compute(params)
    cache.set(key, {
        "rows": _to_ipc(result.rows), "as_of": result.as_of.isoformat() if result.as_of else None,
        "extra": {k: _to_ipc(v) for k, v in result.extra.items()}, "info": json.dumps(result.info),
    }, TIMEOUT)
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


def payload(name: str, params: ChartParams) -> dict:
    result = computed(name, params)
    body = {"metric": name, "rows": _jsonable(result.rows), "as_of": result.as_of.isoformat() if result.as_of else None,
            "sources": sources(name, params), "params": params.query(),
            "methodology": dict(METRICS[name].methodology)}
    for key, frame in result.extra.items():
        if key in ("curves", "reference"):
            continue  # chart inputs; the rows are the RAM table
        body[key] = _jsonable(frame)
    body.update(result.info)
    return body


def json_bytes(name: str, params: ChartParams) -> bytes:
    """The JSON response body, cached whole so a warm request does no polars work at all."""
    key = cache_key("json", name, params)
    body = cache.get(key)
    if body is None:
        body = json.dumps(payload(name, params), separators=(",", ":")).encode()
        cache.set(key, body, TIMEOUT)
    return body
