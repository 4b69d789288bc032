"""``/api/v1/assignments``: the caller's assignments, blind (never the submitter, unit, province,
copyright holder or anyone else's scores)."""
from __future__ import annotations

from flask import jsonify

from scoring.rules.config import load_rules

from ..access import current_user, role_required
from ..db import get_session
from ..models import Role
from ..rating.queries import current_scores, expert_assignments
from .blueprint import bp

# Fields an expert may see of a work: never the submitter, unit, province or other scores.
BLIND_FIELDS = ("id", "title", "category", "synopsis", "duration_min", "episodes", "url",
                "uhd", "aigc", "single_episode")


@bp.get("/assignments")
@role_required(Role.expert)
def assignments():
    """The caller's assignments: blind work fields, current scores, version and criteria."""
    db, user = get_session(), current_user()
    rows = expert_assignments(session=db, expert=user)
    rules = load_rules()
    ratings = current_scores(session=db, assignments=[row.assignment for row in rows])
    result = []
    for row in rows:
        criteria = rules.criteria_sets[row.round.criteria_set].criteria
        result.append({
            "id": row.assignment.id, "round": row.round.key,
            "work": {field: getattr(row.work, field) for field in BLIND_FIELDS},
            "status": row.assignment.status.value,
            "scores": ratings.get(row.assignment.id, {}),
            "version": row.assignment.version,
            "criteria": [{"key": c.key, "label": c.label, "label_en": c.label_en, "rubric": c.rubric,
                          "min": c.min, "max": c.max, "step": c.step, "weight": c.weight}
                         for c in criteria],
        })
    return jsonify(result)
