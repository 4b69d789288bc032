"""``/api/v1/assignments``: the caller's assignments, blind (never the submitter, unit, province,
copyright holder or anyone else's scores), and the expert's saves, submit, recuse and reopen."""
from __future__ import annotations

from flask import jsonify, request

from scoring.rules.config import load_rules

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.models import Role
from ..rating import actions
from ..rating.operations import RatingRefused, allow_reopen
from ..rating.queries import assignment_in_round, current_scores, expert_assignments
from .blueprint import bp, error

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
            "confidence": row.assignment.confidence,
            "reopen_allowed": row.assignment.reopen_allowed,
            "criteria": [{"key": c.key, "label": c.label, "label_en": c.label_en, "rubric": c.rubric,
                          "min": c.min, "max": c.max, "step": c.step, "weight": c.weight}
                         for c in criteria],
        })
    return jsonify(result)


@bp.put("/assignments/<int:assignment_id>/scores")
@role_required(Role.expert)
def save_scores(assignment_id: int):
    """Save scores as a new version; ``Idempotency-Key`` makes a retry answer the first answer."""
    return actions.response(actions.save(get_session(), current_user(), assignment_id, request.get_json(silent=True),
                                request.headers.get("Idempotency-Key")))


@bp.post("/assignments/<int:assignment_id>/submit")
@role_required(Role.expert)
def submit(assignment_id: int):
    """Submit a complete form; it becomes read-only."""
    return actions.response(actions.submit(get_session(), current_user(), assignment_id))


@bp.post("/assignments/<int:assignment_id>/recuse")
@role_required(Role.expert)
def recuse(assignment_id: int):
    """Recuse from the work with a reason; the scores are kept."""
    return actions.response(actions.recuse(get_session(), current_user(), assignment_id, request.get_json(silent=True)))


@bp.post("/assignments/<int:assignment_id>/reopen", endpoint="reopen_assignment")
@role_required(Role.expert)
def reopen(assignment_id: int):
    """Reopen a submitted form, when the chair allowed it and the round is scoring."""
    return actions.response(actions.reopen(get_session(), current_user(), assignment_id))


@bp.post("/assignments/<int:assignment_id>/allow-reopen")
@role_required(Role.chair, Role.admin)
def allow_reopen_view(assignment_id: int):
    """The chair lets the expert reopen one submitted form."""
    db = get_session()
    found = assignment_in_round(session=db, assignment_id=assignment_id)
    if found is None:
        return error(404, "not_found", "No such assignment.")
    try:
        allow_reopen(session=db, chair=current_user(), assignment=found[0], round_=found[1])
    except RatingRefused as refused:
        db.rollback()
        return error(refused.status, refused.code, refused.message)
    db.commit()
    return jsonify(reopen_allowed=True)
