"""The rows a model row points at, looked up or created once for both writers.

Organisations are created and pending parents linked here and only here: the same ORM statements
serve PostgreSQL and SQLite, so the two writers cannot drift apart on them. Look-ups by many
Hub ids use one array parameter on PostgreSQL (no SQL to build for thousands of ids) and chunks
elsewhere (SQLite caps the number of query parameters).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import connection
from django.db.models import OuterRef, Subquery

from observatory.catalog.models import HubModel, LineageEdge, Organization

_CHUNK = 500


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    values = sorted(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _by_array(sql: str, values: Iterable[str]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(values)])
        return cursor.fetchall()


def model_ids(hub_ids: Iterable[str]) -> dict[str, int]:
    """{hub_id: id} of the stored models among these ids."""
    if connection.vendor == "postgresql":
        return dict(_by_array("SELECT hub_id, id FROM catalog_hubmodel WHERE hub_id = ANY(%s)", hub_ids))
    found: dict[str, int] = {}
    for chunk in _chunks(hub_ids):
        found.update(HubModel.objects.filter(hub_id__in=chunk).values_list("hub_id", "id"))
    return found


def stored_parents_among(hub_ids: set[str]) -> set[str]:
    """Which of these ids some stored edge names as its parent (they have descendants)."""
    if connection.vendor == "postgresql":
        return {row[0] for row in _by_array(
            "SELECT DISTINCT parent_hub_id FROM catalog_lineageedge WHERE parent_hub_id = ANY(%s)", hub_ids)}
    found: set[str] = set()
    for chunk in _chunks(hub_ids):
        found.update(LineageEdge.objects.filter(parent_hub_id__in=chunk)
                     .values_list("parent_hub_id", flat=True).distinct())
    return found


def organization_ids(namespaces: set[str]) -> dict[str, int]:
    """Ids of these namespaces, creating the unseen ones with an unknown region (a known one is never touched)."""
    found: dict[str, int] = {}
    for chunk in _chunks(namespaces):
        found.update(Organization.objects.filter(namespace__in=chunk).values_list("namespace", "id"))
    missing = namespaces - found.keys()
    if missing:
        # ignore_conflicts: a concurrent writer may create one between the look-up and the insert.
        Organization.objects.bulk_create(
            [Organization(namespace=ns, display_name=ns, region="unknown", region_source="default", notes="")
             for ns in sorted(missing)],
            ignore_conflicts=True, batch_size=_CHUNK)
        for chunk in _chunks(missing):
            found.update(Organization.objects.filter(namespace__in=chunk).values_list("namespace", "id"))
    return found


def link_waiting_edges(hub_ids: Iterable[str]) -> int:
    """Point the stored edges that wait for one of these (now stored) models at its row; returns edges linked.

    Only the exact spelling: another casing or an old name is ingest.identity.relink_edges' work,
    which the crawl and the imports run once at their end.
    """
    linked = 0
    parent = Subquery(HubModel.objects.filter(hub_id=OuterRef("parent_hub_id")).values("id")[:1])
    for chunk in _chunks(hub_ids):
        linked += LineageEdge.objects.filter(parent__isnull=True, parent_hub_id__in=chunk).update(parent=parent)
    return linked
