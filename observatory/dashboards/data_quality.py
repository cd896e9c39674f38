"""The data-quality ledger's page and API: what each source measures, its estimator, its
coverage, and every issue found with source, model, date and reason (analytics.quality)."""

from __future__ import annotations

import polars as pl
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ingest.download_measures import SOURCES
from observatory.analytics import quality
from observatory.catalog.models import DataQualityIssue
from observatory.catalog.runs import data_version
from observatory.dashboards.api import Invalid, _check_known, _choice, _int, _match
from observatory.read_only import read_only_json
from observatory.vocab import HUB_ID

KINDS = [k for k, _ in DataQualityIssue.Kind.choices]
TIMEOUT = 24 * 3600
PAGE_ROWS = 300  # the page lists the first entries chosen; the API pages through them all


def _ledger() -> tuple[list[dict], pl.DataFrame]:
    """(per-source summary, every issue) from the raw rows, computed once per data version: what
    the page reads while the kept entries are not fresh (a write not folded in yet, SQLite)."""
    key = f"data-quality:v{data_version()}"
    stored = cache.get(key)
    if stored is not None:
        return stored["summary"], pl.DataFrame(stored["issues"], schema=quality.ISSUE_SCHEMA, orient="row")
    issues = quality.all_issues()
    summary = quality.summary(issues, quality.coverage())
    cache.set(key, {"summary": summary, "issues": issues.rows()}, TIMEOUT)
    return summary, issues


def _kept_summary() -> list[dict]:
    key = f"data-quality-summary:v{data_version()}"
    summary = cache.get(key)
    if summary is None:
        summary = quality.summary_of_counts(quality.kept_counts(), quality.kept_coverage())
        cache.set(key, summary, TIMEOUT)
    return summary


def _issue_rows(frame: pl.DataFrame) -> list[dict]:
    return [{**row, "date": row["date"].isoformat() if row["date"] else None,
             "end_date": row["end_date"].isoformat() if row["end_date"] else None}
            for row in frame.drop("model_id").to_dicts()]


def _known(request: HttpRequest, allowed: set[str]) -> None:
    """Invalid for a parameter not in `allowed`, an empty one (API rule) or one given twice (which
    would be read as its last value without a word)."""
    _check_known(request, allowed)
    twice = sorted(name for name, values in request.GET.lists() if len(values) > 1)
    if twice:
        raise Invalid(f"{twice[0]} is given {len(request.GET.getlist(twice[0]))} times: give it once")


def _chosen(request: HttpRequest) -> tuple[str | None, str | None, str | None]:
    """(source, kind, model) asked for, each None for any; Invalid when one is not known."""
    chosen = (_choice(request, "source", list(SOURCES)), _choice(request, "kind", KINDS),
              _match(request, "model", HUB_ID, "a Hub id namespace/name"))
    return tuple(value or None for value in chosen)


def _entries(request: HttpRequest, limit: int, offset: int) -> tuple[list[dict], int, pl.DataFrame]:
    """(per-source summary, how many entries are chosen, `limit` of them from `offset`): the kept
    entries' index while they are fresh (the same entries, read in well under a second at the
    Hub's size), all_issues() filtered otherwise."""
    source, kind, model = _chosen(request)
    if quality.kept():
        count, rows = quality.kept_ledger(source, kind, model, limit, offset)
        return _kept_summary(), count, rows
    summary, issues = _ledger()
    if source:
        issues = issues.filter(pl.col("source") == source)
    if kind:
        issues = issues.filter(pl.col("kind") == kind)
    if model:
        issues = issues.filter(pl.col("hub_id").str.to_lowercase() == model.lower())
    return summary, issues.height, issues.slice(offset, limit)


@read_only_json
def api(request: HttpRequest) -> JsonResponse:
    try:
        _known(request, {"source", "kind", "model", "limit", "offset"})
        limit, offset = _int(request, "limit", 500, 1, 5000), _int(request, "offset", 0, 0, 10_000_000)
        summary, count, rows = _entries(request, limit, offset)
    except Invalid as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"sources": summary, "count": count, "limit": limit, "offset": offset,
                         "issues": _issue_rows(rows), "data_version": data_version()})


@require_GET
def page(request: HttpRequest) -> HttpResponse:
    # The page's form sends every field; an empty one means "any", so it is dropped (the API,
    # strict like the rest of the read API, refuses empty parameters instead).
    if any(not value for value in request.GET.values()):
        chosen = QueryDict(mutable=True)
        for name, values in request.GET.lists():
            chosen.setlist(name, [v for v in values if v])
        query = "?" + chosen.urlencode() if chosen else ""
        return HttpResponseRedirect(request.path + query)
    try:
        _known(request, {"source", "kind", "model"})
        summary, count, rows = _entries(request, PAGE_ROWS, 0)
    except Invalid as exc:
        return render(request, "dashboards/bad_request.html", {"error": str(exc)}, status=400)
    return render(request, "dashboards/data_quality.html", {
        "sources": summary, "issues": _issue_rows(rows), "count": count, "kinds": KINDS,
        "query": request.GET.urlencode(),
    })
