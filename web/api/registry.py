"""The API's registry: one decorator per view declares who may call it, its body and query models
and its answers per status. The same declaration checks the request before the view runs,
serializes what the view returns, and is what ``openapi.py`` writes ``/api/v1/openapi.json`` from.

    @bp.put("/assignments/<int:assignment_id>/scores")
    @operation("Save scores as a new version", roles=(Role.expert,), body=ScoreSave,
               answers={200: ("Saved", Saved), 409: ("Stale version", StaleVersion), …})
    def save_scores(assignment_id: int, body: ScoreSave): ...

A view returns a ``Reply`` (or a list of them, or a dict shaped like one) for its success
status, ``(reply, status)`` or ``(reply, status, headers)`` for another declared status, a
``Refused`` (returned or raised), a ``Memoized`` answer (serialized once while what it is made
of lives, then served as those bytes, with an ETag), or a finished ``Response`` (a file, an
error from ``blueprint.error``).
"""
from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from flask import Response, request
from pydantic import TypeAdapter

from ..core.access import role_required
from ..core.memo import kept
from ..core.models import Role
from ..core.schemas import Body, Query, Refused, read_body, read_query

PUBLIC = None  # roles= of a call that needs no token
ANY_ROLE: tuple[Role, ...] = ()  # roles= of a call any logged-in user may make


@dataclass(frozen=True)
class File:
    """An answer that is a file in one of ``media_types`` rather than JSON."""

    media_types: tuple[str, ...]


EXPORTS = File(("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/pdf"))


@dataclass(frozen=True)
class Memoized:
    """An answer that stays the same for as long as ``store`` lives (e.g. a stored result's own
    ``memo``, which a newer result does not share) and ``made_of`` does not change:
    ``produce()`` is checked and serialized the first time, then those bytes are served, with an
    ETag, and a request that already has them (``If-None-Match``) gets 304. One answer is kept
    per ``key`` (``core.memo.kept``): another ``made_of`` replaces it."""

    store: dict
    key: Hashable
    produce: Callable[[], Any]
    made_of: Hashable = None


@dataclass(frozen=True)
class Header:
    """A request header the operation reads, with its JSON Schema."""

    name: str
    description: str
    schema: dict[str, Any]


@dataclass(frozen=True)
class Operation:
    """What one API view declares; ``answers`` maps a status to its description and its type (a
    model, ``list[model]``, a union of models, a ``File``, or None for no body)."""

    summary: str
    roles: tuple[Role, ...] | None
    answers: dict[int, tuple[str, Any]]
    body: type[Body] | None = None
    optional_body: bool = False
    query: type[Query] | None = None
    headers: tuple[Header, ...] = ()
    description: str | None = None
    _adapters: dict[int, TypeAdapter] = field(default_factory=dict, repr=False, compare=False)

    @property
    def success(self) -> int:
        """The status a view's plain return value is answered with: the first declared 2xx."""
        return min(status for status in self.answers if 200 <= status < 300)

    def adapter(self, status: int) -> TypeAdapter:
        """The declared type of ``status``'s answer, to check and serialize a returned value."""
        if status not in self._adapters:
            kind = self.answers[status][1]  # KeyError: the view answered a status it does not declare
            self._adapters[status] = TypeAdapter(kind)
        return self._adapters[status]

    def respond(self, result: Any) -> Response:
        """The view's return value as the response: serialized by the type declared for its status."""
        if isinstance(result, Response):
            return result
        value, status, headers = (*result, {})[:3] if isinstance(result, tuple) else (result, self.success, {})
        if isinstance(value, Refused):
            raise value
        if value is None:
            return Response(status=status, headers=headers)
        if isinstance(value, Memoized):
            return self._memoized(value, status, headers)
        return Response(self._serialize(status, value), status=status, headers=headers, mimetype="application/json")

    def _serialize(self, status: int, value: Any) -> bytes:
        adapter = self.adapter(status)
        return adapter.dump_json(adapter.validate_python(value))

    def _memoized(self, answer: Memoized, status: int, headers: dict) -> Response:
        def made() -> tuple[bytes, str]:
            body = self._serialize(status, answer.produce())
            return body, hashlib.sha256(body).hexdigest()[:32]

        body, etag = kept(answer.store, (self.summary, status, answer.key), answer.made_of, made)
        if etag in request.if_none_match:
            response = Response(status=304, headers=headers)
        else:
            response = Response(body, status=status, headers=headers, mimetype="application/json")
        response.set_etag(etag)
        return response


def operation(summary: str, *, roles: tuple[Role, ...] | None, answers: dict[int, tuple[str, Any]],
              body: type[Body] | None = None, optional_body: bool = False, query: type[Query] | None = None,
              headers: tuple[Header, ...] = (), description: str | None = None) -> Callable:
    """Declare an API view (see the module's docstring); ``roles`` as for ``role_required``, or PUBLIC.

    The view receives the checked ``body=`` and ``query=``; a request that does not fit them is
    answered with the model's refusal before the view runs, and after the role check.
    """
    spec = Operation(summary, roles, answers, body, optional_body, query, headers, description)

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            if spec.query is not None:
                kwargs["query"] = read_query(spec.query)
            if spec.body is not None:
                kwargs["body"] = read_body(spec.body, optional=spec.optional_body)
            refused = next((value for value in kwargs.values() if isinstance(value, Refused)), None)
            if refused is not None:
                raise refused
            return spec.respond(view(*args, **kwargs))

        guarded = checked if roles is None else role_required(*roles)(checked)
        guarded.api_operation = spec
        return guarded

    return decorator


def declaration(view: Callable) -> Operation | None:
    """The ``Operation`` a view was declared with (None for a view without one)."""
    return getattr(view, "api_operation", None)
