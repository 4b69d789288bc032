"""Reads of the expert's assignments and their current scores (typed, keyword-only ``session=``)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from ..models import Assignment, AssignmentStatus, Rating, Round, User, Work


@dataclass(frozen=True)
class ExpertAssignment:
    assignment: Assignment
    work: Work
    round: Round


def expert_assignments(*, session: Session, expert: User) -> list[ExpertAssignment]:
    """The expert's assignments in their presentation order (randomised per expert)."""
    rows = session.exec(
        select(Assignment, Work, Round)
        .join(Work, Work.id == Assignment.work_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Assignment.expert_id == expert.id)
        .order_by(Round.key, Assignment.presentation_order, Assignment.id))
    return [ExpertAssignment(a, w, r) for a, w, r in rows]


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def share(self) -> float:
        return self.done / self.total if self.total else 0.0


def progress(assignments: list[ExpertAssignment]) -> Progress:
    """How many of the expert's (non-recused) assignments are submitted."""
    active = [a for a in assignments if a.assignment.status != AssignmentStatus.recused]
    done = sum(a.assignment.status == AssignmentStatus.submitted for a in active)
    return Progress(done, len(active))


def current_scores(*, session: Session, assignments: list[Assignment]) -> dict[int, dict[str, float]]:
    """Criterion → value at each assignment's current version, keyed by assignment id."""
    versions = {a.id: a.version for a in assignments if a.version > 0}
    scores: dict[int, dict[str, float]] = {}
    ids = list(versions)
    for start in range(0, len(ids), 500):  # keep IN lists small for SQLite
        chunk = ids[start:start + 500]
        for rating in session.exec(select(Rating).where(Rating.assignment_id.in_(chunk))):
            if rating.version == versions[rating.assignment_id]:
                scores.setdefault(rating.assignment_id, {})[rating.criterion] = rating.value
    return scores
