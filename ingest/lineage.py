"""Fine-tune lineage: parse a record's parents, reject self-references and cycles, query conflicts.

The Hub states lineage in three places that can disagree: the `baseModels` expand (the Hub's own
resolution), the card's `base_model` (string or list) with `base_model_relation`, and tags of the
form `base_model:<id>` / `base_model:<relation>:<id>`. The first two the Hub writes itself from the
card it resolved (a renamed repo to its current id, a name that leads nowhere dropped, one base
chosen where a card lists a fine-tune's whole ancestry): when `baseModels` names a parent it is the
whole parent set, else the `base_model:` tags are; the card's own names, which would only add old
names and stale entries beside them, count only where the Hub states neither.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Iterable
from functools import reduce

from django.db.models import Q

from observatory import vocab

log = logging.getLogger(__name__)

RELATIONS = ("finetune", "adapter", "quantized", "merge")
_RELATION_ALIASES = {"fine-tune": "finetune", "finetuned": "finetune", "quantization": "quantized", "quantize": "quantized",
                     "merged": "merge", "adapters": "adapter", "lora": "adapter"}
# The Hub's rule (observatory/vocab.py); lineage also names legacy repos without a namespace (gpt2).
HUB_ID = vocab.HUB_ID_OR_LEGACY


def _relation(value: object) -> str | None:
    if not value:
        return None
    text = str(value).strip().lower()
    text = _RELATION_ALIASES.get(text, text)
    return text if text in RELATIONS else None


def _ids(value: object) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    result = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str):
            item = item.strip()
            if item.startswith("https://huggingface.co/"):
                item = item.removeprefix("https://huggingface.co/")
            if HUB_ID.match(item):
                result.append(item)
    return result


def parse_parents(record: dict) -> list[tuple[str, str, str]]:
    """[(parent_hub_id, relation, source)] for one Hub-API-shaped record, deduplicated by parent."""
    found: dict[str, tuple[str, str]] = {}
    base_models = record.get("baseModels") or {}
    if isinstance(base_models, dict):
        relation = _relation(base_models.get("relation"))
        for parent in _ids(base_models.get("models")):
            found.setdefault(parent, (relation or "finetune", "baseModels"))
    if found:
        return [(parent, relation, source) for parent, (relation, source) in found.items()]
    for tag in record.get("tags") or []:  # the Hub writes these from the card it resolved
        if not isinstance(tag, str) or not tag.startswith("base_model:"):
            continue
        parts = tag.split(":")
        if len(parts) == 3 and _relation(parts[1]):
            for parent in _ids(parts[2]):
                found.setdefault(parent, (_relation(parts[1]), "tag"))
        elif len(parts) == 2:
            for parent in _ids(parts[1]):
                found.setdefault(parent, ("", "tag"))
    card = record.get("cardData") or {}
    if isinstance(card, dict) and not found:  # the card's own names only where the Hub states none
        parents = _ids(card.get("base_model"))
        relation = _relation(card.get("base_model_relation"))
        if relation is None:
            relation = "merge" if len(parents) > 1 else "finetune"
        for parent in parents:
            found.setdefault(parent, (relation, "cardData"))
    result = []
    for parent, (relation, source) in found.items():
        if not relation:  # a bare base_model tag: the card or default decides
            relation = "merge" if len(found) > 1 else "finetune"
        result.append((parent, relation, source))
    return result


# Stored ancestors of a set of models, level by level up to a depth (UNION drops repeats, the
# depth bound ends the walk even if a cycle slipped into the table by hand).
_ANCESTORS = """
WITH RECURSIVE anc(child, parent, depth) AS (
    SELECT c.hub_id, e.parent_hub_id, 1
    FROM catalog_lineageedge e JOIN catalog_hubmodel c ON c.id = e.child_id
    WHERE c.hub_id = ANY(%s)
  UNION
    SELECT a.parent, e.parent_hub_id, a.depth + 1
    FROM anc a JOIN catalog_hubmodel c ON c.hub_id = a.parent JOIN catalog_lineageedge e ON e.child_id = c.id
    WHERE a.depth < %s
)
SELECT DISTINCT child, parent FROM anc"""


class LineageGraph:
    """Parents known so far (database + this batch), for cycle checks without a query per edge."""

    def __init__(self, parents_by_child: dict[str, set[str]]):
        self.parents = parents_by_child

    @classmethod
    def around(cls, hub_ids: Iterable[str], *, max_depth: int = 32) -> LineageGraph:
        """Load every stored ancestor edge of the given ids (one recursive query on PostgreSQL)."""
        from django.db import connection

        hub_ids = list(set(hub_ids))
        parents: dict[str, set[str]] = {}
        if not hub_ids:
            return cls(parents)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(_ANCESTORS, [hub_ids, max_depth])
                for child, parent in cursor.fetchall():
                    parents.setdefault(child, set()).add(parent)
            return cls(parents)
        from observatory.catalog.models import LineageEdge

        frontier, seen = set(hub_ids), set()
        for _ in range(max_depth):
            frontier -= seen
            if not frontier:
                break
            seen |= frontier
            next_frontier: set[str] = set()
            batch = list(frontier)
            for start in range(0, len(batch), 500):  # SQLite caps the number of query parameters
                for child, parent in LineageEdge.objects.filter(child__hub_id__in=batch[start:start + 500]).values_list(
                    "child__hub_id", "parent_hub_id"
                ):
                    parents.setdefault(child, set()).add(parent)
                    next_frontier.add(parent)
            frontier = next_frontier
        return cls(parents)

    def creates_cycle(self, child: str, parent: str) -> bool:
        if child == parent:
            return True
        stack, seen = [parent], set()
        while stack:
            node = stack.pop()
            if node == child:
                return True
            if node in seen:
                continue
            seen.add(node)
            stack.extend(self.parents.get(node, ()))
        return False

    def replace(self, child: str, parents: Iterable[str]) -> None:
        self.parents[child] = set(parents)


def licence_conflicts():
    """Edges whose child's licence class allows more than its parent's (vocab.is_licence_conflict), queryable."""
    from observatory.catalog.models import LineageEdge

    # The rule's pairs, one Q each: the same edges the dashboards' licence-conflict metric flags.
    flagged = reduce(operator.or_, (Q(child__licence_class=child_class, parent__licence_class=parent_class)
                                    for child_class, parent_class in sorted(vocab.LICENCE_CONFLICT_PAIRS)))
    return LineageEdge.objects.filter(flagged).select_related("child", "parent")
