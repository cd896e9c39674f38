"""Batches of records: prepared together, quarantined together, prepared ahead of the writes.

A long import is half Python (validation, licences, curation, lineage) and half database work;
`prepared_ahead` overlaps the two. `PlannerStats` keeps the planner's row counts honest while
one transaction writes batch after batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from django.db import connection

from ingest.curation import Curation
from ingest.hub_records.columnar import prepare_columns
from ingest.hub_records.prepare import InvalidRecord, Prepared, prepare
from observatory.catalog.models import QuarantinedRecord

log = logging.getLogger(__name__)


@dataclass
class PreparedBatch:
    """One batch validated and normalised in Python, not written yet (no database access)."""

    records: int
    prepared: dict[str, Prepared]
    quarantined: list[QuarantinedRecord]
    run: object = None


def prepare_batch(records: Iterable[dict], *, source: str, run=None, quarantine_invalid: bool = True,
                  curation: Curation) -> PreparedBatch:
    """Validate and normalise a batch, column by column (columnar.py), over the curation read
    beforehand: no database access, so safe on a helper thread while the database writes the
    previous batch.

    An invalid record is quarantined, or, with quarantine_invalid=False, raised as InvalidRecord
    carrying its index in this batch (counted from 0).
    """
    records = records if isinstance(records, list) else list(records)
    # The column path prepares the records it vouches for; the others (every invalid one among
    # them) go through prepare, one by one, which names the field at fault as it always did.
    ready = prepare_columns(records, curation)
    prepared: dict[str, Prepared] = {}
    quarantined: list[QuarantinedRecord] = []
    count = 0
    for index, record in enumerate(records):
        count += 1
        item = ready.get(index)
        if item is not None:
            prepared[item.hub_id] = item
            continue
        try:
            item = prepare(record, curation)
        except InvalidRecord as exc:
            exc.index = index
            if not quarantine_invalid:
                raise
            quarantined.append(_quarantined(record, exc, source=source, run=run))
            continue
        prepared[item.hub_id] = item  # the same id twice in one batch: the later one wins
    return PreparedBatch(count, prepared, quarantined, run)


def _quarantined(record: object, exc: InvalidRecord, *, source: str, run) -> QuarantinedRecord:
    key = str(record.get("id", "") if isinstance(record, dict) else "")[:300]
    payload = record if isinstance(record, dict) else {"value": repr(record)[:2000]}
    # Stored as JSON, minus NUL characters (PostgreSQL refuses them even in jsonb).
    payload = json.loads(json.dumps(payload, default=str).replace("\\u0000", "\\ufffd"))
    log.warning("record quarantined id=%s source=%s reason=%s", key, source, exc)
    return QuarantinedRecord(run=run, source=source, record_key=key.replace("\x00", ""), payload=payload,
                             reason=str(exc).replace("\x00", ""))


class InvalidBatch(InvalidRecord):
    """A batch of `prepared_ahead` holds an invalid record: `start` and `records` say which batch,
    `field` and `index` (inherited) which record of it, `row` where it is among all the rows."""

    def __init__(self, cause: InvalidRecord, start: int, records: list[dict]):
        super().__init__(cause.field, cause.reason, index=cause.index)
        self.start, self.records = start, records

    @property
    def row(self) -> int:
        """The invalid record's position among all the rows handed to prepared_ahead, from 0."""
        return self.start + self.index


def prepared_ahead(rows: list[dict], batch: int, **options) -> Iterator[tuple[int, PreparedBatch]]:
    """(start, prepared batch) for each `batch` rows, the next batch prepared on a helper thread
    while the caller writes this one.

    psycopg waits for the server without holding the GIL, so preparing and writing overlap
    instead of adding up. Options go to prepare_batch. An invalid record raises InvalidBatch when
    its batch is reached, after the batches before it were handed out, as in a plain loop.
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
                raise InvalidBatch(exc, start, rows[start:start + batch]) from None
            if i + 1 < len(starts):
                future = submit(starts[i + 1])
            yield start, ready


# Only the tables and columns a batch's statements look rows up by: the row counts are what the
# planner lacked, and sampling the wide jsonb columns (tags, card data) was most of the cost. No
# batch statement reads the snapshots (their upsert goes by the unique index whatever the counts).
_ANALYZE = "ANALYZE catalog_hubmodel (hub_id), catalog_lineageedge (child_id, parent_hub_id)"


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
                cursor.execute(_ANALYZE)
            self.next_at = self.written * 2
