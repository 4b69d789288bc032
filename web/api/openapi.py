"""``/api/v1/openapi.json``: the OpenAPI 3.1 document, generated from the app's URL map and each
view's declaration (``registry.operation``); no line of it is written by hand.

Paths and path parameters come from the routes, bodies, queries and answers from the declared
pydantic models (one ``components.schemas`` entry per model), and the answers every call can
give are added: 401 with a token required, 403 when only some roles may call, 404 when the path
names something, 400 for the input ``web.core.inputs`` refuses on every route, and each model's
refusal status. ``undocumented(app)`` lists the API routes without a declaration, and a test
fails on any.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app
from pydantic import TypeAdapter
from werkzeug.routing import Rule

from ..core.inputs import MAX_ID
from ..core.schemas import ApiError
from .blueprint import bp
from .registry import PUBLIC, File, Operation, declaration, operation

REF = "#/components/schemas/{model}"
DEFAULT_DESCRIPTIONS = {401: "No valid bearer token", 403: "The caller's role may not do this",
                        404: "No such thing at this path",
                        400: "Refused input (web.core.inputs, for every route): a query value over 2,000 characters "
                             "(`invalid_query`), or a JSON body nested too deep, holding a lone surrogate, NaN or a "
                             "number beyond ±(2^53 − 1) (`invalid_json`); the message says where",
                        422: "The request does not fit its model (`error` and `message` name the field)"}
PATH_DESCRIPTIONS = {"key": "the round's key, e.g. 2025Q1, 2025, 2025-cases or 2025Q1-浙江",
                     "fmt": "the file format", "assignment_id": "the assignment's id",
                     "entry_id": "the shortlist entry's id"}
# A round key as rounds/keys.py reads it (ECMA-262 syntax, no NUL): a key of another shape names no round.
ROUND_KEY = "^[0-9]{4}(Q[1-4])?(-传播案例|-cases)?(-[^\\s/\\x00]{1,40})?$"
# <name>, <int:name>, <any(csv, xlsx, pdf):name> in a route
_PARAMETER = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<arguments>[^)]*)\))?:)?(?P<name>\w+)>")


def _api_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith(bp.url_prefix + "/")]


def _path(rule: Rule) -> str:
    """``/api/v1/assignments/<int:assignment_id>/scores`` → ``/assignments/{assignment_id}/scores``."""
    return _PARAMETER.sub(r"{\g<name>}", rule.rule[len(bp.url_prefix):])


def _methods(rule: Rule) -> list[str]:
    return sorted(method.lower() for method in rule.methods - {"HEAD", "OPTIONS"})


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    """The rule's parameters in order, typed by their converters (ids within the database's range)."""
    parameters = []
    for match in _PARAMETER.finditer(rule.rule):
        name, converter = match["name"], match["converter"]
        if converter == "int":
            schema: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        elif converter == "any":
            schema = {"type": "string", "enum": [item.strip() for item in match["arguments"].split(",")]}
        elif name == "key":
            schema = {"type": "string", "pattern": ROUND_KEY, "example": "2025Q1"}
        else:
            schema = {"type": "string", "minLength": 1}
        parameters.append({"name": name, "in": "path", "required": True, "schema": schema,
                           "description": PATH_DESCRIPTIONS.get(name, name)})
    return parameters


def _query_parameters(spec: Operation) -> list[dict[str, Any]]:
    if spec.query is None:
        return []
    schema = spec.query.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": _query_value(field),
             **({"description": field["description"]} if "description" in field else {})}
            for name, field in schema["properties"].items()]


def _query_value(field: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an absent parameter is the model's None, so no null branch."""
    schema = {k: v for k, v in field.items() if k not in ("title", "description", "default")}
    choices = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(choices) == 1:
        schema.update(choices[0])
    elif choices:
        schema["anyOf"] = choices
    if field.get("default") is not None:
        schema["default"] = field["default"]
    return schema


def _answers(spec: Operation, has_path_parameters: bool) -> dict[int, tuple[str, Any]]:
    """The declared answers and the ones every such call can give."""
    answers = dict(spec.answers)
    implied = [400]  # web.core.inputs, for every route: a query value too long, a JSON body it refuses
    if spec.roles is not PUBLIC:
        implied.append(401)
    if spec.roles:
        implied.append(403)
    if has_path_parameters:
        implied.append(404)
    for model in (spec.body, spec.query):
        if model is not None:
            implied.extend(sorted(model.refusal_statuses()))
    for status in implied:
        answers.setdefault(status, (DEFAULT_DESCRIPTIONS[status], ApiError))
    return dict(sorted(answers.items()))


def _is_model(kind: Any) -> bool:
    return kind is not None and not isinstance(kind, File)


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every declared route under ``/api/v1``."""
    operations = []  # (path, method, endpoint, spec, rule)
    for rule in _api_rules(app):
        spec = declaration(app.view_functions[rule.endpoint])
        if spec is not None:
            operations.extend((_path(rule), method, rule.endpoint, spec, rule) for method in _methods(rule))
    inputs = []
    for path, method, _, spec, rule in operations:
        if spec.body is not None:
            inputs.append(((path, method, "body"), "validation", TypeAdapter(spec.body)))
        for status, (_, kind) in _answers(spec, bool(rule.arguments)).items():
            if _is_model(kind):
                inputs.append(((path, method, status), "serialization", TypeAdapter(kind)))
    schemas, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for path, method, endpoint, spec, rule in operations:
        described: dict[str, Any] = {"operationId": endpoint.removeprefix("api."), "summary": spec.summary}
        if spec.description:
            described["description"] = spec.description
        if spec.roles is not PUBLIC:
            described["security"] = [{"bearer": []}]
        parameters = _path_parameters(rule) + _query_parameters(spec)
        parameters += [{"name": h.name, "in": "header", "required": False, "schema": h.schema,
                        "description": h.description} for h in spec.headers]
        if parameters:
            described["parameters"] = parameters
        if spec.body is not None:
            described["requestBody"] = {"required": not spec.optional_body, "content": {
                "application/json": {"schema": schemas[((path, method, "body"), "validation")]}}}
        described["responses"] = {}
        for status, (text, kind) in _answers(spec, bool(rule.arguments)).items():
            answer: dict[str, Any] = {"description": text}
            if isinstance(kind, File):
                answer["content"] = {media: {"schema": {"type": "string", "format": "binary"}}
                                     for media in kind.media_types}
            elif _is_model(kind):
                answer["content"] = {"application/json": {"schema": schemas[((path, method, status),
                                                                             "serialization")]}}
            described["responses"][str(status)] = answer
        paths.setdefault(path, {})[method] = described
    return {"openapi": "3.1.0",
            "info": {"title": "Tuiyou API", "version": "1",
                     "description": "Expert-panel scoring for 网络视听节目推优 (广电办发〔2025〕60号)."},
            "servers": [{"url": bp.url_prefix}],
            "paths": dict(sorted(paths.items())),
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                           "schemas": definitions.get("$defs", {})}}


@bp.get("/openapi.json")
@operation("This document (OpenAPI 3.1)", roles=PUBLIC,
           answers={200: ("The OpenAPI document, generated from the API's declarations", dict[str, Any])})
def openapi():
    """The OpenAPI 3.1 description of this API (built once per app)."""
    extensions = current_app.extensions
    if "tuiyou.openapi" not in extensions:
        extensions["tuiyou.openapi"] = build(current_app)
    return extensions["tuiyou.openapi"]


def undocumented(app: Flask) -> list[str]:
    """``METHOD /path`` of every API route whose view has no declaration (so no documentation)."""
    return sorted(f"{method.upper()} {_path(rule)} (no documentation)" for rule in _api_rules(app)
                  if declaration(app.view_functions[rule.endpoint]) is None for method in _methods(rule))
