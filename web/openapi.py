"""OpenAPI 3.1 description of ``/api/v1`` (served at ``/api/v1/openapi.json``)."""
from __future__ import annotations

_bearer = [{"bearer": []}]
_error = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "Tuiyou API", "version": "1",
             "description": "Expert-panel scoring for 网络视听节目推优 (广电办发〔2025〕60号)."},
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error", "message"],
                      "properties": {"error": {"type": "string"}, "message": {"type": "string"}}},
            "Criterion": {"type": "object", "properties": {
                "key": {"type": "string"}, "label": {"type": "string"},
                "min": {"type": "number"}, "max": {"type": "number"},
                "step": {"type": "number"}, "weight": {"type": "number"}}},
            "Assignment": {"type": "object", "required": ["id", "round", "work", "status",
                                                          "scores", "version", "criteria"],
                           "properties": {
                "id": {"type": "integer"}, "round": {"type": "string"},
                "work": {"type": "object", "description": "Blind fields only.",
                         "properties": {"title": {"type": "string"}, "category": {"type": "string"}}},
                "status": {"type": "string",
                           "enum": ["pending", "in_progress", "submitted", "recused"]},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}},
                "version": {"type": "integer"},
                "criteria": {"type": "array", "items": {"$ref": "#/components/schemas/Criterion"}}}},
            "Round": {"type": "object", "properties": {
                "key": {"type": "string"}, "kind": {"type": "string"}, "stage": {"type": "string"},
                "state": {"type": "string"}, "works": {"type": "integer"}}},
        },
    },
    "paths": {
        "/tokens": {"post": {
            "summary": "Issue a bearer token",
            "requestBody": _json({"type": "object", "required": ["username", "password"],
                                  "properties": {"username": {"type": "string"},
                                                 "password": {"type": "string"}}}),
            "responses": {
                "201": {"description": "Token issued", **_json({"type": "object", "properties": {
                    "token": {"type": "string"}, "expires_at": {"type": "string"}}})},
                "400": {"description": "Malformed body", **_json(_error)},
                "401": {"description": "Bad credentials", **_json(_error)},
                "429": {"description": "Too many failed attempts"}}}},
        "/tokens/current": {"delete": {
            "summary": "Revoke the token used for this call", "security": _bearer,
            "responses": {"204": {"description": "Revoked"}, "401": {"description": "No valid token"}}}},
        "/me": {"get": {"summary": "The caller", "security": _bearer,
                        "responses": {"200": {"description": "The caller's account"}}}},
        "/rounds": {"get": {"summary": "All rounds", "security": _bearer, "responses": {
            "200": {"description": "Rounds", **_json({"type": "array",
                                                      "items": {"$ref": "#/components/schemas/Round"}})}}}},
        "/assignments": {"get": {"summary": "The caller's assignments (experts)", "security": _bearer,
                                 "responses": {
            "200": {"description": "Assignments", **_json(
                {"type": "array", "items": {"$ref": "#/components/schemas/Assignment"}})},
            "401": {"description": "No valid token"}, "403": {"description": "Not an expert"}}}},
    },
}
