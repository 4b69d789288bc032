"""``/api/v1/assignments``: the caller's assignments, blind (never the submitter, unit, province,
copyright holder or anyone else's scores), and the expert's saves, submit, recuse and reopen."""
from __future__ import annotations

from typing import Literal

from flask import request

from scoring.rules.config import load_rules

from ..core.access import current_user
from ..core.db import get_session
from ..core.models import AssignmentStatus, Role
from ..rating import services
from ..rating.operations import MAX_KEY, allow_reopen
from ..rating.queries import assignment_in_round, current_scores, expert_assignments
from ..rating.schemas import (Incomplete, Recused, Recusal, Reopened, Saved, ScoreSave, StaleVersion,
                              Submitted)
from ..core.schemas import ApiError, Reply
from .blueprint import bp, error
from .registry import Header, operation

EXPERT = (Role.expert,)
STAFF = (Role.chair, Role.admin)
LOCKED = ("Locked: submitted, recused, or the round is not scoring", ApiError)
NOT_YOURS = ("No such assignment of yours", ApiError)


class BlindWork(Reply):
    """The fields of a work an expert may see: never the submitter, unit, province or other scores."""

    id: int
    title: str
    category: str
    synopsis: str
    duration_min: float | None
    episodes: int | None
    url: str
    uhd: bool
    aigc: bool
    single_episode: bool


class CriterionScale(Reply):
    """A criterion to score, with its scale and its weight in the total."""

    key: str
    label: str
    label_en: str
    rubric: str
    min: float
    max: float
    step: float
    weight: float


class ExpertAssignment(Reply):
    """One of the caller's assignments with its current scores and version."""

    id: int
    round: str
    work: BlindWork
    status: AssignmentStatus
    scores: dict[str, float]
    version: int
    confidence: float | None
    reopen_allowed: bool
    criteria: list[CriterionScale]


class ReopenAllowed(Reply):
    """The expert may now reopen the submitted form."""

    reopen_allowed: Literal[True]


@bp.get("/assignments")
@operation("The caller's assignments (experts): blind work fields, current scores, version and criteria",
           roles=EXPERT, answers={200: ("The caller's assignments", list[ExpertAssignment])})
def assignments():
    """The caller's assignments: blind work fields, current scores, version and criteria."""
    db, user = get_session(), current_user()
    rows = expert_assignments(session=db, expert=user)
    rules = load_rules()
    ratings = current_scores(session=db, assignments=[row.assignment for row in rows])
    return [ExpertAssignment(
        id=row.assignment.id, round=row.round.key, work=BlindWork.model_validate(row.work, from_attributes=True),
        status=row.assignment.status, scores=ratings.get(row.assignment.id, {}), version=row.assignment.version,
        confidence=row.assignment.confidence, reopen_allowed=row.assignment.reopen_allowed,
        criteria=[CriterionScale.model_validate(c, from_attributes=True)
                  for c in rules.criteria_sets[row.round.criteria_set].criteria])
        for row in rows]


IDEMPOTENCY_KEY = Header("Idempotency-Key", "A retry with the same key answers the first answer and applies nothing.",
                         {"type": "string", "minLength": 1, "maxLength": MAX_KEY})


@bp.put("/assignments/<int:assignment_id>/scores")
@operation("Save scores (autosave) as a new version", roles=EXPERT, body=ScoreSave, headers=(IDEMPOTENCY_KEY,),
           description="The criteria named in `scores` are set; the others keep their values.",
           answers={200: ("Saved", Saved), 404: NOT_YOURS, 409: ("Stale version: the current values", StaleVersion),
                    422: ("Invalid value (names the field or the criterion and its range), or an "
                          "Idempotency-Key already used for another assignment", ApiError), 423: LOCKED})
def save_scores(assignment_id: int, body: ScoreSave):
    """Save scores as a new version; ``Idempotency-Key`` makes a retry answer the first answer."""
    return _answer(services.save(get_session(), current_user(), assignment_id, body,
                                request.headers.get("Idempotency-Key")))


@bp.post("/assignments/<int:assignment_id>/submit")
@operation("Submit a complete form (read-only afterwards)", roles=EXPERT, answers={
    200: ("Submitted", Submitted), 404: NOT_YOURS, 422: ("Incomplete: the criteria without a score", Incomplete),
    423: LOCKED})
def submit(assignment_id: int):
    """Submit a complete form; it becomes read-only."""
    return _answer(services.submit(get_session(), current_user(), assignment_id))


@bp.post("/assignments/<int:assignment_id>/recuse")
@operation("Recuse with a reason (scores are kept)", roles=EXPERT, body=Recusal, answers={
    200: ("Recused", Recused), 404: NOT_YOURS, 422: ("No reason, or one too long", ApiError), 423: LOCKED})
def recuse(assignment_id: int, body: Recusal):
    """Recuse from the work with a reason; the scores are kept."""
    return _answer(services.recuse(get_session(), current_user(), assignment_id, body))


@bp.post("/assignments/<int:assignment_id>/reopen", endpoint="reopen_assignment")
@operation("Reopen a submitted form (the chair allowed it; round in scoring)", roles=EXPERT, answers={
    200: ("Open again", Reopened), 404: NOT_YOURS, 409: ("Not submitted", ApiError),
    423: ("Not allowed by the chair, or the round is not scoring", ApiError)})
def reopen(assignment_id: int):
    """Reopen a submitted form, when the chair allowed it and the round is scoring."""
    return _answer(services.reopen(get_session(), current_user(), assignment_id))


def _answer(answer: services.Answer):
    status, reply = answer
    return reply, status


@bp.post("/assignments/<int:assignment_id>/allow-reopen")
@operation("Let the expert reopen a submitted form (chair, admin)", roles=STAFF, answers={
    200: ("Allowed", ReopenAllowed), 404: ("No such assignment", ApiError), 409: ("Not submitted", ApiError),
    423: ("The round is not scoring", ApiError)})
def allow_reopen_view(assignment_id: int):
    """The chair lets the expert reopen one submitted form."""
    db = get_session()
    found = assignment_in_round(session=db, assignment_id=assignment_id)
    if found is None:
        return error(404, "not_found", "No such assignment.")
    allow_reopen(session=db, chair=current_user(), assignment=found[0], round_=found[1])
    return ReopenAllowed(reopen_allowed=True)
