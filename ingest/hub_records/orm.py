"""The writer for every other database (the embedded SQLite default): the same rows through the ORM.

It writes what postgres.py writes, from the same column and keep-admin tables (columns.py) and
the same organisation and pending-parent statements (references.py); only the bulk mechanics
differ, because bulk_create's upsert cannot express a keep-admin CASE or a set-based delete.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ingest.hub_records.columns import ADMIN_KEPT, KEPT_WHEN_ABSENT, MODEL_COLUMNS, SNAPSHOT_COLUMNS, model_fields
from ingest.hub_records.edges import Edge
from ingest.hub_records.prepare import Prepared
from ingest.hub_records.references import link_waiting_edges, model_ids, organization_ids
from observatory.catalog.models import DownloadSnapshot, HubModel, LineageEdge

_BATCH = 500  # SQLite caps the number of query parameters


def write_orm(prepared: dict[str, Prepared], edges: list[Edge], named: set[str], snapshot_date: dt.date,
              source: str) -> None:
    org_ids = organization_ids({p.namespace for p in prepared.values() if p.namespace})
    kept = _admin_kept(prepared)
    for hub_id, values in _kept_when_absent(prepared).items():
        kept.setdefault(hub_id, {}).update(values)
    now = timezone.now()
    HubModel.objects.bulk_create(
        [HubModel(hub_id=p.hub_id, organization_id=org_ids.get(p.namespace), last_seen_at=now,
                  **{**model_fields(p), **kept.get(p.hub_id, {})})
         for p in prepared.values()],
        update_conflicts=True, unique_fields=["hub_id"], update_fields=["organization", *MODEL_COLUMNS, "last_seen_at"],
        batch_size=_BATCH,
    )
    ids = model_ids([*prepared, *{parent for _, parent, _, _ in edges}])
    DownloadSnapshot.objects.bulk_create(
        [DownloadSnapshot(model_id=ids[p.hub_id], date=snapshot_date, source=source,
                          **{c: p.fields[c] for c in SNAPSHOT_COLUMNS})
         for p in prepared.values()],
        update_conflicts=True, unique_fields=["model", "date"], update_fields=[*SNAPSHOT_COLUMNS, "source"],
        batch_size=_BATCH,
    )
    _delete_stale_edges({ids[p.hub_id] for p in prepared.values() if p.lineage_known},
                        {(ids[child], parent) for child, parent, _, _ in edges})
    LineageEdge.objects.bulk_create(
        [LineageEdge(child_id=ids[child], parent_id=ids.get(parent), parent_hub_id=parent, relation=relation,
                     source=edge_source)
         for child, parent, relation, edge_source in edges],
        update_conflicts=True, unique_fields=["child", "parent_hub_id"], update_fields=["parent", "relation", "source"],
        batch_size=_BATCH,
    )
    # Edges stored before their parent arrived point at it now (only a `named` model has any).
    link_waiting_edges(named.intersection(prepared))


def _admin_kept(prepared: dict[str, Prepared]) -> dict[str, dict]:
    """{hub_id: {column: stored value}} for the columns an admin set by hand (columns.ADMIN_KEPT)."""
    kept: dict[str, dict] = {}
    hub_ids = sorted(prepared)
    for guard, columns in ADMIN_KEPT.items():
        for start in range(0, len(hub_ids), _BATCH):
            rows = HubModel.objects.filter(hub_id__in=hub_ids[start:start + _BATCH], **{guard: "admin"})
            for row in rows.values("hub_id", *columns):
                kept.setdefault(row.pop("hub_id"), {}).update(row)
    return kept


def _kept_when_absent(prepared: dict[str, Prepared]) -> dict[str, dict]:
    """{hub_id: {column: stored value}} for the columns a record left unstated (columns.KEPT_WHEN_ABSENT)."""
    kept: dict[str, dict] = {}
    for column in KEPT_WHEN_ABSENT:
        hub_ids = sorted(h for h, p in prepared.items() if p.fields[column] is None)
        for start in range(0, len(hub_ids), _BATCH):
            rows = HubModel.objects.filter(hub_id__in=hub_ids[start:start + _BATCH], **{f"{column}__isnull": False})
            for hub_id, value in rows.values_list("hub_id", column):
                kept.setdefault(hub_id, {})[column] = value
    return kept


def _delete_stale_edges(children: set[int], stated: set[tuple[int, str]]) -> None:
    """The latest record states the whole parent set: its child's edges it no longer states go."""
    stale = [edge_id for edge_id, child_id, parent in
             LineageEdge.objects.filter(child_id__in=children).values_list("id", "child_id", "parent_hub_id")
             if (child_id, parent) not in stated]
    for start in range(0, len(stale), _BATCH):
        LineageEdge.objects.filter(id__in=stale[start:start + _BATCH]).delete()
