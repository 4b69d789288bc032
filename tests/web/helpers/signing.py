"""A round in scoring where one work gets a wild rating through the API, for the panel tests."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from helpers.review import CRITERIA, scored_round
from web.core.models import Assignment, AssignmentStatus, RoundState
from helpers.api import bearer

KEY = "2025Q1"


@dataclass
class WildWorld:
    round: object
    works: list
    experts: list
    wild_id: int
    wild_expert: str
    normal_id: int
    normal_expert: str


def wild_rating(client, session, make_user, *, value: float = 4.0, work: int = 0) -> WildWorld:
    """A round in scoring (4 submitted ratings per work) plus a fifth expert who scores ``works[work]`` at ``value``.

    Work 0 is the best (true quality 9.5), the last the weakest (5.0).
    """
    round_, works, experts = scored_round(session, make_user, key=KEY, state=RoundState.scoring)
    late = make_user("wild1", role="expert", display_name="王专家")
    assignment = Assignment(round_id=round_.id, expert_id=late.id, work_id=works[work].id)
    session.add(assignment)
    session.commit()
    headers = bearer(client, "wild1")
    saved = client.put(f"/api/v1/assignments/{assignment.id}/scores", headers=headers,
                       json={"version": 0, "scores": {key: value for key in CRITERIA}})
    assert saved.status_code == 200, saved.get_json()
    submitted = client.post(f"/api/v1/assignments/{assignment.id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.get_json()
    normal = session.exec(select(Assignment).where(Assignment.work_id == works[1].id,
                                                   Assignment.status == AssignmentStatus.submitted)).first()
    normal_expert = next(e.username for e in experts if e.id == normal.expert_id)
    return WildWorld(round_, works, experts, assignment.id, "wild1", normal.id, normal_expert)
