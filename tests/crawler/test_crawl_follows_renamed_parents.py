"""A crawl follows the Hub's 307 for a parent the catalogue does not hold: the old name becomes an
alias of the current id and every edge naming it points at one node (real HTTP, replay Hub)."""

import copy

import pytest

from ingest.hub.crawl import default_plan, process_page, start_crawl
from observatory.catalog.models import HubModel, LineageEdge, ModelAlias

OLD, CURRENT = "meta-llama/Meta-Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"


def _card_only(record: dict, bases: list[str]) -> dict:
    """A real record as a list page states it when only the card names the base (no baseModels,
    no base_model tags: the Hub has not resolved it)."""
    record = copy.deepcopy(record)
    record["baseModels"] = None
    record["tags"] = [t for t in record["tags"] if not t.startswith("base_model:")]
    record["cardData"] = {**(record["cardData"] or {}), "base_model": bases}
    return record


@pytest.fixture
def hub(replay_hub, replay_records, settings):
    by_id = {r["id"]: r for r in replay_records}
    # Real children of the renamed repo; the repo itself is not listed, only answered by id.
    records = [_card_only(by_id["ValiantLabs/Llama3.1-8B-Enigma"], [OLD]),
               _card_only(by_id["DeepMount00/Llama-3.1-8b-ITA"], [OLD, CURRENT.lower()])]
    started = replay_hub(records=records)
    settings.HF_ENDPOINT = started.url
    settings.CRAWL_TOP_N = 10
    settings.CRAWL_LOOKUP_MAX = 0
    return started


def _drive(run_id: int) -> None:
    step = 0
    while step is not None:
        step = process_page(run_id, step)


def test_it_follows_the_hubs_307_for_a_parent_it_does_not_hold(db, hub):
    run = start_crawl(default_plan())
    _drive(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded" and run.counts["renames"] == 1
    asked = [e["path"] for e in hub.log if not e["list"] and e["path"].startswith("/api/models/")]
    assert asked == [f"/api/models/{OLD}", f"/api/models/{CURRENT}"]  # the 307, then where it led
    alias = ModelAlias.objects.get()
    assert (alias.old_hub_id, alias.hub_id, alias.model.hub_id, alias.source) == (OLD, CURRENT, CURRENT, "hub-redirect")
    assert sorted(LineageEdge.objects.filter(parent__hub_id=CURRENT).values_list("child__hub_id", "parent_hub_id")) == [
        ("DeepMount00/Llama-3.1-8b-ITA", CURRENT), ("ValiantLabs/Llama3.1-8B-Enigma", CURRENT)]
    assert not LineageEdge.objects.filter(parent_hub_id__iexact=OLD).exists()
    assert HubModel.objects.filter(hub_id=CURRENT).exists()


def test_it_does_not_ask_again_about_a_parent_it_resolved(db, hub):
    _drive(start_crawl(default_plan()).pk)
    before = len(hub.log)
    _drive(start_crawl(default_plan()).pk)
    asked = [e["path"] for e in hub.log[before:] if not e["list"] and e["path"].startswith("/api/models/")]
    assert f"/api/models/{OLD}" not in asked
