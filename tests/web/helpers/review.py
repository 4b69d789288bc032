"""A scored round for the chair-console tests: works in two categories, experts, submitted ratings."""
from __future__ import annotations

import numpy as np

from web.core.models import (Assignment, AssignmentStatus, DisseminationCase, Rating, RoundState, Work, utcnow)
from web.rounds.operations import create_round, set_state

CRITERIA = ("thought", "artistry", "production", "innovation")
CASE_CRITERIA = ("theme", "creativity", "reach", "exemplary")


def _rate(session, round_, experts, items, quality, *, field, criteria, per_item, rng):
    for n, item in enumerate(items):
        chosen = [experts[(n + k) % len(experts)] for k in range(per_item)]
        for expert in chosen:
            a = Assignment(round_id=round_.id, expert_id=expert.id, status=AssignmentStatus.submitted,
                           version=1, submitted_at=utcnow(), **{field: item.id})
            session.add(a)
            session.flush()
            for key in criteria:
                value = float(np.clip(np.round((quality[n] + rng.normal(0, 0.5)) * 2) / 2, 0, 10))
                session.add(Rating(assignment_id=a.id, criterion=key, value=value, version=1))


def scored_round(session, make_user, *, key="2025Q1", stage="national", unit=None, works_per_category=None,
                 experts=6, per_work=4, seed=1, state=RoundState.review):
    """A round in ``state`` with every work rated by ``per_work`` experts; returns (round, works, experts)."""
    rng = np.random.default_rng(seed)
    works_per_category = works_per_category or {"网络剧": 8, "网络纪录片": 6}
    people = [make_user(f"ex{seed}_{i}", role="expert") for i in range(experts)]
    round_ = create_round(session=session, key=key, stage=stage, unit=unit, actor="t")
    works = []
    for category, count in works_per_category.items():
        for i in range(count):
            works.append(Work(round_id=round_.id, title=f"{category}作品{i + 1:02d}", title_normalized=f"{category}{i}",
                              category=category, submitter=f"机构{i}", copyright_holder=f"机构{i}", unit="某省局"))
    session.add_all(works)
    session.flush()
    quality = np.linspace(9.5, 5.0, len(works))
    _rate(session, round_, people, works, quality, field="work_id", criteria=CRITERIA, per_item=per_work, rng=rng)
    for target in ("intake", "scoring", "review", "signed"):
        if round_.state == state:
            break
        set_state(session=session, round_=round_, state=target, actor="t")
    session.commit()
    return round_, works, people


def scored_cases(session, make_user, *, year=2025, qualities=(9.0, 8.4, 7.0, 5.5), seed=3):
    """A dissemination-case round in review whose cases have the given true qualities."""
    rng = np.random.default_rng(seed)
    people = [make_user(f"cx{seed}_{i}", role="expert") for i in range(4)]
    round_ = create_round(session=session, key=f"{year}-传播案例", actor="t")
    cases = [DisseminationCase(round_id=round_.id, name=f"传播案例{i + 1}", unit="某台") for i in range(len(qualities))]
    session.add_all(cases)
    session.flush()
    _rate(session, round_, people, cases, list(qualities), field="case_id", criteria=CASE_CRITERIA,
          per_item=4, rng=rng)
    for target in ("intake", "scoring", "review"):
        set_state(session=session, round_=round_, state=target, actor="t")
    session.commit()
    return round_, cases, people


def rerate(session, work_id: int, value: float) -> Assignment:
    """The first form of a work rated again at version 2, every criterion at ``value`` (as a
    reopened and resubmitted form leaves it), committed: the round's ratings have changed."""
    from sqlmodel import select

    form = session.exec(select(Assignment).where(Assignment.work_id == work_id)).first()
    form.version = 2
    session.add(form)
    session.add_all(Rating(assignment_id=form.id, criterion=c, value=value, version=2) for c in CRITERIA)
    session.commit()
    return form
