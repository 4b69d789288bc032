"""JSON bodies and answers declared once, as pydantic models: the base classes, the text type, and
how a body that does not fit its model becomes a refusal naming the field.

A ``Body`` validates what a client sent (strict types, no field it does not name); a ``Query`` the
query string; a ``Reply`` is what a view answers. The API's registry (``web/api/registry.py``)
reads bodies and queries through them, serializes replies with them and writes
``/api/v1/openapi.json`` from the same declarations; the scoring form's same-origin JSON calls
read their bodies through ``accepts`` too. Each model names the status and error code of its
refusals, so every code the API has answered stays the same.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Annotated, Any, Callable, ClassVar, Iterable

from flask import request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError
from pydantic_core import PydanticCustomError, core_schema

from ..core.inputs import MAX_SAFE_INTEGER
from .refused import Refused

NO_NUL = "^[^\\x00]*$"  # read alike by ECMA-262 (JSON Schema), Python and Rust
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"  # and at least one character that is not a space


def _plain(value: Any) -> Any:
    if not isinstance(value, str):  # the str validator that follows names a wrong type
        return value
    if "\x00" in value:  # PostgreSQL cannot store it in text
        raise PydanticCustomError("nul_character", "must not contain a NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON) is no character at all
        raise PydanticCustomError("lone_surrogate", "must not contain a lone surrogate (\\ud800-\\udfff)") from None
    return value


def plain_keys(mapping: dict[str, Any]) -> dict[str, Any]:
    """The keys of a JSON object checked as ``Text`` (for a ``dict[str, …]`` field)."""
    for key in mapping:
        _plain(key)
    return mapping


def _not_blank(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("blank", "must not be empty or only spaces")
    return value


class _Described:
    """Keywords added to a type's JSON Schema (what a validator checks that pydantic cannot say)."""

    def __init__(self, **keywords: Any):
        self.keywords = keywords

    def __get_pydantic_json_schema__(self, schema, handler):
        return {**handler(schema), **self.keywords}


def integral(value: Any) -> Any:
    """A float with no fraction as the int it is (for a whole-number field)."""
    if isinstance(value, float) and value.is_integer():  # JSON Schema: 3.0 is an integer
        return int(value)
    return value


class _Carried:
    """A number's documented range within what JSON carries exactly (web.core.inputs refuses the rest, 400)."""

    def __get_pydantic_json_schema__(self, schema, handler):
        described = handler(schema)
        described["minimum"] = max(described.get("minimum", -MAX_SAFE_INTEGER), -MAX_SAFE_INTEGER)
        described["maximum"] = min(described.get("maximum", MAX_SAFE_INTEGER), MAX_SAFE_INTEGER)
        return described


Whole = Annotated[int, BeforeValidator(integral), _Carried()]
"""A whole number: 3 or 3.0 (one value in JSON), never "3", true or 3.5."""
Finite = Annotated[float, Field(allow_inf_nan=False), _Carried()]
"""A number (an integer JSON carries exactly, or a finite float)."""

# Checked before the str validator, so that a length limit added by a field reads as one of a string.
Text = Annotated[str, BeforeValidator(_plain), _Described(pattern=NO_NUL)]
"""A string a database can store: no NUL, no lone surrogate (the refusal names which)."""
Prose = Annotated[str, BeforeValidator(_not_blank), BeforeValidator(_plain), _Described(pattern=NOT_BLANK)]
"""Text with something written in it: a reason, an explanation."""
Moment = Annotated[dt.datetime, PlainSerializer(dt.datetime.isoformat, return_type=str, when_used="json"),
                   _Described(format="date-time")]
"""A time in an answer, written as it always was (``2025-03-01T08:00:00+00:00``)."""


@dataclass(frozen=True)
class Choices:
    """A string that must be one of ``values()``, read when checked and when documented (config may change)."""

    values: Callable[[], Iterable[str]]

    def _check(self, value: str) -> str:
        allowed = list(self.values())
        if value not in allowed:
            raise PydanticCustomError("not_a_choice", "{value} is not one of {allowed}",
                                      {"value": shown(value), "allowed": ", ".join(allowed)})
        return value

    def __get_pydantic_core_schema__(self, source, handler):
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema, handler):
        described = handler(schema)
        described["enum"] = list(self.values())
        return described


def shown(value: Any, limit: int = 80) -> str:
    """``value`` as text safe to put in a JSON answer: lone surrogates escaped, long input cut."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + "…"


class _Declared(BaseModel):
    refused: ClassVar[tuple[int, str]] = (422, "bad_body")
    """Status and code of a refusal no entry of ``codes`` names."""
    codes: ClassVar[dict[str, str | tuple[int, str]]] = {}
    """Error code (or status and code) per field, or per ``field:kind`` (pydantic's error type without
    ``string_``: ``too_long``, ``missing``, …)."""

    @classmethod
    def refusal(cls, error: dict[str, Any]) -> Refused:
        """The refusal of the first thing wrong: the field's code, a message naming the field."""
        loc = error.get("loc") or ()
        name = str(loc[0]) if loc else ""
        kind = error["type"].removeprefix("string_")  # "too_long" whether pydantic saw a str or a length
        code = cls.codes.get(f"{name}:{kind}") or cls.codes.get(name) or cls.refused[1]
        status, code = code if isinstance(code, tuple) else (cls.refused[0], code)
        where = ".".join(shown(part) for part in loc) or "body"
        hint = cls.model_fields[name].description if name in cls.model_fields else None
        message = f"{where}: {error['msg']}" + (f"; expected: {hint}" if hint else "")
        return Refused(status, code, message)

    @classmethod
    def refusal_statuses(cls) -> set[int]:
        """Every status a refusal of this model can answer (for its documentation)."""
        return {cls.refused[0]} | {code[0] for code in cls.codes.values() if isinstance(code, tuple)}

    @classmethod
    def check(cls, data: Any) -> BaseModel | Refused:
        """``data`` as this model, or the refusal of its first fault."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            return cls.refusal(exc.errors(include_url=False)[0])


class Body(_Declared):
    """A JSON request body: exact types (no "8" for 8, no true for 1), no field the model does not name."""

    model_config = ConfigDict(strict=True, extra="forbid")

    @classmethod
    def expected(cls) -> str:
        """What to send, for the refusal of something that is not a JSON object."""
        fields = [f"{name}{'' if info.is_required() else '?'}" for name, info in cls.model_fields.items()]
        return f"send a JSON object with {', '.join(fields)} (? marks an optional field)"


class Query(_Declared):
    """A query string: values arrive as text and are converted (``?version=2``); other parameters are ignored."""

    model_config = ConfigDict(extra="ignore")
    refused: ClassVar[tuple[int, str]] = (422, "bad_query")


class Reply(BaseModel):
    """An answer: what a view returns is serialized by its declared model, and nothing else is sent
    (a field the model does not name is dropped; the document says so: no additional properties)."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"additionalProperties": False})


class ApiError(BaseModel):
    """The shape of every refusal: a stable ``error`` code, a readable ``message``, and any extra fields."""

    model_config = ConfigDict(extra="allow")
    error: str
    message: str


def read_body(model: type[Body], *, optional: bool = False) -> Body | Refused:
    """This request's JSON body as ``model`` (``{}`` when there is none and ``optional``), or the refusal."""
    if optional and not request.get_data(cache=True):
        data: Any = {}
    else:
        data = request.get_json(silent=True)  # web.core.inputs has refused JSON no part of the app can hold
        if not isinstance(data, dict):
            return Refused(*model.refused, model.expected())
    return model.check(data)


def read_query(model: type[Query]) -> Query | Refused:
    """This request's query string as ``model``, or the refusal naming the parameter."""
    return model.check(request.args.to_dict())


def accepts(model: type[Body], *, optional: bool = False) -> Callable:
    """Pass the request's body to the view as ``body=``, checked by ``model``; answer its refusal otherwise."""
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            body = read_body(model, optional=optional)
            if isinstance(body, Refused):
                raise body
            return view(*args, body=body, **kwargs)
        wrapped.body_model = model  # for who asks what the view reads (the hostile-input test)
        return wrapped
    return decorator
