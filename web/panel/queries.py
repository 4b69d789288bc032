"""Reads of panel practice: submitted ratings for the abnormal-score rule, the flags of a round
and of an expert, and what still blocks the chair's sign-off."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from scoring.rules.abnormal import load_abnormal_rule, reason_of

from ..core.models import (AbnormalFlag, Assignment, AssignmentStatus, DisseminationCase, Rating, Round, RoundKind,
                      Shortlist, SignOff, User,
                      Work)


@dataclass(frozen=True)
class RatingValue:
    """One current criterion value of a submitted rating."""

    assignment_id: int
    item_id: int
    criterion: str
    value: float


def submitted_values(*, session: Session, round_: Round, item_id: int | None = None) -> list[RatingValue]:
    """Current criterion values of the round's submitted ratings (of one work or case when given)."""
    query = (select(Assignment.id, Assignment.work_id, Assignment.case_id, Rating.criterion, Rating.value)
             .join(Rating, (Rating.assignment_id == Assignment.id) & (Rating.version == Assignment.version))
             .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted))
    if item_id is not None:
        item = Assignment.case_id if round_.kind == RoundKind.dissemination else Assignment.work_id
        query = query.where(item == item_id)
    rows = session.exec(query.order_by(Assignment.id, Rating.criterion)).all()
    return [RatingValue(a, w if w is not None else c, k, float(v)) for a, w, c, k, v in rows
            if (w if w is not None else c) is not None]


def rating_context(*, session: Session, round_: Round) -> dict[int, tuple[int, str]]:
    """Assignment id → (expert id, category) of the round's submitted ratings (cases: one category)."""
    query = (select(Assignment.id, Assignment.expert_id, Work.category)
             .join(Work, Work.id == Assignment.work_id, isouter=True)
             .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted))
    return {a: (e, c or CASE_CATEGORY) for a, e, c in session.exec(query)}


def round_flags(*, session: Session, round_: Round) -> list[AbnormalFlag]:
    """Every flag of the round (active or not), by assignment id."""
    return list(session.exec(select(AbnormalFlag).where(AbnormalFlag.round_id == round_.id)
                             .order_by(AbnormalFlag.assignment_id)))


def flag_of(*, session: Session, assignment_id: int) -> AbnormalFlag | None:
    """The flag of one assignment, if it was ever flagged."""
    return session.exec(select(AbnormalFlag).where(AbnormalFlag.assignment_id == assignment_id)).first()


def unexplained(*, session: Session, round_: Round) -> list[int]:
    """Assignment ids whose active flag has neither an explanation nor a waiver: they block sign-off."""
    return [flag.assignment_id for flag in round_flags(session=session, round_=round_)
            if flag.active and not flag.explanation and not flag.waiver_reason]


def open_flags_of_expert(*, session: Session, expert: User) -> dict[int, AbnormalFlag]:
    """The expert's active flags by assignment id (explained or not): their "explanation requested" items."""
    rows = session.exec(select(AbnormalFlag).join(Assignment, Assignment.id == AbnormalFlag.assignment_id)
                        .where(Assignment.expert_id == expert.id, AbnormalFlag.active)).all()
    return {flag.assignment_id: flag for flag in rows}


CASE_CATEGORY = "优秀传播案例"


@dataclass(frozen=True)
class FlagRow:
    """A flag as the chair sees it: the rating's expert and the work, and why it is flagged
    (``"relative"``: far from the others' mean; ``"robust fit"``: only the fit rejects it)."""

    flag: AbnormalFlag
    expert: str
    title: str
    category: str
    waived_by: str | None
    reason: str = "relative"
    item_id: int | None = None   # the work (or case) rated, for the link to its drill-down


def flag_rows(*, session: Session, round_: Round) -> list[FlagRow]:
    """The round's flags with expert name, title and category, active first, then by category and title."""
    flags = round_flags(session=session, round_=round_)
    if not flags:
        return []
    assignments = {a.id: a for a in session.exec(
        select(Assignment).where(Assignment.id.in_([f.assignment_id for f in flags])))}
    user_ids = {a.expert_id for a in assignments.values()} | {f.waived_by for f in flags if f.waived_by}
    users = {u.id: u.display_name or u.username for u in session.exec(select(User).where(User.id.in_(user_ids)))}
    works = {w.id: (w.title, w.category) for w in session.exec(select(Work).where(Work.id.in_(
        [a.work_id for a in assignments.values() if a.work_id])))}
    cases = {c.id: (c.name, CASE_CATEGORY) for c in session.exec(select(DisseminationCase).where(
        DisseminationCase.id.in_([a.case_id for a in assignments.values() if a.case_id])))}
    rule = load_abnormal_rule()
    rows = []
    for flag in flags:
        a = assignments[flag.assignment_id]
        title, category = works.get(a.work_id) or cases.get(a.case_id) or ("", "")
        rows.append(FlagRow(flag, users.get(a.expert_id, ""), title, category,
                            users.get(flag.waived_by) if flag.waived_by else None,
                            reason_of(rule, flag.total, flag.others_mean, flag.others_n),
                            a.work_id or a.case_id))
    rows.sort(key=lambda r: (not r.flag.active, r.category, r.title, r.flag.assignment_id))
    return rows


def panel_members(*, session: Session, round_: Round) -> list[User]:
    """The panel of a round: every expert assigned in it (recused or not), by name."""
    ids = select(Assignment.expert_id).where(Assignment.round_id == round_.id).distinct()
    return list(session.exec(select(User).where(User.id.in_(ids)).order_by(User.username)))


def is_member(*, session: Session, round_: Round, user: User) -> bool:
    """Whether ``user`` is an expert assigned in the round."""
    return session.exec(select(Assignment.id).where(Assignment.round_id == round_.id,
                                                    Assignment.expert_id == user.id)).first() is not None


@dataclass(frozen=True)
class Signature:
    """A signature on the sealed result, or a member who has not signed (``signed_at`` None)."""

    name: str
    role: str  # "chair" or "member"
    signed_at: object
    dissent: str | None
    user_id: int


def signatures(*, session: Session, round_: Round) -> tuple[list[Signature], list[Signature]]:
    """(who signed the current sealed result, in order; panel members who have not signed yet)."""
    shortlist = session.exec(select(Shortlist).where(Shortlist.round_id == round_.id)).first()
    signed: list[Signature] = []
    if shortlist is not None and shortlist.state == "signed":
        rows = session.exec(select(SignOff, User).join(User, User.id == SignOff.user_id)
                            .where(SignOff.shortlist_id == shortlist.id).order_by(SignOff.signed_at)).all()
        signed = [Signature(u.display_name or u.username, "member" if u.role.value == "expert" else "chair",
                            s.signed_at, s.dissent, u.id) for s, u in rows]
    done = {s.user_id for s in signed}
    waiting = [Signature(u.display_name or u.username, "member", None, None, u.id)
               for u in panel_members(session=session, round_=round_) if u.id not in done]
    return signed, waiting


def rounds_to_sign(*, session: Session, expert: User) -> list[Round]:
    """Sealed rounds whose panel includes ``expert`` and which they have not signed yet."""
    rounds = session.exec(select(Round).where(Round.state == "signed", Round.id.in_(
        select(Assignment.round_id).where(Assignment.expert_id == expert.id)))).all()
    done = set(session.exec(select(Shortlist.round_id).join(SignOff, SignOff.shortlist_id == Shortlist.id)
                            .where(SignOff.user_id == expert.id)).all())
    return [r for r in rounds if r.id not in done]
