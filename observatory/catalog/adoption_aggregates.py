"""Aggregates the relative-adoption metric reads, kept beside the daily-gain rollup (issue 17)."""

from __future__ import annotations
