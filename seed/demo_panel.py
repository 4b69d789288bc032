"""Panel-practice demo data (after the review demo): members' signatures with one dissent on the
signed quarter, abnormal ratings waiting for explanations in the round in review, and the 2025
annual round (built from the signed quarters) drawn and in scoring."""
from __future__ import annotations

from sqlmodel import Session, select

from web.core.models import Assignment, AssignmentStatus, Rating, Round, RoundState, User, Work, utcnow
from web.rating.flags import explain, refresh_flags, round_flags, unexplained
from web.signing.operations import member_signature
from web.signing.queries import panel_members
from web.rounds.operations import create_annual, set_state

from .demo_assignment import assign_demo

SIGNED_KEY, REVIEW_KEY = "2025Q2", "2025Q3"
DISSENT = "对网络微短剧类入选作品持保留意见：题材与上季度入选作品雷同，建议另选。"
EXPLANATION = "该作品史实细节多处与公开资料不符，本人据此在“思想精深”“制作精良”两项打分偏低，特此说明。"


def explain_flags(session: Session, round_: Round) -> int:
    """Every unexplained abnormal rating of ``round_`` gets its author's written explanation (demo)."""
    refresh_flags(session=session, round_=round_, actor="demo")
    n = 0
    for assignment_id in unexplained(session=session, round_=round_):
        assignment = session.get(Assignment, assignment_id)
        expert = session.get(User, assignment.expert_id)
        explain(session=session, expert=expert, assignment=assignment, round_=round_, text=EXPLANATION)
        n += 1
    session.flush()
    return n


def _wild_rating(session: Session, round_: Round) -> None:
    """One rating far below the panel's view of the round's best-rated work (a careless tap)."""
    work = session.exec(select(Work).where(Work.round_id == round_.id).order_by(Work.id)).first()
    on_work = set(session.exec(select(Assignment.expert_id).where(Assignment.work_id == work.id)).all())
    expert = next(u for u in panel_members(session=session, round_=round_) if u.id not in on_work)
    assignment = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work.id, version=1,
                            status=AssignmentStatus.submitted, submitted_at=utcnow())
    session.add(assignment)
    session.flush()
    keys = {r.criterion for r in session.exec(select(Rating).join(Assignment, Assignment.id == Rating.assignment_id)
                                               .where(Assignment.work_id == work.id))}
    session.add_all(Rating(assignment_id=assignment.id, criterion=k, value=1.0, version=1) for k in sorted(keys))
    session.flush()


def build_panel_demo(session: Session, *, password: str) -> list[str]:
    """Add the panel-practice demo (commits); returns lines describing it."""
    lines = []
    signed = session.exec(select(Round).where(Round.key == SIGNED_KEY)).one()
    members = panel_members(session=session, round_=signed)
    for index, member in enumerate(members[:-2]):  # two members have not signed yet
        member_signature(session=session, round_=signed, member=member, password=password,
                    dissent=DISSENT if index == 1 else None)
    lines.append(f"round {SIGNED_KEY}: {len(members) - 2} of {len(members)} panel members signed, one dissent")
    review = session.exec(select(Round).where(Round.key == REVIEW_KEY)).one()
    if not unexplained(session=session, round_=review):
        _wild_rating(session, review)
    refresh_flags(session=session, round_=review, actor="demo")
    waiting = unexplained(session=session, round_=review)
    lines.append(f"round {REVIEW_KEY}: {len(round_flags(session=session, round_=review))} abnormal ratings, "
                 f"{len(waiting)} waiting for explanations (sign-off answers 409)")
    annual = create_annual(session=session, year=2025, actor="admin").round
    set_state(session=session, round_=annual, state=RoundState.intake, actor="admin")
    assignments = assign_demo(session, annual, actor="admin")
    set_state(session=session, round_=annual, state=RoundState.scoring, actor="admin")
    lines.append(f"round {annual.key}: annual, {len(assignments)} assignments, in scoring")
    session.commit()
    return lines
