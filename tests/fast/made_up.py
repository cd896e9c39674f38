"""Small made-up frames in the loaders' schemas (analytics.frames), for the fast tier."""

from __future__ import annotations

import datetime as dt

import polars as pl

from observatory.analytics.frames import EDGE_SCHEMA, MODEL_SCHEMA, ORG_SCHEMA, SNAPSHOT_SCHEMA


def day(month: int, d: int, year: int = 2025) -> dt.date:
    return dt.date(year, month, d)


def models(*rows: dict) -> pl.DataFrame:
    """One row a dict; unnamed columns take plain defaults (a tracked permissive US 1-5B model)."""
    full = []
    for row in rows:
        model_id = row["model_id"]
        full.append({"hub_id": f"org{model_id}/m{model_id}", "organization": f"org{model_id}", "region": "us",
                     "tracked": True, "size_class": "1-5B", "licence_id": "mit", "licence_class": "permissive",
                     "pipeline_tag": "text-generation", "release_date": None, "created_date": None,
                     "downloads": 0, "downloads_all_time": 0, **row})
    return pl.DataFrame(full, schema=MODEL_SCHEMA)


def snapshots(*rows: tuple) -> pl.DataFrame:
    """(model_id, date, downloads_day[, downloads_all_time[, cumulative_kind]]) tuples."""
    full = [{"model_id": r[0], "date": r[1], "downloads_day": r[2], "downloads_all_time": r[3] if len(r) > 3 else 0,
             "cumulative_kind": r[4] if len(r) > 4 else "all-time"} for r in rows]
    return pl.DataFrame(full, schema=SNAPSHOT_SCHEMA)


def edges(*rows: tuple) -> pl.DataFrame:
    """(child_id, parent_id, parent_hub_id, relation) tuples."""
    return pl.DataFrame([dict(zip(EDGE_SCHEMA, r)) for r in rows], schema=EDGE_SCHEMA)


def organizations(*rows: tuple) -> pl.DataFrame:
    return pl.DataFrame([dict(zip(ORG_SCHEMA, r)) for r in rows], schema=ORG_SCHEMA)


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    return frame.select(columns or frame.columns).rows()
