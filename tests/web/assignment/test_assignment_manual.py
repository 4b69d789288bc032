"""Manual changes by the chair or admin, and the replacement of a recused expert: every
constraint holds, everything is audited, and a started rating is never moved or dropped."""
from __future__ import annotations

import pytest
from sqlmodel import select

from helpers.assignment import build_round, live_pairs
from scoring.rules.conflicts import conflict_reasons
from web.assignment.operations import (AssignmentRefused, add_assignment, move_assignment, propose_replacement,
                                       remove_assignment, replace_recused, run_draw)
from web.assignment.pool import declare_conflict
from web.assignment.queries import draw_input
from web.core.models import Assignment, AssignmentStatus, AuditEvent, Conflict, Rating, RoundState, User, Work


@pytest.fixture
def drawn(session):
    round_ = build_round(session, capacity=20)
    run_draw(session=session, round_=round_, per_work=3, seed=8, actor="t")
    session.commit()
    return round_


def _first(session, round_, **where):
    query = select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)
    return session.exec(query).first()


def _recuse(session, assignment, reason="与申报主体有合作关系"):
    """What web/rating's recuse does: status recused, reason, a Conflict of kind "recused"."""
    assignment.status = AssignmentStatus.recused
    assignment.recuse_reason = reason
    session.add(Conflict(user_id=assignment.expert_id, work_id=assignment.work_id, kind="recused", reason=reason))
    session.commit()


def _actions(session):
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]


def test_recusal_replacement_keeps_every_constraint(session, drawn):
    assignment = _first(session, drawn)
    _recuse(session, assignment)
    candidates = propose_replacement(session=session, assignment=assignment)
    assert candidates, "the pool has room for a replacement"
    work = session.get(Work, assignment.work_id)
    data = draw_input(session=session, round_=drawn)
    experts = {x.id: x for x in data.experts}
    on_work = {e for e, w in live_pairs(session, drawn) if w == work.id}
    loads = [c.load for c in candidates]
    assert loads == sorted(loads), "least loaded first"
    draw_work = next(w for w in data.works if w.id == work.id)
    for c in candidates:
        assert c.expert.id != assignment.expert_id and c.expert.id not in on_work
        assert work.category in c.expert.categories
        assert not conflict_reasons(experts[c.expert.id], draw_work, rules=data.rules, recusals=data.recusals)
        assert c.load < c.expert.capacity
    new = replace_recused(session=session, assignment=assignment, expert=candidates[0].expert, actor="chair",
                          reason="替补")
    session.commit()
    assert new.status == AssignmentStatus.pending and new.work_id == work.id
    assert session.get(Assignment, assignment.id).status == AssignmentStatus.recused
    assert "assignment.replaced" in _actions(session)
    # the slot is filled now: a second replacement would put a fourth expert on the work
    with pytest.raises(AssignmentRefused, match="slot is filled"):
        replace_recused(session=session, assignment=assignment, expert=candidates[1].expert, actor="chair")
    # the recused expert can never be put back on that work
    with pytest.raises(AssignmentRefused, match="recused"):
        add_assignment(session=session, round_=drawn, expert=session.get(User, assignment.expert_id), work=work,
                       actor="chair", reason="试图恢复")


def test_a_draw_after_a_recusal_fills_only_the_gap(session, drawn):
    assignment = _first(session, drawn)
    before = live_pairs(session, drawn)
    _recuse(session, assignment)
    outcome = run_draw(session=session, round_=drawn, per_work=3, seed=1, actor="t")
    session.commit()
    assert len(outcome.result.new) == 1
    (expert_id, work_id), = outcome.result.new
    assert work_id == assignment.work_id and expert_id != assignment.expert_id
    assert before - {(assignment.expert_id, assignment.work_id)} <= live_pairs(session, drawn)


def test_started_assignments_are_never_moved_or_removed(session, drawn):
    assignment = _first(session, drawn)
    session.add(Rating(assignment_id=assignment.id, criterion="thought", value=7.5, version=1))
    session.commit()  # a saved rating even while the status still says pending
    other = session.exec(select(User).where(User.id != assignment.expert_id)).first()
    with pytest.raises(AssignmentRefused, match="already has a score"):
        remove_assignment(session=session, round_=drawn, assignment=assignment, actor="chair", reason="调整")
    with pytest.raises(AssignmentRefused, match="already has a score"):
        move_assignment(session=session, round_=drawn, assignment=assignment, expert=other, actor="chair",
                        reason="调整")
    assert session.get(Assignment, assignment.id).expert_id == assignment.expert_id


def test_manual_changes_need_a_reason_keep_constraints_and_are_audited(session, drawn):
    assignment = _first(session, drawn)
    work = session.get(Work, assignment.work_id)
    with pytest.raises(AssignmentRefused, match="reason"):
        remove_assignment(session=session, round_=drawn, assignment=assignment, actor="chair", reason=" ")
    candidates = propose_replacement(session=session, assignment=assignment)
    target = candidates[0].expert
    moved = move_assignment(session=session, round_=drawn, assignment=assignment, expert=target, actor="chair",
                            reason="专家出差")
    session.commit()
    assert moved.expert_id == target.id
    # an expert of the submitting organisation is refused for this work
    conflicted = session.exec(select(User).where(User.organisation == work.submitter)).first()
    if conflicted is not None and work.category in conflicted.categories:
        with pytest.raises(AssignmentRefused, match="conflict"):
            add_assignment(session=session, round_=drawn, expert=conflicted, work=work, actor="chair", reason="补充")
    # a declared person or organisation becomes a conflict for new pairs too
    spare = propose_replacement(session=session, assignment=moved)[0].expert
    declare_conflict(session=session, expert=spare, actor=spare.username, organisation=work.copyright_holder)
    session.commit()
    with pytest.raises(AssignmentRefused, match="conflict"):
        add_assignment(session=session, round_=drawn, expert=spare, work=work, actor="chair", reason="补充")
    remove_assignment(session=session, round_=drawn, assignment=moved, actor="chair", reason="作品撤回")
    session.commit()
    assert session.get(Assignment, moved.id) is None
    assert {"assignment.moved", "conflict.declared", "assignment.removed"} <= set(_actions(session))


def test_capacity_and_expertise_hold_for_manual_additions(session, drawn):
    work = session.exec(select(Work).where(Work.round_id == drawn.id)).first()
    outsider = next(u for u in session.exec(select(User)) if work.category not in u.categories)
    with pytest.raises(AssignmentRefused, match="category"):
        add_assignment(session=session, round_=drawn, expert=outsider, work=work, actor="chair", reason="补充")
    full = next(u for u in session.exec(select(User)) if work.category in u.categories
                and (u.id, work.id) not in live_pairs(session, drawn))
    full.capacity = sum(1 for e, _ in live_pairs(session, drawn) if e == full.id)
    session.add(full)
    session.commit()
    with pytest.raises(AssignmentRefused, match="most allowed"):
        add_assignment(session=session, round_=drawn, expert=full, work=work, actor="chair", reason="补充")


def test_no_manual_change_after_scoring(session, drawn):
    drawn.state = RoundState.review
    session.add(drawn)
    session.commit()
    assignment = _first(session, drawn)
    with pytest.raises(AssignmentRefused, match="intake or scoring"):
        remove_assignment(session=session, round_=drawn, assignment=assignment, actor="chair", reason="调整")
