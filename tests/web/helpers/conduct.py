"""A small panel with known scores and save times for the conduct review tests (履职评价).

Three experts rate four works of 2025Q1 (every criterion the same value, so a weighted total
equals it); the consensus order is 1 > 2 > 3 > 4. 张专家 scores 9, 8, 7, 6; 李专家 8.5, 7.5,
6, 6.5 and recuses a fifth work; 赵专家 9, 8.5, 10 (10 is 畸高: the others' mean is 6.5) and
leaves work 4 in progress. One of 张专家's submissions comes after the scoring deadline
(2025-04-30 24:00 Beijing time = 16:00 UTC).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from helpers.review import CRITERIA
from web.core.models import Assignment, AssignmentStatus, Rating, Round, RoundState, Work
from web.rating import flags as panel_operations
from web.rounds.operations import create_round, set_state

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 4, 10, 1, 0, tzinfo=UTC)
MIN = dt.timedelta(minutes=1)
DEADLINE = dt.datetime(2025, 4, 30, 16, 0, tzinfo=UTC)
EXPLANATION = "该片的 8K 制作与 AI 辅助修复在同类作品中独一无二，故给高分。"


@dataclass
class ConductPanel:
    round: object
    works: list
    experts: dict  # name → User
    q2: object | None = None


def _assign(session, round_, expert, work, status, values, saves, submitted_at):
    """One assignment; ``saves`` are the times of its versions, every version holding ``values``."""
    a = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work.id, status=status,
                   version=len(saves), submitted_at=submitted_at)
    session.add(a)
    session.flush()
    for version, at in enumerate(saves, start=1):
        session.add_all(Rating(assignment_id=a.id, criterion=c, value=values, version=version, created_at=at)
                        for c in CRITERIA)
    return a


def _works(session, round_, n):
    works = [Work(round_id=round_.id, title=f"山河作品{i + 1}", title_normalized=f"山河作品{i + 1}", category="网络剧",
                  submitter="山河文化", copyright_holder="山河文化") for i in range(n)]
    session.add_all(works)
    session.flush()
    return works


def conduct_panel(session, make_user, *, with_q2: bool = False) -> ConductPanel:
    experts = {name: make_user(user, role="expert", display_name=name)
               for name, user in (("张专家", "zhang"), ("李专家", "li"), ("赵专家", "zhao"))}
    zhang, li, zhao = experts.values()
    round_ = create_round(session=session, key="2025Q1", actor="t")
    for state in ("intake", "scoring"):
        set_state(session=session, round_=round_, state=state, actor="t")
    w = _works(session, round_, 5)
    S, R, P = AssignmentStatus.submitted, AssignmentStatus.recused, AssignmentStatus.in_progress
    _assign(session, round_, zhang, w[0], S, 9.0, [T0], T0 + 5 * MIN)
    _assign(session, round_, zhang, w[1], S, 8.0, [T0 + 8 * MIN, T0 + 14 * MIN], T0 + 20 * MIN)
    _assign(session, round_, zhang, w[2], S, 7.0, [DEADLINE - 3 * MIN], DEADLINE + MIN)  # late
    _assign(session, round_, zhang, w[3], S, 6.0, [T0 + 100 * MIN], T0 + 200 * MIN)  # a break: counts 0
    for work, value, before in ((w[0], 8.5, 4), (w[1], 7.5, 7), (w[2], 6.0, 1), (w[3], 6.5, 2)):
        _assign(session, round_, li, work, S, value, [T0 - before * MIN], T0)
    recused = _assign(session, round_, li, w[4], R, 0.0, [], None)
    recused.recuse_reason = "曾任该片出品方顾问"
    for work, value, before in ((w[0], 9.0, 3), (w[1], 8.5, 2), (w[2], 10.0, 9)):
        wild = _assign(session, round_, zhao, work, S, value, [T0 - before * MIN], T0)
    _assign(session, round_, zhao, w[3], P, 6.0, [T0, T0 + 6 * MIN], None)
    session.flush()
    set_state(session=session, round_=round_, state="review", actor="t")  # flags the 畸高 rating
    panel_operations.explain(session=session, expert=zhao, assignment=wild, round_=round_, text=EXPLANATION)
    q2 = None
    if with_q2:
        # 2025Q2: 张专家 submits after Q2's deadline (2025-07-30), 李专家 on time; a 2024 round must not count
        q2 = create_round(session=session, key="2025Q2", actor="t")
        for state in ("intake", "scoring"):
            set_state(session=session, round_=q2, state=state, actor="t")
        v = _works(session, q2, 3)
        late, early = dt.datetime(2025, 8, 2, 2, 0, tzinfo=UTC), dt.datetime(2025, 7, 20, 2, 0, tzinfo=UTC)
        for work, value in zip(v, (8.0, 7.0, 6.0)):
            _assign(session, q2, zhang, work, S, value, [late - 10 * MIN], late)  # 10 minutes each
            _assign(session, q2, li, work, S, value - 0.5, [early - 30 * MIN, early - 25 * MIN], early)  # 5 + 25
        old = Round(key="2024Q4", year=2024, quarter=4, state=RoundState.scoring)  # no 2024 calendar: added as such
        session.add(old)
        session.flush()
        _assign(session, old, li, _works(session, old, 1)[0], P, 7.0, [T0], None)
    session.commit()
    return ConductPanel(round_, w, experts, q2)
