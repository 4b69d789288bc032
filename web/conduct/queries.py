"""Reads of the conduct review: each assignment's status and save history, the abnormal flags,
the rounds of a year. Typed, keyword-only ``session=``; plain records for scoring.rules.conduct."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from scoring.rules.conduct import AssignmentRecord, FlagRecord

from ..core.models import AbnormalFlag, Assignment, Rating, Round, RoundKind


def _item_column(round_: Round):
    return Assignment.case_id if round_.kind == RoundKind.dissemination else Assignment.work_id


def assignment_records(*, session: Session, round_: Round) -> list[AssignmentRecord]:
    """Every assignment of the round with its status, submission time and save moments.

    A save moment is the first timestamp of each rating version the assignment has (every
    accepted save writes one version), in version order.
    """
    item = _item_column(round_)
    rows = session.exec(select(Assignment.id, Assignment.expert_id, item, Assignment.status, Assignment.submitted_at)
                        .where(Assignment.round_id == round_.id).order_by(Assignment.id)).all()
    saves: dict[int, list] = {}
    for assignment_id, _version, at in session.exec(
            select(Rating.assignment_id, Rating.version, func.min(Rating.created_at))
            .join(Assignment, Assignment.id == Rating.assignment_id)
            .where(Assignment.round_id == round_.id)
            .group_by(Rating.assignment_id, Rating.version)
            .order_by(Rating.assignment_id, Rating.version)):
        saves.setdefault(assignment_id, []).append(at)
    return [AssignmentRecord(a, e, i, status.value, submitted, tuple(saves.get(a, ())))
            for a, e, i, status, submitted in rows if i is not None]


def flag_records(*, session: Session, round_: Round) -> list[FlagRecord]:
    """The round's abnormal flags (active or not) with the rating's expert and work."""
    item = _item_column(round_)
    rows = session.exec(select(AbnormalFlag, Assignment.expert_id, item)
                        .join(Assignment, Assignment.id == AbnormalFlag.assignment_id)
                        .where(AbnormalFlag.round_id == round_.id).order_by(AbnormalFlag.assignment_id)).all()
    return [FlagRecord(f.assignment_id, expert, item_id, f.direction, f.active, f.explanation, f.waiver_reason)
            for f, expert, item_id in rows]


def rounds_with_assignments(*, session: Session, year: int | None = None) -> list[Round]:
    """Rounds (of ``year`` when given) that have at least one assignment, newest year first."""
    query = select(Round).where(Round.id.in_(select(Assignment.round_id).distinct()))
    if year is not None:
        query = query.where(Round.year == year)
    return list(session.exec(query.order_by(Round.year.desc(), Round.quarter, Round.key)))
