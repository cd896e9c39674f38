"""The fast tier (`make test-fast`): pure metric, chart, licence, lineage, token and export
functions on small made-up inputs, with expectations from hand-written tables or plain loops.

`make test-fast` runs this directory in the embedded default's settings (DATABASE_URL and
REDIS_URL unset): no PostgreSQL, no Redis, no worker, no browser. The token tests that store a row
use the embedded default's SQLite, which is a file, not a server. `make test` runs these tests
too, against the real servers' settings; they pass there the same way.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# Markers that say a test starts or needs a server or a heavy real part: none belongs here.
SERVER_MARKERS = ("postgres", "redis", "celery", "browser", "probes", "slow")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE not in Path(str(item.fspath)).resolve().parents:
            continue
        item.add_marker(pytest.mark.fast)
        heavy = [m for m in SERVER_MARKERS if item.get_closest_marker(m)]
        if heavy:
            raise pytest.UsageError(f"{item.nodeid} is in the fast tier but marked {', '.join(heavy)}: move it out")
