"""The one path from Hub-API-shaped model records into the database.

Both the hub-stats Parquet import and the crawler hand records in the Hub API's field names
(`id, author, createdAt, downloads, downloadsAllTime, likes, tags, cardData, safetensors,
baseModels, pipeline_tag, library_name, gated, …`) to `upsert_hub_records`. It validates, normalises
licences, resolves curation (size, release date, tracked) and lineage, and upserts in bulk: one
model row, one (model, day) snapshot, one row per lineage edge. Running it twice on the same
records changes nothing.

- prepare.py: one record validated and normalised (pure; InvalidRecord names field and index);
- batches.py: batches prepared, quarantined and prepared ahead of the writes;
- edges.py: which stated lineage edges are accepted;
- columns.py: the one column table and keep-admin table both writers read;
- references.py: organisations, model ids and pending parents, the same for both writers;
- postgres.py and orm.py: one writer per backend; write.py picks one and stores a batch.

The function prepare is reached as ingest.hub_records.prepare.prepare: re-exported here it
would shadow its own module.
"""

from ingest.hub_records.batches import InvalidBatch, PlannerStats, PreparedBatch, prepare_batch, prepared_ahead
from ingest.hub_records.columns import MODEL_COLUMNS
from ingest.hub_records.prepare import InvalidRecord, Prepared
from ingest.hub_records.references import stored_parents_among
from ingest.hub_records.write import resolve_pending_parents, upsert_hub_records, write_batch

__all__ = [
    "MODEL_COLUMNS",
    "InvalidBatch",
    "InvalidRecord",
    "PlannerStats",
    "Prepared",
    "PreparedBatch",
    "prepare_batch",
    "prepared_ahead",
    "resolve_pending_parents",
    "stored_parents_among",
    "upsert_hub_records",
    "write_batch",
]
