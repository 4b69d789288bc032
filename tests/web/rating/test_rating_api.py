"""``/api/v1/assignments``: saves with versions and idempotency keys, submit, recuse, reopen,
every status code of the contract, and blindness of every expert-facing answer."""
from __future__ import annotations

import pytest
from sqlmodel import select

from helpers.rating import FULL, SECRETS, scoring_scene, token
from web.core.models import AuditEvent, Conflict, Rating, RoundState


@pytest.fixture
def scene(session, make_user):
    return scoring_scene(session, make_user)


def _put(client, headers, assignment_id, body, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.put(f"/api/v1/assignments/{assignment_id}/scores", json=body, headers={**headers, **extra})


def _blind(response) -> None:
    text = response.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked in {response.status_code} {text[:200]}"


def test_list_is_blind_and_carries_criteria(client, scene):
    auth = token(client)
    response = client.get("/api/v1/assignments", headers=auth)
    assert response.status_code == 200
    rows = response.get_json()
    assert sorted(r["id"] for r in rows) == sorted(a.id for a in scene.mine)
    assert rows[0]["status"] == "pending" and rows[0]["version"] == 0 and rows[0]["scores"] == {}
    assert [c["key"] for c in rows[0]["criteria"]] == ["thought", "artistry", "production", "innovation"]
    assert {"title", "category", "synopsis", "url"} <= set(rows[0]["work"])
    assert not {"submitter", "unit", "copyright_holder", "province"} & set(rows[0]["work"])
    _blind(response)


def test_save_sets_named_criteria_and_keeps_the_others(client, session, scene):
    auth, a = token(client), scene.mine[0]
    first = _put(client, auth, a.id, {"scores": {"thought": 8, "artistry": 7.5}, "version": 0})
    assert first.status_code == 200 and first.get_json() == {"version": 1}
    second = _put(client, auth, a.id, {"scores": {"thought": 9}, "comment": "节奏好", "version": 1})
    assert second.get_json() == {"version": 2}
    row = next(r for r in client.get("/api/v1/assignments", headers=auth).get_json() if r["id"] == a.id)
    assert row["scores"] == {"thought": 9, "artistry": 7.5} and row["version"] == 2
    assert row["status"] == "in_progress"
    history = session.exec(select(Rating).where(Rating.assignment_id == a.id)).all()
    assert sorted((r.version, r.criterion, r.value) for r in history) == [
        (1, "artistry", 7.5), (1, "thought", 8.0), (2, "artistry", 7.5), (2, "thought", 9.0)]


def test_idempotency_key_answers_the_first_answer_and_applies_once(client, session, scene):
    auth, a = token(client), scene.mine[0]
    body = {"scores": {"thought": 8}, "version": 0}
    assert _put(client, auth, a.id, body, key="k-1").get_json() == {"version": 1}
    again = _put(client, auth, a.id, body, key="k-1")
    assert again.status_code == 200 and again.get_json() == {"version": 1}
    assert _put(client, auth, a.id, {"scores": {"thought": 9}, "version": 1}, key="k-2").get_json() == {"version": 2}
    # A late retry of the first save still answers version 1 and changes nothing.
    assert _put(client, auth, a.id, body, key="k-1").get_json() == {"version": 1}
    versions = {r.version for r in session.exec(select(Rating).where(Rating.assignment_id == a.id))}
    assert versions == {1, 2}
    reused = _put(client, auth, scene.mine[1].id, body, key="k-1")
    assert reused.status_code == 422 and reused.get_json()["error"] == "idempotency_key_reused"


def test_a_first_save_with_only_a_comment_is_a_new_version_not_a_500(client, session, scene):
    """Found by schemathesis: an empty insert of ratings failed on the NOT NULL column."""
    assignment = scene.mine[0]
    response = _put(client, token(client), assignment.id, {"version": 0, "comment": "先看完再打分"})
    assert response.status_code == 200 and response.get_json() == {"version": 1}
    assert session.exec(select(Rating).where(Rating.assignment_id == assignment.id)).all() == []


def test_stale_version_is_409_with_the_current_values(client, scene):
    auth, a = token(client), scene.mine[0]
    _put(client, auth, a.id, {"scores": {"thought": 8}, "comment": "平板一", "version": 0})
    stale = _put(client, auth, a.id, {"scores": {"thought": 5}, "version": 0})
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "stale_version" and body["version"] == 1
    assert body["scores"] == {"thought": 8} and body["comment"] == "平板一"
    _blind(stale)


@pytest.mark.parametrize("scores, criterion, fragment", [
    ({"thought": 10.5}, "thought", "0 to 10 in steps of 0.5"),
    ({"artistry": 7.3}, "artistry", "0 to 10 in steps of 0.5"),
    ({"production": -1}, "production", "0 to 10"),
    ({"innovation": "9"}, "innovation", "not a number"),
    ({"humour": 5}, "humour", "Unknown criterion"),
])
def test_invalid_values_are_422_naming_the_criterion(client, session, scene, scores, criterion, fragment):
    auth, a = token(client), scene.mine[0]
    response = _put(client, auth, a.id, {"scores": {"thought": 8, **scores}, "version": 0})
    assert response.status_code == 422
    body = response.get_json()
    assert body["criterion"] == criterion and fragment in body["message"]
    assert session.exec(select(Rating).where(Rating.assignment_id == a.id)).all() == [], "nothing half-written"
    _blind(response)


@pytest.mark.parametrize("body, code", [
    ({"scores": {"thought": 8}}, "invalid_version"),
    ({"scores": [8], "version": 0}, "invalid_scores"),
    ({"scores": {}, "version": 0, "confidence": 2}, "invalid_confidence"),
    ({"scores": {}, "version": 0, "highlights": ["cats"]}, "unknown_highlight"),
    ("not an object", "bad_body"),
])
def test_malformed_bodies_are_422(client, scene, body, code):
    response = _put(client, token(client), scene.mine[0].id, body)
    assert response.status_code == 422 and response.get_json()["error"] == code


def test_someone_elses_assignment_is_404_and_a_chair_is_403(client, make_user, scene):
    auth = token(client)
    response = _put(client, auth, scene.other.id, {"scores": {"thought": 8}, "version": 0})
    assert response.status_code == 404
    _blind(response)
    assert _put(client, auth, 999999, {"scores": {}, "version": 0}).status_code == 404
    assert client.post(f"/api/v1/assignments/{scene.other.id}/submit", headers=auth).status_code == 404
    make_user("chair", role="chair")
    chair = token(client, "chair")
    assert _put(client, chair, scene.mine[0].id, {"scores": {"thought": 8}, "version": 0}).status_code == 403
    assert client.get("/api/v1/assignments", headers=chair).status_code == 403
    assert client.put(f"/api/v1/assignments/{scene.mine[0].id}/scores", json={}).status_code == 401


def test_submit_needs_every_criterion_then_locks_with_423(client, session, scene):
    auth, a = token(client), scene.mine[0]
    _put(client, auth, a.id, {"scores": {"thought": 8}, "version": 0})
    incomplete = client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth)
    assert incomplete.status_code == 422
    assert incomplete.get_json()["missing"] == ["artistry", "production", "innovation"]
    _put(client, auth, a.id, {"scores": FULL, "version": 1})
    done = client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth)
    assert done.status_code == 200 and done.get_json()["status"] == "submitted"
    locked = _put(client, auth, a.id, {"scores": {"thought": 9}, "version": 2})
    assert locked.status_code == 423 and locked.get_json()["error"] == "submitted"
    assert client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth).status_code == 423
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.submitted")).one()


def test_round_not_in_scoring_is_423(client, session, scene):
    auth = token(client)
    scene.round.state = RoundState.review
    session.add(scene.round)
    session.commit()
    response = _put(client, auth, scene.mine[0].id, {"scores": {"thought": 8}, "version": 0})
    assert response.status_code == 423 and response.get_json()["error"] == "round_closed"


def test_recuse_keeps_scores_records_a_conflict_and_locks(client, session, scene):
    auth, a = token(client), scene.mine[1]
    _put(client, auth, a.id, {"scores": {"thought": 6}, "version": 0})
    empty = client.post(f"/api/v1/assignments/{a.id}/recuse", json={"reason": "  "}, headers=auth)
    assert empty.status_code == 422 and empty.get_json()["error"] == "reason_required"
    done = client.post(f"/api/v1/assignments/{a.id}/recuse", json={"reason": "曾在出品方任职"}, headers=auth)
    assert done.status_code == 200 and done.get_json() == {"status": "recused"}
    conflict = session.exec(select(Conflict).where(Conflict.work_id == a.work_id)).one()
    assert (conflict.kind, conflict.reason) == ("recused", "曾在出品方任职")
    assert session.exec(select(Rating).where(Rating.assignment_id == a.id)).all(), "scores are kept"
    row = next(r for r in client.get("/api/v1/assignments", headers=auth).get_json() if r["id"] == a.id)
    assert row["status"] == "recused" and row["scores"] == {"thought": 6}
    assert _put(client, auth, a.id, {"scores": {"thought": 7}, "version": 1}).status_code == 423
    assert client.post(f"/api/v1/assignments/{a.id}/recuse", json={"reason": "再次"}, headers=auth).status_code == 423
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.recused")).one()
    assert event.detail["reason"] == "曾在出品方任职"


def test_reopen_only_when_the_chair_allows_it(client, make_user, scene):
    auth, a = token(client), scene.mine[2]
    _put(client, auth, a.id, {"scores": FULL, "version": 0})
    client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth)
    refused = client.post(f"/api/v1/assignments/{a.id}/reopen", headers=auth)
    assert refused.status_code == 423 and refused.get_json()["error"] == "reopen_not_allowed"
    assert client.post(f"/api/v1/assignments/{a.id}/allow-reopen", headers=auth).status_code == 403
    make_user("chair", role="chair")
    chair = token(client, "chair")
    assert client.post(f"/api/v1/assignments/{a.id}/allow-reopen", headers=chair).status_code == 200
    assert client.post(f"/api/v1/assignments/{a.id}/reopen", headers=auth).get_json()["status"] == "in_progress"
    assert _put(client, auth, a.id, {"scores": {"thought": 9}, "version": 1}).get_json() == {"version": 2}
    assert client.post(f"/api/v1/assignments/{a.id}/reopen", headers=auth).status_code == 423


def test_openapi_documents_the_endpoints(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    put = paths["/assignments/{assignment_id}/scores"]["put"]
    assert set(put["responses"]) >= {"200", "409", "422", "403", "404", "423"}
    assert "post" in paths["/assignments/{assignment_id}/submit"]
    assert "post" in paths["/assignments/{assignment_id}/recuse"]
