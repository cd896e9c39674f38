"""Digests of every table an import writes, to prove a failed import changed nothing and a
second import changed nothing that matters.

`exact_rows` hashes whole rows (ids and timestamps included): a malformed file must leave the
database exactly as it was. `contents` leaves out ids and the bookkeeping columns a re-import
legitimately touches (HubModel.last_seen_at, TrackingPolicy.imported_at), so that a leaderboard
replaced whole with the same rows compares equal.
"""

from __future__ import annotations

from django.db import connection

from observatory.catalog.models import (
    DownloadSnapshot,
    HubModel,
    LeaderboardEntry,
    LineageEdge,
    ModelAlias,
    MonthlyFinetuneCount,
    Organization,
    ParameterCount,
    ReleaseDateCorrection,
    TrackedListEntry,
    TrackingPolicy,
)

MODELS = [Organization, HubModel, ModelAlias, DownloadSnapshot, LineageEdge, MonthlyFinetuneCount,
          LeaderboardEntry, ParameterCount, ReleaseDateCorrection, TrackedListEntry, TrackingPolicy]
VOLATILE = {"id", "last_seen_at", "imported_at"}


def _columns(model, *, volatile: bool) -> list[str]:
    return [f.column for f in model._meta.concrete_fields if volatile or f.column not in VOLATILE]


def _digest(model, columns: list[str], order: str) -> tuple[int, str]:
    table = connection.ops.quote_name(model._meta.db_table)
    if connection.vendor == "postgresql":
        # A sum of 64-bit row hashes: independent of row order, no sort, fast on 200k rows.
        row = " || '|' || ".join(f"coalesce({connection.ops.quote_name(c)}::text, '<null>')" for c in columns)
        sql = f"SELECT count(*), coalesce(sum(hashtextextended({row}, 0)::numeric), 0)::text FROM {table}"
        with connection.cursor() as cursor:
            cursor.execute(sql)
            count, digest = cursor.fetchone()
        return count, digest
    import hashlib

    rows = list(model.objects.order_by("id").values_list(*[f.attname for f in model._meta.concrete_fields
                                                           if f.column in columns]))
    if order == "content":
        rows.sort(key=repr)
    return len(rows), hashlib.md5(repr(rows).encode()).hexdigest()


def exact_rows() -> dict[str, tuple[int, str]]:
    return {m.__name__: _digest(m, _columns(m, volatile=True), "id") for m in MODELS}


def contents() -> dict[str, tuple[int, str]]:
    return {m.__name__: _digest(m, _columns(m, volatile=False), "content") for m in MODELS}
