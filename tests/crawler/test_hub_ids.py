"""One Hub-id rule, the Hub's own: the project's expression agrees with huggingface_hub's
validate_repo_id, and every endpoint that takes an id uses it (issue 11, finding 6)."""

import re

import pytest
from huggingface_hub.utils import HFValidationError, validate_repo_id
from hypothesis import given, settings
from hypothesis import strategies as st

from observatory import vocab

pytestmark = pytest.mark.django_db


def _hub_says(value: str) -> bool:
    try:
        validate_repo_id(value)
    except HFValidationError:
        return False
    return True


# Strings built from the characters that matter: the allowed ones, the separators, '/', and hostile ones.
CANDIDATES = st.text(alphabet="aZ9_-./ \x00é", max_size=12) | st.builds(
    lambda n, s: n + s, st.sampled_from(["", "a" * 95, "a" * 96, "a" * 97]), st.text(alphabet="a/._-", max_size=4))


@settings(max_examples=2000, deadline=None)
@given(CANDIDATES)
def test_it_agrees_with_the_hubs_own_validator(value):
    assert vocab.is_hub_id(value, legacy=True) == _hub_says(value)
    assert vocab.is_hub_id(value) == (_hub_says(value) and "/" in value)


@settings(max_examples=500, deadline=None)
@given(CANDIDATES)
def test_it_documents_the_same_rule_it_checks(value):
    documented = re.compile(vocab.HUB_ID_PATTERN.replace("$", r"\Z"))
    assert bool(documented.match(value)) == vocab.is_hub_id(value)


@pytest.mark.parametrize("value", ["LeroyDyer/_Spydaz_Web_AI_AGI_R1_OmG_Coder", "a/b", "_/_", "Qwen/Qwen2.5-7B",
                                   "a" * 96 + "/" + "b" * 96, "foo.git/bar"])
def test_it_accepts_valid_ids(value):
    assert vocab.is_hub_id(value) and _hub_says(value)


@pytest.mark.parametrize("value", ["../etc/passwd", "a/..", "a/b\x00", "a/" + "b" * 97, "a b/c", "a/b c", "a//b",
                                   "a/b/c", "-a/b", "a/b-", "a/b.git", "a/b--c", "a/b\n", "é/b", ""])
def test_it_refuses_hostile_ids(value):
    assert not vocab.is_hub_id(value) and not vocab.is_hub_id(value, legacy=True)


def test_lineage_serves_an_id_with_a_leading_underscore_as_the_model_api_does(client):
    from observatory.catalog.models import HubModel

    HubModel.objects.create(hub_id="LeroyDyer/_Spydaz_Web_AI_AGI_R1_OmG_Coder")
    assert client.get("/api/models/LeroyDyer/_Spydaz_Web_AI_AGI_R1_OmG_Coder").status_code == 200
    response = client.get("/api/lineage?model=LeroyDyer/_Spydaz_Web_AI_AGI_R1_OmG_Coder")
    assert response.status_code == 200, response.content
    assert response.json()["model"] == "LeroyDyer/_Spydaz_Web_AI_AGI_R1_OmG_Coder"


@pytest.mark.parametrize("value", ["../../etc/passwd", "a/b%00", "a/" + "b" * 97, "a%20b/c", "a/b.git"])
def test_lineage_refuses_hostile_ids_with_a_clear_400(client, value):
    response = client.get(f"/api/lineage?model={value}")
    assert response.status_code == 400
    assert response.json()["error"].startswith("model must be a Hub id: namespace/name")


def test_the_openapi_document_states_the_rule(client):
    document = client.get("/api/schema").json()
    lineage = document["paths"]["/api/lineage"]["get"]["parameters"]
    assert next(p for p in lineage if p["name"] == "model")["schema"]["pattern"] == vocab.HUB_ID_PATTERN
