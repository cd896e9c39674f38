"""The read API answers as its OpenAPI document says: a start-after-end 400 is documented, and an
unsafe method on a read endpoint is a JSON 405 with Allow, not the CSRF middleware's HTML 403."""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client

pytestmark = pytest.mark.django_db
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


def test_it_documents_the_start_after_end_400_of_the_metric_endpoint(client):
    operation = client.get("/api/schema").json()["paths"]["/api/metrics/{name}"]["get"]
    assert "start after end" in operation["responses"]["400"]["description"]
    start = next(p for p in operation["parameters"] if p["name"] == "start")
    assert "not after end" in start["description"]


def test_it_answers_start_after_end_as_the_schema_says(client, keep_test_connection):
    operation = schema["/api/metrics/{name}"]["GET"]
    case = operation.Case(path_parameters={"name": "licence-mix"},
                          query={"start": "2024-06-01", "end": "2024-01-01"})
    response = case.call()
    assert response.status_code == 400
    assert response.json() == {"error": "start must not be after end"}
    case.validate_response(response, checks=[schemathesis.checks.status_code_conformance,
                                             schemathesis.checks.content_type_conformance,
                                             schemathesis.checks.response_schema_conformance])


@pytest.mark.parametrize("path", ["/api/models/openai-community/gpt2", "/api/models", "/api/organizations",
                                  "/api/lineage?model=a/b", "/api/snapshots?model=a/b",
                                  "/api/metrics/licence-mix", "/api/schema"])
@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_it_answers_an_unsafe_method_with_a_json_405(path, method):
    # enforce_csrf_checks: the CSRF middleware runs as it does for a real browser or script.
    response = Client(enforce_csrf_checks=True).generic(method, path, b"{}", content_type="application/json")
    assert response.status_code == 405, (method, path, response.status_code)
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET"
    assert method in response.json()["error"]


