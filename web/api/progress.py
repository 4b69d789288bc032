"""``/api/v1/rounds/{key}/progress``: the scoring progress board's data (chair, admin), while a
round is in scoring or later (issue 24; the page is web/progress/)."""
from __future__ import annotations

import datetime as dt

from ..core.db import get_session
from ..core.models import Role, utcnow
from ..core.schemas import ApiError, Moment, Reply
from ..progress.queries import board
from ..progress.settings import SHOWN_STATES, idle_minutes
from .blueprint import bp, error, round_or_404
from .registry import operation


class CategoryProgress(Reply):
    """One category: its works, the ratings they need (one per assignment not recused), the
    ratings submitted, and how many works still lack some (or have no expert left)."""

    category: str
    works: int
    ratings_needed: int
    ratings_submitted: int
    works_missing_ratings: int


class ExpertProgress(Reply):
    """One expert's assignments in the round: ``assigned`` = not yet saved + ``saved`` (saved, not
    submitted) + ``submitted`` + ``recused``; ``last_save`` the time of their latest save or
    submit (null: nothing saved yet)."""

    username: str
    assigned: int
    saved: int
    submitted: int
    recused: int
    last_save: Moment | None


class RoundProgress(Reply):
    """The round's scoring progress per category and per expert."""

    round: str
    categories: list[CategoryProgress]
    experts: list[ExpertProgress]


@bp.get("/rounds/<key>/progress")
@operation("Scoring progress per category and per expert (chair, admin), in scoring or later",
           roles=(Role.chair, Role.admin), answers={
               200: ("The progress: categories by name, experts stalled first", RoundProgress),
               409: ("The round has not reached scoring (`not_scoring`)", ApiError)})
def progress(key: str):
    """The progress board's data: per category and per expert, as the page shows it."""
    db = get_session()
    round_ = round_or_404(db, key)
    if round_.state not in SHOWN_STATES:
        return error(409, "not_scoring", f"round {key} is {round_.state.value}: no scoring progress yet")
    shown = board(session=db, round_=round_, idle=dt.timedelta(minutes=idle_minutes()), now=utcnow())
    return RoundProgress(round=round_.key,
                         categories=[CategoryProgress.model_validate(c, from_attributes=True)
                                     for c in shown.categories],
                         experts=[ExpertProgress.model_validate(e, from_attributes=True) for e in shown.experts])
