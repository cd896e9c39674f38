"""The analytics paths that run on PostgreSQL only (COPY, ADBC, the rollup's build and freshness),
on a handful of hand-written rows: small enough that `make mutation`'s postgres tier runs these
files against every mutant of frames, rollups, arrow_pool and probe_frames in seconds."""

import pytest

from tests.conftest import require_postgres


@pytest.fixture(autouse=True)
def _on_postgres():
    require_postgres()
