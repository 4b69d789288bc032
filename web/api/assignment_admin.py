"""``/api/v1`` for the secretariat and the chair: run a round's seeded draw, read its report,
and replace a recused expert — the same operations as ``tuiyou assign`` and the round's
assignment page, with every constraint enforced there."""
from __future__ import annotations

import dataclasses

from flask import jsonify, request

from scoring.rules.config import load_rules

from ..core.access import current_user, role_required
from ..accounts.queries import get_user_by_name
from ..assignment.operations import (AssignmentRefused, InfeasibleAssignment, propose_replacement, replace_recused,
                                     run_draw)
from ..assignment.queries import latest_draw, round_report
from ..core.db import get_session
from ..core.models import Assignment, Role
from .blueprint import bp, error, round_or_404

STAFF = (Role.admin, Role.chair)


def _whole(body: dict, name: str, default):
    value = body.get(name, default)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(name)


@bp.post("/rounds/<key>/draws")
@role_required(*STAFF)
def draw_round(key: str):
    """Draw experts for every open slot of the round (body: per_work, seed; both optional)."""
    db = get_session()
    round_ = round_or_404(db, key)
    body = request.get_json(silent=True)
    body = {} if body is None and not request.data else body
    try:
        if not isinstance(body, dict):
            raise ValueError("body")
        per_work = _whole(body, "per_work", load_rules().assignment.per_work)
        seed = _whole(body, "seed", None)
    except ValueError as exc:
        return error(400, "bad_request", f"'{exc}' must be a whole number (body: JSON object)")
    try:
        outcome = run_draw(session=db, round_=round_, per_work=per_work, seed=seed, actor=current_user().username)
    except AssignmentRefused as exc:
        db.rollback()
        return error(409, "refused", exc.en, message_zh=exc.zh)
    except InfeasibleAssignment as exc:
        db.rollback()
        return error(422, "infeasible", str(exc), category=exc.category, needed=exc.needed, available=exc.available)
    db.commit()
    return jsonify(seed=outcome.draw.seed, per_work=outcome.draw.per_work, created=outcome.draw.created,
                   kept=outcome.draw.kept, dropped=outcome.dropped, report=outcome.draw.report), 201


@bp.get("/rounds/<key>/assignment-report")
@role_required(*STAFF)
def assignment_report(key: str):
    """The round's coverage, loads, connectivity and shared works, counted from its assignments."""
    db = get_session()
    round_ = round_or_404(db, key)
    draw = latest_draw(session=db, round_=round_)
    per_work = draw.per_work if draw else load_rules().assignment.per_work
    report = round_report(session=db, round_=round_, per_work=per_work)
    return jsonify(
        round=round_.key, state=round_.state.value, per_work=per_work, works=report.works, covered=report.covered,
        assignments=report.assignments, started=report.started, recused=report.recused,
        load_histogram={str(k): v for k, v in report.load_histogram.items()},
        categories=[{"category": c.category, "works": c.works, "covered": c.covered, "experts": c.experts,
                     "components": c.components, "sharing_pairs": c.sharing_pairs,
                     "design": dataclasses.asdict(c.figures)} for c in report.categories],
        top_pairs=[{"experts": [a, b], "shared": n} for a, b, n in report.top_pairs],
        draw=None if draw is None else {"seed": draw.seed, "per_work": draw.per_work, "actor": draw.actor,
                                        "at": draw.created_at.isoformat(), "created": draw.created,
                                        "kept": draw.kept,
                                        "conflicts_avoided": draw.report.get("conflicts_avoided", {})})


def _assignment(assignment_id: int):
    assignment = get_session().get(Assignment, assignment_id)
    return assignment if assignment is not None and assignment.work_id is not None else None


@bp.get("/assignments/<int:assignment_id>/replacements")
@role_required(*STAFF)
def replacements(assignment_id: int):
    """Ranked experts who may take this assignment's slot without breaking any constraint."""
    assignment = _assignment(assignment_id)
    if assignment is None:
        return error(404, "not_found", f"assignment {assignment_id} does not exist")
    return jsonify([{"username": c.expert.username, "name": c.expert.display_name, "load": c.load,
                     "capacity": c.expert.capacity, "shared": c.shared}
                    for c in propose_replacement(session=get_session(), assignment=assignment)])


@bp.post("/assignments/<int:assignment_id>/replacement")
@role_required(*STAFF)
def replacement(assignment_id: int):
    """Give a recused assignment's slot to an expert (body: expert, reason)."""
    db = get_session()
    assignment = _assignment(assignment_id)
    if assignment is None:
        return error(404, "not_found", f"assignment {assignment_id} does not exist")
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("expert"), str):
        return error(400, "bad_request", "send a JSON object with 'expert' (a user name) and optionally 'reason'")
    expert = get_user_by_name(session=db, username=body["expert"].strip().lower())
    if expert is None:
        return error(404, "not_found", f"expert {body['expert']} does not exist")
    try:
        new = replace_recused(session=db, assignment=assignment, expert=expert, actor=current_user().username,
                              reason=str(body.get("reason") or ""))
    except AssignmentRefused as exc:
        db.rollback()
        return error(409, "refused", exc.en, message_zh=exc.zh)
    db.commit()
    return jsonify(id=new.id, expert=expert.username, work_id=new.work_id, status=new.status.value), 201
