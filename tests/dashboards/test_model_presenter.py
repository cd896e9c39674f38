"""The model card and the model JSON show one model's facts alike (one presenter): a renamed
model's old name and another casing find the current model on both, and both list the same
licence conflicts, the ones a hand-written table says conflict."""

import re

import pytest

from observatory.catalog.models import HubModel, LineageEdge, ModelAlias, Organization

pytestmark = pytest.mark.django_db

# (child, its class, parent, its class, conflicts?): written out by hand from the rule "a
# derivative whose licence class allows more than its base's" (permissive > copyleft >
# restricted > non-commercial; unknown is never judged).
LINEAGE = [
    ("acme/derived", "permissive", "acme/nc-base", "non-commercial", True),
    ("acme/derived", "permissive", "acme/gpl-base", "copyleft", True),
    ("acme/derived", "permissive", "acme/open-base", "permissive", False),
    ("acme/derived", "permissive", "acme/mystery-base", "unknown", False),
    ("acme/strict", "restricted", "acme/gpl-base", "copyleft", False),
    ("acme/strict", "restricted", "acme/nc-base", "non-commercial", True),
]
LICENCE_IDS = {"permissive": "mit", "copyleft": "gpl-3.0", "restricted": "llama3", "non-commercial": "cc-by-nc-4.0",
               "unknown": ""}


@pytest.fixture
def catalogue(db):
    org = Organization.objects.create(namespace="acme", region="us")
    models = {}
    for child, child_class, parent, parent_class, _ in LINEAGE:
        for hub_id, licence_class in ((child, child_class), (parent, parent_class)):
            if hub_id not in models:
                models[hub_id] = HubModel.objects.create(hub_id=hub_id, organization=org, licence_class=licence_class,
                                                         licence_id=LICENCE_IDS[licence_class])
        LineageEdge.objects.create(child=models[child], parent=models[parent], parent_hub_id=parent,
                                   relation="finetune", source="t")
    # A base the catalogue does not hold: no class, so never a conflict.
    LineageEdge.objects.create(child=models["acme/derived"], parent=None, parent_hub_id="elsewhere/missing",
                               relation="finetune", source="t")
    ModelAlias.objects.create(old_hub_id="acme/old-derived", hub_id="acme/derived", model=models["acme/derived"])
    return models


def _card_conflicts(html: str) -> list[str]:
    section = re.search(r'<ul id="conflicts">(.*?)</ul>', html, re.S)
    return re.findall(r'<a href="/models/([^"]+)">', section.group(1)) if section else []


@pytest.mark.parametrize("child", ["acme/derived", "acme/strict"])
def test_the_card_and_the_json_list_the_hand_written_conflicts(catalogue, client, child):
    expected = sorted(parent for c, _, parent, _, conflicts in LINEAGE if c == child and conflicts)
    classes = {parent: parent_class for _, _, parent, parent_class, _ in LINEAGE}
    document = client.get(f"/api/models/{child}").json()
    assert document["licence_conflicts"] == [{"parent": p, "parent_class": classes[p]} for p in expected]
    card = client.get(f"/models/{child}").content.decode()
    assert _card_conflicts(card) == expected
    for parent in expected:
        assert f"({LICENCE_IDS[classes[parent]]}, {classes[parent]})" in card


@pytest.mark.parametrize("asked", ["acme/old-derived", "ACME/Derived", "acme/derived"])
def test_the_card_finds_a_renamed_model_under_its_old_name_as_the_api_does(catalogue, client, asked):
    document = client.get(f"/api/models/{asked}")
    assert document.status_code == 200 and document.json()["id"] == "acme/derived"
    assert document.json()["aliases"] == ["acme/old-derived"]
    card = client.get(f"/models/{asked}")
    assert card.status_code == 200
    html = card.content.decode()
    assert '<h1 id="model-name">acme/derived</h1>' in html and "<code>acme/old-derived</code>" in html
    assert _card_conflicts(html) == ["acme/gpl-base", "acme/nc-base"]


def test_an_unknown_model_is_404_on_both(catalogue, client):
    assert client.get("/models/acme/never-was").status_code == 404
    assert client.get("/api/models/acme/never-was").status_code == 404
