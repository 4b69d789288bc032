"""Hostile input stopped where it enters the app, for every route at once.

- **JSON bodies.** ``app.json`` is :class:`StrictJSONProvider`: a body that nests deeper than
  ``MAX_DEPTH`` levels, holds a lone surrogate (``"\\ud800"``, which no UTF-8 encoder, database
  driver or ``jsonify`` accepts), ``NaN`` or ``Infinity``, an integer beyond ±(2**53 − 1) (what
  JSON carries exactly, RFC 7493) or a float too large to be finite is refused, with where it
  is (``$.scores.thought``). Every JSON request body is parsed before the view runs, so a view
  that reads it leniently (``get_json(silent=True)``) never sees such a body either: it answers
  400 ``{"error": "invalid_json", "message": …}`` (a page for non-API paths).
- **URL variables.** An ``<int:…>`` variable no database column can hold (outside
  0 … 2**31 − 1, PostgreSQL's INTEGER) names nothing: 404 before the view, on pages and API.
- **Query parameters.** A value longer than ``MAX_QUERY_VALUE`` characters (a search, a key,
  a page number: none needs more) answers 400 naming the parameter, before any view builds a
  LIKE pattern from it (SQLite refuses patterns over 50,000 bytes). :func:`record_id` is the
  one parser of a record id or version taken from a query string or a form: digits within the
  same range, else None.
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Flask, Request, abort, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

MAX_ID = 2**31 - 1  # ids are INTEGER columns: the largest value PostgreSQL holds in one
MAX_DEPTH = 64  # the deepest body the API takes is three levels
MAX_SAFE_INTEGER = 2**53 - 1
MAX_QUERY_VALUE = 2_000


class InvalidJSON(ValueError):
    """A JSON text the app refuses; the message says what and where."""


def _constant(name: str):
    raise InvalidJSON(f"{name} is not a JSON number")


def _check(value: Any) -> None:
    """Walk a parsed body without recursion: depth, surrogates, integer range, finite floats."""
    stack = [("$", value, 1)]
    while stack:
        where, item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InvalidJSON(f"nested more than {MAX_DEPTH} levels deep at {where}")
        if isinstance(item, dict):
            for key, child in item.items():
                _text(key, f"{where} (a key)")
                stack.append((f"{where}.{key}", child, depth + 1))
        elif isinstance(item, list):
            stack.extend((f"{where}[{index}]", child, depth + 1) for index, child in enumerate(item))
        elif isinstance(item, str):
            _text(item, where)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int) and abs(item) > MAX_SAFE_INTEGER:
            raise InvalidJSON(f"the integer at {where} is beyond ±{MAX_SAFE_INTEGER}")
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidJSON(f"the number at {where} is too large")


def _text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidJSON(f"the string at {where} holds a lone surrogate ({text[exc.start]!r})") from None


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing what no part of the app can store or send back (see the module)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            value = json.loads(s, parse_constant=_constant, **kwargs)
        except RecursionError:  # the C decoder's own depth limit (100,000 nested "[")
            raise InvalidJSON("nested too deeply to read") from None
        _check(value)
        return value


class InvalidBody(BadRequest):
    """A request body the app refuses; ``description`` says why (shown to the caller)."""


class InvalidQuery(InvalidBody):
    """A query string the app refuses; ``description`` says which parameter and why."""


class TuiyouRequest(Request):
    """Flask's request, whose unreadable JSON body answers 400 with the reason."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        raise InvalidBody(f"JSON body: {e}" if e is not None else "JSON body expected")


def record_id(text: str | None) -> int | None:
    """An id or version from a query string or form: ASCII digits within 0 … 2**31 − 1, else None."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return None
    return int(text)


def init_app(app: Flask) -> None:
    """Install the JSON provider, the request class, the body check and the URL-variable check."""
    app.json = StrictJSONProvider(app)
    app.request_class = TuiyouRequest

    @app.before_request
    def check_query_and_body() -> None:
        for name, value in request.args.items(multi=True):
            if len(value) > MAX_QUERY_VALUE:
                raise InvalidQuery(f"查询参数 {name[:40]} 过长（{len(value):,} 个字符，最多 {MAX_QUERY_VALUE}）/ "
                                   f"query parameter {name[:40]!r} is longer than {MAX_QUERY_VALUE} characters "
                                   f"({len(value):,})")
        if request.is_json and request.content_length:
            request.get_json()  # cached for the view; raises InvalidBody when refused

    @app.url_value_preprocessor
    def ids_in_range(endpoint, values) -> None:
        for name, value in (values or {}).items():
            if isinstance(value, int) and not 0 <= value <= MAX_ID:
                if request.path.startswith("/api/"):
                    response = jsonify(error="not_found", message=f"{name}: no such id ({value} is out of range).")
                    response.status_code = 404
                    abort(response)
                abort(404)
