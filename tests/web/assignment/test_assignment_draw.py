"""`tuiyou assign` and run_draw against the database: constraints, seeds, incrementality,
infeasibility (nothing written), refusal after scoring, and the report matching the rows."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from sqlmodel import select

from helpers.assignment import add_works, build_round, live_pairs
from scoring.rules.conflicts import conflict_reasons
from web.assignment.operations import AssignmentRefused, presentation_order, run_draw
from web.assignment.queries import conflict_rules, draw_input, round_report
from web.core.models import Assignment, AssignmentDraw, AssignmentStatus, AuditEvent, Rating, RoundState, User, Work


def _check_constraints(session, round_, per_work):
    data = draw_input(session=session, round_=round_)
    experts = {x.id: x for x in data.experts}
    works = {w.id: w for w in data.works}
    pairs = live_pairs(session, round_)
    per = Counter(w for _, w in pairs)
    assert all(per[w] == per_work for w in works), "every work has exactly per_work experts"
    for e, w in pairs:
        assert works[w].category in experts[e].categories
        assert not conflict_reasons(experts[e], works[w], rules=data.rules, recusals=data.recusals)
    load = Counter(e for e, _ in pairs)
    for e, n in load.items():
        assert experts[e].capacity is None or n <= experts[e].capacity
    return pairs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_constraints_hold_on_random_instances(session, seed):
    round_ = build_round(session, works=50 + 10 * seed, experts=20 + seed, seed=seed, capacity=30)
    outcome = run_draw(session=session, round_=round_, per_work=3, seed=seed * 7, actor="t")
    session.commit()
    pairs = _check_constraints(session, round_, 3)
    assert len(pairs) == len(outcome.result.new) == outcome.draw.created
    # presentation order: derived from the seed and the expert, so stable and reproducible
    for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id)):
        assert a.presentation_order == presentation_order(seed * 7, a.expert_id, a.work_id)
    assert sum(outcome.result.report.conflicts_avoided.values()) > 0, "the instance has conflicts to avoid"


def test_same_seed_same_assignment_other_seed_other(session):
    round_ = build_round(session)
    draws = []
    for seed in (11, 11, 12):
        run_draw(session=session, round_=round_, per_work=3, seed=seed, actor="t")
        session.commit()
        draws.append(live_pairs(session, round_))
        for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id)):
            session.delete(a)
        session.commit()
    assert draws[0] == draws[1]
    assert draws[0] != draws[2]


def test_cli_prints_the_seed_and_report_and_reruns_identically(runner, session):
    round_ = build_round(session)
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3"])
    assert result.exit_code == 0, result.output
    seed = int(result.output.split("seed ")[1].split("（")[0])
    assert f"随机种子 {seed}" in result.output and "load histogram" in result.output
    first = live_pairs(session, round_)
    assert len(first) == 60 * 3
    session.exec(select(Assignment))
    for a in session.exec(select(Assignment)):
        session.delete(a)
    session.commit()
    again = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "3", "--seed", str(seed)])
    assert again.exit_code == 0, again.output
    assert live_pairs(session, round_) == first


def test_infeasible_fails_naming_the_category_and_writes_nothing(runner, session):
    round_ = build_round(session, works=40, experts=6, capacity=100)
    events = len(session.exec(select(AuditEvent)).all())
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "5", "--seed", "1"])
    assert result.exit_code == 1
    assert "nothing written" in result.output
    assert any(c in result.output for c in ("网络剧", "网络电影", "网络纪录片", "短视频"))
    assert "needs 5" in result.output or "5 experts" in result.output or "needed" in result.output
    assert live_pairs(session, round_) == set()
    assert session.exec(select(AssignmentDraw)).all() == []
    assert len(session.exec(select(AuditEvent)).all()) == events


def test_capacities_too_small_fail_before_writing(session):
    round_ = build_round(session, works=60, experts=24, capacity=2)
    with pytest.raises(ValueError) as info:
        run_draw(session=session, round_=round_, per_work=3, seed=5, actor="t")
    session.rollback()
    assert "capacit" in str(info.value) or "容量" in str(info.value)
    assert live_pairs(session, round_) == set()


def test_rerun_fills_gaps_and_keeps_started_assignments(session):
    round_ = build_round(session, capacity=40)
    run_draw(session=session, round_=round_, per_work=3, seed=3, actor="t")
    session.commit()
    rows = session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)).all()
    started = {}
    for a in rows[::4]:
        a.status = AssignmentStatus.in_progress
        a.version = 1
        session.add(Rating(assignment_id=a.id, criterion="thought", value=8.0, version=1))
        started[a.id] = (a.expert_id, a.work_id)
    session.commit()
    add_works(session, round_, 15, np.random.default_rng(9))  # late entries
    outcome = run_draw(session=session, round_=round_, per_work=3, seed=99, actor="t")
    session.commit()
    assert len(outcome.result.new) == 15 * 3
    for id_, pair in started.items():
        assert (session.get(Assignment, id_).expert_id, session.get(Assignment, id_).work_id) == pair
    _check_constraints(session, round_, 3)
    # nothing open: a third run writes nothing new
    assert run_draw(session=session, round_=round_, per_work=3, seed=5, actor="t").result.new == ()


def test_no_draw_after_the_round_leaves_scoring(runner, session):
    round_ = build_round(session, state=RoundState.review)
    result = runner.invoke(args=["assign", "--round", "2025Q1", "--seed", "1"])
    assert result.exit_code == 1
    assert "intake or scoring" in result.output and "review" in result.output
    assert live_pairs(session, round_) == set()
    with pytest.raises(AssignmentRefused):
        run_draw(session=session, round_=round_, per_work=3, seed=1)


def test_provincial_round_avoids_same_province(session):
    round_ = build_round(session, stage="provincial", works=40, experts=24)
    assert conflict_rules(round_).same_province
    run_draw(session=session, round_=round_, per_work=2, seed=4, actor="t")
    session.commit()
    for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id)):
        expert, work = session.get(User, a.expert_id), session.get(Work, a.work_id)
        assert not work.unit.startswith(expert.province)


def test_report_numbers_match_the_database(session):
    round_ = build_round(session)
    outcome = run_draw(session=session, round_=round_, per_work=3, seed=21, actor="t")
    session.commit()
    report = round_report(session=session, round_=round_, per_work=3)
    rows = session.exec(select(Assignment).where(Assignment.round_id == round_.id)).all()
    assert report.assignments == len(rows) == outcome.result.report.ratings_new
    assert report.works == len(session.exec(select(Work).where(Work.round_id == round_.id)).all())
    assert report.covered == outcome.result.report.covered == report.works
    load = Counter(a.expert_id for a in rows)
    expected = Counter(load.values())
    assert {k: v for k, v in report.load_histogram.items() if k} == dict(expected)
    assert sum(report.load_histogram.values()) == len(session.exec(select(User)).all())
    drawn = {c.category: c for c in outcome.result.report.categories}
    for c in report.categories:
        assert (c.works, c.covered, c.experts, c.components, c.sharing_pairs) == \
            (drawn[c.category].works, drawn[c.category].covered, drawn[c.category].experts,
             drawn[c.category].components, drawn[c.category].sharing_pairs)


def test_a_conflict_declared_after_the_draw(session):
    from web.assignment.pool import declare_conflict

    round_ = build_round(session, capacity=40)
    run_draw(session=session, round_=round_, per_work=3, seed=2, actor="t")
    session.commit()
    pending, started = session.exec(select(Assignment).where(Assignment.round_id == round_.id)
                                    .order_by(Assignment.id).limit(2)).all()
    # a pending assignment that became a conflict is replaced (and said so); the others stay
    declare_conflict(session=session, expert=session.get(User, pending.expert_id), actor="e",
                     work=session.get(Work, pending.work_id))
    session.commit()
    before = live_pairs(session, round_)
    outcome = run_draw(session=session, round_=round_, per_work=3, seed=2, actor="t")
    session.commit()
    assert outcome.dropped == 1 and len(outcome.result.new) == 1
    after = live_pairs(session, round_)
    assert (pending.expert_id, pending.work_id) not in after
    assert before - {(pending.expert_id, pending.work_id)} <= after
    _check_constraints(session, round_, 3)
    # a started one is never dropped: the draw refuses and names it
    started.status = AssignmentStatus.submitted
    session.add(started)
    declare_conflict(session=session, expert=session.get(User, started.expert_id), actor="e",
                     work=session.get(Work, started.work_id))
    session.commit()
    with pytest.raises(AssignmentRefused, match="recuse it first"):
        run_draw(session=session, round_=round_, per_work=3, seed=2, actor="t")
    session.rollback()
    assert (started.expert_id, started.work_id) in live_pairs(session, round_)
