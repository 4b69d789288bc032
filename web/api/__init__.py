"""The JSON API under ``/api/v1``: one module per resource, each calling the same operations and
queries as the pages. Bearer tokens, no cookies; described by ``/api/v1/openapi.json``, which is
checked against the registered routes (``openapi.undocumented``)."""
from __future__ import annotations

# each module registers its routes on the blueprint
from . import announcements, assignment_admin, assignments, explanations, openapi, rankings, rounds, shortlists, tokens  # noqa: F401
from .blueprint import bp

__all__ = ["bp"]
