"""The submission API's part of the OpenAPI document (paths, components), and a view serving it alone.

The project's document at /api/schema merges PATHS and COMPONENTS; /api/labs/schema serves this
part by itself.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.http import require_GET

from observatory.labs.validation import MAX_ACCESS_TOKEN, MAX_HUB_ID, MAX_REVISION, PROBES

_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"]


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _submission(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}}


_COMMON = {"401": _error("No token, or an invalid, unknown or revoked one"),
           "429": _error("Rate limit or quota reached (see Retry-After)")}
_ID = {"name": "submission_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1},
       "description": "A submission of the token's lab"}
_SECURITY = [{"bearerAuth": []}]

COMPONENTS = {
    "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                       "description": "A lab API token (created on /labs/tokens/)"}},
    "schemas": {
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {"type": "string"},
                           "errors": {"type": "object", "additionalProperties": {"type": "string"}}},
        },
        "SubmissionRequest": {
            "type": "object", "required": ["hub_id"], "additionalProperties": False,
            "properties": {
                "hub_id": {"type": "string", "maxLength": MAX_HUB_ID, "example": "HuggingFaceTB/SmolLM2-135M-Instruct",
                           "description": "Hub repo id namespace/name"},
                "revision": {"type": "string", "maxLength": MAX_REVISION,
                             "description": "Branch, tag or commit; pinned to a commit (or, for a locally "
                                            "registered copy, to the SHA-256 of its files) on acceptance"},
                "probes": {"type": "array", "minItems": 1, "maxItems": len(PROBES), "uniqueItems": True,
                           "items": {"type": "string", "enum": PROBES}},
                "visibility": {"type": "string", "enum": ["private", "public"], "default": "private"},
                "access_token": {"type": "string", "maxLength": MAX_ACCESS_TOKEN,
                                 "description": "Gated models only: encrypted at rest, deleted when the run ends"},
                "config": {"type": "object", "description": "Per-probe options: {\"benchmark\": {\"limit\": 5}}",
                           "properties": {"benchmark": {"type": "object", "additionalProperties": False,
                                                        "properties": {"limit": {"type": "integer", "minimum": 1,
                                                                                 "maximum": 10000}}}}},
            },
        },
        "ProbeRunState": {
            "type": "object",
            "required": ["id", "probe", "status", "progress", "current_step", "error"],
            "properties": {
                "id": {"type": "integer"}, "probe": {"type": "string", "enum": PROBES},
                "status": {"type": "string", "enum": _STATUSES},
                "progress": {"type": "number", "minimum": 0, "maximum": 1},
                "current_step": {"type": "string"}, "error": {"type": "string"},
                "created_at": {"type": "string", "nullable": True}, "started_at": {"type": "string", "nullable": True},
                "finished_at": {"type": "string", "nullable": True},
                "config": {"type": "object"}, "config_hash": {"type": "string"},
                "result": {"type": "object", "nullable": True},
            },
        },
        "Submission": {
            "type": "object",
            "required": ["id", "hub_id", "resolved_revision", "pin_kind", "probes", "visibility", "status", "runs"],
            "properties": {
                "id": {"type": "integer"}, "lab": {"type": "string"}, "hub_id": {"type": "string"},
                "revision": {"type": "string"}, "resolved_revision": {"type": "string"},
                "pin_kind": {"type": "string", "enum": ["hub-commit", "local-sha256"]},
                "probes": {"type": "array", "items": {"type": "string"}},
                "visibility": {"type": "string", "enum": ["private", "public"]},
                "published_at": {"type": "string", "nullable": True}, "gated": {"type": "boolean"},
                "created_at": {"type": "string", "nullable": True},
                "status": {"type": "string", "enum": _STATUSES},
                "progress": {"type": "number"},
                "runs": {"type": "array", "items": {"$ref": "#/components/schemas/ProbeRunState"}},
                "duplicate": {"type": "boolean"}, "cancelled_runs": {"type": "integer"},
            },
        },
        "SubmissionList": {
            "type": "object", "required": ["count", "results"],
            "properties": {"count": {"type": "integer"}, "limit": {"type": "integer"}, "offset": {"type": "integer"},
                           "results": {"type": "array", "items": {"$ref": "#/components/schemas/Submission"}}},
        },
    },
}

PATHS = {
    "/api/submissions": {
        "get": {
            "operationId": "listSubmissions", "summary": "The token's lab's submissions, newest first",
            "security": _SECURITY,
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000}},
            ],
            "responses": {"200": {"description": "A page of submissions", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/SubmissionList"}}}},
                "400": _error("Bad paging parameters"), **_COMMON},
        },
        "post": {
            "operationId": "createSubmission", "summary": "Submit a model revision for profiling",
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/SubmissionRequest"}}}},
            "responses": {
                "201": _submission("Accepted, pinned and queued (enqueued once the transaction commits)"),
                "200": _submission("A duplicate: the lab's existing submission of the same version and probes"),
                "400": _error("Invalid: one message per field"),
                "413": _error("Body too large"), "415": _error("Not JSON"),
                "503": _error("The Hub could not be asked, or the local copy is missing"),
                **_COMMON,
            },
        },
    },
    "/api/submissions/{submission_id}": {
        "get": {
            "operationId": "getSubmission", "summary": "One submission with live run states and results",
            "security": _SECURITY, "parameters": [_ID],
            "responses": {"200": _submission("The submission"), "404": _error("Not a submission of your lab"),
                          **_COMMON},
        },
    },
    "/api/submissions/{submission_id}/cancel": {
        "post": {
            "operationId": "cancelSubmission", "summary": "Cancel the submission's queued and running runs",
            "security": _SECURITY, "parameters": [_ID],
            "responses": {"200": _submission("Cancellation asked"), "404": _error("Not a submission of your lab"),
                          **_COMMON},
        },
    },
    "/api/submissions/{submission_id}/publish": {
        "post": {
            "operationId": "publishSubmission", "summary": "Make the submission's profile public",
            "security": _SECURITY, "parameters": [_ID],
            "responses": {"200": _submission("Published"), "404": _error("Not a submission of your lab"),
                          **_COMMON},
        },
    },
}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "Open Model Observatory: lab submissions", "version": "1"},
        "paths": PATHS,
        "components": COMPONENTS,
    }


@require_GET
def schema_view(request):
    return JsonResponse(document())
