"""The PostgreSQL writer: COPY for models not stored yet, a temporary-table upsert for the rest.

Columns come from columns.py; organisations and pending parents go through references.py, as
on the ORM path. What stays here is what only PostgreSQL can do at bulk speed: COPY, and
set-based INSERT … ON CONFLICT / DELETE from a temporary table.
"""

from __future__ import annotations

import datetime as dt

import psycopg
from django.db import connection, transaction

from ingest.hub_records.columns import (
    ADMIN_GUARD,
    KEPT_WHEN_ABSENT,
    MODEL_COLUMNS,
    SNAPSHOT_COLUMNS,
    model_values,
)
from ingest.hub_records.edges import Edge
from ingest.hub_records.prepare import Prepared
from ingest.hub_records.references import link_waiting_edges, model_ids, organization_ids

_COLUMNS = ", ".join(MODEL_COLUMNS)
_SNAPSHOT_COLUMNS = ", ".join(SNAPSHOT_COLUMNS)

# The temporary table takes its column types from catalog_hubmodel itself: no second list of them.
_TEMP_MODELS = f"""
CREATE TEMP TABLE IF NOT EXISTS _hr_models ON COMMIT DROP AS
SELECT hub_id, ''::text AS namespace, false AS lineage_known, organization_id, {_COLUMNS}
FROM catalog_hubmodel WITH NO DATA"""
_TEMP_EDGES = """
CREATE TEMP TABLE IF NOT EXISTS _hr_edges (child_hub_id text, parent_hub_id text, relation text, source text)
ON COMMIT DROP"""


def _update_clause(column: str) -> str:
    if column in KEPT_WHEN_ABSENT:
        return f"{column} = COALESCE(EXCLUDED.{column}, catalog_hubmodel.{column})"
    guard = ADMIN_GUARD.get(column)
    if guard:
        return (f"{column} = CASE WHEN catalog_hubmodel.{guard} = 'admin' THEN catalog_hubmodel.{column} "
                f"ELSE EXCLUDED.{column} END")
    return f"{column} = EXCLUDED.{column}"


_UPSERT_MODELS = f"""
INSERT INTO catalog_hubmodel (hub_id, organization_id, {_COLUMNS}, first_seen_at, last_seen_at)
SELECT t.hub_id, t.organization_id, {", ".join("t." + c for c in MODEL_COLUMNS)}, now(), now() FROM _hr_models t
ON CONFLICT (hub_id) DO UPDATE SET organization_id = EXCLUDED.organization_id,
    {", ".join(_update_clause(c) for c in MODEL_COLUMNS)}, last_seen_at = EXCLUDED.last_seen_at"""
_UPSERT_SNAPSHOTS = f"""
INSERT INTO catalog_downloadsnapshot (model_id, date, {_SNAPSHOT_COLUMNS}, source)
SELECT m.id, %s, {", ".join("t." + c for c in SNAPSHOT_COLUMNS)}, %s
FROM _hr_models t JOIN catalog_hubmodel m ON m.hub_id = t.hub_id
ON CONFLICT (model_id, date) DO UPDATE SET {", ".join(f"{c} = EXCLUDED.{c}" for c in SNAPSHOT_COLUMNS)},
    source = EXCLUDED.source"""
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


def write_postgres(prepared: dict[str, Prepared], edges: list[Edge], named: set[str], snapshot_date: dt.date,
                   source: str) -> None:
    """Models not stored yet go straight in by COPY; stored ones through the temp-table upsert.

    A new model has no snapshot, no edge of its own and nothing an admin kept, so what it needs is
    plain rows in the three tables: COPY writes them at bulk speed, where INSERT … ON CONFLICT pays
    a speculative insertion per row. If a concurrent writer stores one of them between the look-up
    and the COPY, the unique index refuses it, the COPY's savepoint is rolled back and the whole
    batch takes the upsert path, which is right whatever is stored.
    """
    outside = {parent for _, parent, _, _ in edges if parent not in prepared}
    stored = model_ids([*prepared, *outside])
    new = {hub_id: p for hub_id, p in prepared.items() if hub_id not in stored}
    with connection.cursor() as cursor:
        if new:
            try:
                with transaction.atomic():
                    _copy_new(cursor, new, [e for e in edges if e[0] in new], stored, snapshot_date, source)
            except psycopg.errors.UniqueViolation:
                new = {}
        rest = {hub_id: p for hub_id, p in prepared.items() if hub_id not in new}
        if rest:
            _upsert(cursor, rest, [e for e in edges if e[0] in rest], snapshot_date, source)
    # Edges stored before their parent arrived point at it now (only a `named` model has any).
    link_waiting_edges(named.intersection(prepared))


def _copy_new(cursor, new: dict[str, Prepared], edges: list[Edge], stored: dict[str, int],
              snapshot_date: dt.date, source: str) -> None:
    # The ids are drawn up front so the snapshots and edges can be copied without reading them back.
    cursor.execute("SELECT now(), array(SELECT nextval(pg_get_serial_sequence('catalog_hubmodel', 'id')) "
                   "FROM generate_series(1, %s))", [len(new)])
    now, ids = cursor.fetchone()
    new_ids = dict(zip(new, ids))
    org_ids = organization_ids({p.namespace for p in new.values() if p.namespace})
    raw = cursor.cursor
    with raw.copy(f"COPY catalog_hubmodel (id, hub_id, organization_id, {_COLUMNS}, first_seen_at, last_seen_at) "
                  "FROM STDIN") as copy:
        for hub_id, p in new.items():
            copy.write_row((new_ids[hub_id], hub_id, org_ids.get(p.namespace), *model_values(p), now, now))
    with raw.copy(f"COPY catalog_downloadsnapshot (model_id, date, {_SNAPSHOT_COLUMNS}, source) FROM STDIN") as copy:
        for hub_id, p in new.items():
            copy.write_row((new_ids[hub_id], snapshot_date, *(p.fields[c] for c in SNAPSHOT_COLUMNS), source))
    if edges:
        with raw.copy("COPY catalog_lineageedge (child_id, parent_id, parent_hub_id, relation, source) "
                      "FROM STDIN") as copy:
            for child, parent, relation, edge_source in edges:
                copy.write_row((new_ids[child], new_ids.get(parent) or stored.get(parent), parent, relation,
                                edge_source))


def _upsert(cursor, prepared: dict[str, Prepared], edges: list[Edge], snapshot_date: dt.date, source: str) -> None:
    org_ids = organization_ids({p.namespace for p in prepared.values() if p.namespace})
    cursor.execute(_TEMP_MODELS)
    cursor.execute(_TEMP_EDGES)
    cursor.execute("TRUNCATE _hr_models, _hr_edges")
    raw = cursor.cursor
    with raw.copy(f"COPY _hr_models (hub_id, namespace, lineage_known, organization_id, {_COLUMNS}) "
                  "FROM STDIN") as copy:
        for p in prepared.values():
            copy.write_row((p.hub_id, p.namespace, p.lineage_known, org_ids.get(p.namespace), *model_values(p)))
    if edges:
        with raw.copy("COPY _hr_edges (child_hub_id, parent_hub_id, relation, source) FROM STDIN") as copy:
            for edge in edges:
                copy.write_row(edge)
    cursor.execute(_UPSERT_MODELS)
    cursor.execute(_UPSERT_SNAPSHOTS, [snapshot_date, source])
    cursor.execute(_DELETE_STALE_EDGES)
    if edges:
        cursor.execute(_UPSERT_EDGES)
