"""Abnormal ratings (畸高/畸低) on the API: the author's written explanation, the chair's written
waiver and the chair's list of a round's flags.

``POST /assignments/{id}/explanation`` ``{"text"}`` (the assignment's expert; another expert 404):
201; 409 when the rating is not submitted, not flagged or the round is not scoring/review; 422
for empty text; 423 once the round is signed. It never changes the scores.
"""
from __future__ import annotations

from flask import jsonify, request

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.models import Role
from ..panel import operations, queries
from ..rating.queries import assignment_for_expert, assignment_in_round
from .blueprint import bp, error, round_or_404


def _text(field: str):
    body = request.get_json(silent=True)
    return body.get(field) if isinstance(body, dict) else None


def _refused(exc: operations.PanelRefused):
    get_session().rollback()
    return error(exc.status, exc.code, exc.en, message_zh=exc.zh)


def flag_json(flag, **more) -> dict:
    """A flag as JSON (for the chair: total and the others' mean)."""
    return {"assignment_id": flag.assignment_id, "active": flag.active, "direction": flag.direction,
            "total": flag.total, "others_mean": flag.others_mean, "others_n": flag.others_n,
            "flagged_at": flag.flagged_at.isoformat(), "explanation": flag.explanation,
            "explained_at": flag.explained_at.isoformat() if flag.explained_at else None,
            "waiver_reason": flag.waiver_reason,
            "waived_at": flag.waived_at.isoformat() if flag.waived_at else None, **more}


@bp.post("/assignments/<int:assignment_id>/explanation")
@role_required(Role.expert)
def explanation(assignment_id: int):
    """The expert's written explanation of their flagged rating (scores unchanged)."""
    db, user = get_session(), current_user()
    row = assignment_for_expert(session=db, expert=user, assignment_id=assignment_id)
    if row is None:
        return error(404, "not_found", "No such assignment of yours.")
    try:
        flag = operations.explain(session=db, expert=user, assignment=row.assignment, round_=row.round,
                                  text=_text("text"))
    except operations.PanelRefused as exc:
        return _refused(exc)
    db.commit()
    # the expert sees only their own total: never the other experts' mean
    return jsonify({"assignment_id": assignment_id, "explanation": flag.explanation,
                    "explained_at": flag.explained_at.isoformat()}), 201


@bp.post("/assignments/<int:assignment_id>/waiver")
@role_required(Role.chair, Role.admin)
def waiver(assignment_id: int):
    """The chair waives the explanation of a flagged rating with ``{"reason"}`` (audited)."""
    db = get_session()
    found = assignment_in_round(session=db, assignment_id=assignment_id)
    flag = queries.flag_of(session=db, assignment_id=assignment_id) if found else None
    if flag is None:
        return error(404, "not_flagged", f"assignment {assignment_id} has no abnormal-rating flag")
    try:
        operations.waive(session=db, chair=current_user(), flag=flag, round_=found[1], reason=_text("reason"))
    except operations.PanelRefused as exc:
        return _refused(exc)
    db.commit()
    return jsonify(flag_json(flag)), 201


@bp.get("/rounds/<key>/abnormal")
@role_required(Role.chair, Role.admin)
def abnormal(key: str):
    """The round's abnormal ratings with their explanations and waivers, and which block sign-off."""
    db = get_session()
    round_ = round_or_404(db, key)
    rows = queries.flag_rows(session=db, round_=round_)
    return jsonify({"round": key, "unexplained": queries.unexplained(session=db, round_=round_),
                    "flags": [flag_json(r.flag, expert=r.expert, title=r.title, category=r.category,
                                        waived_by=r.waived_by, reason=r.reason) for r in rows]})
