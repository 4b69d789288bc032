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
_key = [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}, "example": "2025Q1"}]
_chair_errors = {"401": {"description": "No valid token"}, "403": {"description": "Not a chair or admin"},
                 "404": {"description": "No such round", **_json(_error)}}
_locked = {"423": {"description": "The round is signed: every write is refused (`error: locked`)",
                   **_json(_error)}}
_REVIEW_SCHEMAS = {
    "RankingRow": {"type": "object", "required": ["work_id", "category", "score", "se", "rank", "rank_low",
                                                  "rank_high", "n_ratings", "title"], "properties": {
        "work_id": {"type": "integer", "description": "Work id (DisseminationCase id in a cases round)"},
        "category": {"type": "string"}, "title": {"type": "string"},
        "score": {"type": "number"}, "se": {"type": ["number", "null"]},
        "rank": {"type": "integer", "description": "Within category, 1 best; ties share the lower number"},
        "rank_low": {"type": "integer"}, "rank_high": {"type": "integer"}, "n_ratings": {"type": "integer"},
        "raw_mean": {"type": "number"}, "p_shortlist": {"type": "number"}, "disagreement": {"type": "boolean"}}},
    "ShortlistEntry": {"type": "object", "properties": {
        "entry_id": {"type": ["integer", "null"]}, "item_id": {"type": "integer"}, "title": {"type": "string"},
        "category": {"type": "string"}, "rank": {"type": "integer"}, "rank_low": {"type": "integer"},
        "rank_high": {"type": "integer"}, "score": {"type": "number"}, "se": {"type": "number"},
        "p_shortlist": {"type": ["number", "null"]}, "proposed": {"type": "boolean"},
        "included": {"type": "boolean"}, "straddles_cut": {"type": "boolean"},
        "override_reason": {"type": ["string", "null"]}, "override_by": {"type": ["string", "null"]}}},
}
_method = {"name": "method", "in": "query", "schema": {"type": "string",
           "enum": ["raw", "trimmed", "zscore", "additive", "affine"]}}
_REVIEW_PATHS = {
    "/rounds/{key}/rankings": {"get": {
        "summary": "Rankings per category (chair, admin)", "security": _bearer,
        "parameters": _key + [_method, {"name": "category", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "Rows as in `tuiyou analyze`, plus title", **_json(
            {"type": "array", "items": {"$ref": "#/components/schemas/RankingRow"}})},
            "422": {"description": "Unknown method or category", **_json(_error)}, **_chair_errors}}},
    "/rounds/{key}/shortlist": {
        "get": {"summary": "The shortlist (stored, or the unsaved proposal); ?version=N a signed snapshot",
                "security": _bearer, "parameters": _key + [_method, {"name": "version", "in": "query",
                                                                     "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "Shortlist with entries and signed versions"},
                              "422": {"description": "Unknown method, or version not an integer",
                                      **_json(_error)}, **_chair_errors}},
        "post": {"summary": "(Re-)propose and store the shortlist by {method}; overrides are kept",
                 "security": _bearer, "parameters": _key,
                 "requestBody": _json({"type": "object", "properties": {"method": {"type": "string"}}}),
                 "responses": {"201": {"description": "Stored"}, "409": {"description": "No ratings yet"},
                               "422": {"description": "Unknown method", **_json(_error)},
                               **_locked, **_chair_errors}}},
    "/rounds/{key}/shortlist/entries/{entry_id}": {"post": {
        "summary": "Move an entry in or out, with a written reason", "security": _bearer,
        "parameters": _key + [{"name": "entry_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "requestBody": _json({"type": "object", "required": ["included", "reason"], "properties": {
            "included": {"type": "boolean"}, "reason": {"type": "string"}}}),
        "responses": {"200": {"description": "Moved and audited"}, "409": {"description": "Already there"},
                      "422": {"description": "No reason given", **_json(_error)}, **_locked, **_chair_errors}}},
    "/rounds/{key}/shortlist/signoff": {"post": {
        "summary": "The chair seals the result (snapshot, SHA-256; the round becomes signed); then each panel "
                   "member signs it", "security": _bearer,
        "description": "Called by an expert on a signed round whose panel they belong to (experts assigned in "
                       "the round), it records that member's signature with the optional dissent: 201. An expert "
                       "not on the panel gets 403 `not_on_panel`, before the seal 409 `not_sealed`, signing twice "
                       "409 `already_signed`; a wrong password 403 `wrong_password` and nothing is signed.",
        "parameters": _key,
        "requestBody": _json({"type": "object", "required": ["password"], "properties": {
            "password": {"type": "string", "description": "The signer re-enters their password"},
            "dissent": {"type": "string"}}}),
        "responses": {"201": {"description": "Signed", **_json({"type": "object", "properties": {
            "version": {"type": "integer"}, "content_sha256": {"type": "string"}, "state": {"type": "string"},
            "audit_anchor": {"type": "string", "description": "The chair's seal: the audit log's sealed head "
                             "just after this signing, COUNT:HASH, as every PDF of this version prints it; "
                             "`tuiyou audit verify --anchor COUNT:HASH` checks that the log still holds it"}}})},
            "403": {"description": "Wrong password (`wrong_password`), or not a chair/admin", **_json(_error)},
            "409": {"description": "The round is not in review (`not_in_review`), or abnormal ratings are neither "
                                   "explained nor waived (`unexplained_abnormal`, with `unexplained`: assignment ids)",
                    **_json({"type": "object", "properties": {
                        "error": {"type": "string"}, "message": {"type": "string"},
                        "unexplained": {"type": "array", "items": {"type": "integer"}}}})}, **_locked,
            "422": {"description": "password or dissent not text", **_json(_error)},
            "401": {"description": "No valid token"}, "404": {"description": "No such round"}}}},
    "/rounds/{key}/announcement.{fmt}": {"get": {
        "summary": "The public announcement list (公示名单) of a signed round: per category in the notice's order, "
                   "title, producer and platform (chair, admin)", "security": _bearer,
        "parameters": [*_key, {"name": "fmt", "in": "path", "required": True,
                               "schema": {"type": "string", "enum": ["csv", "xlsx", "pdf"]}}],
        "responses": {"200": {"description": "The file"}, **_chair_errors,
                      "404": {"description": "No such round"},
                      "409": {"description": "The round is not signed (`not_signed`)", **_json(_error)},
                      "503": {"description": "No CJK font for the PDF", **_json(_error)}}}},
    "/rounds/{key}/abnormal": {"get": {
        "summary": "The round's abnormal ratings (畸高/畸低) with explanations and waivers (chair, admin)",
        "security": _bearer, "parameters": _key,
        "responses": {"200": {"description": "Flags; `unexplained` lists the assignment ids blocking sign-off; each "
                                             "flag's `reason` is `relative` (30% rule) or `robust fit` (config "
                                             "`robust_fit`)",
                              **_json({"type": "object", "properties": {
                                  "unexplained": {"type": "array", "items": {"type": "integer"}},
                                  "flags": {"type": "array", "items": {"type": "object"}}}})},
                      **_chair_errors, "404": {"description": "No such round"}}}},
    "/rounds/{key}/state": {"post": {
        "summary": "An admin moves a round to draft, intake, scoring or review (going back needs a reason); "
                   "`signed` is refused: only the chair's sign-off seals a round", "security": _bearer,
        "parameters": _key, "requestBody": _json({"type": "object", "required": ["state"], "properties": {
            "state": {"type": "string", "enum": ["draft", "intake", "scoring", "review"]},
            "reason": {"type": "string"}}}),
        "responses": {"200": {"description": "Moved and audited", **_json({"type": "object", "properties": {
            "round": {"type": "string"}, "from": {"type": "string"}, "state": {"type": "string"}}})},
            "409": {"description": "Not allowed from the round's state; `sign_off_required` for `signed` (the "
                                   "message points to POST /rounds/{key}/shortlist/signoff), `final` for a signed "
                                   "round (re-open it instead)", **_json(_error)},
            "422": {"description": "Unknown state, or stepping back without a reason", **_json(_error)},
            "401": {"description": "No valid token"}, "403": {"description": "Not an admin"},
            "404": {"description": "No such round", **_json(_error)}}}},
    "/rounds/{key}/reopen": {"post": {
        "summary": "An admin re-opens a signed round with a reason (a new version follows)", "security": _bearer,
        "parameters": _key, "requestBody": _json({"type": "object", "required": ["reason"],
                                                  "properties": {"reason": {"type": "string"}}}),
        "responses": {"200": {"description": "Back in review"}, "409": {"description": "Not signed"},
                      "422": {"description": "No reason"}, **_chair_errors}}},
    "/rounds/{key}/shortlist.{fmt}": {"get": {
        "summary": "Export: CSV (UTF-8 with BOM), XLSX (sheet per category + method/hash), PDF (A4, Chinese text)",
        "security": _bearer,
        "parameters": _key + [{"name": "fmt", "in": "path", "required": True,
                               "schema": {"type": "string", "enum": ["csv", "xlsx", "pdf"]}},
                              {"name": "scope", "in": "query", "schema": {"type": "string",
                                                                          "enum": ["shortlist", "rankings"]}},
                              {"name": "version", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "The file"},
                      "422": {"description": "Unknown scope or method, or version not an integer",
                              **_json(_error)},
                      "503": {"description": "No CJK font for the PDF (`cjk_font_missing`, names the package)",
                              **_json(_error)}, **_chair_errors}}},
}

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
            **_REVIEW_SCHEMAS,
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
        "/assignments/{assignment_id}/explanation": {"post": {
            "summary": "The expert's written explanation of their flagged (abnormal) rating; scores unchanged",
            "security": _bearer, "parameters": [_assignment_id],
            "requestBody": _json({"type": "object", "required": ["text"],
                                  "properties": {"text": {"type": "string", "maxLength": 4000}}}),
            "responses": {
                "201": {"description": "Recorded", **_json({"type": "object", "properties": {
                    "assignment_id": {"type": "integer"}, "explanation": {"type": "string"},
                    "explained_at": {"type": "string"}}})},
                "401": {"description": "No valid token"}, "403": {"description": "Not an expert"},
                "404": {"description": "No such assignment of yours", **_json(_error)},
                "409": {"description": "Not submitted, not flagged, or round not in scoring/review",
                        **_json(_error)},
                "422": {"description": "Empty or too long text", **_json(_error)},
                "423": {"description": "The round is signed", **_json(_error)}}}},
        "/assignments/{assignment_id}/waiver": {"post": {
            "summary": "The chair waives a flagged rating's explanation with a written reason (audited)",
            "security": _bearer, "parameters": [_assignment_id],
            "requestBody": _json({"type": "object", "required": ["reason"],
                                  "properties": {"reason": {"type": "string", "maxLength": 4000}}}),
            "responses": {
                "201": {"description": "Waived"}, "401": {"description": "No valid token"},
                "403": {"description": "Not a chair or admin"},
                "404": {"description": "No flag on this assignment", **_json(_error)},
                "409": {"description": "Round not in scoring/review", **_json(_error)},
                "422": {"description": "Empty or too long reason", **_json(_error)},
                "423": {"description": "The round is signed", **_json(_error)}}}},
        **_REVIEW_PATHS,
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
                          "403": {"description": "Not admin or chair"},
                          "404": {"description": "No such assignment"}}}},
        "/assignments/{assignment_id}/replacement": {"post": {
            "summary": "Give a recused assignment's slot to an expert (admin, chair)", "security": _bearer,
            "requestBody": _json({"type": "object", "required": ["expert"], "properties": {
                "expert": {"type": "string"}, "reason": {"type": "string"}}}),
            "responses": {"201": {"description": "The new assignment", **_json({"type": "object"})},
                          "400": {"description": "Malformed body"}, "403": {"description": "Not admin or chair"},
                          "404": {"description": "No such assignment"},
                          "409": {"description": "Refused: a constraint would break; nothing written",
                                  **_json(_error)}}}},
    },
}


for _item in SPEC["paths"].values():  # every call with a bearer token may answer 401
    for _operation in _item.values():
        if _operation.get("security"):
            _operation["responses"].setdefault("401", {"description": "No valid token", **_json(_error)})
        # web.core.inputs refuses, for every route: a query value over 2,000 characters (invalid_query) and a JSON
        # body too deep, with a lone surrogate, NaN or a number beyond what JSON carries (invalid_json)
        _operation["responses"].setdefault("400", {
            "description": "Refused input: a query value too long, or a JSON body too deep, with a lone surrogate, "
                           "NaN/Infinity or a number out of range (the message says where)", **_json(_error)})


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
