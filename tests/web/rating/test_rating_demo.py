"""The demo lets experts score at once: half-done and submitted forms, history, a reopenable form."""
from __future__ import annotations

import re

from sqlmodel import select

from seed.demo import DEMO_PASSWORD
from web.core.models import Assignment, AssignmentStatus, Conflict, HighlightTag, Rating, User
from web.rating.queries import assignment_scores


def test_demo_has_half_done_and_submitted_forms_an_expert_can_open(demo, app, client, session):
    assignments = session.exec(select(Assignment)).all()
    half = [a for a in assignments if a.status == AssignmentStatus.in_progress
            and len(assignment_scores(session=session, assignment=a)) == 2]
    assert half and all(a.version == 2 for a in half)
    history = session.exec(select(Rating).where(Rating.assignment_id == half[0].id, Rating.version == 1)).all()
    assert len(history) == 1, "version 1 of a half-done form held one criterion"
    assert any(a.status == AssignmentStatus.submitted for a in assignments)
    assert sum(a.reopen_allowed for a in assignments) == 1
    assert session.exec(select(HighlightTag)).first() is not None
    expert = half[0].expert_id
    username = session.get(User, expert).username
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})
    home = client.get("/").get_data(as_text=True)
    assert f'data-assignment-id="{half[0].id}"' in home
    form = client.get(f"/assignments/{half[0].id}").get_data(as_text=True)
    assert form.count('aria-pressed="true"') >= 2 and 'data-editable="true"' in form

    # expert01's 回避申报 page shows a declared work, which is none of their assignments
    declared = session.exec(select(Conflict).where(Conflict.work_id.is_not(None), Conflict.kind == "declared")).one()
    first = session.exec(select(User).where(User.username == "expert01")).one()
    assert declared.user_id == first.id and declared.work_id not in {
        a.work_id for a in assignments if a.expert_id == first.id}
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "expert01", "password": DEMO_PASSWORD, "csrf_token": token})
    assert "曾担任该剧的文学顾问" in client.get("/me/conflicts").get_data(as_text=True)


def test_cli_allows_reopen_and_shows_progress(app, runner, client, session, make_user):
    from helpers.rating import FULL, scoring_scene, token

    scene = scoring_scene(session, make_user, works=2)
    make_user("chair", role="chair")
    auth, a = token(client), scene.mine[0]
    client.put(f"/api/v1/assignments/{a.id}/scores", json={"scores": FULL, "version": 0}, headers=auth)
    refused = runner.invoke(args=["rating", "allow-reopen", str(a.id), "--by", "chair"])
    assert refused.exit_code != 0 and "Only a submitted form" in refused.output
    client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth)
    assert runner.invoke(args=["rating", "allow-reopen", str(a.id), "--by", "zhang"]).exit_code != 0
    done = runner.invoke(args=["rating", "allow-reopen", str(a.id), "--by", "chair"])
    assert done.exit_code == 0, done.output
    assert client.post(f"/api/v1/assignments/{a.id}/reopen", headers=auth).status_code == 200
    shown = runner.invoke(args=["rating", "progress", "zhang"])
    assert "zhang: 0 / 2 submitted" in shown.output and "in_progress=1" in shown.output
