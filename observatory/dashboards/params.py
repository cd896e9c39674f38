"""Query parameters of every chart, page and metric endpoint: parsed strictly, normalised for keys.

A bad value is a clear 400, never a 500 (hostile URLs are part of the job).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from django.http import QueryDict

from observatory import vocab
from observatory.analytics.filters import Filters

SAFE_NAME = vocab.HUB_NAMESPACE  # a Hub namespace, by the Hub's rule
SAFE_TAG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CHOICES = {
    "scope": ("tracked", "all"),
    "by": ("region", "organization", "base", "family"),
    "depth": ("direct", "tree"),
    "source": vocab.GAP_SOURCES,
    "format": ("json", "csv"),
}
DEFAULTS = {"scope": "tracked", "by": "region", "depth": "direct", "source": vocab.DEFAULT_GAP_SOURCE, "format": "json", "top": 8}
# The forecast's (adoption-forecast): the date it is made as of, and a target date or horizon.
FORECAST_NAMES = ("as_of", "target_date", "horizon_days")
MAX_HORIZON_DAYS = 3650
KNOWN = {"start", "end", "region", "organization", "size_class", "licence_class", "pipeline_tag", "top", *CHOICES,
         *FORECAST_NAMES, "forecast"}


class BadParameter(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class ChartParams:
    filters: Filters
    top: int = 8
    by: str = "region"
    depth: str = "direct"
    source: str = vocab.DEFAULT_GAP_SOURCE
    as_of: dt.date | None = None
    target_date: dt.date | None = None
    horizon_days: int | None = None
    forecast: bool = False  # relative-adoption: draw each model's adoption forecast (forecast=1)

    def key(self) -> str:
        return (f"{self.filters.key()}&top={self.top}&by={self.by}&depth={self.depth}&source={self.source}"
                f"&as_of={self.as_of}&target_date={self.target_date}&horizon_days={self.horizon_days}"
                f"&forecast={int(self.forecast)}")

    def query(self) -> str:
        """The canonical query string (what permalinks and exports carry)."""
        q = QueryDict(mutable=True)
        f = self.filters
        if f.start:
            q["start"] = f.start.isoformat()
        if f.end:
            q["end"] = f.end.isoformat()
        if f.regions:
            q.setlist("region", list(f.regions))
        for name in ("organization", "size_class", "licence_class", "pipeline_tag"):
            if getattr(f, name):
                q[name] = getattr(f, name)
        if f.scope != DEFAULTS["scope"]:
            q["scope"] = f.scope
        for name in ("top", "by", "depth", "source"):
            if getattr(self, name) != DEFAULTS[name]:
                q[name] = str(getattr(self, name))
        for name in FORECAST_NAMES:
            if getattr(self, name) is not None:
                q[name] = str(getattr(self, name))
        if self.forecast:
            q["forecast"] = "1"
        return q.urlencode()


def parse_date(name: str, value: str) -> dt.date | None:
    """The one date parser of every query parameter (charts, pages and the read API): "" is no date."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{name} must be a date YYYY-MM-DD, got {value[:40]!r}") from None


def _choice(query: QueryDict, name: str) -> str:
    value = query.get(name, "") or DEFAULTS[name]
    if value not in CHOICES[name]:
        raise BadParameter(f"{name} must be one of {', '.join(CHOICES[name])}")
    return value


def parse(query: QueryDict) -> ChartParams:
    unknown = sorted(set(query) - KNOWN)
    if unknown:
        raise BadParameter(f"unknown parameter: {unknown[0][:40]!r}")
    start, end = parse_date("start", query.get("start", "")), parse_date("end", query.get("end", ""))
    if start and end and start > end:
        raise BadParameter("start must not be after end")
    regions: list[str] = []
    for value in query.getlist("region"):
        for region in filter(None, value.split(",")):
            if region not in vocab.REGION_VALUES:
                raise BadParameter(f"region must be one of {', '.join(vocab.REGION_VALUES)}")
            if region not in regions:
                regions.append(region)
    organization = query.get("organization", "")
    if organization and not SAFE_NAME.match(organization):
        raise BadParameter("organization must be a Hub namespace (letters, digits, . _ -)")
    size_class = query.get("size_class", "")
    if size_class and size_class not in vocab.SIZE_CLASS_VALUES:
        raise BadParameter(f"size_class must be one of {', '.join(vocab.SIZE_CLASS_VALUES)}")
    licence_class = query.get("licence_class", "")
    if licence_class and licence_class not in vocab.LICENCE_CLASS_VALUES:
        raise BadParameter(f"licence_class must be one of {', '.join(vocab.LICENCE_CLASS_VALUES)}")
    pipeline_tag = query.get("pipeline_tag", "")
    if pipeline_tag and not SAFE_TAG.match(pipeline_tag):
        raise BadParameter("pipeline_tag must be a Hub pipeline tag such as text-generation")
    top_text = query.get("top", "") or str(DEFAULTS["top"])
    if not (top_text.isascii() and top_text.isdigit()) or not 1 <= int(top_text) <= 30:
        raise BadParameter("top must be an integer from 1 to 30")
    filters = Filters(start=start, end=end, regions=tuple(sorted(regions)), organization=organization,
                      size_class=size_class, pipeline_tag=pipeline_tag, scope=_choice(query, "scope"),
                      licence_class=licence_class)
    _choice(query, "format")
    if query.get("forecast", "") not in ("", "0", "1"):
        raise BadParameter("forecast must be 0 or 1")
    return ChartParams(filters=filters, top=int(top_text), by=_choice(query, "by"), depth=_choice(query, "depth"),
                       source=_choice(query, "source"), forecast=query.get("forecast") == "1", **_forecast(query))


def _forecast(query: QueryDict) -> dict:
    """as_of, target_date, horizon_days: dates within 2000..2100 (a forecast of another era is a
    typo), a horizon of 1..MAX_HORIZON_DAYS days, a target not before as_of, not both a target and a horizon."""
    as_of, target = parse_date("as_of", query.get("as_of", "")), parse_date("target_date", query.get("target_date", ""))
    for name, day in (("as_of", as_of), ("target_date", target)):
        if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise BadParameter(f"{name} must be a date from 2000-01-01 to 2100-12-31")
    text = query.get("horizon_days", "")
    horizon = None
    if text:
        if not (text.isascii() and text.isdigit() and len(text) <= 5) or not 1 <= int(text) <= MAX_HORIZON_DAYS:
            raise BadParameter(f"horizon_days must be an integer from 1 to {MAX_HORIZON_DAYS}")
        horizon = int(text)
    if horizon is not None and target is not None:
        raise BadParameter("give target_date or horizon_days, not both")
    if as_of and target and target < as_of:
        raise BadParameter("target_date must not be before as_of")
    return {"as_of": as_of, "target_date": target, "horizon_days": horizon}
