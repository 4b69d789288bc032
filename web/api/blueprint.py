"""The ``/api/v1`` blueprint and its JSON error shape (``{"error", "message", …}``).

An id in a path that no column can hold is refused for every route by ``web.core.inputs``; a round
key of no round's shape here."""
from __future__ import annotations

from flask import Blueprint, Response, abort

from ..rounds.keys import parse_round_key
from ..rounds.queries import round_or_404 as find_round
from ..core.errors import Refused

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, **extra) -> Response:
    """A JSON error response: a stable ``error`` code, a readable ``message`` and any extra fields."""
    return Refused(status, code, message, **extra).response()


def round_or_404(session, key: str):
    """The round ``key``; a JSON 404 (``no round 'KEY'``) ends the request when there is none."""
    return find_round(session=session, key=key)


def _is_round_key(key: str) -> bool:
    try:
        parse_round_key(key)
    except ValueError:
        return False
    return "\x00" not in key  # PostgreSQL cannot even compare text holding a NUL


@bp.url_value_preprocessor
def round_keys_only(endpoint, values) -> None:
    """A round key no round can have names nothing: 404 before any query (text holding a NUL was a
    500 on PostgreSQL). Ids out of range are ``web.core.inputs``'s, for every route."""
    key = (values or {}).get("key")
    if isinstance(key, str) and not _is_round_key(key):
        abort(error(404, "not_found", f"no round {key.encode('utf-8', 'backslashreplace').decode()!r}"))
