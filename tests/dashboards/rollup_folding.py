"""What the rollup fold tests share: fold the logged changes in (and read which way it went), a
full rebuild to compare with, and frames in one order so two rollups compare row by row."""

import logging

import polars as pl

from observatory.analytics import rollups


def sorted_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


def fold(caplog) -> str:
    """Fold the logged changes in; the rollup module's log line says which way it went."""
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="observatory.analytics.rollups"):
        assert rollups.refresh() is not None
    (message,) = [r.getMessage() for r in caplog.records if r.name == "observatory.analytics.rollups"]
    assert rollups.fresh()
    return message


def rebuilt() -> pl.DataFrame:
    rollups.refresh(force=True)
    return sorted_rows(rollups.daily_gains())
