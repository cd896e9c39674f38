"""A model's family: the tree of its root base model, for /api/families, the card and /families.

The root is found as download-concentration's family (analytics.concentration.family_roots):
follow stored parents upwards, a merge by the parent whose id sorts first case-folded, up to a
model with no stored parent. The family is then the root and every stored descendant, walked
breadth first: each node once, at the depth it is first reached, under the parent it was reached
from (its `relation` is that edge's). Nodes come root first, then by depth, downloads (most
first) and id, so any page of them holds every drawn node's parent (it sits one level up).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from observatory.catalog.models import HubModel, LineageEdge
from observatory.vocab import is_licence_conflict

MAX_DEPTH = 32  # as analytics.derivatives: deeper lineage is a data error, or a cycle
MAX_WALK = 50_000  # nodes walked at most; a family past that is answered truncated
DEFAULT_LIMIT, MAX_LIMIT = 500, 5000


@dataclasses.dataclass
class Family:
    root: str
    nodes: list[dict]  # every walked node, in page order
    edges: list[dict]  # every stored edge between walked nodes
    walk_cut: bool  # MAX_WALK or MAX_DEPTH reached: more descendants exist

    def page(self, *, offset: int = 0, limit: int = DEFAULT_LIMIT) -> dict:
        nodes = self.nodes[offset:offset + limit]
        ids = {n["id"] for n in nodes}
        return {"root": self.root, "total": len(self.nodes), "offset": offset, "limit": limit,
                "truncated": self.walk_cut or offset + len(nodes) < len(self.nodes) or offset > 0,
                "nodes": nodes, "edges": [e for e in self.edges if e["child"] in ids]}


def root_of(model: HubModel) -> HubModel:
    node, seen = model, {model.pk}
    for _ in range(MAX_DEPTH):
        parents = sorted(LineageEdge.objects.filter(child_id=node.pk).values_list("parent_hub_id", "parent_id"),
                         key=lambda e: (e[0].lower(), e[0]))
        if not parents or parents[0][1] is None or parents[0][1] in seen:
            break  # no parent, an unstored one (the walk cannot go on), or a cycle
        seen.add(parents[0][1])
        node = HubModel.objects.get(pk=parents[0][1])
    return node


def _in_batches(ids: list[int], size: int = 5000):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def family_of(model: HubModel) -> Family:
    root = root_of(model)
    tree_parent: dict[int, int | None] = {root.pk: None}
    relation: dict[int, str | None] = {root.pk: None}
    depth: dict[int, int] = {root.pk: 0}
    edges: list[tuple[int, int, str]] = []
    frontier, walk_cut = [root.pk], False
    for level in range(1, MAX_DEPTH + 1):
        found: list[tuple[int, int, str]] = []
        for batch in _in_batches(frontier):
            found += LineageEdge.objects.filter(parent_id__in=batch).values_list("child_id", "parent_id", "relation")
        next_frontier = []
        for child, parent, rel in sorted(found):
            edges.append((parent, child, rel))
            if child in depth:
                continue
            if len(depth) >= MAX_WALK:
                walk_cut = True
                continue
            tree_parent[child], relation[child], depth[child] = parent, rel, level
            next_frontier.append(child)
        frontier = next_frontier
        if not frontier:
            break
    else:
        walk_cut = walk_cut or bool(frontier)
    facts = {}
    for batch in _in_batches(list(depth)):
        for row in HubModel.objects.filter(pk__in=batch).values_list(
                "pk", "hub_id", "downloads_all_time", "organization__region", "licence_class", "created_at"):
            facts[row[0]] = row[1:]
    nodes = []
    for pk in depth:
        hub_id, downloads, region, licence, created = facts[pk]
        parent = tree_parent[pk]
        nodes.append({
            "id": hub_id, "parent": facts[parent][0] if parent is not None else None, "relation": relation[pk],
            "depth": depth[pk], "downloads": downloads or 0, "region": region or "unknown", "licence_class": licence,
            "created_at": created.astimezone(dt.UTC).isoformat() if created else None,
            "licence_conflict": parent is not None and is_licence_conflict(licence, facts[parent][3]),
        })
    nodes.sort(key=lambda n: (n["depth"], -n["downloads"], n["id"]))
    out_edges = [{"parent": facts[p][0], "child": facts[c][0], "relation": rel,
                  "licence_conflict": is_licence_conflict(facts[c][3], facts[p][3])}
                 for p, c, rel in edges if p in facts and c in facts]
    out_edges.sort(key=lambda e: (e["child"], e["parent"]))
    return Family(facts[root.pk][0], nodes, out_edges, walk_cut)


def relations_by_month(family: Family) -> list[tuple[str, str, int]]:
    """(month YYYY-MM-01, relation, new derivatives) over the family's descendants by creation month."""
    counts: dict[tuple[str, str], int] = {}
    for n in family.nodes:
        if n["relation"] and n["created_at"]:
            key = (n["created_at"][:7] + "-01", n["relation"])
            counts[key] = counts.get(key, 0) + 1
    return [(month, rel, n) for (month, rel), n in sorted(counts.items())]
