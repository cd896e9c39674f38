"""A crawl run: a plan of list segments, walked one page (one Celery task) at a time.

The run row's cursor says which page comes next. Each page is fetched, then upserted and the
cursor advanced in one transaction under a row lock, so a page is applied exactly once however
often its task is delivered; a killed crawl resumes from the cursor (see `resume_stalled`).
"""

from __future__ import annotations

import datetime as dt
import logging
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from ingest.hub.client import HubPermanentError, get_json, list_url, next_link
from ingest.hub_records import upsert_hub_records
from ingest.identity import relink_edges
from observatory import vocab
from observatory.catalog.models import Organization, Run
from observatory.catalog.runs import bump_data_version

log = logging.getLogger(__name__)
# The page task's registered name (ingest.hub.tasks, which imports this module). Sent by name,
# which every process knows once Django is set up (ingest.apps registers the crawl tasks).
PAGE_TASK = "ingest.tasks.crawl_page"


def send_page(run_id: int, step: int) -> None:
    current_app.tasks[PAGE_TASK].delay(run_id, step)


def default_plan() -> list[dict]:
    """Tracked organisations, the global top-N by downloads, what was created since the last crawl,
    and tracked ids no list returned. The newest enabled CrawlPlan (admin) decides, else the settings."""
    from ingest.models import CrawlPlan

    plan = CrawlPlan.objects.filter(enabled=True).first()
    tracked_orgs = plan.tracked_orgs if plan else True
    extra_orgs = list(plan.extra_orgs) if plan else []
    top_n = plan.top_n if plan else settings.CRAWL_TOP_N
    new_since = plan.new_since_last_crawl if plan else True
    lookups = plan.lookup_unseen_tracked if plan else settings.CRAWL_LOOKUP_MAX
    orgs: list[str] = []
    if tracked_orgs:
        orgs = list(Organization.objects.filter(region_source__in=["atom", "admin"]).order_by("namespace")
                    .values_list("namespace", flat=True))
    orgs += [org for org in extra_orgs if org not in orgs]
    segments: list[dict] = [{"kind": "org", "author": ns} for ns in orgs]
    if top_n:
        segments.append({"kind": "top", "limit": top_n})
    last = Run.objects.filter(kind=Run.Kind.CRAWL, status=Run.Status.SUCCEEDED).order_by("-started_at").first()
    if new_since and last and last.started_at:
        segments.append({"kind": "new", "since": last.started_at.isoformat()})
    missing = unseen_tracked_ids(lookups)
    if missing:
        segments.append({"kind": "lookup", "ids": missing})
    if settings.CRAWL_PARENT_LOOKUP_MAX:
        # Last: the parents the pages above name are known by then (the ids are taken when it starts).
        segments.append({"kind": "parents", "limit": settings.CRAWL_PARENT_LOOKUP_MAX})
    return segments


def unseen_tracked_ids(limit: int) -> list[str]:
    """ATOM-listed ids the catalogue has under no name or casing: renamed or removed repos, for model_info."""
    from observatory.catalog.models import HubModel, ModelAlias, TrackedListEntry

    if limit <= 0:
        return []
    return list(
        TrackedListEntry.objects.alias(k=Lower("hub_id"))
        .exclude(k__in=HubModel.objects.annotate(k=Lower("hub_id")).values("k"))
        .exclude(k__in=ModelAlias.objects.annotate(k=Lower("old_hub_id")).values("k"))
        .order_by("hub_id").values_list("hub_id", flat=True)[:limit]
    )


def unheld_parent_ids(limit: int) -> list[str]:
    """Parents stored edges name that the catalogue holds under no name or casing, for model_info:
    a 307 makes the name an alias of the current id, a 200 brings the parent in, a 404 leaves it."""
    from ingest.identity import relink_edges
    from observatory.catalog.models import LineageEdge, ModelAlias

    if limit <= 0:
        return []
    relink_edges()  # what another casing or a known alias already resolves is not asked about
    return list(
        LineageEdge.objects.filter(parent__isnull=True).alias(k=Lower("parent_hub_id"))
        .exclude(k__in=ModelAlias.objects.annotate(k=Lower("old_hub_id")).values("k"))
        .order_by("parent_hub_id").values_list("parent_hub_id", flat=True).distinct()[:limit]
    )


def segment_url(segment: dict) -> str:
    endpoint, size = settings.HF_ENDPOINT, settings.CRAWL_PAGE_SIZE
    kind = segment["kind"]
    if kind == "org":
        return list_url(endpoint, author=segment["author"], limit=size)
    if kind == "top":
        return list_url(endpoint, sort="downloads", direction=-1, limit=min(size, segment["limit"]))
    if kind == "new":
        return list_url(endpoint, sort="createdAt", direction=-1, limit=size)
    if kind == "all":
        return list_url(endpoint, limit=size)
    if kind == "lookup":
        if not isinstance(segment.get("ids"), list) or not all(isinstance(i, str) for i in segment["ids"]):
            raise ValueError("a lookup segment needs a list of ids")
        return f"{endpoint.rstrip('/')}/api/models/"
    if kind == "parents":
        if not isinstance(segment.get("limit"), int) or isinstance(segment["limit"], bool) or segment["limit"] < 0:
            raise ValueError("a parents segment needs a limit (a count)")
        return f"{endpoint.rstrip('/')}/api/models/"
    raise ValueError(f"unknown crawl segment kind {kind!r}")


def start_crawl(segments: list[dict], *, name: str = "crawl") -> Run:
    """Create the run; its first page task is sent once the row is committed."""
    for segment in segments:
        segment_url(segment)  # validates the kind before anything is queued
    return Run.objects.queue(
        kind=Run.Kind.CRAWL, name=name,
        params={"segments": segments, "snapshot_date": timezone.now().date().isoformat()},
        cursor={"step": 0, "segment": 0, "url": None, "taken": 0},
        counts={"pages": 0, "models": 0, "snapshots": 0, "edges": 0, "quarantined": 0},
        send=lambda run: send_page(run.pk, 0),
    )


def _trim(segment: dict, records: list, taken: int, next_url: str | None) -> tuple[list, str | None]:
    """Cut a page where the segment ends: top-N reached, or models older than the last crawl."""
    if segment["kind"] == "top":
        remaining = segment["limit"] - taken
        if len(records) >= remaining:
            return records[:remaining], None
    if segment["kind"] == "new":
        since = dt.datetime.fromisoformat(segment["since"])
        kept = []
        for record in records:
            created = record.get("createdAt") if isinstance(record, dict) else None
            try:
                created_at = dt.datetime.fromisoformat(str(created).replace("Z", "+00:00"))
            except ValueError:
                kept.append(record)  # let validation quarantine it
                continue
            if created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=dt.UTC)
            if created_at < since:
                return kept, None
            kept.append(record)
        return kept, next_url
    return records, next_url


@contextmanager
def page_transaction() -> Iterator[None]:
    """The transaction a page is applied in, cursor and all.

    Its commit does not wait for the WAL to reach the disk (synchronous_commit off, for this
    transaction only): a page a second costs a disk flush a second otherwise, on the database side
    of the crawl. Nothing is lost that matters: a crash can undo the last pages applied, but each
    together with the cursor move past it, so they are fetched and applied again, and applying a
    page twice changes nothing. Atomicity and what other sessions see are as with any commit.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def process_page(run_id: int, step: int) -> int | None:
    """Fetch and apply page `step` of a crawl. Returns the next step, or None when there is none.

    Fetching happens outside any transaction; applying the page and advancing the cursor happen
    in one, under the run row's lock, so a page is applied once however often it is delivered.
    """
    run = Run.objects.filter(pk=run_id).first()
    if run is None or run.status not in (Run.Status.QUEUED, Run.Status.RUNNING) or run.cursor.get("step") != step:
        return None  # gone, finished, cancelled, or this page was already applied
    segments = run.params["segments"]
    cursor = run.cursor
    segment = segments[cursor["segment"]]
    lookup_ids = None
    if segment["kind"] == "lookup":
        lookup_ids = segment["ids"]
    elif segment["kind"] == "parents":
        # Taken once when the segment starts, then kept in the cursor so every page sees the same list.
        lookup_ids = cursor["ids"] if "ids" in cursor else unheld_parent_ids(segment["limit"])
    if lookup_ids is not None:
        records, next_url, renames, missing = _fetch_lookups(lookup_ids, cursor.get("taken", 0))
    else:
        url = cursor["url"] or segment_url(segment)
        page, response = get_json(url, timeout=settings.CRAWL_HTTP_TIMEOUT, token=settings.HF_TOKEN)
        if not isinstance(page, list):
            raise HubPermanentError(f"list endpoint answered a {type(page).__name__}, not a list: {url}")
        records, next_url = _trim(segment, page, cursor.get("taken", 0), next_link(response))
        renames, missing = {}, 0
    taken = len(lookup_ids[cursor.get("taken", 0):][:settings.CRAWL_LOOKUP_PAGE]) if lookup_ids is not None \
        else len(records)
    snapshot_date = dt.date.fromisoformat(run.params["snapshot_date"])
    with page_transaction():
        locked = Run.objects.select_for_update().get(pk=run_id)
        if locked.cursor.get("step") != step or locked.status not in (Run.Status.QUEUED, Run.Status.RUNNING):
            return None  # another delivery of this page got here first
        counts = upsert_hub_records(records, snapshot_date=snapshot_date, source="crawl", run=locked)
        _record_renames(renames)
        totals = dict(locked.counts)
        totals["pages"] = totals.get("pages", 0) + 1
        for key in ("records", "models", "snapshots", "edges", "quarantined"):
            totals[key] = totals.get(key, 0) + counts.get(key, 0)
        if lookup_ids is not None:
            totals["renames"] = totals.get("renames", 0) + len(renames)
            totals["missing"] = totals.get("missing", 0) + missing
        new_cursor = {"step": step + 1, "segment": cursor["segment"], "url": next_url,
                      "taken": cursor.get("taken", 0) + taken}
        if segment["kind"] == "parents":
            new_cursor["ids"] = lookup_ids
        if next_url is None:
            new_cursor.update(segment=cursor["segment"] + 1, url=None, taken=0)
            new_cursor.pop("ids", None)
        done = new_cursor["segment"] >= len(segments)
        if renames or done:
            # Edges naming an old name or another casing point at the current id (repeats merged,
            # self-edges rejected with their reason).
            relinked = relink_edges(run=locked)
            totals["rejected_edges"] = totals.get("rejected_edges", 0) + relinked["self_edges"]
        Run.objects.advance(run_id, cursor=new_cursor, counts=totals, done=done,
                            step=f"segment {new_cursor['segment']}/{len(segments)}, page {step + 1}",
                            fraction=min(1.0, new_cursor["segment"] / max(1, len(segments))))
        if done:
            transaction.on_commit(bump_data_version)
    log.info("crawl page applied run=%s step=%s records=%s done=%s", run_id, step, len(records), done)
    return None if done else step + 1


def _fetch_lookups(lookup_ids: list[str], taken: int) -> tuple[list[dict], str | None, dict[str, str], int]:
    """One page of /api/models/{id} lookups: (records, next marker, {old id: new id}, missing count).

    Ids a list segment of this crawl has already brought in are skipped; a 404 means the repo is
    gone (counted, not an error); a 307 to another name is a rename.
    """
    from observatory.catalog.models import HubModel

    batch = lookup_ids[taken:taken + settings.CRAWL_LOOKUP_PAGE]
    seen = {vocab.hub_id_key(h) for h in HubModel.objects.filter(hub_id__in=batch).values_list("hub_id", flat=True)}
    records, renames, missing = [], {}, 0
    endpoint = settings.HF_ENDPOINT.rstrip("/")
    for hub_id in batch:
        if vocab.hub_id_key(hub_id) in seen:
            continue  # stored, or fetched a moment ago under another name or casing
        try:
            record, response = get_json(f"{endpoint}/api/models/{urllib.parse.quote(hub_id)}",
                                        timeout=settings.CRAWL_HTTP_TIMEOUT, token=settings.HF_TOKEN)
        except HubPermanentError as exc:
            if exc.status in (401, 403, 404, 410):
                missing += 1
                continue
            raise
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise HubPermanentError(f"/api/models/{hub_id} answered something that is not a model")
        records.append(record)
        seen.add(vocab.hub_id_key(record["id"]))
        if vocab.hub_id_key(record["id"]) != vocab.hub_id_key(hub_id) and response.history:
            renames[hub_id] = record["id"]
    more = taken + len(batch) < len(lookup_ids)
    return records, ("lookup" if more else None), renames, missing


def _record_renames(renames: dict[str, str]) -> None:
    """Each old name the Hub redirected becomes an alias of the current id (an admin's own is kept)."""
    from observatory.catalog.models import HubModel, ModelAlias

    current = dict(HubModel.objects.filter(hub_id__in=list(renames.values())).values_list("hub_id", "id"))
    today = timezone.now().date().isoformat()
    for old, new in renames.items():
        alias = ModelAlias.objects.alias(k=Lower("old_hub_id")).filter(k=vocab.hub_id_key(old)).first()
        if alias is not None and alias.source == ModelAlias.Source.ADMIN:
            continue
        alias = alias or ModelAlias(old_hub_id=old)
        alias.hub_id, alias.model_id = new, current.get(new)
        alias.source, alias.evidence = ModelAlias.Source.REDIRECT, f"crawl {today}: the Hub redirected {old}"[:300]
        alias.save()


def resume_stalled(stale_seconds: float | None = None) -> list[int]:
    """Re-send the next page of every running crawl whose heartbeat went stale (a killed worker)."""
    stale_seconds = settings.CRAWL_STALE_SECONDS if stale_seconds is None else stale_seconds
    cutoff = timezone.now() - dt.timedelta(seconds=stale_seconds)
    resumed = []
    for run in Run.objects.filter(kind=Run.Kind.CRAWL, status__in=[Run.Status.RUNNING, Run.Status.QUEUED],
                                  created_at__lt=cutoff):
        if run.heartbeat_at is None or run.heartbeat_at < cutoff:
            Run.objects.heartbeat(run.pk, from_statuses=(Run.Status.QUEUED, Run.Status.RUNNING))
            send_page(run.pk, run.cursor.get("step", 0))
            resumed.append(run.pk)
    return resumed


def refresh_model(hub_id: str, *, run=None) -> str:
    """Fetch one model with /api/models/{id} (for what list data lacks) and upsert it.

    A renamed repo answers its old name with a 307 to the new one: the client follows it, and
    the old name is recorded as an alias of the same model. Returns the current id.
    """
    url = f"{settings.HF_ENDPOINT.rstrip('/')}/api/models/{hub_id}"
    record, response = get_json(url, timeout=settings.CRAWL_HTTP_TIMEOUT, token=settings.HF_TOKEN)
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise HubPermanentError(f"/api/models/{hub_id} answered something that is not a model")
    current = record["id"]
    with transaction.atomic():
        upsert_hub_records([record], snapshot_date=timezone.now().date(), source="crawl", run=run)
        if vocab.hub_id_key(current) != vocab.hub_id_key(hub_id) and response.history:
            _record_renames({hub_id: current})
            relink_edges(run=run)
    return current
