"""The canonical download measures recomputed with plain loops over the raw CSV files.

An independent reading of the daily series as the data README describes them (a running sum of
the Hub's 30-day count, sampled daily), written without polars and without the project's
estimator, so the tests compare the importer and the metrics against it:
- cells before the first non-zero value are placeholders: no point;
- the 30-day count on a sampled day is the rise since the day before (the first sample's value
  is its own 30-day count); a run of missing days shares the rise evenly;
- downloads on a day = 30-day count / 30; cumulative C(t) = 30-day count(t) + C(t - 30), with the
  first sample's window spread evenly back to the release when it reaches that far, and never
  below its value the day before.
"""

from __future__ import annotations

import csv
import datetime as dt

DAY = dt.timedelta(days=1)


def raw_series(shared_data) -> dict[str, list[tuple[dt.date, int | None]]]:
    """hub_id → [(date, value or None)] for every date column, in date order."""
    out = {}
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                cells = []
                for column, value in row.items():
                    if column in ("model", "created_at"):
                        continue
                    cells.append((dt.date.fromisoformat(column[:10]), int(float(value)) if value.strip() else None))
                out[row["model"]] = sorted(cells)
    return out


def created_dates(shared_data) -> dict[str, dt.date]:
    out = {}
    for path in sorted((shared_data / "downloads" / "download").glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("created_at", "").strip():
                    out[row["model"]] = dt.date.fromisoformat(row["created_at"].strip()[:10])
    return out


def canonical(cells: list[tuple[dt.date, int | None]], release: dt.date | None) -> dict:
    """{"points": {date: (per_day, cumulative)}, "kind": ..., "first": date} for one model's cells."""
    samples = []
    started = False
    for day, value in cells:
        if not started and not value:
            continue  # a placeholder
        started = True
        if value is None or (samples and value < samples[-1][1]):
            continue
        samples.append((day, value))
    if not samples:
        return {"points": {}, "kind": None, "first": None}
    thirty = {samples[0][0]: float(samples[0][1])}
    for i in range(1, len(samples)):
        (a, low), (b, high) = samples[i - 1], samples[i]
        span = (b - a).days
        day = a
        while day < b:
            day = day + DAY
            thirty[day] = (high - low) / span
    first = samples[0][0]
    covered = release is not None and release <= first and (first - release).days <= 29
    cumulative = {}
    for day in sorted(thirty):
        back = day - 30 * DAY
        if back in cumulative:
            earlier = cumulative[back]
        elif covered and back >= release:
            earlier = thirty[first] * ((back - release).days + 1) / ((first - release).days + 1)
        else:
            earlier = 0.0
        cumulative[day] = thirty[day] + earlier
    points, highest = {}, 0.0
    for d in sorted(thirty):
        highest = max(highest, cumulative[d])  # a cumulative count never falls
        # Downloads on a day are kept to 1/32 of a download (the estimator's stated resolution).
        points[d] = (round(thirty[d] / 30 * 32) / 32, round(highest))
    return {"points": points,
            "kind": "estimated" if covered else "lower-bound", "first": first}
