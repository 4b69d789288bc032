"""The ``/api/v1`` blueprint and its JSON error shape (``{"error", "message", …}``).

An id in a path that no column can hold is refused for every route by ``web.core.inputs``."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify

from ..rounds.queries import get_round

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, **extra):
    """A JSON error response: a stable ``error`` code, a readable ``message`` and any extra fields."""
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    return response


def round_or_404(session, key: str):
    """The round ``key``; a JSON 404 (``no round 'KEY'``) ends the request when there is none."""
    round_ = get_round(session=session, key=key)
    if round_ is None:
        abort(error(404, "not_found", f"no round {key!r}"))
    return round_
