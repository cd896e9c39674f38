"""CSV export that spreadsheets cannot turn into formulas."""

from __future__ import annotations

import csv
import io

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets
# (CSV injection); tab and carriage return are the classic bypasses.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value) -> str:
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        # A negative number stays a number: only text is defused.
        try:
            float(text)
            return text
        except ValueError:
            return "'" + text
    return text


def rows_to_csv(rows: list[dict], comments: list[str] | None = None) -> str:
    """The rows as CSV; `comments` first, one `# ` line each (the metric, its methodology versions,
    data as of, sources), so a number in a spreadsheet can be traced to its definition."""
    buffer = io.StringIO()
    for line in comments or []:
        buffer.write("# " + " ".join(str(line).split()) + "\n")
    if not rows:
        return buffer.getvalue()
    writer = csv.writer(buffer, lineterminator="\n")
    header = list(rows[0].keys())
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        writer.writerow([neutralise(row.get(h)) for h in header])
    return buffer.getvalue()
