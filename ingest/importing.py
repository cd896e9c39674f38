"""What every importer shares: a precise error for malformed files, a progress bar, a run row.

An importer is a plain function `import_x(path, *, progress_bar=False, run=None) -> dict[str, int]`
(every one alike, so ingest/datasets.py calls each the same way) that does all its writes inside
one transaction, so a malformed file leaves the database as it was, and raises ImportFileError
naming the file, row and column that made it stop. `path` is the file or folder the dataset table
locates; `progress_bar` draws a bar on the command line; `run` is the recorded run the import is
part of, which the importers that keep rows against it (quarantined records, rejected edges) pass
on; the others leave it, their progress reaching the run through `progress` below either way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from observatory.catalog.runs import report_progress

T = TypeVar("T")


class ImportFileError(ValueError):
    """A file that cannot be imported as it is. Carries where the problem is."""

    def __init__(self, path: Path | str, message: str, *, row: int | None = None, column: str | None = None):
        self.path = str(path)
        self.row = row
        self.column = column
        self.detail = message
        where = [self.path]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}")


class DataDirMissing(FileNotFoundError):
    """The configured data directory (or a file the importer needs inside it) is absent."""


REPORT_EVERY_SECONDS = 0.5  # a report is an in-memory hand-over; the run's heartbeat writes the newest


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool = False) -> Iterator[T]:
    """A progress bar on the command line; silent inside tasks and tests. Either way the count
    goes to the run being recorded (runs.report_progress), whose heartbeat shows it on the row."""
    # The size is read before tqdm wraps the items: tqdm's own len() fails on a generator it wraps.
    if total is None and hasattr(items, "__len__"):
        total = len(items)
    if enabled:
        items = tqdm(items, total=total, desc=desc, unit="rows", file=sys.stderr, dynamic_ncols=True, leave=False)
    done, reported = 0, 0.0
    for item in items:  # per row or per batch, whichever the importer iterates
        now = time.monotonic()
        if now - reported >= REPORT_EVERY_SECONDS:
            _report(desc, done, total)
            reported = now
        yield item
        done += 1
    _report(desc, done, total)


def _report(desc: str, done: int, total: int | None) -> None:
    step = f"{desc or 'importing'}: {done:,}" + (f" of {total:,}" if total else "")
    report_progress(step, done / total if total else None)


def require_file(path: Path) -> Path:
    if not path.exists():
        raise DataDirMissing(f"{path}: file not found")
    if not path.is_file():
        raise DataDirMissing(f"{path}: not a file")
    return path
