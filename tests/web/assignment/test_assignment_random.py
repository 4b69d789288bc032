"""Random instances through the whole product path (hypothesis): pools, capacities, declared
organisations, people and works, absences, stages. Every draw either writes an assignment that
keeps every constraint, or fails as InfeasibleAssignment and writes nothing."""
from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from helpers.assignment import CATEGORIES, ORGS, build_round, live_pairs
from scoring.rules.assignment import InfeasibleAssignment
from scoring.rules.conflicts import conflict_reasons
from web.assignment.operations import run_draw
from web.assignment.queries import draw_input
from web.core.models import AssignmentDraw, Conflict, ExpertAbsence, Round, User, Work

instances = st.fixed_dictionaries({
    "works": st.integers(5, 40), "experts": st.integers(3, 18), "per_work": st.integers(1, 4),
    "capacity": st.one_of(st.none(), st.integers(2, 30)), "stage": st.sampled_from(["national", "provincial"]),
    "declared": st.integers(0, 6), "absent": st.integers(0, 3), "seed": st.integers(0, 2**32)})


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=instances)
def test_random_instances_keep_every_constraint_or_write_nothing(app, case):
    engine = app.extensions["tuiyou.engine"]
    with Session(engine, expire_on_commit=False) as session:
        for old in session.exec(select(User)):  # earlier examples' experts leave the pool
            old.active = False
            session.add(old)
        session.commit()
        key = f"R{len(session.exec(select(Round)).all())}"
        rng = np.random.default_rng(case["seed"])
        round_ = build_round(session, key=key, works=case["works"], experts=case["experts"], seed=case["seed"] % 1000,
                             capacity=case["capacity"], stage=case["stage"])
        users = session.exec(select(User).where(User.active)).all()
        works = session.exec(select(Work).where(Work.round_id == round_.id)).all()
        for _ in range(case["declared"]):
            user = users[rng.integers(len(users))]
            kind = rng.integers(3)
            session.add(Conflict(user_id=user.id, kind="declared",
                                 organisation=ORGS[rng.integers(len(ORGS))] if kind == 0 else None,
                                 person="某人" if kind == 1 else None,
                                 work_id=works[rng.integers(len(works))].id if kind == 2 else None))
        for user in users[:case["absent"]]:
            session.add(ExpertAbsence(round_id=round_.id, user_id=user.id))
        session.commit()
        try:
            run_draw(session=session, round_=round_, per_work=case["per_work"], seed=case["seed"], actor="t")
        except InfeasibleAssignment as exc:
            session.rollback()
            event("infeasible")
            assert exc.category and any(c in str(exc) for c in CATEGORIES)
            assert live_pairs(session, round_) == set()
            assert session.exec(select(AssignmentDraw).where(AssignmentDraw.round_id == round_.id)).all() == []
            return
        session.commit()
        event("drawn")
        data = draw_input(session=session, round_=round_)
        experts = {x.id: x for x in data.experts}
        by_id = {w.id: w for w in data.works}
        pairs = live_pairs(session, round_)
        assert Counter(w for _, w in pairs) == {w: case["per_work"] for w in by_id}
        absent = set(data.unavailable)
        for e, w in pairs:
            assert e not in absent
            assert by_id[w].category in experts[e].categories
            assert not conflict_reasons(experts[e], by_id[w], rules=data.rules, recusals=data.recusals)
        for e, n in Counter(e for e, _ in pairs).items():
            assert case["capacity"] is None or n <= case["capacity"]
