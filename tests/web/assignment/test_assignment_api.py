"""The assignment endpoints of /api/v1: draw (201 with the seed; 422 infeasible with the
numbers; 409 after scoring), the report from the rows, and replacements that keep every
constraint."""
from __future__ import annotations

from collections import Counter

from sqlmodel import select

from helpers.assignment import build_round, live_pairs
from testkit import PASSWORD
from web.api.openapi import undocumented
from web.core.models import User, Assignment, AssignmentStatus, Conflict, RoundState


def _headers(client, make_user, role="chair"):
    make_user("boss", role=role)
    token = client.post("/api/v1/tokens", json={"username": "boss", "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def test_draw_report_and_replacement(app, client, make_user, session):
    assert undocumented(app) == []
    round_ = build_round(session, capacity=30)
    headers = _headers(client, make_user)
    response = client.post("/api/v1/rounds/2025Q1/draws", json={"per_work": 3, "seed": 31}, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["seed"], body["created"], body["kept"]) == (31, 180, 0)
    report = client.get("/api/v1/rounds/2025Q1/assignment-report", headers=headers).get_json()
    rows = session.exec(select(Assignment)).all()
    assert report["assignments"] == len(rows) and report["covered"] == report["works"] == 60
    assert report["draw"]["seed"] == 31
    loads = Counter(a.expert_id for a in rows)
    experts = session.exec(select(User).where(User.role == "expert")).all()
    # small categories are drawn as panels, so some experts of the pool may rate nothing
    assert report["load_histogram"] == {str(k): v for k, v in sorted(Counter(
        loads[e.id] for e in experts).items())}
    first = rows[0]
    first.status = AssignmentStatus.recused
    session.add(Conflict(user_id=first.expert_id, work_id=first.work_id, kind="recused"))
    session.commit()
    candidates = client.get(f"/api/v1/assignments/{first.id}/replacements", headers=headers).get_json()
    assert candidates and [c["load"] for c in candidates] == sorted(c["load"] for c in candidates)
    on_work = {e for e, w in live_pairs(session, round_) if w == first.work_id}
    assert not {c["username"] for c in candidates} & {str(e) for e in on_work}
    bad = client.post(f"/api/v1/assignments/{first.id}/replacement", json={"expert": "boss"}, headers=headers)
    assert bad.status_code == 409 and bad.get_json()["error"] == "refused"
    ok = client.post(f"/api/v1/assignments/{first.id}/replacement",
                     json={"expert": candidates[0]["username"], "reason": "回避替补"}, headers=headers)
    assert ok.status_code == 201 and ok.get_json()["work_id"] == first.work_id


def test_infeasible_refused_and_forbidden(client, make_user, session):
    round_ = build_round(session, experts=5)
    headers = _headers(client, make_user, role="admin")
    response = client.post("/api/v1/rounds/2025Q1/draws", json={"per_work": 5, "seed": 1}, headers=headers)
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "infeasible" and body["category"] in body["message"]
    assert 0 <= body["available"] < body["needed"]
    assert session.exec(select(Assignment)).all() == []
    assert client.post("/api/v1/rounds/2025Q1/draws", json={"seed": "x"}, headers=headers).status_code == 400
    assert client.post("/api/v1/rounds/nope/draws", json={}, headers=headers).status_code == 404
    round_.state = RoundState.signed
    session.add(round_)
    session.commit()
    refused = client.post("/api/v1/rounds/2025Q1/draws", json={"seed": 1}, headers=headers)
    assert refused.status_code == 409 and "intake or scoring" in refused.get_json()["message"]
    make_user("exp", role="expert")
    token = client.post("/api/v1/tokens", json={"username": "exp", "password": PASSWORD}).get_json()["token"]
    assert client.post("/api/v1/rounds/2025Q1/draws", json={}, headers={"Authorization": f"Bearer {token}"}) \
        .status_code == 403
