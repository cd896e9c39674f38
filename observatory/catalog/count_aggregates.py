"""Per-month model and lineage-edge counts the release, licence and derivative metrics read,
kept beside the daily-gain rollup (issue 17)."""

from __future__ import annotations
