"""The read API's OpenAPI 3 document, written by hand so it says exactly what the views accept."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse

from ingest.download_measures import SOURCES
from observatory.catalog.models import DataQualityIssue
from observatory.dashboards.params import CHOICES, MAX_HORIZON_DAYS
from observatory.dashboards.registry import METRICS
from observatory.labs import openapi as labs_openapi  # the submission API's paths
from observatory.read_only import read_only_json
from observatory.vocab import (
    DEFAULT_GAP_SOURCE,
    HUB_ID_PATTERN,
    HUB_NAME_PATTERN,
    HUB_NAMESPACE_PATTERN,
    LICENCE_CLASS_VALUES,
    REGION_VALUES,
    SIZE_CLASS_VALUES,
)

DATE = {"type": "string", "format": "date"}
NULLABLE_STR = {"type": "string", "nullable": True}
NULLABLE_INT = {"type": "integer", "nullable": True}
ERROR = {"description": "Invalid parameter", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
# OpenAPI 3.0 cannot state a rule across two parameters, so the metric endpoint's 400 says it in words.
RANGE_ERROR = {"description": "Invalid parameter, or start after end (\"start must not be after end\")",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
NOT_FOUND = {"description": "Not found", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
TOO_MANY = {"description": "This client computed too many uncached views this minute "
                           "(METRIC_COMPUTATIONS_PER_MINUTE); cached views are still served",
            "headers": {"Retry-After": {"description": "Seconds until the next minute's budget",
                                        "schema": {"type": "integer", "minimum": 1}}},
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

def _q(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


def _ok(ref: str, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


PAGING = [_q("limit", {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}),
          _q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0})]
METRIC_PARAMS = [
    _q("start", DATE, "First day of the range; not after end (400 otherwise)"),
    _q("end", DATE, "Last day of the range; not before start (400 otherwise)"),
    {"name": "region", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"type": "string", "enum": list(REGION_VALUES)}},
     "description": "Regions (repeatable)"},
    _q("organization", {"type": "string", "pattern": HUB_NAMESPACE_PATTERN}, "Hub namespace"),
    _q("size_class", {"type": "string", "enum": list(SIZE_CLASS_VALUES)}),
    _q("licence_class", {"type": "string", "enum": list(LICENCE_CLASS_VALUES)}, "fine-tunability: the model's licence class"),
    _q("pipeline_tag", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"}),
    _q("scope", {"type": "string", "enum": list(CHOICES["scope"]), "default": "tracked"}),
    _q("top", {"type": "integer", "minimum": 1, "maximum": 30, "default": 8}, "Top N organisations / bases"),
    _q("by", {"type": "string", "enum": list(CHOICES["by"]), "default": "region"},
       "derivatives-by-base and finetunes-by-origin: group by the base's region, organisation or model; "
       "tooling-readiness: by region or organisation (base reads as region)"),
    _q("depth", {"type": "string", "enum": list(CHOICES["depth"]), "default": "direct"}, "direct children or whole tree"),
    _q("source", {"type": "string", "enum": list(CHOICES["source"]), "default": DEFAULT_GAP_SOURCE}, "open-closed-gap source"),
    _q("format", {"type": "string", "enum": list(CHOICES["format"]), "default": "json"}),
    _q("as_of", DATE, "adoption-forecast: the forecast as made on this day (only data dated by then); "
       "2000-01-01..2100-12-31, default the latest snapshot"),
    _q("target_date", DATE, "adoption-forecast: also forecast each model at this date; not before as_of, "
       "not with horizon_days"),
    _q("horizon_days", {"type": "integer", "minimum": 1, "maximum": MAX_HORIZON_DAYS},
       "adoption-forecast: target_date = as_of + this many days"),
    _q("forecast", {"type": "string", "enum": ["0", "1"], "default": "0"},
       "relative-adoption: 1 draws each model's adoption forecast (median and 80% band); rows unchanged"),
]

MODEL = {"type": "object", "required": ["hub_id", "region", "tracked"], "properties": {
    "hub_id": {"type": "string"}, "organization": NULLABLE_STR, "region": {"type": "string", "enum": list(REGION_VALUES)},
    "pipeline_tag": {"type": "string"}, "licence_id": {"type": "string"}, "licence_class": {"type": "string"},
    "size_class": NULLABLE_STR, "total_params": NULLABLE_INT, "release_date": {**NULLABLE_STR, "format": "date"},
    "downloads": NULLABLE_INT, "downloads_all_time": NULLABLE_INT, "likes": NULLABLE_INT, "tracked": {"type": "boolean"}}}


def _page(item: dict) -> dict:
    return {"type": "object", "required": ["count", "limit", "offset", "results"], "properties": {
        "count": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
        "results": {"type": "array", "items": item}}}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Open Model Observatory read API", "version": "1.0",
                 "description": "Models, organisations, lineage, daily snapshots and the rows behind every chart."},
        "paths": {
            **labs_openapi.PATHS,
            "/api/stats": {"get": {"summary": "Catalogue counts", "operationId": "stats",
                                   "responses": {"200": _ok("Stats")}}},
            "/api/models": {"get": {"summary": "Models", "operationId": "listModels", "parameters": [
                _q("organization", {"type": "string", "pattern": HUB_NAMESPACE_PATTERN}),
                _q("region", {"type": "string", "enum": list(REGION_VALUES)}),
                _q("size_class", {"type": "string", "enum": list(SIZE_CLASS_VALUES)}),
                _q("pipeline_tag", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{0,63}$"}),
                _q("tracked", {"type": "string", "enum": ["true", "false"]}),
                _q("search", {"type": "string", "pattern": "^[A-Za-z0-9 ._/-]{1,100}$"}), *PAGING],
                "responses": {"200": _ok("ModelPage"), "400": ERROR}}},
            "/api/models/{org}/{name}": {"get": {
                "summary": "One model: licence, parameters, lineage parents, latest snapshot", "operationId": "getModel",
                "parameters": [{"name": "org", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": HUB_NAMESPACE_PATTERN}},
                               {"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": HUB_NAME_PATTERN}}],
                "responses": {"200": _ok("ModelDocument"), "400": ERROR, "404": NOT_FOUND}}},
            "/api/families/{org}/{name}": {"get": {
                "summary": "The family tree around a model: its root base and every stored descendant, paged",
                "operationId": "getFamily",
                "parameters": [{"name": "org", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": HUB_NAMESPACE_PATTERN}},
                               {"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": HUB_NAME_PATTERN}},
                               _q("limit", {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}),
                               _q("offset", {"type": "integer", "minimum": 0, "maximum": 50_000, "default": 0}),
                               _q("format", {"type": "string", "enum": ["json", "csv"], "default": "json"})],
                "responses": {"200": {"description": "The family", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Family"}},
                    "text/csv": {"schema": {"type": "string"}}}}, "400": ERROR, "404": NOT_FOUND}}},
            "/api/organizations": {"get": {"summary": "Organisations", "operationId": "listOrganizations",
                                           "parameters": [_q("region", {"type": "string", "enum": list(REGION_VALUES)}), *PAGING],
                                           "responses": {"200": _ok("OrganizationPage"), "400": ERROR}}},
            "/api/lineage": {"get": {"summary": "Parents and children of a model", "operationId": "lineage",
                                     "parameters": [_q("model", {"type": "string", "pattern": HUB_ID_PATTERN}, "Hub id",
                                                       required=True)],
                                     "responses": {"200": _ok("Lineage"), "400": ERROR, "404": NOT_FOUND}}},
            "/api/snapshots": {"get": {"summary": "Daily snapshots of a model", "operationId": "snapshots", "parameters": [
                _q("model", {"type": "string", "pattern": HUB_ID_PATTERN}, "Hub id", required=True),
                _q("start", DATE), _q("end", DATE),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 1000})],
                "responses": {"200": _ok("Snapshots"), "400": ERROR, "404": NOT_FOUND}}},
            "/api/data-quality": {"get": {
                "summary": "The data-quality ledger: each download source's measure, estimator, coverage and issues",
                "operationId": "dataQuality", "parameters": [
                    _q("source", {"type": "string", "enum": list(SOURCES)}),
                    _q("kind", {"type": "string", "enum": [k for k, _ in DataQualityIssue.Kind.choices]}),
                    _q("model", {"type": "string", "pattern": HUB_ID_PATTERN}, "Hub id (any letter case)"),
                    _q("limit", {"type": "integer", "minimum": 1, "maximum": 5000, "default": 500}),
                    _q("offset", {"type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0})],
                "responses": {"200": _ok("DataQuality"), "400": ERROR}}},
            "/api/metrics/{name}": {"get": {
                "summary": "The exact rows behind a chart (JSON, or CSV with format=csv)", "operationId": "metric",
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": list(METRICS)}}, *METRIC_PARAMS],
                "responses": {"200": {"description": "Rows", "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Metric"}},
                    "text/csv": {"schema": {"type": "string"}}}}, "400": RANGE_ERROR, "404": NOT_FOUND,
                    "429": TOO_MANY}}},
        },
        "components": {"securitySchemes": labs_openapi.COMPONENTS["securitySchemes"], "schemas": {
            **labs_openapi.COMPONENTS["schemas"],
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "Stats": {"type": "object", "required": ["models", "organizations", "snapshots", "lineage_edges",
                                                     "leaderboard_entries"],
                      "properties": {k: {"type": "integer"} for k in ("models", "organizations", "snapshots",
                                                                      "lineage_edges", "leaderboard_entries")}},
            "Model": MODEL,
            "ModelPage": _page({"$ref": "#/components/schemas/Model"}),
            "ModelDocument": {"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string"}, "aliases": {"type": "array", "items": {"type": "string"}},
                "organization": NULLABLE_STR, "region": {"type": "string"}, "created_at": NULLABLE_STR,
                "release_date": NULLABLE_STR, "pipeline_tag": NULLABLE_STR, "licence": {"type": "object"},
                "licence_conflicts": {"type": "array", "items": {"type": "object"}},
                "parameters": {"type": "object"}, "parents": {"type": "array", "items": {"type": "object"}},
                "children_count": {"type": "integer"}, "tracked": {"type": "boolean"},
                "tracked_reason": {"type": "string"}, "latest_snapshot": {"type": "object", "nullable": True},
                "relative_adoption": {"type": "object", "required": ["ram_v1", "ram_v2", "days_since_release",
                                                                     "size_class", "note"], "properties": {
                    "ram_v1": {"type": "number", "nullable": True}, "ram_v2": {"type": "number", "nullable": True},
                    "days_since_release": NULLABLE_INT, "size_class": NULLABLE_STR,
                    "reference_10th": {"type": "number", "nullable": True},
                    "cumulative_downloads": {"type": "number", "nullable": True}, "note": NULLABLE_STR}},
                "adoption_forecast": {"type": "object", "required": ["methodology", "as_of", "rows", "note"],
                                      "properties": {"methodology": {"type": "string"}, "as_of": NULLABLE_STR,
                                                     "rows": {"type": "array", "items": {"type": "object"}},
                                                     "note": NULLABLE_STR}}}},
            "DataQuality": {"type": "object", "required": ["sources", "count", "issues"], "properties": {
                "sources": {"type": "array", "items": {"type": "object", "required": [
                    "name", "measures", "estimator", "coverage", "issues"], "properties": {
                    "name": {"type": "string"}, "measures": {"type": "string"}, "estimator": {"type": "string"},
                    "converts": {"type": "string"}, "coverage": {"type": "object"}, "issues": {"type": "object"}}}},
                "count": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
                "data_version": {"type": "integer"},
                "issues": {"type": "array", "items": {"type": "object", "required": [
                    "source", "hub_id", "kind", "date", "end_date", "days", "detail"], "properties": {
                    "source": {"type": "string"}, "hub_id": {"type": "string"}, "kind": {"type": "string"},
                    "date": {**NULLABLE_STR, "format": "date"}, "end_date": {**NULLABLE_STR, "format": "date"},
                    "days": {"type": "integer"}, "detail": {"type": "string"}}}}}},
            "OrganizationPage": _page({"type": "object", "properties": {
                "namespace": {"type": "string"}, "display_name": {"type": "string"},
                "region": {"type": "string", "enum": list(REGION_VALUES)}, "region_source": {"type": "string"},
                "models": {"type": "integer"}}}),
            "Lineage": {"type": "object", "required": ["model", "parents", "children"], "properties": {
                "model": {"type": "string"},
                "parents": {"type": "array", "items": {"type": "object", "properties": {
                    "hub_id": {"type": "string"}, "relation": {"type": "string"}, "source": {"type": "string"},
                    "known": {"type": "boolean"}}}},
                "children": {"type": "array", "items": {"type": "object", "properties": {
                    "hub_id": {"type": "string"}, "relation": {"type": "string"}, "source": {"type": "string"}}}}}},
            "Family": {"type": "object", "required": ["root", "nodes", "edges", "truncated"], "properties": {
                "model": {"type": "string"}, "root": {"type": "string"}, "total": {"type": "integer"},
                "offset": {"type": "integer"}, "limit": {"type": "integer"}, "truncated": {"type": "boolean"},
                "nodes": {"type": "array", "items": {"type": "object", "required": [
                    "id", "relation", "depth", "downloads", "region", "licence_class", "created_at"], "properties": {
                    "id": {"type": "string"}, "parent": NULLABLE_STR, "relation": NULLABLE_STR,
                    "depth": {"type": "integer"}, "downloads": {"type": "integer"}, "region": {"type": "string"},
                    "licence_class": {"type": "string"}, "created_at": NULLABLE_STR,
                    "licence_conflict": {"type": "boolean"}}}},
                "edges": {"type": "array", "items": {"type": "object", "required": ["parent", "child", "relation"],
                                                     "properties": {"parent": {"type": "string"},
                                                                    "child": {"type": "string"},
                                                                    "relation": {"type": "string"},
                                                                    "licence_conflict": {"type": "boolean"}}}}}},
            "Snapshots": {"type": "object", "required": ["model", "rows"], "properties": {
                "model": {"type": "string"}, "rows": {"type": "array", "items": {"type": "object", "properties": {
                    "date": {"type": "string", "format": "date"}, "downloads": NULLABLE_INT,
                    "downloads_all_time": NULLABLE_INT, "likes": NULLABLE_INT, "source": {"type": "string"}}}}}},
            "Metric": {"type": "object", "required": ["metric", "rows", "as_of", "sources"], "properties": {
                "metric": {"type": "string"}, "rows": {"type": "array", "items": {"type": "object"}},
                "as_of": {**NULLABLE_STR, "format": "date"}, "sources": {"type": "array", "items": {"type": "string"}},
                "params": {"type": "string"},
                "methodology": {"type": "object", "additionalProperties": {"type": "string"},
                                "description": "The versioned definitions and estimators the rows follow"},
                "flagged": {"type": "object", "additionalProperties": {"type": "integer"},
                            "description": "Model-days in view the data-quality ledger flags, by kind"},
                "flag_note": NULLABLE_STR,
                "horizontal_gaps": {"type": "array", "items": {"type": "object", "properties": {
                    "closed_model": {"type": "string"}, "closed_date": {"type": "string", "format": "date"},
                    "open_model": NULLABLE_STR, "open_date": {**NULLABLE_STR, "format": "date"},
                    "gap_months": {"type": "number"}, "matched": {"type": "boolean"}}}}}},
        }},
    }


@read_only_json  # an unsafe method gets a JSON 405, not a CSRF 403
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(document())
