"""What every importer shares: a precise error for malformed files, a progress bar, a run row.

An importer is a plain function `import_x(path, *, progress=False) -> dict[str, int]` that does
all its writes inside one transaction, so a malformed file leaves the database as it was, and
raises ImportFileError naming the file, row and column that made it stop.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

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


def progress(items: Iterable[T], *, total: int | None = None, desc: str = "", enabled: bool = False) -> Iterator[T]:
    """A progress bar on the command line; silent inside tasks and tests."""
    if not enabled:
        yield from items
        return
    yield from tqdm(items, total=total, desc=desc, unit="rows", file=sys.stderr, dynamic_ncols=True, leave=False)


def require_file(path: Path) -> Path:
    if not path.exists():
        raise DataDirMissing(f"{path}: file not found")
    if not path.is_file():
        raise DataDirMissing(f"{path}: not a file")
    return path
