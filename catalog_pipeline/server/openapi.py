"""The OpenAPI 3.1 document of the admin routes (GET /admin/openapi.json)."""

from __future__ import annotations

from typing import Any

from .change_feed import OPENAPI_PATH as CHANGES_PATH

_BOOL_PARAM = {"type": "string", "enum": ["true", "false"]}


def _query(name: str, description: str, default: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {**_BOOL_PARAM, "default": default}}


_DRY_RUN = _query("dry_run", "Compute and return the diff; write nothing.", "false")
_WAIT = _query("wait", "Wait for the run to finish (default); false answers 202 with the run id at once.", "true")
_JSON = "application/json"


def _response(description: str, schema: str = "Result") -> dict[str, Any]:
    return {"description": description, "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


_UNAUTHORIZED = {"description": "Missing or wrong key (`WWW-Authenticate: Bearer`).",
                 "content": {_JSON: {"schema": {"$ref": "#/components/schemas/Result"}}}}

SYNC_DETAILS = {
    "type": "object",
    "properties": {
        "provider": {"type": "string"},
        "provider_id": {"type": ["integer", "null"]},
        "models_fetched": {"type": ["integer", "null"]},
        "models_transformed": {"type": ["integer", "null"]},
        "models_synced": {"type": ["integer", "null"], "description": "0 in a dry run"},
        "run_id": {"type": "string"},
        "dry_run": {"type": "boolean"},
        "diff": {"type": "object", "description": "dry runs only: added, updated {id: {field: [old, new]}}, reactivated, deactivated"},
    },
    "additionalProperties": True,
}


def openapi_document(version: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "model-catalog-sync admin API",
            "version": version,
            "description": "Sync providers' model lists into the catalog as Dagster runs. Every route "
                           "requires `Authorization: Bearer <ADMIN_API_KEY>`.",
        },
        "security": [{"adminKey": []}],
        "paths": {
            "/admin/model-sync/providers": {"get": {
                "operationId": "listProviders",
                "summary": "Every provider: slug, name, kind, key variable, whether its key is set, model counts, last sync.",
                "responses": {"200": _response("Providers", "ProviderList"), "401": _UNAUTHORIZED},
            }},
            "/admin/model-sync/provider/{slug}": {"post": {
                "operationId": "syncProvider",
                "summary": "Sync one provider (one Dagster run of catalog_sync).",
                "parameters": [
                    {"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}},
                    _DRY_RUN, _WAIT,
                ],
                "responses": {
                    "200": _response("The run succeeded; `details` holds its counts (and the diff in a dry run)."),
                    "202": _response("Queued (`wait=false`) or still running; `details.run_id` names the run."),
                    "400": _response("A query parameter is not true/false."),
                    "401": _UNAUTHORIZED,
                    "404": _response("Unknown provider slug."),
                    "409": _response("A sync of this provider is already queued or running."),
                    "422": _response("Skipped: the provider's API key is not set."),
                    "500": _response("The run failed; `message` names the cause."),
                    "503": _response("Dagster refused to launch the run."),
                },
            }},
            "/admin/model-sync/all": {"post": {
                "operationId": "syncAll",
                "summary": "One run per provider; providers without a key are reported skipped.",
                "parameters": [_DRY_RUN, _WAIT],
                "responses": {
                    "200": _response("Every run finished; `success` is false if any failed.", "AllResult"),
                    "202": _response("Runs queued (`wait=false`).", "AllResult"),
                    "400": _response("A query parameter is not true/false."),
                    "401": _UNAUTHORIZED,
                },
            }},
            "/admin/model-sync/status": {"get": {
                "operationId": "syncStatus",
                "summary": "Per provider: last run (id, status, times, counts, error), last success, stale flag; catalog totals.",
                "parameters": [{"name": "stale_after_hours", "in": "query", "required": False,
                                "schema": {"type": "number", "exclusiveMinimum": 0}}],
                "responses": {"200": {"description": "Status", "content": {_JSON: {"schema": {"type": "object"}}}},
                              "400": _response("stale_after_hours is not a positive number."),
                              "401": _UNAUTHORIZED},
            }},
            "/admin/model-sync/changes": CHANGES_PATH,
            "/admin/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI document", "content": {_JSON: {"schema": {"type": "object"}}}},
                              "401": _UNAUTHORIZED},
            }},
        },
        "components": {
            "securitySchemes": {"adminKey": {"type": "http", "scheme": "bearer", "description": "ADMIN_API_KEY"}},
            "schemas": {
                "Result": {
                    "type": "object",
                    "required": ["success", "message"],
                    "properties": {"success": {"type": "boolean"}, "message": {"type": "string"}, "details": SYNC_DETAILS},
                },
                "AllResult": {
                    "type": "object",
                    "required": ["success", "message", "details"],
                    "properties": {
                        "success": {"type": "boolean"},
                        "message": {"type": "string"},
                        "details": {"type": "object", "properties": {
                            "dry_run": {"type": "boolean"},
                            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                            "providers": {"type": "array", "items": {"type": "object", "properties": {
                                "provider": {"type": "string"},
                                "status": {"type": "string", "enum": ["succeeded", "queued", "running", "failed", "skipped", "already_running"]},
                                "run_id": {"type": ["string", "null"]},
                                "message": {"type": ["string", "null"]},
                            }}},
                        }},
                    },
                },
                "ProviderList": {
                    "type": "object",
                    "properties": {"providers": {"type": "array", "items": {"type": "object", "properties": {
                        "slug": {"type": "string"}, "name": {"type": "string"}, "kind": {"type": "string"},
                        "api_key_env_var": {"type": "string"}, "key_required": {"type": "boolean"},
                        "api_key_set": {"type": "boolean"}, "model_count": {"type": "integer"},
                        "active_model_count": {"type": "integer"},
                        "last_synced_at": {"type": ["string", "null"], "format": "date-time"},
                    }}}},
                },
            },
        },
    }
