"""Model card, organisation page, methodology and embeds on the real data."""

import pytest

from observatory.catalog.models import HubModel, LeaderboardEntry, LineageEdge
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db


def test_it_shows_a_models_lineage_licence_size_and_downloads_on_its_card(loaded_db, client):
    edge = (LineageEdge.objects.filter(parent__isnull=False, child__size_class="7-9B")
            .select_related("child", "parent").order_by("child__hub_id").first())
    page = client.get(f"/models/{edge.child.hub_id}").content.decode()
    assert edge.parent.hub_id in page and edge.relation in page
    assert edge.child.licence_class in page and "size class 7-9B" in page
    parent_page = client.get(f"/models/{edge.parent.hub_id}").content.decode()
    assert edge.child.hub_id in parent_page  # descendants by relation
    card = client.get("/models/meta-llama/Llama-3.1-8B").content.decode()
    assert 'id="chart-model-downloads"' in card and "RAM v2" in card
    assert client.get("/models/nobody/nothing").status_code == 404


def test_it_lists_leaderboard_rows_linked_to_a_model(loaded_db, client):
    entry = LeaderboardEntry.objects.filter(hub_model__isnull=False).select_related("hub_model").first()
    page = client.get(f"/models/{entry.hub_model.hub_id}").content.decode()
    assert entry.benchmark in page


def test_it_shows_an_organisations_models_downloads_and_derivatives(loaded_db, client):
    page = client.get("/orgs/meta-llama").content.decode()
    n = HubModel.objects.filter(organization__namespace="meta-llama").count()
    assert f"{n:,}" in page and "meta-llama/Llama-3.1-8B" in page and "Derivatives of its models" in page
    assert client.get("/orgs/no-such-org").status_code == 404


def test_it_states_every_charts_definition_and_the_sources_on_the_methodology_page(client):
    page = client.get("/methodology").content.decode()
    for name in METRICS:
        assert f'id="{name}"' in page
    for credit in ("Epoch AI", "CC-BY-4.0", "LMArena", "The ATOM Project / Interconnects"):
        assert credit in page


def test_it_serves_a_chrome_less_embed_that_other_sites_may_frame(loaded_db, client):
    response = client.get("/embed/releases-by-region?region=china")
    assert response.status_code == 200 and "X-Frame-Options" not in response
    assert "<nav>" not in response.content.decode() and 'id="chart"' in response.content.decode()
    assert "X-Frame-Options" in client.get("/dashboards/releases-by-region")
