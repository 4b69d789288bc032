"""Reads of the expert's assignments and their current scores (typed, keyword-only ``session=``)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import bindparam
from sqlmodel import Session, select

from ..core.models import (Assignment, AssignmentStatus, Comment, DisseminationCase, HighlightTag, Rating, Round, User,
                      Work)

CASE_CATEGORY = "优秀传播案例"


@dataclass(frozen=True)
class CaseForm:
    """What the expert's form shows of a dissemination case: the fields a work's form shows (blind:
    never the unit that submitted it)."""

    id: int
    title: str
    synopsis: str
    url: str
    category: str = CASE_CATEGORY
    episodes: None = None
    duration_min: None = None
    uhd: bool = False
    aigc: bool = False
    single_episode: bool = False

    @classmethod
    def of(cls, case: DisseminationCase) -> "CaseForm":
        return cls(case.id, case.name, case.description, case.url)


@dataclass(frozen=True)
class ExpertAssignment:
    assignment: Assignment
    work: Work | CaseForm  # a dissemination case's assignment carries its case in the work's place
    round: Round


def _shuffle_key(expert_id: int, assignment: Assignment) -> tuple[int, str]:
    """Presentation order, then a per-expert hash: random-looking, seeded by the expert, stable."""
    digest = hashlib.sha256(f"tuiyou:{expert_id}:{assignment.id}".encode()).hexdigest()
    return assignment.presentation_order, digest


def expert_assignments(*, session: Session, expert: User) -> list[ExpertAssignment]:
    """The expert's assignments, round by round, in their presentation order (randomised per expert)."""
    rows = session.exec(
        select(Assignment, Work, Round)
        .join(Work, Work.id == Assignment.work_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Assignment.expert_id == expert.id))
    cases = session.exec(
        select(Assignment, DisseminationCase, Round)
        .join(DisseminationCase, DisseminationCase.id == Assignment.case_id)
        .join(Round, Round.id == Assignment.round_id)
        .where(Assignment.expert_id == expert.id))
    result = [ExpertAssignment(a, w, r) for a, w, r in rows]
    result += [ExpertAssignment(a, CaseForm.of(c), r) for a, c, r in cases]
    result.sort(key=lambda row: (row.round.key, _shuffle_key(expert.id, row.assignment)))
    return result


# Prebuilt: every save and page of a form runs it (no statement building per request).
_EXPERTS_ASSIGNMENT = (select(Assignment, Work, Round)
                       .join(Work, Work.id == Assignment.work_id)
                       .join(Round, Round.id == Assignment.round_id)
                       .where(Assignment.id == bindparam("assignment_id"),
                              Assignment.expert_id == bindparam("expert_id")))
_EXPERTS_CASE = (select(Assignment, DisseminationCase, Round)
                 .join(DisseminationCase, DisseminationCase.id == Assignment.case_id)
                 .join(Round, Round.id == Assignment.round_id)
                 .where(Assignment.id == bindparam("assignment_id"),
                        Assignment.expert_id == bindparam("expert_id")))


def assignment_for_expert(*, session: Session, expert: User, assignment_id: int) -> ExpertAssignment | None:
    """The expert's own assignment ``assignment_id`` with its work and round; None if not theirs."""
    row = session.exec(_EXPERTS_ASSIGNMENT, params={"assignment_id": assignment_id, "expert_id": expert.id}).first()
    if row is None:
        case = session.exec(_EXPERTS_CASE, params={"assignment_id": assignment_id, "expert_id": expert.id}).first()
        return ExpertAssignment(case[0], CaseForm.of(case[1]), case[2]) if case else None
    return ExpertAssignment(*row)


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


def assignment_scores(*, session: Session, assignment: Assignment) -> dict[str, float]:
    """Criterion → value at the assignment's current version (empty before the first save)."""
    if assignment.version <= 0:
        return {}
    return {r.criterion: r.value for r in session.exec(
        select(Rating).where(Rating.assignment_id == assignment.id, Rating.version == assignment.version))}


def current_comment(*, session: Session, assignment: Assignment) -> str:
    """The expert's latest remark on the assignment ("" when none)."""
    comment = session.exec(select(Comment).where(Comment.assignment_id == assignment.id,
                                                 Comment.kind == "remark")
                           .order_by(Comment.id.desc()).limit(1)).first()
    return comment.body if comment else ""


def highlights(*, session: Session, assignment: Assignment) -> list[str]:
    """The highlight tags (focus areas) the expert ticked."""
    return sorted(t.tag for t in session.exec(select(HighlightTag)
                                              .where(HighlightTag.assignment_id == assignment.id)))


@dataclass(frozen=True)
class OwnScore:
    assignment_id: int
    title: str
    total: float
    scores: dict[str, float]
    status: AssignmentStatus


def own_scale(*, session: Session, expert: User, row: ExpertAssignment,
              weights: dict[str, float]) -> list[OwnScore]:
    """The expert's own other scored works of the same category and round, best first (never others')."""
    others = [r for r in expert_assignments(session=session, expert=expert)
              if r.round.id == row.round.id and r.work.category == row.work.category
              and r.assignment.id != row.assignment.id and r.assignment.version > 0
              and r.assignment.status != AssignmentStatus.recused]
    scores = current_scores(session=session, assignments=[r.assignment for r in others])
    result = []
    for other in others:
        values = scores.get(other.assignment.id, {})
        if not values:
            continue
        scored = {k: w for k, w in weights.items() if k in values}
        total = sum(values[k] * w for k, w in scored.items()) / sum(scored.values()) if scored else 0.0
        result.append(OwnScore(other.assignment.id, other.work.title, round(total, 2), values,
                               other.assignment.status))
    return sorted(result, key=lambda s: (-s.total, s.title))


def assignment_in_round(*, session: Session, assignment_id: int) -> tuple[Assignment, Round] | None:
    """Any assignment with its round (for the chair and the secretariat), or None."""
    row = session.exec(select(Assignment, Round).join(Round, Round.id == Assignment.round_id)
                       .where(Assignment.id == assignment_id)).first()
    return (row[0], row[1]) if row else None
