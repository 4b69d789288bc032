"""OpenAPI 3.1 description of ``/api/v1``, served at ``/api/v1/openapi.json``.

``undocumented(app)`` compares it with the app's URL map: a route under ``/api/v1`` missing
from ``paths`` (or a documented path with no route) is reported, and a test fails on it.
"""
from __future__ import annotations

import re

from flask import Flask, jsonify

from .blueprint import bp

_bearer = [{"bearer": []}]
_error = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


_assignment_id = {"name": "assignment_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_action_responses = {
    "200": {"description": "Done", **_json({"type": "object", "properties": {"status": {"type": "string"}}})},
    "401": {"description": "No valid token"}, "403": {"description": "Not an expert"},
    "404": {"description": "Not the caller's assignment", **_json(_error)},
    "422": {"description": "Incomplete form or missing reason", **_json(_error)},
    "423": {"description": "Locked: submitted, recused or round not scoring", **_json(_error)}}

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
            "ScoreSave": {"type": "object", "required": ["version"], "properties": {
                "scores": {"type": "object", "additionalProperties": {"type": "number"},
                           "description": "Criteria to set; criteria not named keep their values."},
                "comment": {"type": "string"}, "version": {"type": "integer",
                                                           "description": "The version last received."},
                "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "highlights": {"type": "array", "items": {"type": "string"}}}},
            "Stale": {"type": "object", "properties": {
                "error": {"type": "string"}, "message": {"type": "string"},
                "version": {"type": "integer"}, "comment": {"type": "string"},
                "scores": {"type": "object", "additionalProperties": {"type": "number"}}}},
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
        "/openapi.json": {"get": {"summary": "This document", "responses": {
            "200": {"description": "The OpenAPI document", **_json({"type": "object"})}}}},
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
        "/assignments/{assignment_id}/scores": {"put": {
            "summary": "Save scores (autosave) as a new version", "security": _bearer,
            "parameters": [_assignment_id, {"name": "Idempotency-Key", "in": "header", "required": False,
                                            "schema": {"type": "string", "maxLength": 100},
                                            "description": "A retry with the same key answers the first "
                                                           "answer and applies nothing."}],
            "requestBody": _json({"$ref": "#/components/schemas/ScoreSave"}),
            "responses": {
                "200": {"description": "Saved", **_json({"type": "object", "properties": {
                    "version": {"type": "integer"}}})},
                "401": {"description": "No valid token"}, "403": {"description": "Not an expert"},
                "404": {"description": "Not the caller's assignment", **_json(_error)},
                "409": {"description": "Stale version: the current values", **_json(
                    {"$ref": "#/components/schemas/Stale"})},
                "422": {"description": "Invalid value (names the criterion and the range)", **_json(_error)},
                "423": {"description": "Locked: submitted, recused or round not scoring", **_json(_error)}}}},
        "/assignments/{assignment_id}/submit": {"post": {
            "summary": "Submit a complete form (read-only afterwards)", "security": _bearer,
            "parameters": [_assignment_id], "responses": _action_responses}},
        "/assignments/{assignment_id}/recuse": {"post": {
            "summary": "Recuse with a reason (scores are kept)", "security": _bearer,
            "parameters": [_assignment_id],
            "requestBody": _json({"type": "object", "required": ["reason"],
                                  "properties": {"reason": {"type": "string"}}}),
            "responses": _action_responses}},
        "/assignments/{assignment_id}/reopen": {"post": {
            "summary": "Reopen a submitted form (the chair allowed it; round in scoring)",
            "security": _bearer, "parameters": [_assignment_id], "responses": _action_responses}},
        "/assignments/{assignment_id}/allow-reopen": {"post": {
            "summary": "Let the expert reopen a submitted form (chair, admin)", "security": _bearer,
            "parameters": [_assignment_id], "responses": {
                "200": {"description": "Allowed"}, "403": {"description": "Not a chair or admin"},
                "404": {"description": "No such assignment", **_json(_error)},
                "409": {"description": "Not submitted", **_json(_error)},
                "423": {"description": "Round not scoring", **_json(_error)}}}},
    },
}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(SPEC)


def _spec_path(rule: str) -> str:
    """``/api/v1/assignments/<int:id>/scores`` → ``/assignments/{id}/scores``."""
    path = rule[len(bp.url_prefix):]
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", path)


def undocumented(app: Flask) -> list[str]:
    """``METHOD /path`` of every API route missing from SPEC, and of every SPEC entry with no route."""
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(bp.url_prefix + "/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routed.add((method.lower(), _spec_path(rule.rule)))
    documented = {(method, path) for path, item in SPEC["paths"].items() for method in item}
    return sorted(f"{m.upper()} {p} (no documentation)" for m, p in routed - documented) + \
        sorted(f"{m.upper()} {p} (documented, no route)" for m, p in documented - routed)
