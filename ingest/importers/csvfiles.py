"""Strict CSV reading: every problem is reported with file, row and column.

Rows are numbered as a person counts lines in the file (the header is row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

from ingest.importing import ImportFileError, require_file

csv.field_size_limit(10_000_000)


def read_rows(path: Path, required: set[str], *, comment_prefix: str | None = None) -> Iterator[tuple[int, dict]]:
    """Yield (row_number, row) for a UTF-8 CSV whose header holds every required column."""
    require_file(path)
    raw = path.read_bytes()
    if not raw.strip():
        raise ImportFileError(path, "empty file", row=1)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportFileError(path, f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})", row=line) from None
    if "\x00" in text:
        raise ImportFileError(path, "binary content (NUL bytes): not a CSV file", row=text[: text.index("\x00")].count("\n") + 1)
    lines = text.splitlines(keepends=True)
    skipped = 0
    if comment_prefix:
        while skipped < len(lines) and lines[skipped].lstrip().startswith(comment_prefix):
            skipped += 1
    reader = csv.reader(io.StringIO("".join(lines[skipped:])), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(path, "no header row", row=skipped + 1) from None
    except csv.Error as exc:
        raise ImportFileError(path, f"malformed CSV: {exc}", row=skipped + 1) from None
    header = [h.strip() for h in header]
    missing = required - set(header)
    if missing:
        raise ImportFileError(path, f"header lacks required column(s) {sorted(missing)}; found {header[:12]}",
                              row=skipped + 1, column=sorted(missing)[0])
    width = len(header)
    try:
        for row in reader:
            number = skipped + reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != width:
                raise ImportFileError(path, f"expected {width} fields, found {len(row)} (truncated or malformed line)",
                                      row=number)
            yield number, dict(zip(header, row))
    except csv.Error as exc:
        raise ImportFileError(path, f"malformed CSV: {exc}", row=skipped + reader.line_num) from None


def parse_float(path: Path, row: int, column: str, value: str, *, allow_empty: bool = True,
                minimum: float | None = None) -> float | None:
    text = (value or "").strip().replace(",", "")
    if text in ("", "-", "nan", "NaN", "None"):
        if allow_empty:
            return None
        raise ImportFileError(path, "value required", row=row, column=column)
    try:
        number = float(text.rstrip("%"))
    except ValueError:
        raise ImportFileError(path, f"not a number: {value[:40]!r}", row=row, column=column) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ImportFileError(path, f"not a finite number: {value[:40]!r}", row=row, column=column)
    if minimum is not None and number < minimum:
        raise ImportFileError(path, f"must be >= {minimum}, got {number}", row=row, column=column)
    return number


def parse_date(path: Path, row: int, column: str, value: str, *, allow_empty: bool = True) -> dt.date | None:
    text = (value or "").strip()
    if not text:
        if allow_empty:
            return None
        raise ImportFileError(path, "date required", row=row, column=column)
    candidate = text[:10]
    try:
        return dt.date.fromisoformat(candidate)
    except ValueError:
        pass
    for fmt in ("%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ImportFileError(path, f"not a date: {text[:40]!r}", row=row, column=column)


def parse_bool(path: Path, row: int, column: str, value: str) -> bool | None:
    text = (value or "").strip().lower()
    if text in ("", "none", "nan"):
        return None
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ImportFileError(path, f"not a boolean: {value[:40]!r}", row=row, column=column)
