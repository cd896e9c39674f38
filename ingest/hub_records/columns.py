"""The one table of what a Hub record writes, which both writers read.

The PostgreSQL path names its COPY, temporary-table and upsert columns from these tables and
builds its keep-admin CASE from ADMIN_KEPT; the ORM path takes its update_fields and its look-up
of admin-set rows from the same tables. A new column or a new admin rule is written here once.
"""

from __future__ import annotations

from operator import itemgetter

from ingest.hub_records.prepare import Prepared

# catalog_hubmodel's columns that come from the record (prepare's `fields`), in COPY order.
# hub_id, organization_id and the seen-at times are the writers' own.
MODEL_COLUMNS = (
    "author", "created_at", "last_modified", "sha", "release_date", "release_date_source", "pipeline_tag", "library_name",
    "licence_raw", "licence_id", "licence_class", "total_params", "active_params", "is_moe", "params_source",
    "size_class", "gated", "tags", "card_data", "downloads", "downloads_all_time", "likes", "tracked",
    "tracked_reason",
)
# Written as the JSON text prepare serialised once (and checked for NUL), not as Python values.
JSON_COLUMNS = frozenset({"tags", "card_data"})

# An admin's hand-set release date or parameter count outlives every crawl and import: where the
# stored row's guard column says "admin", these columns keep their stored values.
ADMIN_KEPT = {
    "release_date_source": ("release_date", "release_date_source"),
    "params_source": ("total_params", "active_params", "is_moe", "size_class", "params_source"),
}
ADMIN_GUARD = {column: guard for guard, columns in ADMIN_KEPT.items() for column in columns}
# A record without these (a hub-stats row has no commit sha) leaves the stored value as it was:
# only a record that states a value replaces it.
KEPT_WHEN_ABSENT = frozenset({"sha"})

# catalog_downloadsnapshot's columns from the record; (model, date) is the key, source the writer's.
SNAPSHOT_COLUMNS = ("downloads", "downloads_all_time", "likes")


_MODEL_VALUES = itemgetter(*MODEL_COLUMNS)


def model_values(p: Prepared) -> tuple:
    """The values of MODEL_COLUMNS for one record, in order, as COPY takes them (the JSON columns
    as the text prepare serialised)."""
    return _MODEL_VALUES({**p.fields, **p.json})


def model_fields(p: Prepared) -> dict:
    """MODEL_COLUMNS of one record as HubModel keyword arguments."""
    return {c: p.fields[c] for c in MODEL_COLUMNS}
