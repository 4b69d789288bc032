"""The expert's actions as request-shaped calls, shared by the JSON API and the form page.

Each takes the caller, the assignment id and the body its model (``schemas.py``) has checked,
runs the operation as one unit of work (committed inside the SQLite writers' queue) and returns
``(status, reply)``; a refusal is raised (``Refused``) and answered by ``web.core.errors``.
Nothing here names the submitter, unit, province or copyright holder, not even in an error.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Callable

from flask import Response
from sqlmodel import Session

from scoring.rules.config import CriteriaSet, load_rules

from . import operations as ops
from .flags import refresh_flags
from ..core.db import unit_of_work
from ..core.errors import Refused
from ..core.schemas import Reply
from .queries import ExpertAssignment, assignment_for_expert
from .schemas import Recused, Recusal, Reopened, Saved, ScoreSave, Submitted

Answer = tuple[int, Reply]
# SQLite lets one writer in at a time and makes the others poll with growing sleeps; under many
# tablets that polling, not the work, dominated (p95 of seconds). Within one server process the
# writers queue on this lock instead and are woken at once. PostgreSQL needs no such lock.
_SQLITE_WRITER = threading.Lock()



def response(answer: Answer) -> Response:
    """An answer as a JSON response with its status (the form's routes return it)."""
    status, reply = answer
    return Response(reply.model_dump_json(), status=status, mimetype="application/json")


def criteria_for(row: ExpertAssignment) -> CriteriaSet:
    """The criteria set of the assignment's round (works or dissemination cases)."""
    return load_rules().criteria_sets[row.round.criteria_set]


def _one_writer(session: Session):
    return _SQLITE_WRITER if session.get_bind().dialect.name == "sqlite" else contextlib.nullcontext()


def _run(session: Session, user, assignment_id: int,
         action: Callable[[ExpertAssignment], Reply], *, flags: bool = True) -> Answer:
    with _one_writer(session):
        row = assignment_for_expert(session=session, expert=user, assignment_id=assignment_id)
        if row is None:
            raise Refused(404, "not_found", "没有这项评审任务。", "No such assignment of yours.")
        with unit_of_work(session):
            payload = action(row)
            if flags:  # a rating arriving or leaving may make this or another rating of the work abnormal
                refresh_flags(session=session, round_=row.round, actor=user.username,
                              item_id=row.assignment.case_id or row.assignment.work_id)
    return 200, payload


def save(session: Session, user, assignment_id: int, body: ScoreSave, idempotency_key: str | None) -> Answer:
    """PUT …/scores: apply one save; 200 {"version"}, 409 with the current values, 422, 423."""
    def action(row: ExpertAssignment) -> Saved:
        version = ops.save_scores(session=session, expert=user, assignment=row.assignment, round_=row.round,
                                  criteria=criteria_for(row), change=body.change(),
                                  idempotency_key=idempotency_key)
        return Saved(version=version)
    # Flags weigh submitted ratings only, and a save is only accepted on a form that is not
    # submitted (and leaves it not submitted): no save can raise or clear a flag, so it skips
    # the work's re-check (a fifth of a save's time). Submit, reopen and recuse still run it.
    return _run(session, user, assignment_id, action, flags=False)


def submit(session: Session, user, assignment_id: int) -> Answer:
    """POST …/submit: lock a complete form."""
    def action(row: ExpertAssignment) -> Submitted:
        ops.submit(session=session, expert=user, assignment=row.assignment, round_=row.round,
                   criteria=criteria_for(row))
        return Submitted(status="submitted", version=row.assignment.version)
    return _run(session, user, assignment_id, action)


def recuse(session: Session, user, assignment_id: int, body: Recusal) -> Answer:
    """POST …/recuse {"reason"}: step aside; scores are kept, the slot is freed."""
    def action(row: ExpertAssignment) -> Recused:
        ops.recuse(session=session, expert=user, assignment=row.assignment, round_=row.round, reason=body.reason)
        return Recused(status="recused")
    return _run(session, user, assignment_id, action)


def reopen(session: Session, user, assignment_id: int) -> Answer:
    """POST …/reopen: reopen a submitted form the chair allowed."""
    def action(row: ExpertAssignment) -> Reopened:
        ops.reopen(session=session, expert=user, assignment=row.assignment, round_=row.round)
        return Reopened(status=row.assignment.status.value, version=row.assignment.version)
    return _run(session, user, assignment_id, action)
