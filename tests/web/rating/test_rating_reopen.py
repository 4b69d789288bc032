"""The chair's "allow reopen" button on the work drill-down (/review/<key>/works/<id>): shown for
submitted ratings while the round is scoring, a CSRF-protected POST, audited; refused when the
round is not scoring, when the form is not submitted, and for anyone but the chair or admin."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlmodel import Session, select

from helpers.rating import FULL, scoring_scene, token
from testkit import browser_log_in
from web.core.models import Assignment, AuditEvent, Round, RoundState

KEY = "2025Q1"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _fresh(app, model, ident):
    with Session(app.extensions["tuiyou.engine"]) as db:
        return db.get(model, ident)


def _events(app, kind: str) -> list[AuditEvent]:
    with Session(app.extensions["tuiyou.engine"]) as db:
        return list(db.exec(select(AuditEvent).where(AuditEvent.action == kind)))


@pytest.fixture
def scene(app, client, session, make_user):
    """zhang submitted his first work; li's rating of the same work is still pending."""
    scene = scoring_scene(session, make_user, works=2)
    auth = token(client)
    first = scene.mine[0].id
    assert client.put(f"/api/v1/assignments/{first}/scores", json={"scores": FULL, "version": 0},
                      headers=auth).status_code == 200
    assert client.post(f"/api/v1/assignments/{first}/submit", headers=auth).status_code == 200
    make_user("chair1", role="chair", display_name="李组长")
    return scene


def _url(scene, assignment) -> str:
    return f"/review/{KEY}/works/{scene.works[0].id}/ratings/{assignment.id}/allow-reopen"


def test_the_chair_allows_a_reopen_from_the_work_page(app, client, login, scene):
    login("chair1")
    page = client.get(f"/review/{KEY}/works/{scene.works[0].id}").get_data(as_text=True)
    # one button: zhang's submitted rating, not li's pending one
    assert page.count("data-allow-reopen") == 1 and _url(scene, scene.mine[0]) in page
    # one expert submitted: no rater effect can be estimated, so the raw mean, and the page says why
    assert 'data-method-used="raw"' in page and 'data-reason-code="one_rater"' in page
    assert _url(scene, scene.other) not in page

    assert client.post(_url(scene, scene.mine[0])).status_code == 400, "no CSRF token, no change"
    assert not _fresh(app, Assignment, scene.mine[0].id).reopen_allowed

    answer = client.post(_url(scene, scene.mine[0]), data={"csrf_token": _csrf(page)})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(
        f"/review/{KEY}/works/{scene.works[0].id}#rating-{scene.mine[0].id}")
    assert _fresh(app, Assignment, scene.mine[0].id).reopen_allowed
    [event] = _events(app, "assignment.reopen_allowed")
    assert event.actor == "chair1" and event.subject == f"assignment:{scene.mine[0].id}"
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "已允许该专家重新打开评分表一次" in after and "data-reopen-allowed" in after
    assert "data-allow-reopen" not in after

    # the expert can now reopen, once
    auth = token(client)
    assert client.post(f"/api/v1/assignments/{scene.mine[0].id}/reopen", headers=auth).status_code == 200
    assert client.post(f"/api/v1/assignments/{scene.mine[0].id}/reopen", headers=auth).status_code == 423


def test_a_form_not_submitted_is_refused(app, client, login, scene):
    login("chair1")
    page = client.get(f"/review/{KEY}/works/{scene.works[0].id}").get_data(as_text=True)
    answer = client.post(_url(scene, scene.other), data={"csrf_token": _csrf(page)})
    assert answer.status_code == 303
    assert "只有已提交的评分表可以允许重新打开" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert not _fresh(app, Assignment, scene.other.id).reopen_allowed
    assert _events(app, "assignment.reopen_allowed") == []


def test_a_round_not_in_scoring_is_refused(app, client, login, scene, session):
    login("chair1")
    page = client.get(f"/review/{KEY}/works/{scene.works[0].id}").get_data(as_text=True)
    round_ = session.get(Round, scene.round.id)
    round_.state = RoundState.review
    session.add(round_)
    session.commit()
    later = client.get(f"/review/{KEY}/works/{scene.works[0].id}").get_data(as_text=True)
    assert "data-allow-reopen" not in later, "no button once the round left scoring"
    answer = client.post(_url(scene, scene.mine[0]), data={"csrf_token": _csrf(page)})
    assert answer.status_code == 303
    assert f"轮次 {KEY} 不在评分阶段" in client.get(answer.headers["Location"]).get_data(as_text=True)
    assert not _fresh(app, Assignment, scene.mine[0].id).reopen_allowed
    assert _events(app, "assignment.reopen_allowed") == []


def test_only_the_chair_or_admin_may_allow(app, client, login, make_user, scene):
    login("zhang")
    page = client.get("/").get_data(as_text=True)
    assert client.post(_url(scene, scene.mine[0]), data={"csrf_token": _csrf(page)}).status_code == 403
    assert not _fresh(app, Assignment, scene.mine[0].id).reopen_allowed
    client.post("/logout", data={"csrf_token": _csrf(page)})
    make_user("admin1", role="admin")
    login("admin1")
    page = client.get(f"/review/{KEY}/works/{scene.works[0].id}").get_data(as_text=True)
    # an assignment of another work (or round) is not found under this work
    wrong = f"/review/{KEY}/works/{scene.works[1].id}/ratings/{scene.mine[0].id}/allow-reopen"
    assert client.post(wrong, data={"csrf_token": _csrf(page)}).status_code == 404
    assert client.post(_url(scene, scene.mine[0]), data={"csrf_token": _csrf(page)}).status_code == 303
    assert _fresh(app, Assignment, scene.mine[0].id).reopen_allowed


@pytest.mark.browser
def test_the_button_in_the_browser(app, live_server, tablet, scene, tmp_path):
    """The chair taps 允许重开 on the drill-down; the row then says it is allowed."""
    page = tablet
    browser_log_in(page, live_server, "chair1", tap=True)
    page.goto(f"{live_server}/review/{KEY}/works/{scene.works[0].id}")
    shots = (Path(__file__).resolve().parents[3] / "docs" / "screenshots"
             if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1" else tmp_path)
    page.screenshot(path=str(shots / "review-allow-reopen.png"), full_page=True)
    page.locator(f"#rating-{scene.mine[0].id} [data-allow-reopen] button").tap()
    page.wait_for_selector(f"#rating-{scene.mine[0].id} [data-reopen-allowed]")
    assert _fresh(app, Assignment, scene.mine[0].id).reopen_allowed
    page.screenshot(path=str(shots / "review-allow-reopen-done.png"), full_page=True)
