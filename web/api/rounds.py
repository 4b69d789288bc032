"""``/api/v1/rounds``: the rounds with their states."""
from __future__ import annotations

from flask import jsonify

from ..access import role_required
from ..db import get_session
from ..rounds.queries import list_rounds, work_counts
from .blueprint import bp


@bp.get("/rounds")
@role_required()
def rounds():
    """Every round with its state and number of works."""
    db = get_session()
    counts = work_counts(session=db)
    return jsonify([{"key": r.key, "year": r.year, "quarter": r.quarter, "kind": r.kind.value,
                     "stage": r.stage.value, "unit": r.unit, "state": r.state.value,
                     "works": counts.get(r.id, 0)} for r in list_rounds(session=db)])
