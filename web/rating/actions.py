"""The expert's actions as request-shaped calls, shared by the JSON API and the form page.

Each takes the caller, the assignment id and the parsed JSON body, runs the operation, commits,
and returns ``(status, payload)``. Nothing here names the submitter, unit, province or
copyright holder, not even in an error.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, Callable

from flask import jsonify
from sqlmodel import Session

from scoring.rules.config import CriteriaSet, load_rules

from ..panel.operations import refresh_flags
from . import operations as ops
from .operations import RatingRefused, ScoreChange
from .queries import ExpertAssignment, assignment_for_expert

Answer = tuple[int, dict[str, Any]]
# SQLite lets one writer in at a time and makes the others poll with growing sleeps; under many
# tablets that polling, not the work, dominated (p95 of seconds). Within one server process the
# writers queue on this lock instead and are woken at once. PostgreSQL needs no such lock.
_SQLITE_WRITER = threading.Lock()
NOT_FOUND = (404, {"error": "not_found", "message": "No such assignment of yours."})


def response(answer: Answer):
    """An answer as a JSON response with its status (the form's routes and the API return it)."""
    status, payload = answer
    return jsonify(payload), status


def criteria_for(row: ExpertAssignment) -> CriteriaSet:
    """The criteria set of the assignment's round (works or dissemination cases)."""
    return load_rules().criteria_sets[row.round.criteria_set]


def parse_change(body: Any) -> ScoreChange:
    """A ``ScoreChange`` from a PUT body, or 422 naming the field that is wrong."""
    if not isinstance(body, dict):
        raise RatingRefused(422, "bad_body", 'Send JSON {"scores": {criterion: number}, "version": N}.')
    version = body.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise RatingRefused(422, "invalid_version", "version: the integer you last received (0 before any save).")
    scores = body.get("scores", {})
    if not isinstance(scores, dict):
        raise RatingRefused(422, "invalid_scores", "scores: an object of criterion key → number.")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise RatingRefused(422, "invalid_comment", "comment: a string.")
    confidence = body.get("confidence")
    if confidence is not None and (isinstance(confidence, bool) or not isinstance(confidence, (int, float))):
        raise RatingRefused(422, "invalid_confidence", "confidence: a number from 0 to 1, or null.")
    tags = body.get("highlights")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise RatingRefused(422, "invalid_highlights", "highlights: a list of highlight keys.")
    return ScoreChange(scores=scores, version=version, comment=comment,
                       confidence=None if confidence is None else float(confidence),
                       clear_confidence="confidence" in body and confidence is None,
                       highlights=None if tags is None else tuple(tags))


def _one_writer(session: Session):
    return _SQLITE_WRITER if session.get_bind().dialect.name == "sqlite" else contextlib.nullcontext()


def _run(session: Session, user, assignment_id: int,
         action: Callable[[ExpertAssignment], dict[str, Any]], *, flags: bool = True) -> Answer:
    with _one_writer(session):
        row = assignment_for_expert(session=session, expert=user, assignment_id=assignment_id)
        if row is None:
            return NOT_FOUND
        try:
            payload = action(row)
            if flags:  # a rating arriving or leaving may make this or another rating of the work abnormal
                refresh_flags(session=session, round_=row.round, actor=user.username,
                              item_id=row.assignment.case_id or row.assignment.work_id)
        except RatingRefused as refused:
            session.rollback()
            return refused.status, {"error": refused.code, "message": refused.message, **refused.extra}
        session.commit()
    return 200, payload


def save(session: Session, user, assignment_id: int, body: Any, idempotency_key: str | None) -> Answer:
    """PUT …/scores: apply one save; 200 {"version"}, 409 with the current values, 422, 423."""
    def action(row: ExpertAssignment) -> dict[str, Any]:
        version = ops.save_scores(session=session, expert=user, assignment=row.assignment, round_=row.round,
                                  criteria=criteria_for(row), change=parse_change(body),
                                  idempotency_key=idempotency_key)
        return {"version": version}
    # Flags weigh submitted ratings only, and a save is only accepted on a form that is not
    # submitted (and leaves it not submitted): no save can raise or clear a flag, so it skips
    # the work's re-check (a fifth of a save's time). Submit, reopen and recuse still run it.
    return _run(session, user, assignment_id, action, flags=False)


def submit(session: Session, user, assignment_id: int) -> Answer:
    """POST …/submit: lock a complete form."""
    def action(row: ExpertAssignment) -> dict[str, Any]:
        ops.submit(session=session, expert=user, assignment=row.assignment, round_=row.round,
                   criteria=criteria_for(row))
        return {"status": "submitted", "version": row.assignment.version}
    return _run(session, user, assignment_id, action)


def recuse(session: Session, user, assignment_id: int, body: Any) -> Answer:
    """POST …/recuse {"reason"}: step aside; scores are kept, the slot is freed."""
    def action(row: ExpertAssignment) -> dict[str, Any]:
        reason = body.get("reason") if isinstance(body, dict) else None
        if not isinstance(reason, str):
            raise RatingRefused(422, "reason_required", 'Send JSON {"reason": "..."}.')
        ops.recuse(session=session, expert=user, assignment=row.assignment, round_=row.round, reason=reason)
        return {"status": "recused"}
    return _run(session, user, assignment_id, action)


def reopen(session: Session, user, assignment_id: int) -> Answer:
    """POST …/reopen: reopen a submitted form the chair allowed."""
    def action(row: ExpertAssignment) -> dict[str, Any]:
        ops.reopen(session=session, expert=user, assignment=row.assignment, round_=row.round)
        return {"status": row.assignment.status.value, "version": row.assignment.version}
    return _run(session, user, assignment_id, action)
