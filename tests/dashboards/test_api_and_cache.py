"""The metric endpoint, the read API and its OpenAPI schema, and caching by data version."""

import csv
import io

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_30

from observatory.catalog.models import HubModel, LineageEdge
from observatory.catalog.runs import bump_data_version
from observatory.dashboards.registry import METRICS

pytestmark = pytest.mark.django_db


# The metrics of the observatory's own probe runs: the shared data holds none, so the test adds
# the finished runs a gpu worker would have left (tests.probe_rows) to a tracked model of it.
PROBE_METRICS = ("fine-tunability", "tooling-readiness")


def _probe_runs() -> None:
    import datetime as dt

    from tests.probe_rows import at, finetune_metrics, finished_run, tooling_checks

    model = HubModel.objects.filter(tracked=True, release_date__isnull=False).order_by("hub_id").first()
    finished_run(model, "finetune", finished=at(model.release_date + dt.timedelta(days=1)),
                 metrics=finetune_metrics(curve=[3.9, 3.1, 2.6, 2.1, 1.8, 1.5, 1.3, 1.2, 1.1, 1.0], heldout_gain=0.9,
                                          forgetting=0.05, lr_sensitivity=0.31))
    finished_run(model, "tooling", finished=at(model.release_date + dt.timedelta(days=2)), checks=tooling_checks())


@pytest.mark.parametrize("name", list(METRICS))
def test_it_serves_the_rows_of_every_metric_as_json_and_csv(loaded_db, client, name):
    if name in PROBE_METRICS:
        _probe_runs()
    body = client.get(f"/api/metrics/{name}").json()
    assert body["rows"] and body["as_of"] and body["sources"]
    response = client.get(f"/api/metrics/{name}?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines(keepends=True)
    assert lines[0] == f"# metric: {name}\n" and lines[1].startswith("# methodology: ")
    rows = list(csv.DictReader(io.StringIO("".join(line for line in lines if not line.startswith("#")))))
    assert len(rows) == len(body["rows"]) and set(rows[0]) == set(body["rows"][0])


def test_it_applies_the_same_filters_to_the_rows_as_to_the_page(loaded_db, client):
    everything = client.get("/api/metrics/cumulative-downloads-by-region").json()["rows"]
    china = client.get("/api/metrics/cumulative-downloads-by-region?region=china&end=2024-12-31").json()["rows"]
    assert {r["region"] for r in everything} > {"china"} and {r["region"] for r in china} == {"china"}
    assert max(r["date"] for r in china) <= "2024-12-31"
    page = client.get("/dashboards/cumulative-downloads-by-region?region=china&end=2024-12-31").content.decode()
    assert "embed/cumulative-downloads-by-region?end=2024-12-31&amp;region=china" in page


@pytest.mark.parametrize("query", [
    "start=yesterday", "start=2025-01-02&end=2025-01-01", "region=mars", "size_class=huge", "top=0", "top=%C2%B2",
    "scope=some", "organization=%3Cscript%3E", "pipeline_tag=Text%00Gen", "by=colour", "source=twitter",
    "unknown=1", "format=xml",
])
def test_it_answers_a_bad_parameter_with_a_clear_400(loaded_db, client, query):
    response = client.get(f"/api/metrics/cumulative-downloads-by-region?{query}")
    assert response.status_code == 400 and response.json()["error"]
    assert client.get(f"/dashboards/derivatives-by-base?{query}").status_code == 400


def test_it_recomputes_a_cached_metric_only_when_the_data_version_changes(loaded_db, client):
    url = "/api/metrics/licence-mix?scope=all"
    before = client.get(url).json()
    model = HubModel.objects.filter(licence_class="permissive").first()
    HubModel.objects.filter(pk=model.pk).update(licence_class="non-commercial")
    assert client.get(url).json() == before  # cached: the same data version
    bump_data_version()  # what every import and crawl does when it finishes
    after = {r["licence_class"]: r["models"] for r in client.get(url).json()["rows"]}
    expected = {r["licence_class"]: r["models"] for r in before["rows"]}
    expected["permissive"] -= 1
    expected["non-commercial"] += 1
    assert after == expected


def test_it_publishes_a_valid_openapi_3_schema_covering_the_read_api(client):
    schema = client.get("/api/schema").json()
    errors = [e.message for e in jsonschema_rs.Draft4Validator(OPENAPI_30).iter_errors(schema)]
    assert errors == []
    assert schema["openapi"].startswith("3.0.")
    # Each read endpoint and the answers it documents, written out by hand.
    documented = {path: set(schema["paths"][path]["get"]["responses"]) for path in READ_API if path in schema["paths"]}
    assert documented == READ_API
    parameters = {p["name"]: p["schema"] for p in schema["paths"]["/api/metrics/{name}"]["get"]["parameters"]}
    assert set(parameters["name"]["enum"]) == set(METRICS)  # every metric served is documented, and no other
    assert parameters["region"]["items"]["enum"] == ["us", "china", "eu", "other", "unknown"]
    assert parameters["size_class"]["enum"] == ["<1B", "1-5B", "7-9B", "10-50B", "50-100B", "100-250B", "250B+"]
    assert parameters["scope"]["enum"] == ["tracked", "all"] and parameters["format"]["enum"] == ["json", "csv"]


READ_API = {
    "/api/stats": {"200"},
    "/api/models": {"200", "400"},
    "/api/models/{org}/{name}": {"200", "400", "404"},
    "/api/organizations": {"200", "400"},
    "/api/lineage": {"200", "400", "404"},
    "/api/snapshots": {"200", "400", "404"},
    "/api/metrics/{name}": {"200", "400", "404", "429"},  # 429: the per-client limit on uncached views
}


def test_it_lists_models_organisations_lineage_and_snapshots(loaded_db, client):
    models = client.get("/api/models?organization=meta-llama&limit=5").json()
    assert models["count"] == HubModel.objects.filter(organization__namespace="meta-llama").count()
    assert len(models["results"]) == 5 and all(m["organization"] == "meta-llama" for m in models["results"])
    orgs = client.get("/api/organizations?region=china").json()
    assert orgs["count"] > 0 and all(o["region"] == "china" for o in orgs["results"])
    edge = LineageEdge.objects.filter(parent__isnull=False).select_related("child", "parent").first()
    lineage = client.get(f"/api/lineage?model={edge.child.hub_id}").json()
    assert edge.parent_hub_id in {p["hub_id"] for p in lineage["parents"]}
    parent_side = client.get(f"/api/lineage?model={edge.parent.hub_id}").json()
    assert edge.child.hub_id in {c["hub_id"] for c in parent_side["children"]}
    snaps = client.get("/api/snapshots?model=meta-llama/Llama-3.1-8B&start=2024-12-01&end=2024-12-31").json()
    assert snaps["rows"] and all("2024-12-01" <= r["date"] <= "2024-12-31" for r in snaps["rows"])
    assert client.get("/api/snapshots?model=nobody/nothing").status_code == 404
    assert client.get("/api/lineage?model=%00").status_code == 400
    assert client.get("/api/models?limit=100000").status_code == 400


@pytest.mark.parametrize("url", ["/api/metrics/licence-mix?start=", "/api/models?search=", "/api/organizations?region="])
def test_it_rejects_an_empty_parameter_on_the_api(loaded_db, client, url):
    response = client.get(url)
    assert response.status_code == 400 and "must not be empty" in response.json()["error"]


def test_it_answers_an_unknown_metric_and_an_unsafe_method_in_json_terms(client):
    response = client.get("/api/metrics/%0D")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert client.post("/api/metrics/licence-mix").status_code == 405
    assert client.generic("QUERY", "/api/stats").status_code == 405
