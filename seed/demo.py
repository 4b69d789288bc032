"""A realistic demo: the 2025 Q1 national round, a few hundred works in all eleven
categories, about twenty experts of different severities, a chair and an admin, with part
of the scoring done. Deterministic for a given seed."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlmodel import Session, select

from scoring.rules.config import load_rules
from web.accounts.operations import create_user
from web.accounts.passwords import hash_password
from web.core.audit import record_event
from web.core.models import (Assignment, AssignmentStatus, Rating, Role, RoundState, SubmitterType,
                        UnitType, Work, utcnow)
from web.assignment.pool import declare_work_conflict
from web.rounds.operations import create_round, set_state

from .demo_conduct import add_conduct_history
from .demo_progress import spread_the_day
from .demo_rating import add_rating_demo
from .demo_review import build_review_demo
from .demo_panel import build_panel_demo
from .demo_assignment import assign_demo
from .names import EXPERTS, PLATFORMS, PROVINCES, CENTRAL_UNITS, make_title, synopsis_for

DEMO_PASSWORD = "tuiyou-demo"
WORKS_PER_CATEGORY = {  # roughly the mix of a real national quarter
    "网络纪录片": 45, "网络综艺节目": 28, "网络动画片": 18, "网络剧": 30, "网络电影": 26,
    "网络微短剧": 32, "网络微电影": 16, "网络直播节目": 18, "网络音频节目": 15,
    "短视频": 42, "网络公益短片": 14,
}

PROVINCIAL_KEY = "2025Q1-浙江"
PROVINCIAL_WORKS = {"网络剧": 4, "网络纪录片": 4, "网络微短剧": 4, "短视频": 4}


@dataclass
class DemoSummary:
    round_key: str
    works: int
    experts: int
    assignments: int
    submitted: int
    logins: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return (f"round {self.round_key}: {self.works} works in 11 categories, {self.experts} experts, "
                f"{self.assignments} assignments, {self.submitted} scored")


def _works(rng: np.random.Generator, round_id: int, window: tuple[dt.date, dt.date],
           counts: dict[str, int] = WORKS_PER_CATEGORY, province: str | None = None) -> list[Work]:
    """Plausible entries; with ``province`` all come from that province's bureau (a provincial round)."""
    rules = load_rules()
    works, days, used = [], (window[1] - window[0]).days, set()
    for category_name, count in counts.items():
        category = rules.category(category_name)
        for index in range(count):
            central = province is None and rng.random() < 0.25
            unit = CENTRAL_UNITS[rng.integers(len(CENTRAL_UNITS))] if central else \
                (province or PROVINCES[rng.integers(len(PROVINCES))]) + "广播电视局"
            first = window[0] + dt.timedelta(days=int(rng.integers(0, days - 10)))
            title = make_title(rng, category_name, index, used)
            submitter = f"{title[:2]}文化传媒有限公司" if rng.random() < 0.9 else "个人创作者"
            episodes = None if category_name in ("网络电影", "网络微电影", "网络公益短片", "短视频") \
                else int(rng.integers(6, 40))
            works.append(Work(
                round_id=round_id, title=title, title_normalized=title, category=category_name,
                submitter=submitter,
                submitter_type=SubmitterType.individual if submitter == "个人创作者" else SubmitterType.organisation,
                unit=unit, unit_type=UnitType.central if central else UnitType.province,
                platform=PLATFORMS[rng.integers(len(PLATFORMS))],
                first_broadcast=first,
                last_broadcast=min(first + dt.timedelta(days=int(rng.integers(0, 30))), window[1]),
                license_no=(f"（{'京沪浙粤川湘'[rng.integers(6)]}）网剧审字（2025）第{rng.integers(1, 999):03d}号"
                            if category.license_required else None),
                copyright_holder=submitter, uhd=bool(rng.random() < 0.15),
                aigc=bool(rng.random() < 0.05), single_episode=bool(rng.random() < 0.1),
                episodes=episodes, duration_min=float(rng.integers(3, 120)),
                synopsis=synopsis_for(rng, category_name), url=f"https://example.org/works/{len(works) + 1}"))
    return works


def _declare_a_work(session: Session, *, expert, round_) -> None:
    """The first expert declares a conflict with one work of the round not assigned to them."""
    mine = select(Assignment.work_id).where(Assignment.round_id == round_.id, Assignment.expert_id == expert.id)
    work = session.exec(select(Work).where(Work.round_id == round_.id, Work.id.not_in(mine))
                        .order_by(Work.id)).first()
    declare_work_conflict(session=session, expert=expert, work=work, actor=expert.username,
                          reason="曾担任该剧的文学顾问")
    session.commit()


def build_demo(session: Session, *, seed: int = 2025) -> DemoSummary:
    """Fill an empty, migrated database with the demo and commit it."""
    rng = np.random.default_rng(seed)
    rules = load_rules()
    criteria = rules.criteria_sets["works"].criteria
    logins = []
    shared = hash_password(DEMO_PASSWORD)  # one password for every demo login: hashed once, not 22 times
    admin = create_user(session=session, username="admin", password=DEMO_PASSWORD, role=Role.admin,
                        display_name="总局推优办 王秘书", password_hash=shared)
    create_user(session=session, username="chair", password=DEMO_PASSWORD, role=Role.chair,
                display_name="评审组组长 李教授", password_hash=shared)
    logins += ["admin (管理员)", "chair (评审组组长)"]
    experts = []
    for index, (name, org, province, expertise) in enumerate(EXPERTS, start=1):
        experts.append(create_user(session=session, username=f"expert{index:02d}", password=DEMO_PASSWORD,
                                   role=Role.expert, display_name=name, organisation=org,
                                   province=province, categories=expertise, password_hash=shared))
    logins.append(f"expert01 … expert{len(experts):02d} (评审专家)")
    session.flush()

    round_ = create_round(session=session, key="2025Q1", stage="national", actor=admin.username)
    quarter = rules.calendar(2025).quarter("Q1")
    works = _works(rng, round_.id, (quarter.broadcast_start, quarter.broadcast_end))
    session.add_all(works)
    set_state(session=session, round_=round_, state=RoundState.intake, actor=admin.username)
    session.flush()
    create_round(session=session, key="2025Q2", stage="national", actor=admin.username)
    # A provincial first review choosing what to forward (at most half, section 四).
    provincial = create_round(session=session, key=PROVINCIAL_KEY, stage="provincial", unit="浙江省广播电视局",
                              actor=admin.username)
    session.add_all(_works(rng, provincial.id, (quarter.broadcast_start, quarter.broadcast_end),
                           counts=PROVINCIAL_WORKS, province="浙江省"))
    for state in (RoundState.intake, RoundState.scoring, RoundState.review):
        set_state(session=session, round_=provincial, state=state, actor=admin.username)

    severity = {e.id: rng.normal(0, 0.8) for e in experts}
    spread = {e.id: float(np.exp(rng.normal(0, 0.25))) for e in experts}
    quality = {work.id: rng.normal(7.0, 1.0) for work in works}
    assignments = assign_demo(session, round_, actor=admin.username)  # the product's seeded draw
    set_state(session=session, round_=round_, state=RoundState.scoring, actor=admin.username)
    session.flush()

    submitted = 0
    step = criteria[0].step
    for assignment in assignments:
        roll = rng.random()
        if roll > 0.7:
            continue  # not started yet
        expert = assignment.expert_id
        values = {}
        for criterion in criteria:
            true = quality[assignment.work_id] + rng.normal(0, 0.4)
            raw = 7.0 + spread[expert] * (true - 7.0) + severity[expert] + rng.normal(0, 0.6)
            values[criterion.key] = float(np.clip(np.round(raw / step) * step, criterion.min, criterion.max))
        assignment.version = 1
        assignment.status = AssignmentStatus.submitted if roll < 0.6 else AssignmentStatus.in_progress
        if assignment.status == AssignmentStatus.submitted:
            assignment.submitted_at = utcnow()
            submitted += 1
        session.add(assignment)
        session.add_all(Rating(assignment_id=assignment.id, criterion=key, value=value, version=1)
                        for key, value in values.items())
    add_rating_demo(session, round_=round_, seed=seed)
    record_event(session, "demo.built", actor="demo", round_id=round_.id,
                 detail={"seed": seed, "works": len(works), "assignments": len(assignments)})
    session.commit()
    build_review_demo(session, rng=rng, works_factory=_works, password=DEMO_PASSWORD)  # the chair console's rounds
    build_panel_demo(session, password=DEMO_PASSWORD)  # members' signatures, abnormal ratings, the annual round
    add_conduct_history(session, seed=seed)  # saves and submissions over each round's scoring window (履职评价)
    _declare_a_work(session, expert=experts[0], round_=round_)  # expert01's 回避申报 page shows one
    spread_the_day(session, round_=round_, seed=seed)  # the progress board's day: recent saves, a few idle experts
    return DemoSummary(round_.key, len(works), len(experts), len(assignments), submitted, logins)
