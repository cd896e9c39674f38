"""One model, one node: the names lineage uses resolved to the id the catalogue knows the model by.

A parent can be named by an old name of a renamed repo (the Hub answers it with a 307; the
catalogue keeps it as a ModelAlias) or under another letter case (Hub ids resolve
case-insensitively). Both resolve here to the current id, spelled as the stored model spells it,
so a derivative counts once per (child, base), and an edge from a model to itself through an
alias or a casing is rejected with a reason (kept as a QuarantinedRecord of source "lineage").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models.functions import Lower

from observatory.vocab import hub_id_key as key

log = logging.getLogger(__name__)

MAX_HOPS = 8  # a chain of renames longer than this is a loop someone curated by mistake
_CHUNK = 500  # SQLite caps the number of query parameters
REJECTED_SOURCE = "lineage"


def _chunks(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _matching(model, column: str, other: str | None, keys: list[str]) -> Iterable[tuple]:
    """(column[, other]) of the rows whose lower(column) is among `keys`, by its lower() index.

    On PostgreSQL one array query: chunks of 500 through the ORM were a quarter of an import's
    write time (issue 17's profile); SQLite caps the parameters, so it keeps the chunks."""
    fields = (column, other) if other else (column,)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(fields)} FROM {model._meta.db_table} "
                           f"WHERE lower({column}) = ANY(%s)", [keys])
            yield from cursor.fetchall()
        return
    for chunk in _chunks(keys):
        yield from model.objects.alias(k=Lower(column)).filter(k__in=chunk).values_list(*fields)


@dataclass
class Names:
    """Resolves Hub names: aliases (old key → current id), then stored spellings (key → hub_id)."""

    aliases: dict[str, str]
    spelled: dict[str, str]

    @classmethod
    def around(cls, names: Iterable[str], *, batch: Iterable[str] = ()) -> Names:
        """Load what resolving these names needs: their aliases (chains followed) and the stored
        models under any casing; ids of the batch being written count as stored."""
        from observatory.catalog.models import HubModel, ModelAlias

        aliases: dict[str, str] = {}
        wanted = {key(name) for name in names}
        asked: set[str] = set()
        for _ in range(MAX_HOPS):
            todo = sorted(wanted - asked)
            if not todo:
                break
            asked |= set(todo)
            for old, current in _matching(ModelAlias, "old_hub_id", "hub_id", todo):
                aliases[key(old)] = current
            wanted |= {key(current) for current in aliases.values()}
        spelled: dict[str, str] = {}
        for (hub_id,) in _matching(HubModel, "hub_id", None, sorted(wanted)):
            spelled[key(hub_id)] = hub_id
        for hub_id in batch:
            spelled[key(hub_id)] = hub_id
        return cls(aliases, spelled)

    def resolve(self, name: str) -> str:
        current, hops = name, 0
        while key(current) in self.aliases and hops < MAX_HOPS:
            current, hops = self.aliases[key(current)], hops + 1
        return self.spelled.get(key(current), current)


def self_reference(child: str, named: str, resolved: str) -> str | None:
    """Why child → named is the child itself, or None when it is not."""
    if key(resolved) != key(child):
        return None
    if named == child:
        return f"self-reference: {child} names itself as its base"
    if key(named) == key(child):
        return f"self-reference through letter case: {named} is {child}"
    return f"self-reference through an alias: {named} is an old name of {child}"


def record_rejections(rejections: list[tuple[str, str, str, str]], *, run=None) -> int:
    """Keep each rejected edge (child, named parent, resolved parent, reason) once, with its reason."""
    from observatory.catalog.models import QuarantinedRecord

    if not rejections:
        return 0
    children = sorted({child for child, _, _, _ in rejections})
    known = set()
    for chunk in _chunks(children):
        known.update(QuarantinedRecord.objects.filter(source=REJECTED_SOURCE, record_key__in=chunk)
                     .values_list("record_key", "reason"))
    new = {}
    for child, named, resolved, reason in rejections:
        if (child, reason) not in known:
            new[(child, reason)] = QuarantinedRecord(
                run=run, source=REJECTED_SOURCE, record_key=child[:300], reason=reason,
                payload={"child": child, "parent": named, "resolves_to": resolved})
    QuarantinedRecord.objects.bulk_create(list(new.values()), batch_size=500)
    return len(new)


def link_aliases() -> int:
    """Point each alias at its current model where that model is stored (renames followed)."""
    from observatory.catalog.models import HubModel, ModelAlias

    rows = list(ModelAlias.objects.values_list("id", "hub_id", "model_id"))
    if not rows:
        return 0
    names = Names.around([current for _, current, _ in rows])
    targets = {names.resolve(current) for _, current, _ in rows}
    ids: dict[str, int] = {}
    for chunk in _chunks(sorted(targets)):
        ids.update(HubModel.objects.filter(hub_id__in=chunk).values_list("hub_id", "id"))
    changed = 0
    for alias_id, current, model_id in rows:
        target = ids.get(names.resolve(current))
        if target != model_id:
            changed += ModelAlias.objects.filter(pk=alias_id).update(model_id=target)
    return changed


def relink_edges(*, run=None) -> dict[str, int]:
    """Re-resolve stored edges: a parent named by an alias or under another casing is pointed at
    the model's current id; an edge that then repeats another of its child's is deleted; one that
    then points at its own child is deleted and recorded with its reason.

    Set-based where it can be: an exact-name UPDATE links edges whose parent has arrived; only the
    edges named by an alias, or still pending while a model matches them case-insensitively, are
    looked at one by one (few: names that differ from the Hub's own).
    """
    from django.db.models import OuterRef, Subquery

    from observatory.catalog.models import HubModel, LineageEdge, ModelAlias

    counts = {"linked": 0, "renamed": 0, "duplicates": 0, "self_edges": 0}
    pending = LineageEdge.objects.filter(parent__isnull=True)
    counts["linked"] = pending.filter(parent_hub_id__in=HubModel.objects.values("hub_id")).update(
        parent=Subquery(HubModel.objects.filter(hub_id=OuterRef("parent_hub_id")).values("id")[:1]))
    link_aliases()
    alias_keys = ModelAlias.objects.annotate(k=Lower("old_hub_id")).values("k")
    stored_keys = HubModel.objects.annotate(k=Lower("hub_id")).values("k")
    candidates = set(LineageEdge.objects.alias(k=Lower("parent_hub_id")).filter(k__in=alias_keys)
                     .values_list("child_id", flat=True))
    candidates |= set(LineageEdge.objects.filter(parent__isnull=True).alias(k=Lower("parent_hub_id"))
                      .filter(k__in=stored_keys).values_list("child_id", flat=True))
    if not candidates:
        return counts
    edges: dict[int, list[tuple[int, str, int | None]]] = {}
    children = sorted(candidates)
    for start in range(0, len(children), _CHUNK):
        for edge_id, child_id, parent_hub_id, parent_id in (
                LineageEdge.objects.filter(child_id__in=children[start:start + _CHUNK])
                .order_by("child_id", "id").values_list("id", "child_id", "parent_hub_id", "parent_id")):
            edges.setdefault(child_id, []).append((edge_id, parent_hub_id, parent_id))
    child_ids: dict[int, str] = {}
    for start in range(0, len(children), _CHUNK):
        child_ids.update(HubModel.objects.filter(id__in=children[start:start + _CHUNK]).values_list("id", "hub_id"))
    names = Names.around([parent for rows in edges.values() for _, parent, _ in rows])
    model_ids: dict[str, int] = {}
    resolved_all = sorted({names.resolve(parent) for rows in edges.values() for _, parent, _ in rows})
    for start in range(0, len(resolved_all), _CHUNK):
        model_ids.update(HubModel.objects.filter(hub_id__in=resolved_all[start:start + _CHUNK])
                         .values_list("hub_id", "id"))
    deletes: list[int] = []
    updates: list[tuple[int, str, int | None]] = []
    rejections: list[tuple[str, str, str, str]] = []
    for child_id, rows in edges.items():
        child = child_ids[child_id]
        # An edge already spelled as resolved keeps its row; the others merge into it.
        rows = sorted(rows, key=lambda row: (names.resolve(row[1]) != row[1], row[0]))
        kept: set[str] = set()
        for edge_id, parent, parent_id in rows:
            resolved = names.resolve(parent)
            reason = self_reference(child, parent, resolved)
            if reason:
                deletes.append(edge_id)
                rejections.append((child, parent, resolved, reason))
                counts["self_edges"] += 1
            elif key(resolved) in kept:
                deletes.append(edge_id)
                counts["duplicates"] += 1
            else:
                kept.add(key(resolved))
                target = model_ids.get(resolved)
                if resolved != parent or target != parent_id:
                    updates.append((edge_id, resolved, target))
                    counts["renamed"] += resolved != parent
    for start in range(0, len(deletes), _CHUNK):
        LineageEdge.objects.filter(id__in=deletes[start:start + _CHUNK]).delete()
    if updates:
        LineageEdge.objects.bulk_update(
            [LineageEdge(id=edge_id, parent_hub_id=resolved, parent_id=target) for edge_id, resolved, target in updates],
            ["parent_hub_id", "parent_id"], batch_size=500)
        counts["linked"] += sum(1 for _, _, target in updates if target is not None)
    record_rejections(rejections, run=run)
    for reason in (r[3] for r in rejections):
        log.warning("lineage edge rejected reason=%s", reason)
    if connection.vendor == "postgresql" and (deletes or updates):
        log.info("lineage edges relinked %s", counts)
    return counts


def find_model(hub_id: str, queryset=None):
    """The stored model a Hub id names: exactly, under another casing, or through an alias; else None."""
    from observatory.catalog.models import HubModel

    models = queryset if queryset is not None else HubModel.objects.all()
    model = models.filter(hub_id=hub_id).first()
    if model is None:
        current = Names.around([hub_id]).resolve(hub_id)
        model = models.alias(k=Lower("hub_id")).filter(k=key(current)).first()
    return model
