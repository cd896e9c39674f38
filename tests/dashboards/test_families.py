"""/api/families, the family page and the card's family panel, on a hand-built family.

The expected trees are written out by hand below; the browser test (test_family_browser.py)
checks the real family of meta-llama/Llama-3.1-8B."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from observatory.catalog.models import HubModel, LineageEdge, ModelAlias, Organization

pytestmark = pytest.mark.django_db


def _utc(day: int, month: int = 1):
    return dt.datetime(2024, month, day, 12, tzinfo=dt.UTC)


@pytest.fixture
def family(db):
    us = Organization.objects.create(namespace="famorg", region="us")
    cn = Organization.objects.create(namespace="cnorg", region="china")

    def model(hub_id, org, licence, downloads, created):
        return HubModel.objects.create(hub_id=hub_id, organization=org, licence_class=licence,
                                       downloads_all_time=downloads, created_at=created)

    base = model("famorg/Base", us, "restricted", 1000, _utc(1))
    ft = model("famorg/Base-ft", us, "restricted", 300, _utc(5, 2))
    quant = model("cnorg/Base-ft-GGUF", cn, "restricted", 50, _utc(9, 3))
    adapter = model("cnorg/base-lora", cn, "permissive", 70, _utc(20, 2))  # more permissive than its base
    other = model("zzz/Other-root", None, "permissive", 5, _utc(2))
    merge = model("famorg/merge", us, "restricted", 10, _utc(1, 4))
    for child, parent, relation in ((ft, base, "finetune"), (quant, ft, "quantized"), (adapter, base, "adapter"),
                                    (merge, ft, "merge"), (merge, other, "merge")):
        LineageEdge.objects.create(child=child, parent=parent, parent_hub_id=parent.hub_id, relation=relation,
                                   source="test")
    ModelAlias.objects.create(old_hub_id="famorg/Old-ft", hub_id=ft.hub_id, model=ft)
    return base


EXPECTED = [  # (id, parent, relation, depth, licence_conflict): depth, then downloads, then id
    ("famorg/Base", None, None, 0, False),
    ("famorg/Base-ft", "famorg/Base", "finetune", 1, False),
    ("cnorg/base-lora", "famorg/Base", "adapter", 1, True),
    ("cnorg/Base-ft-GGUF", "famorg/Base-ft", "quantized", 2, False),
    ("famorg/merge", "famorg/Base-ft", "merge", 2, False),
]


def test_it_serves_the_whole_tree_around_a_model_from_its_root(family, client):
    for asked in ("famorg/merge", "cnorg/Base-ft-GGUF", "famorg/Base", "FAMORG/base", "famorg/Old-ft"):
        body = client.get(f"/api/families/{asked}").json()
        assert body["root"] == "famorg/Base", asked
        assert [(n["id"], n["parent"], n["relation"], n["depth"], n["licence_conflict"])
                for n in body["nodes"]] == EXPECTED, asked
        assert body["truncated"] is False and body["total"] == 5
    body = client.get("/api/families/famorg/Old-ft").json()
    assert body["model"] == "famorg/Base-ft"  # an old name resolves, as on the card
    lora = next(n for n in body["nodes"] if n["id"] == "cnorg/base-lora")
    assert lora == {"id": "cnorg/base-lora", "parent": "famorg/Base", "relation": "adapter", "depth": 1,
                    "downloads": 70, "region": "china", "licence_class": "permissive",
                    "created_at": "2024-02-20T12:00:00+00:00", "licence_conflict": True}
    # The stored edges among the family's nodes, by child (the merge's other parent is no member).
    assert [(e["parent"], e["child"], e["relation"]) for e in body["edges"]] == [
        ("famorg/Base-ft", "cnorg/Base-ft-GGUF", "quantized"), ("famorg/Base", "cnorg/base-lora", "adapter"),
        ("famorg/Base", "famorg/Base-ft", "finetune"), ("famorg/Base-ft", "famorg/merge", "merge")]


def test_it_pages_a_large_family_and_says_it_is_truncated(family, client):
    first = client.get("/api/families/famorg/Base?limit=2").json()
    assert [n["id"] for n in first["nodes"]] == ["famorg/Base", "famorg/Base-ft"] and first["truncated"] is True
    assert [(e["parent"], e["child"]) for e in first["edges"]] == [("famorg/Base", "famorg/Base-ft")]
    rest = client.get("/api/families/famorg/Base?limit=2&offset=2").json()
    assert [n["id"] for n in rest["nodes"]] == ["cnorg/base-lora", "cnorg/Base-ft-GGUF"]
    assert client.get("/api/families/famorg/Base?offset=5").json()["nodes"] == []


@pytest.mark.parametrize("url, status", [
    ("/api/families/famorg/no-such-model", 404), ("/api/families/-bad/x", 400), ("/api/families/a/b%20c", 400),
    ("/api/families/famorg/Base?limit=0", 400), ("/api/families/famorg/Base?limit=x", 400),
    ("/api/families/famorg/Base?offset=-1", 400), ("/api/families/famorg/Base?depth=3", 400),
    ("/api/families/famorg/Base?format=xml", 400), ("/api/families/famorg/Base?limit=", 400),
    ("/api/families/famorg/" + "x" * 300, 400),
])
def test_it_refuses_bad_ids_and_parameters_with_a_clear_json_error(family, client, url, status):
    response = client.get(url)
    assert response.status_code == status and response["Content-Type"] == "application/json"
    assert response.json()["error"]


def test_it_exports_the_nodes_as_csv(family, client):
    text = client.get("/api/families/famorg/Base?format=csv").content.decode()
    assert text.startswith("# family of famorg/Base; root famorg/Base")
    rows = list(csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True) if not line.startswith("#")))))
    assert [r["id"] for r in rows] == [e[0] for e in EXPECTED]


def test_the_card_draws_the_family_and_the_family_page_counts_relations(family, client):
    card = client.get("/models/famorg/merge").content.decode()
    assert 'id="chart-family"' in card and 'data-nodes="5"' in card and "<script>" not in card.split("chart-family")[1][:200]
    page = client.get("/families/famorg/Old-ft")
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="chart-family-relations"' in text and 'id="family-top"' in text
    assert "1 adapter, 1 finetune, 1 merge, 1 quantized" in text
    assert text.index("famorg/Base-ft</a>") < text.index("cnorg/base-lora</a>") < text.index("cnorg/Base-ft-GGUF</a>")
    assert client.get("/families/famorg/nothing").status_code == 404
    assert client.get("/families/famorg/Base/nonsense.png").status_code == 404
    assert client.get("/families/famorg/Base/tree.gif").status_code == 404


def test_a_model_alone_has_no_family_chart(db, client):
    HubModel.objects.create(hub_id="solo/model", created_at=_utc(1))
    assert 'id="chart-family"' not in client.get("/models/solo/model").content.decode()
    body = client.get("/api/families/solo/model").json()
    assert body["root"] == "solo/model" and len(body["nodes"]) == 1 and body["edges"] == []


@pytest.mark.redis
def test_it_serves_a_family_from_the_cache_until_the_data_version_moves_on(family, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from observatory.catalog.runs import bump_data_version

    first = client.get("/api/families/famorg/Base").json()
    first_page = client.get("/api/families/famorg/Base?limit=2").json()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/families/famorg/Base").json() == first
        assert client.get("/api/families/famorg/Base?limit=2").json() == first_page
    assert queries.captured_queries  # the model is looked up (any casing, old names) ...
    assert not [q for q in queries.captured_queries if "lineageedge" in q["sql"]]  # ... but its family not walked

    newcomer = HubModel.objects.create(hub_id="famorg/Base-new", organization=family.organization,
                                       licence_class="restricted", downloads_all_time=1, created_at=_utc(1, 5))
    LineageEdge.objects.create(child=newcomer, parent=family, parent_hub_id=family.hub_id, relation="finetune",
                               source="test")
    assert client.get("/api/families/famorg/Base").json() == first  # the same data version: the cached body
    bump_data_version()  # what every import and crawl does when it finishes
    ids = [n["id"] for n in client.get("/api/families/famorg/Base").json()["nodes"]]
    assert ids == ["famorg/Base", "famorg/Base-ft", "cnorg/base-lora", "famorg/Base-new", "cnorg/Base-ft-GGUF",
                   "famorg/merge"]
    assert client.get("/api/families/famorg/Base?limit=2").json()["total"] == 6
