"""A derivative counts once per (child, base) on the bootstrapped real data: the catalogue's edges
and the derivatives metric agree with plain loops over the raw hub-stats rows and the recorded
/api/models/{id} answers (issue 11, finding 5: 5,648 edges before, where baseModels alone gives 5,195).

The expected edges follow the Hub: a row's `baseModels` when it names any, else its `base_model:`
tags, else the card's own `base_model`; names resolved through the renames the Hub showed (its
307s, and a card's single base the Hub resolved to a single other id), then case-insensitively.
"""

import collections
import json
import urllib.parse

import pyarrow.parquet as pq
import pytest
from huggingface_hub.utils import HFValidationError, validate_repo_id

from observatory.catalog.models import LineageEdge, QuarantinedRecord

pytestmark = pytest.mark.django_db


def _valid(name):
    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def _card_names(card_text):
    card = json.loads(card_text) if card_text else {}
    value = card.get("base_model") if isinstance(card, dict) else None
    names = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            item = item.get("id")
        if isinstance(item, str) and item.strip():
            names.append(item.strip().removeprefix("https://huggingface.co/"))
    return names


def _rows(shared_data):
    path = sorted((shared_data / "hub").glob("hub_stats_frozen_*.parquet"))[-1]
    return pq.read_table(path, columns=["id", "createdAt", "tags", "cardData", "baseModels"]).to_pylist()


def _renames(shared_data, rows):
    """old name (lower case) → current id, from the raw files only."""
    renames, targets = {}, collections.defaultdict(set)
    own = {row["id"].lower() for row in rows}
    for row in rows:
        hub = [m["id"] for m in (row["baseModels"] or {}).get("models") or [] if m and m.get("id")]
        card = _card_names(row["cardData"])
        if len(hub) == 1 and len(card) == 1 and card[0].lower() != hub[0].lower() and card[0].lower() not in own:
            targets[card[0].lower()].add(hub[0].lower())
            renames[card[0].lower()] = hub[0]
    renames = {old: new for old, new in renames.items() if len(targets[old]) == 1}
    for path in sorted((shared_data / "hub" / "model_info").glob("*.json")):
        recording = json.loads(path.read_text(encoding="utf-8"))
        if recording["response"]["status"] == 307:
            old = urllib.parse.urlsplit(recording["request"]["uri"]).path.removeprefix("/api/models/")
            renames[old.lower()] = recording["response"]["text"].rsplit(" ", 1)[-1].removeprefix("/api/models/")
    return renames


def _expected(shared_data):
    rows = _rows(shared_data)
    renames = _renames(shared_data, rows)
    spelled = {row["id"].lower(): row["id"] for row in rows}
    edges, from_base_models, self_edges = set(), set(), set()
    for row in rows:
        child = row["id"]
        names = [m["id"] for m in (row["baseModels"] or {}).get("models") or [] if m and m.get("id")]
        stated_by = "baseModels"
        if not names:
            names = [t.split(":")[-1] for t in row["tags"] or [] if t.startswith("base_model:")]
            stated_by = "tags"
        if not names:
            names = _card_names(row["cardData"])
        for name in names:
            if not _valid(name):
                continue
            current = name
            for _ in range(8):
                if current.lower() not in renames:
                    break
                current = renames[current.lower()]
            current = spelled.get(current.lower(), current)
            pair = (child.lower(), current.lower())
            if pair[0] == pair[1]:
                self_edges.add((child, name))
                continue
            edges.add(pair)
            if stated_by == "baseModels":
                from_base_models.add(pair)
    created = {row["id"].lower() for row in rows if row["createdAt"] is not None}
    return edges, from_base_models, self_edges, created


def test_it_stores_one_edge_per_child_and_base_like_a_plain_loop(loaded_db):
    edges, from_base_models, self_edges, _ = _expected(loaded_db)
    stored = collections.Counter((c.lower(), p.lower()) for c, p in
                                 LineageEdge.objects.values_list("child__hub_id", "parent_hub_id"))
    assert max(stored.values()) == 1  # once per (child, base), whatever the casing
    assert set(stored) == edges
    assert len(from_base_models) == 5_195  # the Hub's own baseModels, case-folded, no self-edge
    print(f"edges: {len(stored):,} ({len(from_base_models):,} stated by baseModels); self-edges: {len(self_edges)}")


def test_it_rejects_the_self_edges_with_their_reasons(loaded_db):
    _, _, self_edges, _ = _expected(loaded_db)
    rejected = dict(QuarantinedRecord.objects.filter(source="lineage").values_list("record_key", "reason"))
    assert set(rejected) == {child for child, _ in self_edges}
    assert rejected["stepfun-ai/Step-3.5-Flash"] == (
        "self-reference through letter case: stepfun-ai/step-3.5-flash is stepfun-ai/Step-3.5-Flash")


def test_it_counts_each_derivative_once_per_base_in_the_metric(loaded_db, client):
    edges, _, _, created = _expected(loaded_db)
    body = client.get("/api/metrics/derivatives-by-base?scope=all").json()
    assert sum(row["new_derivatives"] for row in body["rows"]) == sum(1 for child, _ in edges if child in created)
    assert body["methodology"]["metric"] == "derivatives-v2"


def test_it_answers_lineage_for_a_renamed_or_recased_base_as_one_node(loaded_db, client):
    current = client.get("/api/lineage?model=meta-llama/Llama-3.1-8B").json()
    for name in ("meta-llama/Meta-Llama-3.1-8B", "META-LLAMA/llama-3.1-8b"):
        assert client.get(f"/api/lineage?model={name}").json() == current
    children = [c["hub_id"] for c in current["children"]]
    assert len(children) == len(set(children)) and "meta-llama/Llama-3.1-8B-Instruct" in children
    parents = client.get("/api/lineage?model=meta-llama/Llama-3.1-8B-Instruct").json()["parents"]
    assert [p["hub_id"] for p in parents] == ["meta-llama/Llama-3.1-8B"]
