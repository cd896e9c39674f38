"""The end of a bench run: its figures stamped with their goal and the time they were measured,
printed, and written to bench/results/<name>.json (where the README's figures are read from)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from _django import write_result


def publish(name: str, result: dict, *, goal: str) -> Path:
    result = {**result, "goal": goal, "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    print(json.dumps(result, indent=2))
    path = write_result(name, result)
    print("written to", path)
    return path
