"""The JSON API under ``/api/v1``: one module per resource, each calling the same operations and
queries as the pages. Bearer tokens, no cookies. Every view is declared with
``registry.operation`` (roles, body and query models, answers per status); the same
declarations check requests, serialize answers and generate ``/api/v1/openapi.json``."""
from __future__ import annotations

# each module registers its routes on the blueprint
from . import (announcements, assignment_admin, assignments, explanations, openapi, progress, rankings,  # noqa: F401
               rounds, shortlists, tokens)
from .blueprint import bp

__all__ = ["bp"]
