"""One model, one node: a base named under another casing or by an old name is one parent, a
self-edge through either is rejected with its reason, and adding an alias re-resolves stored edges."""

import datetime as dt

import pytest

from ingest.hub_records import resolve_pending_parents, upsert_hub_records
from observatory.catalog.models import HubModel, LineageEdge, ModelAlias, QuarantinedRecord

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 6, 5)


def record(hub_id, card_bases=None, **fields):
    return {"id": hub_id, "author": hub_id.split("/")[0], "createdAt": "2025-01-02T03:04:05.000Z",
            "downloads": 10, "downloadsAllTime": 100, "likes": 1, "tags": [], "pipeline_tag": "text-generation",
            "cardData": {"base_model": card_bases} if card_bases else {}, **fields}


def upsert(*records):
    return upsert_hub_records(list(records), snapshot_date=DAY, source="test")


def edges():
    return sorted(LineageEdge.objects.values_list("child__hub_id", "parent_hub_id", "parent__hub_id"))


def test_it_matches_a_parent_named_under_another_casing_to_the_stored_model():
    upsert(record("01-ai/Yi-34B-200K"))
    upsert(record("jondurbin/bagel", "01-ai/yi-34b-200k"))
    assert edges() == [("jondurbin/bagel", "01-ai/Yi-34B-200K", "01-ai/Yi-34B-200K")]


def test_it_keeps_one_edge_when_two_names_of_one_base_are_stated():
    ModelAlias.objects.create(old_hub_id="meta-llama/Meta-Llama-3.1-8B", hub_id="meta-llama/Llama-3.1-8B")
    upsert(record("meta-llama/Llama-3.1-8B"),
           record("kid/model", ["meta-llama/Llama-3.1-8B", "meta-llama/Meta-Llama-3.1-8B", "META-LLAMA/llama-3.1-8b"]))
    assert edges() == [("kid/model", "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B")]


def test_it_rejects_a_self_edge_through_letter_case_with_its_reason():
    counts = upsert(record("stepfun-ai/Step-3.5-Flash", ["stepfun-ai/step-3.5-flash"]))
    assert counts["edges"] == 0 and counts["rejected_edges"] == 1
    rejected = QuarantinedRecord.objects.get(source="lineage")
    assert rejected.record_key == "stepfun-ai/Step-3.5-Flash"
    assert rejected.reason == "self-reference through letter case: stepfun-ai/step-3.5-flash is stepfun-ai/Step-3.5-Flash"
    upsert(record("stepfun-ai/Step-3.5-Flash", ["stepfun-ai/step-3.5-flash"]))  # the same record again
    assert QuarantinedRecord.objects.filter(source="lineage").count() == 1


def test_it_rejects_a_self_edge_through_an_alias_with_its_reason():
    ModelAlias.objects.create(old_hub_id="LeroyDyer/Mixtral_AI_CyberTron_Ultra",
                              hub_id="LeroyDyer/SpydazWeb_AI_CyberTron_Ultra_7b")
    upsert(record("LeroyDyer/SpydazWeb_AI_CyberTron_Ultra_7b", "LeroyDyer/Mixtral_AI_CyberTron_Ultra"))
    assert edges() == []
    assert QuarantinedRecord.objects.get(source="lineage").reason == (
        "self-reference through an alias: LeroyDyer/Mixtral_AI_CyberTron_Ultra is an old name of "
        "LeroyDyer/SpydazWeb_AI_CyberTron_Ultra_7b")


def test_it_re_resolves_stored_edges_when_an_alias_is_added():
    upsert(record("meta-llama/Llama-3.1-8B"), record("a/one", "meta-llama/Meta-Llama-3.1-8B"),
           record("a/two", ["meta-llama/Meta-Llama-3.1-8B", "meta-llama/Llama-3.1-8B"]))
    assert LineageEdge.objects.count() == 3
    ModelAlias.objects.create(old_hub_id="meta-llama/meta-llama-3.1-8b", hub_id="meta-llama/Llama-3.1-8B")
    resolve_pending_parents()
    assert edges() == [("a/one", "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B"),
                       ("a/two", "meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B")]
    assert ModelAlias.objects.get().model == HubModel.objects.get(hub_id="meta-llama/Llama-3.1-8B")


def test_it_links_a_pending_parent_that_arrives_under_another_casing():
    upsert(record("kid/model", "qwen/qwen2.5-3b-instruct"))
    assert edges() == [("kid/model", "qwen/qwen2.5-3b-instruct", None)]
    upsert(record("Qwen/Qwen2.5-3B-Instruct"))
    resolve_pending_parents()
    assert edges() == [("kid/model", "Qwen/Qwen2.5-3B-Instruct", "Qwen/Qwen2.5-3B-Instruct")]


def test_it_lets_the_admin_curate_an_alias_and_re_resolves_the_edges(admin_client):
    upsert(record("google-t5/t5-small"), record("kid/model", "t5-small"))
    response = admin_client.post("/admin/catalog/modelalias/add/",
                                 {"old_hub_id": "t5-small", "hub_id": "google-t5/t5-small", "evidence": "by hand"})
    assert response.status_code == 302, response.content.decode()[:2000]
    alias = ModelAlias.objects.get()
    assert (alias.source, alias.model.hub_id) == ("admin", "google-t5/t5-small")
    assert edges() == [("kid/model", "google-t5/t5-small", "google-t5/t5-small")]
    assert admin_client.get("/admin/catalog/modelalias/?q=t5-small").status_code == 200
    refused = admin_client.post("/admin/catalog/modelalias/add/",
                                {"old_hub_id": "T5-SMALL", "hub_id": "google-t5/t5-small"})
    assert refused.status_code == 200 and ModelAlias.objects.count() == 1  # one old name, any casing
