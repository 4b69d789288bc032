"""The ``/api/v1`` blueprint and its JSON error shape (``{"error", "message", …}``)."""
from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def error(status: int, code: str, message: str, **extra):
    """A JSON error response: a stable ``error`` code, a readable ``message`` and any extra fields."""
    response = jsonify(error=code, message=message, **extra)
    response.status_code = status
    return response
