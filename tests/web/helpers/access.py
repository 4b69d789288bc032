"""The world the access-control table is checked in, and how each route is called.

Five callers: nobody, the expert who owns assignment A, another expert, the chair, the admin.
Pages are called with a session cookie, ``/api/`` with a bearer token. CSRF is off here (it
is checked separately), so every POST reaches the access check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import select

from testkit import PASSWORD
from web.core.models import Assignment, AssignmentStatus, Rating, Round, RoundState, Work
from web.rounds.operations import create_round, set_state

ROLES = ("anonymous", "expert", "other_expert", "chair", "admin")
USERS = {"expert": ("exp_owner", "expert"), "other_expert": ("exp_other", "expert"),
         "chair": ("chair_one", "chair"), "admin": ("admin_one", "admin")}


@dataclass
class World:
    round_key: str
    assignment_id: int
    other_assignment_id: int
    work_id: int


def build_world(session, make_user) -> World:
    """A round in scoring with one work per expert, each half scored."""
    users = {role: make_user(name, role=kind, categories=["网络剧"]) for role, (name, kind) in USERS.items()}
    round_ = create_round(session=session, key="2025Q1", actor="t")
    for state in ("intake", "scoring"):
        set_state(session=session, round_=round_, state=state, actor="t")
    works = [Work(round_id=round_.id, title=f"山河人间{i}", category="网络剧", submitter="山河文化传媒有限公司",
                  copyright_holder="山河文化", synopsis="简介", episodes=12) for i in range(2)]
    session.add_all(works)
    session.flush()
    mine = Assignment(round_id=round_.id, expert_id=users["expert"].id, work_id=works[0].id, version=1,
                      status=AssignmentStatus.in_progress)
    theirs = Assignment(round_id=round_.id, expert_id=users["other_expert"].id, work_id=works[1].id, version=1,
                        status=AssignmentStatus.in_progress)
    session.add_all([mine, theirs])
    session.flush()
    session.add_all([Rating(assignment_id=a.id, criterion="thought", value=7.0, version=1) for a in (mine, theirs)])
    session.commit()
    return World(round_.key, mine.id, theirs.id, works[0].id)


def concrete(rule: str, world: World) -> str:
    """The rule with its variables filled from the world (an assignment of the owning expert)."""
    values = {"key": world.round_key, "assignment_id": str(world.assignment_id), "entry_id": "999999",
              "item_id": str(world.work_id), "fmt": "csv", "filename": "tuiyou.css", "expert_id": "1",
              "user_id": "1", "work_id": str(world.work_id), "id": str(world.assignment_id)}

    def fill(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        return values.get(name, "1")

    return re.sub(r"<([^>]+)>", fill, rule)


def body_for(method: str, rule: str) -> dict:
    """A JSON body the write's model accepts: access is checked first, then the body (a body that
    does not fit is refused, 400 or 422), then whose the assignment is (404 to another expert)."""
    if rule.endswith("/scores"):
        return {"scores": {"thought": 8}, "version": 1}
    if rule.endswith("/tokens"):
        return {"username": "nobody", "password": "wrong password"}
    if "signoff" in rule:
        return {"password": PASSWORD}
    if rule.endswith("/explanation"):
        return {"text": "说明"}
    if rule.endswith(("/recuse", "/waiver", "/reopen")):
        return {"reason": "测试理由"}
    return {"reason": "测试理由", "included": True}


class Callers:
    """Logged-in test clients per role: a cookie session for pages and a token for the API."""

    def __init__(self, app):
        self.app = app
        self.pages, self.tokens = {}, {}
        for role in ROLES:
            client = app.test_client()
            if role != "anonymous":
                name = USERS[role][0]
                client.post("/login", data={"username": name, "password": PASSWORD})
                answer = app.test_client().post("/api/v1/tokens", json={"username": name, "password": PASSWORD})
                self.tokens[role] = answer.get_json()["token"]
            self.pages[role] = client

    def call(self, role: str, method: str, rule: str, world: World) -> int:
        path = concrete(rule, world)
        client = self.pages[role]
        kwargs = {}
        if path.startswith("/api/"):
            client = self.app.test_client()
            if role in self.tokens:
                kwargs["headers"] = {"Authorization": f"Bearer {self.tokens[role]}"}
            if method in ("POST", "PUT", "DELETE"):
                kwargs["json"] = body_for(method, rule)
        elif method in ("POST", "PUT"):
            if rule.endswith(("/scores", "/recuse")):  # the scoring form's JSON calls
                kwargs["json"] = body_for(method, rule)
            else:
                kwargs["data"] = {"reason": "测试理由", "state": "review", "key": "2025Q9"}
        response = client.open(path, method=method, **kwargs)
        response.close()  # static files hold an open file until closed
        return response.status_code


def scores_of(session, assignment_id: int) -> list[tuple[str, float, int]]:
    """Every stored rating of an assignment (to prove nobody else changed it)."""
    session.expire_all()
    return [(r.criterion, r.value, r.version) for r in
            session.exec(select(Rating).where(Rating.assignment_id == assignment_id).order_by(Rating.id))]


def round_state(session, key: str) -> RoundState:
    session.expire_all()
    return session.exec(select(Round).where(Round.key == key)).one().state
