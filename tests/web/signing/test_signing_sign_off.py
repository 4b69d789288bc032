"""One owner of a round's state (issue 19 item 7): ``signed`` is reached only through the chair's
sealed sign-off. The command line, the admin page and the API refuse it with a message that
points to the sign-off; the page no longer offers it; the sealed sign-off returns the audit
anchor; re-opening works on every signed round, also one signed around the chair by an older
version (today an IndexError)."""
from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import select

from helpers.review import scored_round
from testkit import PASSWORD, csrf_token
from web.core.audit import read_head
from web.core.models import AuditEvent, ResultVersion, Round, RoundState
from helpers.api import bearer

KEY = "2025Q1"


@pytest.fixture
def in_review(session, make_user):
    round_, _works, _experts = scored_round(session, make_user)
    return round_


@pytest.fixture
def admin(client, make_user):
    make_user("sec", role="admin")
    return bearer(client, "sec")


def state_of(session, key=KEY) -> str:
    session.expire_all()
    return session.exec(select(Round).where(Round.key == key)).one().state.value


def signed_events(session) -> list[AuditEvent]:
    session.expire_all()
    return [e for e in session.exec(select(AuditEvent).where(AuditEvent.action == "round.state"))
            if e.detail.get("to") == "signed"]


def test_the_command_line_refuses_signed_and_points_to_the_sign_off(app, runner, session, in_review):
    result = runner.invoke(args=["round", "set-state", KEY, "signed"])
    assert result.exit_code == 1
    assert "only through the chair's sign-off" in result.output
    assert f"/review/{KEY}/shortlist" in result.output and f"/api/v1/rounds/{KEY}/shortlist/signoff" in result.output
    assert state_of(session) == "review" and signed_events(session) == []


def test_the_admin_page_refuses_signed_and_no_longer_offers_it(client, session, make_user, login, in_review):
    make_user("sec", role="admin")
    login("sec")
    page = client.get("/admin/rounds").get_data(as_text=True)
    assert 'value="signed"' not in page, "the page offers no way to signed"
    assert "签署由评审组组长在复核页面完成" in page and f"/review/{KEY}/shortlist" in page
    response = client.post(f"/admin/rounds/{KEY}/state", data={"state": "signed", "csrf_token": csrf_token(client, "/admin/rounds")},
                           follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "只能由评审组组长签署产生" in body and f"/review/{KEY}/shortlist" in body
    assert state_of(session) == "review" and signed_events(session) == []


def test_the_api_changes_states_but_refuses_signed(client, session, admin, in_review):
    url = f"/api/v1/rounds/{KEY}/state"
    refused = client.post(url, json={"state": "signed"}, headers=admin)
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["error"] == "sign_off_required" and f"POST /api/v1/rounds/{KEY}/shortlist/signoff" in body["message"]
    assert "组长" in body["message_zh"]
    assert state_of(session) == "review" and signed_events(session) == []
    assert client.post(url, json={"state": "scoring"}, headers=admin).get_json()["error"] == "reason_required"
    assert client.post(url, json={"state": "closed"}, headers=admin).status_code == 422
    assert client.post(url, json=["scoring"], headers=admin).status_code == 422
    assert client.post(url, json={"state": "scoring", "reason": 7}, headers=admin).status_code == 422
    back = client.post(url, json={"state": "scoring", "reason": "复核发现评分遗漏"}, headers=admin)
    assert back.status_code == 200 and back.get_json() == {"round": KEY, "from": "review", "state": "scoring"}
    assert client.post("/api/v1/rounds/2099Q1/state", json={"state": "intake"}, headers=admin).status_code == 404


def test_only_an_admin_changes_a_state_through_the_api(client, session, make_user, in_review):
    make_user("chair1", role="chair")
    response = client.post(f"/api/v1/rounds/{KEY}/state", json={"state": "scoring", "reason": "x"},
                           headers=bearer(client, "chair1"))
    assert response.status_code == 403 and state_of(session) == "review"


def test_the_chairs_sign_off_still_signs_and_returns_the_audit_anchor(client, session, make_user, in_review):
    make_user("chair1", role="chair")
    signed = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                         headers=bearer(client, "chair1"))
    assert signed.status_code == 201
    anchor = signed.get_json()["audit_anchor"]
    session.expire_all()
    version = session.exec(select(ResultVersion)).one()
    head = read_head(session)
    assert anchor == version.audit_anchor == f"{head.events}:{head.last_hash}"
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.action == "shortlist.signed" and last.hash == head.last_hash
    assert state_of(session) == "signed"


@pytest.mark.parametrize("history", ["never sealed", "sealed, re-opened, then signed around the chair"])
def test_reopening_works_on_a_round_signed_without_a_snapshot(client, session, make_user, admin, in_review, history):
    if history != "never sealed":
        make_user("chair1", role="chair")
        chair = bearer(client, "chair1")
        assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                           headers=chair).status_code == 201
        assert client.post(f"/api/v1/rounds/{KEY}/reopen", json={"reason": "复核"}, headers=admin).status_code == 200
    # what the admin page and `round set-state KEY signed` could do before this version
    session.execute(text("UPDATE round SET state = 'signed' WHERE key = :k"), {"k": KEY})
    session.commit()
    reopened = client.post(f"/api/v1/rounds/{KEY}/reopen", json={"reason": "签署未经组长封存，退回复核"}, headers=admin)
    assert reopened.status_code == 200, reopened.get_data(as_text=True)
    assert reopened.get_json() == {"round": KEY, "state": "review", "reopened_version": None}
    assert state_of(session) == "review"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist.reopened")
                         .order_by(AuditEvent.id.desc())).first()
    assert event.detail["version"] is None and event.detail["sealed_version"] is False
    versions = session.exec(select(ResultVersion)).all()
    assert all(v.reopen_reason in (None, "复核") for v in versions), "an earlier re-opening keeps its own reason"


def test_reopening_on_the_page_works_on_a_round_signed_without_a_snapshot(client, session, make_user, login,
                                                                           in_review):
    session.execute(text("UPDATE round SET state = 'signed' WHERE key = :k"), {"k": KEY})
    session.commit()
    make_user("sec", role="admin")
    login("sec")
    token = csrf_token(client, f"/review/{KEY}/shortlist")
    response = client.post(f"/review/{KEY}/reopen", data={"reason": "退回复核", "csrf_token": token})
    assert response.status_code == 303 and state_of(session) == "review"

