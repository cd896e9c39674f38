"""Storing a prepared batch: quarantine, lineage acceptance, then the backend's writer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from django.db import connection, transaction

from ingest.curation import Curation, load_curation
from ingest.hub_records.batches import PreparedBatch, prepare_batch
from ingest.hub_records.edges import accepted_edges
from ingest.hub_records.orm import write_orm
from ingest.hub_records.postgres import write_postgres
from ingest.hub_records.references import stored_parents_among
from ingest.identity import record_rejections, relink_edges
from observatory.catalog.models import QuarantinedRecord

Writer = Callable[..., None]


def write_batch(batch: PreparedBatch, *, snapshot_date: dt.date, source: str, writer: Writer | None = None
                ) -> dict[str, int]:
    """Store a prepared batch; returns counts. Call inside your transaction.

    `writer` is the backend's own unless given: write_postgres on PostgreSQL, write_orm elsewhere
    (the tests hand both the same batch to show they store the same rows).
    """
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
    edges, rejected = accepted_edges(prepared, named)
    counts["rejected_edges"] = len(rejected)
    record_rejections(rejected, run=batch.run)
    if writer is None:
        writer = write_postgres if connection.vendor == "postgresql" else write_orm
    with transaction.atomic():
        writer(prepared, edges, named, snapshot_date, source)
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


def resolve_pending_parents(*, run=None) -> int:
    """Point edges whose parent arrived after them at the parent's row, under any casing or old
    name (ingest.identity.relink_edges: repeats merged, self-edges rejected). Returns edges linked."""
    return relink_edges(run=run)["linked"]
