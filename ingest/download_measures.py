"""What each download source measures, and the versioned estimators that turn it into the
observatory's two canonical measures: downloads on a day, and cumulative (all-time) downloads at
a date.

The sources measure different things:
- the crawler and hub-stats read the Hub's all-time count (`downloadsAllTime`) and its 30-day
  count (`downloads`) on the day they ran: the cumulative measure directly; downloads on a day
  are the difference between consecutive all-time counts (analytics.frames does that);
- the imported daily series (downloads/download/*.csv) are, on the evidence in the data README,
  a running sum of the Hub's 30-day count sampled once a day, S(t) = D30(f) + … + D30(t) from
  the first sample f. Their day-to-day difference is the 30-day count D30(t), not a day's
  downloads, and the value itself is about thirty times the downloads it spans.

The series estimator (SERIES_ESTIMATOR) reads the series that way:
- cells before the first non-zero value are placeholders (not sampled yet), never zeros;
- D30(t) = S(t) - S(t-1), and D30(f) = S(f) on the first sample; a run of missing days shares
  the rise evenly (recorded as a gap);
- downloads on day t = D30(t) / 30: the trailing 30-day mean, the one daily figure the 30-day
  count determines without inventing a day-by-day pattern;
- cumulative downloads C(t) = D30(t) + C(t-30): every download since release falls in exactly
  one of the 30-day windows ending t, t-30, t-60, … This is exact under the reading above, where
  a plain S(t)/30 would undercount the last month by half (and a 30-day-old model by more). The
  stored count is the chain's running maximum: a cumulative count cannot fall, the chain can
  by the noise of the 30-day counts it adds.
  Before the first sample C is known only when the first sample's window reaches back to the
  release (first sample ≤ release + 29 days): then the window's downloads are spread evenly from
  release to the first sample and the counts are `estimated` all-time counts. Otherwise (sampling
  began later, or the release date is unknown) C counts from the first sample's window on, a
  `lower-bound` of the all-time count, and RAM (which needs counts since release) leaves it out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics

SERIES_SOURCE = "daily-series"
SERIES_ESTIMATOR = "daily-series-30d/v1"
ALL_TIME_ESTIMATOR = "hub-all-time/v1"
WINDOW = 30  # days in the Hub's rolling download count

# An implausible jump: the 30-day count rising in one day to at least JUMP_FACTOR times its median
# over the previous JUMP_LOOKBACK samples, and by at least JUMP_MIN_RISE downloads. One day's
# downloads would then have to be many months' worth at once. Flagged, not removed: the Hub
# counted them (the anchors in the data README still hold with them in).
JUMP_FACTOR = 10
JUMP_MIN_RISE = 100_000
JUMP_LOOKBACK = 14
JUMP_MIN_HISTORY = 7


@dataclasses.dataclass(frozen=True)
class SourceMeasure:
    name: str
    measures: str
    estimator: str
    converts: str


SOURCES: dict[str, SourceMeasure] = {s.name: s for s in [
    SourceMeasure(
        SERIES_SOURCE,
        "running sum of the Hub's 30-day download count, sampled once a day (downloads/download/*.csv)",
        SERIES_ESTIMATOR,
        "downloads per day = day-to-day rise / 30 (trailing 30-day mean); cumulative C(t) = D30(t) + C(t-30); "
        "leading zeros are placeholders (missing), not counts"),
    SourceMeasure(
        "crawl",
        "the Hub's all-time download count and 30-day count at the crawl date (huggingface_hub list_models)",
        ALL_TIME_ESTIMATOR,
        "cumulative = the all-time count; downloads per day = the rise since the previous crawl"),
    SourceMeasure(
        "hub-stats",
        "one all-time count and one 30-day count per model at the dataset's date (hub-stats Parquet)",
        ALL_TIME_ESTIMATOR,
        "cumulative = the all-time count at its date (one point per model: no daily figure)"),
]}


@dataclasses.dataclass(frozen=True)
class Point:
    date: dt.date
    raw: int | None        # the series value that day (None: interpolated across a gap)
    d30: float             # the 30-day count ending that day
    per_day: float         # canonical downloads on that day
    cumulative: int        # canonical cumulative downloads at that day
    kind: str              # "estimated" or "lower-bound" (catalog.models.CumulativeKind)


@dataclasses.dataclass(frozen=True)
class Issue:
    kind: str              # catalog.models.DataQualityIssue.Kind values
    date: dt.date | None
    end_date: dt.date | None
    days: int
    detail: str


@dataclasses.dataclass(frozen=True)
class Conversion:
    points: list[Point]
    issues: list[Issue]


def convert_running_sum(cells: list[tuple[dt.date, int | None]], release: dt.date | None) -> Conversion:
    """One model's daily series (every column's date and value, None for an empty cell) → canonical points."""
    cells = sorted(cells)
    issues: list[Issue] = []
    first = next((i for i, (_, v) in enumerate(cells) if v), None)
    if first is None:
        return Conversion([], [Issue("no-samples", cells[0][0] if cells else None, cells[-1][0] if cells else None,
                                     len(cells), "every cell is empty or 0: the model was never sampled")])
    if first > 0:
        issues.append(Issue("leading-placeholder", cells[0][0], cells[first - 1][0], first,
                            f"{first} leading cells read 0 or nothing before the first sample on "
                            f"{cells[first][0]}: treated as not sampled yet, not as zero downloads"))
    # The 30-day count on every calendar day from the first sample to the last one.
    samples: list[tuple[dt.date, int]] = []
    for day, value in cells[first:]:
        if value is None:
            continue
        if samples and value < samples[-1][1]:
            issues.append(Issue("decrease", day, day, 1, f"the running sum falls from {samples[-1][1]:,} to "
                                                         f"{value:,}: sample left out"))
            continue
        samples.append((day, value))
    d30: dict[dt.date, tuple[float, int | None]] = {samples[0][0]: (float(samples[0][1]), samples[0][1])}
    for (before, low), (day, high) in zip(samples, samples[1:]):
        span = (day - before).days
        if span > 1:
            issues.append(Issue("gap", before + dt.timedelta(days=1), day - dt.timedelta(days=1), span - 1,
                                f"{span - 1} days without a sample: the rise of {high - low:,} is shared evenly"))
        for k in range(1, span + 1):
            d30[before + dt.timedelta(days=k)] = ((high - low) / span, high if k == span else None)
    issues.extend(_jumps(d30))
    first_day = samples[0][0]
    covered = release is not None and release <= first_day and (first_day - release).days < WINDOW
    kind = "estimated" if covered else "lower-bound"
    cumulative: dict[dt.date, float] = {}

    def before_first(day: dt.date) -> float:
        # Downloads up to `day`, a day before the first sample: part of the first sample's window.
        if not covered or day < release:
            return 0.0
        return d30[first_day][0] * ((day - release).days + 1) / ((first_day - release).days + 1)

    points = []
    highest = 0.0
    for day in sorted(d30):
        value, raw = d30[day]
        back = day - dt.timedelta(days=WINDOW)
        cumulative[day] = value + (cumulative[back] if back in cumulative else before_first(back))
        # A cumulative count never falls; the chain can, by the noise of the Hub's 30-day count
        # (a window's start and end are not sampled at the same instant): keep its running maximum.
        highest = max(highest, cumulative[day])
        points.append(Point(day, raw, value, per_day(value), round(highest), kind))
    return Conversion(points, issues)


def per_day(thirty_day_count: float) -> float:
    """Downloads on a day from its 30-day count, to 1/32 of a download: a binary fraction, so the
    sums every chart and rollup takes are exact in any order (no float drift between paths)."""
    return round(thirty_day_count / WINDOW * 32) / 32


def _jumps(d30: dict[dt.date, tuple[float, int | None]]) -> list[Issue]:
    """Runs of days whose 30-day count leaps far above its recent level (see JUMP_FACTOR)."""
    days = sorted(d30)
    flagged: list[tuple[dt.date, float, float]] = []
    for i, day in enumerate(days):
        history = [d30[d][0] for d in days[max(0, i - JUMP_LOOKBACK):i]]
        if len(history) < JUMP_MIN_HISTORY:
            continue
        level = statistics.median(history)
        value = d30[day][0]
        if value >= JUMP_FACTOR * max(level, 1.0) and value - level >= JUMP_MIN_RISE:
            flagged.append((day, value, level))
    issues: list[Issue] = []
    for day, value, level in flagged:
        if issues and issues[-1].end_date == day - dt.timedelta(days=1):
            last = issues[-1]
            issues[-1] = dataclasses.replace(last, end_date=day, days=last.days + 1)
            continue
        issues.append(Issue("implausible-jump", day, day, 1,
                            f"the 30-day count leaps to {value:,.0f} from a recent median of {level:,.0f} "
                            f"(≥ {JUMP_FACTOR}× and ≥ {JUMP_MIN_RISE:,} more): kept as counted, flagged"))
    return issues
