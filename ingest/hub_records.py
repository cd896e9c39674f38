"""The one path from Hub-API-shaped model records into the database.

Both the hub-stats Parquet import and the crawler hand records in the Hub API's field names
(`id, author, createdAt, downloads, downloadsAllTime, likes, tags, cardData, safetensors,
baseModels, pipeline_tag, library_name, gated, …`) to `upsert_hub_records`. It validates, normalises
licences, resolves curation (size, release date, tracked) and lineage, and upserts in bulk: one
model row, one (model, day) snapshot, one row per lineage edge. Running it twice on the same
records changes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import orjson
import psycopg
from django.db import connection, transaction
from django.utils import timezone

from ingest import licences
from ingest.curation import Curation, curated_fields, load_curation
from ingest.hub import ids
from ingest.identity import Names, record_rejections, relink_edges, self_reference
from ingest.lineage import HUB_ID, LineageGraph, parse_parents
from observatory.catalog.models import (
    DownloadSnapshot,
    HubModel,
    LineageEdge,
    Organization,
    QuarantinedRecord,
)

log = logging.getLogger(__name__)

MODEL_FIELDS = [
    "organization", "author", "created_at", "last_modified", "release_date", "release_date_source",
    "pipeline_tag", "library_name", "licence_raw", "licence_id", "licence_class", "total_params",
    "active_params", "is_moe", "params_source", "size_class", "gated", "tags", "card_data", "downloads",
    "downloads_all_time", "likes", "tracked", "tracked_reason", "last_seen_at",
]


class InvalidRecord(ValueError):
    """A record that cannot be stored as it is; it is quarantined with this reason."""


@dataclass
class Prepared:
    record: dict
    hub_id: str
    namespace: str
    fields: dict
    parents: list[tuple[str, str, str]]
    lineage_known: bool
    json: dict[str, str]  # the JSON text of the list and object fields, serialised once


def _as_datetime(value: object, field: str) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidRecord(f"{field}: not an ISO date-time: {value[:40]!r}") from None
    else:
        raise InvalidRecord(f"{field}: expected a date-time, got {type(value).__name__}")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _as_count(value: object, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidRecord(f"{field}: expected a count, got {value!r:.40}")
    if value < 0:
        raise InvalidRecord(f"{field}: negative count {value}")
    return int(value)


def _card(value: object) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            try:  # orjson is strict JSON; the Hub's cards sometimes carry NaN, which json reads
                value = json.loads(value)
            except json.JSONDecodeError:
                raise InvalidRecord("cardData: not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidRecord(f"cardData: expected an object, got {type(value).__name__}")
    return value


def _gated(value: object) -> str:
    if value in (None, False, "false", "False", ""):
        return ""
    if value is True:
        return "auto"
    return str(value)[:16]


def prepare(record: dict, curation: Curation) -> Prepared:
    """Validate and normalise one record. Raises InvalidRecord with a reason."""
    if not isinstance(record, dict):
        raise InvalidRecord(f"record is a {type(record).__name__}, not an object")
    hub_id = record.get("id") or record.get("modelId")
    if not isinstance(hub_id, str) or not HUB_ID.match(hub_id) or ".." in hub_id:
        raise InvalidRecord(f"id: not a Hub repo id: {str(hub_id)[:80]!r}")
    tags = record.get("tags") or []
    if not isinstance(tags, list):
        raise InvalidRecord("tags: expected a list of strings")
    for tag in tags:
        if type(tag) is not str:
            raise InvalidRecord("tags: expected a list of strings")
    card = _card(record.get("cardData"))
    created_at = _as_datetime(record.get("createdAt"), "createdAt")
    safetensors = record.get("safetensors") or {}
    if not isinstance(safetensors, dict):
        raise InvalidRecord("safetensors: expected an object")
    normalised = {
        **record,
        "id": hub_id,
        "tags": tags,
        "cardData": card,
        "createdAt": created_at,
        "safetensors": {"total": _as_count(safetensors.get("total"), "safetensors.total")},
        "downloadsAllTime": _as_count(record.get("downloadsAllTime"), "downloadsAllTime"),
    }
    raw_licence = card.get("license")
    if raw_licence is None:
        tag_licences = [t.split(":", 1)[1] for t in tags if t.startswith("license:")]
        raw_licence = tag_licences[0] if len(tag_licences) == 1 else (tag_licences or None)
    licence_id, licence_class = licences.normalise_licence(
        raw_licence, license_name=card.get("license_name"), license_link=card.get("license_link")
    )
    namespace = hub_id.split("/", 1)[0] if "/" in hub_id else ""
    fields = {
        "author": str(record.get("author") or namespace)[:96],
        "created_at": created_at,
        "last_modified": _as_datetime(record.get("lastModified"), "lastModified"),
        "pipeline_tag": str(record.get("pipeline_tag") or "")[:64],
        "library_name": str(record.get("library_name") or "")[:64],
        "licence_raw": licences.licence_raw_text(raw_licence, card.get("license_name")),
        "licence_id": licence_id,
        "licence_class": licence_class,
        "gated": _gated(record.get("gated")),
        "tags": tags,
        "card_data": {k: card[k] for k in ("license", "license_name", "license_link", "base_model",
                                           "base_model_relation", "language", "pipeline_tag") if k in card},
        "downloads": _as_count(record.get("downloads"), "downloads"),
        "downloads_all_time": normalised["downloadsAllTime"],
        "likes": _as_count(record.get("likes"), "likes"),
        **curated_fields(normalised, curation),
    }
    texts = _refuse_nul(fields)
    lineage_known = any(key in record for key in ("baseModels", "cardData", "tags"))
    return Prepared(normalised, hub_id, namespace, fields, parse_parents(normalised), lineage_known, texts)


def _refuse_nul(fields: dict) -> dict[str, str]:
    """PostgreSQL stores no NUL character in text or jsonb: such a record is quarantined, not crashed on.

    Returns the JSON text of the list and object fields, which the COPY then reuses.
    """
    texts = {}
    for key, value in fields.items():
        if isinstance(value, str):
            if "\x00" in value:
                raise InvalidRecord(f"{key}: contains a NUL character")
        elif isinstance(value, (list, dict)):
            text = texts[key] = _json(value)
            if "\\u0000" in text:
                raise InvalidRecord(f"{key}: contains a NUL character")
    return texts


@dataclass
class PreparedBatch:
    """One batch validated and normalised in Python, not written yet (no database access)."""

    records: int
    prepared: dict[str, Prepared]
    quarantined: list[QuarantinedRecord]
    run: object = None


def prepare_batch(records: Iterable[dict], *, source: str, run=None, quarantine_invalid: bool = True,
                  curation: Curation) -> PreparedBatch:
    """Validate and normalise a batch. Pure Python over the curation read beforehand: safe on a
    helper thread while the database writes the previous batch."""
    prepared: dict[str, Prepared] = {}
    quarantined: list[QuarantinedRecord] = []
    count = 0
    for record in records:
        count += 1
        try:
            item = prepare(record, curation)
        except InvalidRecord as exc:
            if not quarantine_invalid:
                raise
            key = str(record.get("id", "") if isinstance(record, dict) else "")[:300]
            payload = record if isinstance(record, dict) else {"value": repr(record)[:2000]}
            # Stored as JSON, minus NUL characters (PostgreSQL refuses them even in jsonb).
            payload = json.loads(json.dumps(payload, default=str).replace("\\u0000", "\\ufffd"))
            quarantined.append(QuarantinedRecord(run=run, source=source, record_key=key.replace("\x00", ""),
                                                 payload=payload, reason=str(exc).replace("\x00", "")))
            log.warning("record quarantined id=%s source=%s reason=%s", key, source, exc)
            continue
        prepared[item.hub_id] = item  # the same id twice in one batch: the later one wins
    return PreparedBatch(count, prepared, quarantined, run)


def write_batch(batch: PreparedBatch, *, snapshot_date: dt.date, source: str) -> dict[str, int]:
    """Store a prepared batch; returns counts. Call inside your transaction."""
    counts = {"records": batch.records, "models": 0, "snapshots": 0, "edges": 0, "rejected_edges": 0,
              "quarantined": 0}
    if batch.quarantined:
        QuarantinedRecord.objects.bulk_create(batch.quarantined)
        counts["quarantined"] = len(batch.quarantined)
    prepared = batch.prepared
    if not prepared:
        return counts

    # Models some stored edge already names as its parent: the only ones that can close a cycle as
    # children, and the only ones with edges waiting for them (one index look-up for both).
    named = stored_parents_among(set(prepared))
    edges, rejected = _accepted_edges(prepared, named)
    counts["rejected_edges"] = len(rejected)
    record_rejections(rejected, run=batch.run)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _write_postgres(prepared, edges, named, snapshot_date, source)
        else:
            _write_orm(prepared, edges, snapshot_date, source)
    counts["models"] = counts["snapshots"] = len(prepared)
    counts["edges"] = len(edges)
    return counts


def upsert_hub_records(
    records: Iterable[dict],
    *,
    snapshot_date: dt.date,
    source: str,
    run=None,
    quarantine_invalid: bool = True,
    curation: Curation | None = None,
) -> dict[str, int]:
    """Validate and upsert one batch of records; returns counts. Call inside your transaction.

    Feed it batches of a few thousand records: each batch is a handful of statements, whatever
    its size (on PostgreSQL one COPY into a temporary table, then INSERT … ON CONFLICT from it).
    """
    batch = prepare_batch(records, source=source, run=run, quarantine_invalid=quarantine_invalid,
                          curation=curation or load_curation())
    return write_batch(batch, snapshot_date=snapshot_date, source=source)


class InvalidBatch(InvalidRecord):
    """A batch of `prepared_ahead` holds an invalid record; `start` and `records` say which batch."""

    def __init__(self, message: str, start: int, records: list[dict]):
        super().__init__(message)
        self.start, self.records = start, records


def prepared_ahead(rows: list[dict], batch: int, **options) -> Iterator[tuple[int, PreparedBatch]]:
    """(start, prepared batch) for each `batch` rows, the next batch prepared on a helper thread
    while the caller writes this one.

    A long import is half Python (validation, licences, curation, lineage) and half database
    work; psycopg waits for the server without holding the GIL, so the two overlap instead of
    adding up. Options go to prepare_batch. An invalid record raises InvalidBatch when its batch
    is reached, after the batches before it were handed out, as in a plain loop.
    """
    starts = range(0, len(rows), batch)
    if not starts:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare") as pool:
        def submit(start: int) -> Future:
            return pool.submit(prepare_batch, rows[start:start + batch], **options)

        future = submit(starts[0])
        for i, start in enumerate(starts):
            try:
                ready = future.result()
            except InvalidRecord as exc:
                raise InvalidBatch(str(exc), start, rows[start:start + batch]) from None
            if i + 1 < len(starts):
                future = submit(starts[i + 1])
            yield start, ready


class PlannerStats:
    """Keeps the planner's row counts honest during one long import transaction.

    Autovacuum cannot see rows a transaction has not committed, so while one import writes a
    million rows the planner still believes the tables are small and answers each batch's joins
    with full scans (a cost that grows with every batch). ANALYZE counts the transaction's own
    rows: run it whenever the rows written have doubled since the last time (a handful of times
    an import). A crawl commits every page and needs none of this.
    """

    def __init__(self, first_at: int = 20_000):
        self.written = 0
        self.next_at = first_at

    def wrote(self, rows: int) -> None:
        self.written += rows
        if self.written >= self.next_at and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE catalog_hubmodel, catalog_lineageedge, catalog_downloadsnapshot")
            self.next_at = self.written * 2


def _accepted_edges(prepared: dict[str, Prepared], named: set[str]
                    ) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str, str]]]:
    """([(child, parent, relation, source)], [(child, stated parent, resolved, reason)]): one edge per
    (child, base) with parents resolved to their current ids, minus self-references (also through
    an alias or a casing) and cycles, which are returned with their reasons.

    An edge child → parent closes a cycle only if the child already has descendants (stored: in
    `named`, or in this batch): only those children's ancestry is loaded and walked. A new leaf, by far the
    most common record, costs one set lookup.
    """
    children = [p for p in prepared.values() if p.lineage_known]
    if not children:
        return [], []
    # Each named parent as the catalogue knows it: an old name to the current id, another casing
    # to the stored spelling, so one base is one parent whatever name the record used.
    names = Names.around({parent for p in children for parent, _, _ in p.parents}, batch=prepared)
    parents = {p.hub_id: [(parent, names.resolve(parent), relation, source) for parent, relation, source in p.parents]
               for p in children}
    child_ids = {p.hub_id for p in children}
    batch_parents = {parent for stated in parents.values() for _, parent, _, _ in stated}
    with_descendants = (child_ids & batch_parents) | (named & _with_parents(children))
    graph = LineageGraph.around(with_descendants | {par for p in children if p.hub_id in with_descendants
                                                    for _, par, _, _ in parents[p.hub_id]})
    edges: list[tuple[str, str, str, str]] = []
    rejected: list[tuple[str, str, str, str]] = []
    for item in children:
        accepted: list[str] = []
        seen: set[str] = set()
        for stated, parent, relation, source in parents[item.hub_id]:
            if ids.key(parent) in seen:
                continue  # two names of one base: one edge (the first source's relation)
            reason = self_reference(item.hub_id, stated, parent)
            if reason is None and item.hub_id in with_descendants and graph.creates_cycle(item.hub_id, parent):
                reason = f"would create a cycle: {parent} descends from {item.hub_id}"
            if reason:
                rejected.append((item.hub_id, stated, parent, reason))
                log.warning("lineage edge rejected child=%s parent=%s reason=%s", item.hub_id, stated, reason)
                continue
            seen.add(ids.key(parent))
            accepted.append(parent)
            edges.append((item.hub_id, parent, relation, source))
        if item.hub_id in with_descendants:
            graph.replace(item.hub_id, accepted)
    return edges, rejected


def _with_parents(children: list[Prepared]) -> set[str]:
    return {p.hub_id for p in children if p.parents}


def stored_parents_among(hub_ids: set[str]) -> set[str]:
    """Which of these ids some stored edge names as its parent (they have descendants)."""
    ids = sorted(hub_ids)
    found: set[str] = set()
    if connection.vendor == "postgresql":  # one array parameter: no SQL to build for thousands of ids
        with connection.cursor() as cursor:
            cursor.execute("SELECT DISTINCT parent_hub_id FROM catalog_lineageedge WHERE parent_hub_id = ANY(%s)",
                           [ids])
            return {row[0] for row in cursor.fetchall()}
    for start in range(0, len(ids), 500):  # SQLite caps the number of query parameters
        found.update(LineageEdge.objects.filter(parent_hub_id__in=ids[start:start + 500])
                     .values_list("parent_hub_id", flat=True).distinct())
    return found


# --- PostgreSQL: COPY into temporary tables, then set-based upserts ---------------------------

_TEMP_MODELS = """
CREATE TEMP TABLE IF NOT EXISTS _hr_models (
    hub_id text, namespace text, lineage_known boolean, author text, created_at timestamptz,
    last_modified timestamptz, release_date date, release_date_source text, pipeline_tag text,
    library_name text, licence_raw text, licence_id text, licence_class text, total_params bigint,
    active_params bigint, is_moe boolean, params_source text, size_class text, gated text, tags jsonb,
    card_data jsonb, downloads bigint, downloads_all_time bigint, likes integer, tracked boolean,
    tracked_reason text
) ON COMMIT DROP"""
_TEMP_EDGES = """
CREATE TEMP TABLE IF NOT EXISTS _hr_edges (child_hub_id text, parent_hub_id text, relation text, source text)
ON COMMIT DROP"""
_MODEL_COLUMNS = [
    "author", "created_at", "last_modified", "release_date", "release_date_source", "pipeline_tag", "library_name",
    "licence_raw", "licence_id", "licence_class", "total_params", "active_params", "is_moe", "params_source",
    "size_class", "gated", "tags", "card_data", "downloads", "downloads_all_time", "likes", "tracked", "tracked_reason",
]
# An admin's hand-set release date or parameter count outlives every crawl and import.
_ADMIN_KEPT = {
    "release_date": "release_date_source", "release_date_source": "release_date_source",
    "total_params": "params_source", "active_params": "params_source", "is_moe": "params_source",
    "size_class": "params_source", "params_source": "params_source",
}


def _update_clause(column: str) -> str:
    guard = _ADMIN_KEPT.get(column)
    if guard:
        return (f"{column} = CASE WHEN catalog_hubmodel.{guard} = 'admin' THEN catalog_hubmodel.{column} "
                f"ELSE EXCLUDED.{column} END")
    return f"{column} = EXCLUDED.{column}"


_UPSERT_MODELS = f"""
INSERT INTO catalog_hubmodel (hub_id, organization_id, {", ".join(_MODEL_COLUMNS)}, first_seen_at, last_seen_at)
SELECT t.hub_id, o.id, {", ".join("t." + c for c in _MODEL_COLUMNS)}, now(), now()
FROM _hr_models t LEFT JOIN catalog_organization o ON o.namespace = t.namespace
ON CONFLICT (hub_id) DO UPDATE SET organization_id = EXCLUDED.organization_id,
    {", ".join(_update_clause(c) for c in _MODEL_COLUMNS)}, last_seen_at = EXCLUDED.last_seen_at"""
_UPSERT_ORGS = """
INSERT INTO catalog_organization (namespace, display_name, region, region_source, notes)
SELECT DISTINCT namespace, namespace, 'unknown', 'default', '' FROM _hr_models WHERE namespace <> ''
ON CONFLICT (namespace) DO NOTHING"""
_UPSERT_SNAPSHOTS = """
INSERT INTO catalog_downloadsnapshot (model_id, date, downloads, downloads_all_time, likes, source)
SELECT m.id, %s, t.downloads, t.downloads_all_time, t.likes, %s
FROM _hr_models t JOIN catalog_hubmodel m ON m.hub_id = t.hub_id
ON CONFLICT (model_id, date) DO UPDATE SET downloads = EXCLUDED.downloads,
    downloads_all_time = EXCLUDED.downloads_all_time, likes = EXCLUDED.likes, source = EXCLUDED.source"""
# The latest record states the whole parent set: edges it no longer states go.
_DELETE_STALE_EDGES = """
DELETE FROM catalog_lineageedge e USING _hr_models t JOIN catalog_hubmodel c ON c.hub_id = t.hub_id
WHERE t.lineage_known AND e.child_id = c.id AND NOT EXISTS (
    SELECT 1 FROM _hr_edges x WHERE x.child_hub_id = t.hub_id AND x.parent_hub_id = e.parent_hub_id)"""
_UPSERT_EDGES = """
INSERT INTO catalog_lineageedge (child_id, parent_id, parent_hub_id, relation, source)
SELECT c.id, p.id, x.parent_hub_id, x.relation, x.source
FROM _hr_edges x JOIN catalog_hubmodel c ON c.hub_id = x.child_hub_id
LEFT JOIN catalog_hubmodel p ON p.hub_id = x.parent_hub_id
ON CONFLICT (child_id, parent_hub_id) DO UPDATE SET parent_id = EXCLUDED.parent_id,
    relation = EXCLUDED.relation, source = EXCLUDED.source"""
# Edges stored before their parent arrived point at it now.
_RESOLVE_PENDING = """
UPDATE catalog_lineageedge e SET parent_id = m.id
FROM _hr_models t JOIN catalog_hubmodel m ON m.hub_id = t.hub_id
WHERE e.parent_id IS NULL AND e.parent_hub_id = t.hub_id"""


def _json(value) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # NaN/Infinity or keys orjson refuses: the standard library copes
        return json.dumps(value, ensure_ascii=False, default=str)


def _write_postgres(prepared: dict[str, Prepared], edges: list, named: set[str], snapshot_date: dt.date,
                    source: str) -> None:
    """Models not stored yet go straight in by COPY; stored ones through the temp-table upsert.

    A new model has no snapshot, no edge of its own and nothing an admin kept, so what it needs is
    plain rows in the three tables: COPY writes them at bulk speed, where INSERT … ON CONFLICT pays
    a speculative insertion per row. If a concurrent writer stores one of them between the look-up
    and the COPY, the unique index refuses it, the COPY's savepoint is rolled back and the whole
    batch takes the upsert path, which is right whatever is stored.
    """
    with connection.cursor() as cursor:
        outside = {parent for _, parent, _, _ in edges if parent not in prepared}
        stored = _stored_model_ids(cursor, [*prepared, *outside])
        new = {hub_id: p for hub_id, p in prepared.items() if hub_id not in stored}
        if new:
            try:
                with transaction.atomic():
                    _copy_new(cursor, new, [e for e in edges if e[0] in new], stored, named, snapshot_date, source)
            except psycopg.errors.UniqueViolation:
                new = {}
        rest = {hub_id: p for hub_id, p in prepared.items() if hub_id not in new}
        if rest:
            _upsert(cursor, rest, [e for e in edges if e[0] in rest], named, snapshot_date, source)


def _stored_model_ids(cursor, hub_ids: list[str]) -> dict[str, int]:
    cursor.execute("SELECT hub_id, id FROM catalog_hubmodel WHERE hub_id = ANY(%s)", [hub_ids])
    return dict(cursor.fetchall())


def _organization_ids(cursor, namespaces: set[str]) -> dict[str, int]:
    """Ids of these namespaces, creating the unseen ones with an unknown region (a known one is never touched)."""
    if not namespaces:
        return {}
    cursor.execute("SELECT namespace, id FROM catalog_organization WHERE namespace = ANY(%s)", [list(namespaces)])
    ids = dict(cursor.fetchall())
    missing = sorted(namespaces - ids.keys())
    if missing:
        cursor.execute("INSERT INTO catalog_organization (namespace, display_name, region, region_source, notes) "
                       "SELECT ns, ns, 'unknown', 'default', '' FROM unnest(%s::text[]) AS ns "
                       "ON CONFLICT (namespace) DO NOTHING", [missing])
        cursor.execute("SELECT namespace, id FROM catalog_organization WHERE namespace = ANY(%s)", [missing])
        ids.update(cursor.fetchall())
    return ids


_NEW_MODEL_COLUMNS = ", ".join(["id", "hub_id", "organization_id", *_MODEL_COLUMNS, "first_seen_at", "last_seen_at"])


def _copy_new(cursor, new: dict[str, Prepared], edges: list, stored: dict[str, int], named: set[str],
              snapshot_date: dt.date, source: str) -> None:
    cursor.execute("SELECT now(), array(SELECT nextval(pg_get_serial_sequence('catalog_hubmodel', 'id')) "
                   "FROM generate_series(1, %s))", [len(new)])
    now, ids = cursor.fetchone()
    model_ids = dict(zip(new, ids))
    org_ids = _organization_ids(cursor, {p.namespace for p in new.values() if p.namespace})
    raw = cursor.cursor
    with raw.copy(f"COPY catalog_hubmodel ({_NEW_MODEL_COLUMNS}) FROM STDIN") as copy:
        for hub_id, p in new.items():
            copy.write_row((model_ids[hub_id], hub_id, org_ids.get(p.namespace), *_model_values(p), now, now))
    with raw.copy("COPY catalog_downloadsnapshot (model_id, date, downloads, downloads_all_time, likes, source) "
                  "FROM STDIN") as copy:
        for hub_id, p in new.items():
            f = p.fields
            copy.write_row((model_ids[hub_id], snapshot_date, f["downloads"], f["downloads_all_time"], f["likes"],
                            source))
    if edges:
        with raw.copy("COPY catalog_lineageedge (child_id, parent_id, parent_hub_id, relation, source) "
                      "FROM STDIN") as copy:
            for child, parent, relation, edge_source in edges:
                copy.write_row((model_ids[child], model_ids.get(parent) or stored.get(parent), parent, relation,
                                edge_source))
    # Edges stored before their parent arrived point at it now (only a `named` model has any).
    waited_for = [hub_id for hub_id in new if hub_id in named]
    if waited_for:
        cursor.execute("UPDATE catalog_lineageedge e SET parent_id = m.id "
                       "FROM unnest(%s::text[], %s::bigint[]) AS m(hub_id, id) "
                       "WHERE e.parent_id IS NULL AND e.parent_hub_id = m.hub_id",
                       [waited_for, [model_ids[hub_id] for hub_id in waited_for]])


def _model_values(p: Prepared) -> tuple:
    """The values of _MODEL_COLUMNS, in order."""
    f = p.fields
    return (f["author"], f["created_at"], f["last_modified"], f["release_date"], f["release_date_source"],
            f["pipeline_tag"], f["library_name"], f["licence_raw"], f["licence_id"], f["licence_class"],
            f["total_params"], f["active_params"], f["is_moe"], f["params_source"], f["size_class"], f["gated"],
            p.json["tags"], p.json["card_data"], f["downloads"], f["downloads_all_time"], f["likes"],
            f["tracked"], f["tracked_reason"])


def _upsert(cursor, prepared: dict[str, Prepared], edges: list, named: set[str], snapshot_date: dt.date,
            source: str) -> None:
    cursor.execute(_TEMP_MODELS)
    cursor.execute(_TEMP_EDGES)
    cursor.execute("TRUNCATE _hr_models, _hr_edges")
    raw = cursor.cursor
    columns = ", ".join(["hub_id", "namespace", "lineage_known", *_MODEL_COLUMNS])
    with raw.copy(f"COPY _hr_models ({columns}) FROM STDIN") as copy:
        for p in prepared.values():
            copy.write_row((p.hub_id, p.namespace, p.lineage_known, *_model_values(p)))
    if edges:
        with raw.copy("COPY _hr_edges (child_hub_id, parent_hub_id, relation, source) FROM STDIN") as copy:
            for edge in edges:
                copy.write_row(edge)
    cursor.execute(_UPSERT_ORGS)
    cursor.execute(_UPSERT_MODELS)
    cursor.execute(_UPSERT_SNAPSHOTS, [snapshot_date, source])
    cursor.execute(_DELETE_STALE_EDGES)
    if edges:
        cursor.execute(_UPSERT_EDGES)
    if not named.isdisjoint(prepared):
        cursor.execute(_RESOLVE_PENDING)


# --- Other databases (the embedded SQLite default): the same upserts through the ORM ---------


def _write_orm(prepared: dict[str, Prepared], edges: list, snapshot_date: dt.date, source: str) -> None:
    org_ids = _ensure_organizations({p.namespace for p in prepared.values() if p.namespace})
    _keep_admin_curation(prepared)
    now = timezone.now()
    HubModel.objects.bulk_create(
        [HubModel(hub_id=p.hub_id, **{**p.fields, "organization_id": org_ids.get(p.namespace), "last_seen_at": now})
         for p in prepared.values()],
        update_conflicts=True, unique_fields=["hub_id"], update_fields=MODEL_FIELDS, batch_size=500,
    )
    model_ids: dict[str, int] = {}
    hub_ids = list(prepared)
    for start in range(0, len(hub_ids), 500):  # SQLite caps the number of query parameters
        model_ids.update(HubModel.objects.filter(hub_id__in=hub_ids[start:start + 500]).values_list("hub_id", "id"))
    DownloadSnapshot.objects.bulk_create(
        [DownloadSnapshot(model_id=model_ids[p.hub_id], date=snapshot_date, downloads=p.fields["downloads"],
                          downloads_all_time=p.fields["downloads_all_time"], likes=p.fields["likes"], source=source)
         for p in prepared.values()],
        update_conflicts=True, unique_fields=["model", "date"],
        update_fields=["downloads", "downloads_all_time", "likes", "source"], batch_size=500,
    )
    children = {model_ids[p.hub_id] for p in prepared.values() if p.lineage_known}
    stated = {(model_ids[child], parent) for child, parent, _, _ in edges}
    stale = [
        edge_id
        for edge_id, child_id, parent in LineageEdge.objects.filter(child_id__in=children).values_list(
            "id", "child_id", "parent_hub_id")
        if (child_id, parent) not in stated
    ]
    if stale:
        LineageEdge.objects.filter(id__in=stale).delete()
    LineageEdge.objects.bulk_create(
        [LineageEdge(child_id=model_ids[child], parent_hub_id=parent, relation=relation, source=edge_source)
         for child, parent, relation, edge_source in edges],
        update_conflicts=True, unique_fields=["child", "parent_hub_id"], update_fields=["relation", "source"],
        batch_size=500,
    )
    resolve_pending_parents()


def _ensure_organizations(namespaces: set[str]) -> dict[str, int]:
    """Create unseen namespaces with an unknown region; never touch a known region."""
    Organization.objects.bulk_create(
        [Organization(namespace=ns, display_name=ns, region="unknown", region_source="default") for ns in namespaces],
        ignore_conflicts=True, batch_size=500,
    )
    return dict(Organization.objects.filter(namespace__in=namespaces).values_list("namespace", "id"))


def _keep_admin_curation(prepared: dict[str, Prepared]) -> None:
    admin_rows = HubModel.objects.filter(hub_id__in=list(prepared), release_date_source="admin")
    for hub_id, release_date in admin_rows.values_list("hub_id", "release_date"):
        prepared[hub_id].fields.update(release_date=release_date, release_date_source="admin")
    for row in HubModel.objects.filter(hub_id__in=list(prepared), params_source="admin").values(
        "hub_id", "total_params", "active_params", "is_moe", "size_class"
    ):
        prepared[row.pop("hub_id")].fields.update(row, params_source="admin")


def resolve_pending_parents(*, run=None) -> int:
    """Point edges whose parent arrived after them at the parent's row, under any casing or old
    name (ingest.identity.relink_edges: repeats merged, self-edges rejected). Returns edges linked."""
    return relink_edges(run=run)["linked"]
