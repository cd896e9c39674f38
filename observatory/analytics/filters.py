"""Filters every metric understands, applied to the model frame before a metric runs."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl


@dataclasses.dataclass(frozen=True)
class Filters:
    start: dt.date | None = None
    end: dt.date | None = None
    regions: tuple[str, ...] = ()
    organization: str = ""
    size_class: str = ""
    pipeline_tag: str = ""
    scope: str = "tracked"
    licence_class: str = ""  # only the metrics that name it in their `uses` (fine-tunability)

    def key(self) -> str:
        """A stable text form of the filters, for cache keys."""
        parts = [f"{f.name}={getattr(self, f.name)!s}" for f in dataclasses.fields(self)]
        return "&".join(parts)


def filter_models(models: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """Models in scope: tracked (or all), region, organisation, size class, pipeline tag, licence class."""
    frame = models
    if filters.scope == "tracked":
        frame = frame.filter(pl.col("tracked"))
    if filters.regions:
        frame = frame.filter(pl.col("region").is_in(list(filters.regions)))
    if filters.organization:
        frame = frame.filter(pl.col("organization") == filters.organization)
    if filters.size_class:
        frame = frame.filter(pl.col("size_class") == filters.size_class)
    if filters.pipeline_tag:
        frame = frame.filter(pl.col("pipeline_tag") == filters.pipeline_tag)
    if filters.licence_class:
        frame = frame.filter(pl.col("licence_class") == filters.licence_class)
    return frame
