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
        "/rounds/{key}/draws": {"post": {
            "summary": "Draw experts for every open slot of a round (admin, chair)", "security": _bearer,
            "description": "Seeded (随机抽取) and incremental: kept assignments never move. Omit seed for a random "
                           "one; the response carries it.",
            "requestBody": _json({"type": "object", "properties": {
                "per_work": {"type": "integer", "minimum": 1}, "seed": {"type": "integer", "minimum": 0}}}),
            "responses": {
                "201": {"description": "Drawn and written", **_json({"type": "object", "properties": {
                    "seed": {"type": "integer"}, "per_work": {"type": "integer"}, "created": {"type": "integer"},
                    "kept": {"type": "integer"}, "dropped": {"type": "integer"}, "report": {"type": "object"}}})},
                "400": {"description": "Malformed body", **_json(_error)},
                "403": {"description": "Not admin or chair"}, "404": {"description": "No such round", **_json(_error)},
                "409": {"description": "Refused (round not in intake or scoring, …); nothing written", **_json(_error)},
                "422": {"description": "Infeasible; nothing written", **_json({"allOf": [_error, {
                    "type": "object", "properties": {"category": {"type": "string"}, "needed": {"type": "integer"},
                                                     "available": {"type": "integer"}}}]})}}}},
        "/rounds/{key}/assignment-report": {"get": {
            "summary": "Coverage, loads, connectivity and shared works of a round (admin, chair)",
            "security": _bearer, "responses": {
                "200": {"description": "The report, counted from the assignments", **_json({"type": "object"})},
                "403": {"description": "Not admin or chair"}, "404": {"description": "No such round"}}}},
        "/assignments/{assignment_id}/replacements": {"get": {
            "summary": "Ranked replacements keeping every constraint (admin, chair)", "security": _bearer,
            "responses": {"200": {"description": "Candidates, least loaded first", **_json({"type": "array"})},
                          "404": {"description": "No such assignment"}}}},
        "/assignments/{assignment_id}/replacement": {"post": {
            "summary": "Give a recused assignment's slot to an expert (admin, chair)", "security": _bearer,
            "requestBody": _json({"type": "object", "required": ["expert"], "properties": {
                "expert": {"type": "string"}, "reason": {"type": "string"}}}),
            "responses": {"201": {"description": "The new assignment", **_json({"type": "object"})},
                          "400": {"description": "Malformed body"}, "404": {"description": "No such assignment"},
                          "409": {"description": "Refused: a constraint would break; nothing written",
                                  **_json(_error)}}}},
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
