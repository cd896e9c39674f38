"""Which of a batch's stated lineage edges are stored, and which are rejected with a reason."""

from __future__ import annotations

import logging

from ingest.hub_records.prepare import Prepared
from ingest.identity import Names, self_reference
from ingest.lineage import LineageGraph
from observatory.vocab import hub_id_key

log = logging.getLogger(__name__)

Edge = tuple[str, str, str, str]  # (child, parent, relation, source)
Rejection = tuple[str, str, str, str]  # (child, stated parent, resolved parent, reason)


def accepted_edges(prepared: dict[str, Prepared], named: set[str]) -> tuple[list[Edge], list[Rejection]]:
    """([(child, parent, relation, source)], [(child, stated parent, resolved, reason)]): one edge per
    (child, base) with parents resolved to their current ids, minus self-references (also through
    an alias or a casing) and cycles, which are returned with their reasons.

    An edge child → parent closes a cycle only if the child already has descendants (stored: in
    `named`, or in this batch): only those children's ancestry is loaded and walked. A new leaf, by far the
    most common record, costs one set lookup.
    """
    children = [p for p in prepared.values() if p.lineage_known]
    if not children:
        return [], []
    # Each named parent as the catalogue knows it: an old name to the current id, another casing
    # to the stored spelling, so one base is one parent whatever name the record used.
    names = Names.around({parent for p in children for parent, _, _ in p.parents}, batch=prepared)
    parents = {p.hub_id: [(parent, names.resolve(parent), relation, source) for parent, relation, source in p.parents]
               for p in children}
    child_ids = {p.hub_id for p in children}
    batch_parents = {parent for stated in parents.values() for _, parent, _, _ in stated}
    with_parents = {p.hub_id for p in children if p.parents}
    with_descendants = (child_ids & batch_parents) | (named & with_parents)
    graph = LineageGraph.around(with_descendants | {par for p in children if p.hub_id in with_descendants
                                                    for _, par, _, _ in parents[p.hub_id]})
    edges: list[Edge] = []
    rejected: list[Rejection] = []
    for item in children:
        accepted: list[str] = []
        seen: set[str] = set()
        for stated, parent, relation, source in parents[item.hub_id]:
            if hub_id_key(parent) in seen:
                continue  # two names of one base: one edge (the first source's relation)
            reason = self_reference(item.hub_id, stated, parent)
            if reason is None and item.hub_id in with_descendants and graph.creates_cycle(item.hub_id, parent):
                reason = f"would create a cycle: {parent} descends from {item.hub_id}"
            if reason:
                rejected.append((item.hub_id, stated, parent, reason))
                log.warning("lineage edge rejected child=%s parent=%s reason=%s", item.hub_id, stated, reason)
                continue
            seen.add(hub_id_key(parent))
            accepted.append(parent)
            edges.append((item.hub_id, parent, relation, source))
        if item.hub_id in with_descendants:
            graph.replace(item.hub_id, accepted)
    return edges, rejected
