"""Abnormal ratings (畸高/畸低) on the API: the author's written explanation, the chair's written
waiver and the chair's list of a round's flags.

``POST /assignments/{id}/explanation`` ``{"text"}`` (the assignment's expert; another expert 404):
201; 409 when the rating is not submitted, not flagged or the round is not scoring/review; 422
for empty text; 423 once the round is signed. It never changes the scores.
"""
from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from ..core.access import current_user
from ..core.db import get_session
from ..core.models import Role
from ..rating import flags as operations
from ..rating import flags as queries
from ..rating.flags import MAX_TEXT
from ..rating.queries import assignment_for_expert, assignment_in_round
from ..core.schemas import ApiError, Body, Moment, Prose, Reply
from .blueprint import bp, error, round_or_404
from .registry import operation

STAFF = (Role.chair, Role.admin)
SIGNED = ("The round is signed", ApiError)
NOT_OPEN = ("The round is not in scoring or review", ApiError)


class Explanation(Body):
    """The author's written explanation of a flagged rating."""

    refused: ClassVar = (422, "text_required")
    codes: ClassVar = {"text:too_long": "text_too_long"}

    text: Prose = Field(max_length=MAX_TEXT, description="why the rating is as it is")


class Waiver(Body):
    """The chair's written reason to waive a flag's explanation."""

    refused: ClassVar = (422, "text_required")
    codes: ClassVar = {"reason:too_long": "text_too_long"}

    reason: Prose = Field(max_length=MAX_TEXT, description="why no explanation is needed")


class Explained(Reply):
    """The explanation as recorded (the expert sees only their own total: never the others' mean)."""

    assignment_id: int
    explanation: str
    explained_at: Moment


class Flag(Reply):
    """A flagged rating as the chair sees it: its total, the others' mean, explanation and waiver."""

    assignment_id: int
    active: bool
    direction: str
    total: float
    others_mean: float
    others_n: int
    flagged_at: Moment
    explanation: str | None
    explained_at: Moment | None
    waiver_reason: str | None
    waived_at: Moment | None


class FlagOfRound(Flag):
    """A flag in the round's list, with the expert and the work; ``reason`` is ``relative`` (the 30%
    rule) or ``robust fit`` (config ``robust_fit``)."""

    expert: str
    title: str
    category: str
    waived_by: str | None
    reason: str


class RoundFlags(Reply):
    """The round's flags; ``unexplained`` lists the assignment ids that block the sign-off."""

    round: str
    unexplained: list[int]
    flags: list[FlagOfRound]


@bp.post("/assignments/<int:assignment_id>/explanation")
@operation("The expert's written explanation of their flagged (abnormal) rating; scores unchanged",
           roles=(Role.expert,), body=Explanation, answers={
               201: ("Recorded", Explained), 404: ("No such assignment of yours", ApiError),
               409: ("Not submitted, not flagged, or the round is not in scoring or review", ApiError),
               422: ("Empty or too long text", ApiError), 423: SIGNED})
def explanation(assignment_id: int, body: Explanation):
    """The expert's written explanation of their flagged rating (scores unchanged)."""
    db, user = get_session(), current_user()
    row = assignment_for_expert(session=db, expert=user, assignment_id=assignment_id)
    if row is None:
        return error(404, "not_found", "No such assignment of yours.")
    flag = operations.explain(session=db, expert=user, assignment=row.assignment, round_=row.round, text=body.text)
    db.flush()
    return Explained(assignment_id=assignment_id, explanation=flag.explanation, explained_at=flag.explained_at), 201


@bp.post("/assignments/<int:assignment_id>/waiver")
@operation("The chair waives a flagged rating's explanation with a written reason (audited)", roles=STAFF,
           body=Waiver, answers={201: ("Waived", Flag), 404: ("No flag on this assignment (`not_flagged`)", ApiError),
                                 409: NOT_OPEN, 422: ("Empty or too long reason", ApiError), 423: SIGNED})
def waiver(assignment_id: int, body: Waiver):
    """The chair waives the explanation of a flagged rating with ``{"reason"}`` (audited)."""
    db = get_session()
    found = assignment_in_round(session=db, assignment_id=assignment_id)
    flag = queries.flag_of(session=db, assignment_id=assignment_id) if found else None
    if flag is None:
        return error(404, "not_flagged", f"assignment {assignment_id} has no abnormal-rating flag")
    operations.waive(session=db, chair=current_user(), flag=flag, round_=found[1], reason=body.reason)
    db.flush()
    return Flag.model_validate(flag, from_attributes=True), 201


@bp.get("/rounds/<key>/abnormal")
@operation("The round's abnormal ratings (畸高/畸低) with explanations and waivers (chair, admin)", roles=STAFF,
           answers={200: ("The flags, and the assignment ids blocking the sign-off", RoundFlags)})
def abnormal(key: str):
    """The round's abnormal ratings with their explanations and waivers, and which block sign-off."""
    db = get_session()
    round_ = round_or_404(db, key)
    return RoundFlags(round=key, unexplained=queries.unexplained(session=db, round_=round_), flags=[
        FlagOfRound(**Flag.model_validate(r.flag, from_attributes=True).model_dump(), expert=r.expert,
                    title=r.title, category=r.category, waived_by=r.waived_by, reason=r.reason)
        for r in queries.flag_rows(session=db, round_=round_)])
