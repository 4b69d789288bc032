"""Abnormal ratings (畸高/畸低): flagged as they arrive and at the move to review, explained by
their author (scores unchanged) or waived by the chair in writing; until then sign-off is 409."""
from __future__ import annotations

import pytest
from sqlmodel import select

from helpers.signing import KEY, bearer, wild_rating
from testkit import PASSWORD, csrf_token
from web.core.models import AbnormalFlag, Assignment, AuditEvent, Rating, Round, RoundState, utcnow
from web.rounds.operations import set_state


@pytest.fixture
def chair(client, make_user):
    make_user("chair1", role="chair", display_name="李组长")
    return bearer(client, "chair1")


def to_review(session):
    round_ = session.exec(select(Round).where(Round.key == KEY)).one()
    set_state(session=session, round_=round_, state="review", actor="t")
    session.commit()
    return round_


def sign(client, chair, **body):
    return client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD, **body}, headers=chair)


def test_a_wild_rating_is_flagged_when_submitted_and_blocks_sign_off_until_explained(client, session, make_user,
                                                                                      chair):
    world = wild_rating(client, session, make_user)
    flags = session.exec(select(AbnormalFlag)).all()
    assert [(f.assignment_id, f.direction, f.active) for f in flags] == [(world.wild_id, "low", True)]
    assert flags[0].total == pytest.approx(4.0) and flags[0].others_n == 4
    listed = client.get(f"/api/v1/rounds/{KEY}/abnormal", headers=chair).get_json()
    assert listed["unexplained"] == [world.wild_id]
    to_review(session)
    refused = sign(client, chair)
    assert refused.status_code == 409
    assert refused.get_json()["error"] == "unexplained_abnormal"
    assert refused.get_json()["unexplained"] == [world.wild_id]
    session.expire_all()
    assert session.exec(select(Round).where(Round.key == KEY)).one().state == RoundState.review

    expert = bearer(client, world.wild_expert)
    before = session.exec(select(Rating).where(Rating.assignment_id == world.wild_id)).all()
    version = session.get(Assignment, world.wild_id).version
    empty = client.post(f"/api/v1/assignments/{world.wild_id}/explanation", json={"text": "  "}, headers=expert)
    assert empty.status_code == 422
    said = client.post(f"/api/v1/assignments/{world.wild_id}/explanation",
                       json={"text": "该片史实错误较多，故各项打低分。"}, headers=expert)
    assert said.status_code == 201, said.get_json()
    assert "others_mean" not in said.get_json()  # nothing of the other experts' scores
    session.expire_all()
    assert session.exec(select(Rating).where(Rating.assignment_id == world.wild_id)).all() == before
    assert session.get(Assignment, world.wild_id).version == version
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "rating.explained")).one().detail["text"] \
        == "该片史实错误较多，故各项打低分。"
    chair_view = client.get(f"/api/v1/rounds/{KEY}/abnormal", headers=chair).get_json()
    assert chair_view["unexplained"] == [] and chair_view["flags"][0]["explanation"].startswith("该片史实")
    signed = sign(client, chair)
    assert signed.status_code == 201, signed.get_json()
    late = client.post(f"/api/v1/assignments/{world.wild_id}/explanation", json={"text": "补充"}, headers=expert)
    assert late.status_code == 423


def test_the_chairs_written_waiver_unblocks_sign_off_and_is_audited(client, session, make_user, chair):
    world = wild_rating(client, session, make_user, value=10, work=-1)  # 畸高
    to_review(session)
    assert sign(client, chair).get_json()["unexplained"] == [world.wild_id]
    no_reason = client.post(f"/api/v1/assignments/{world.wild_id}/waiver", json={"reason": ""}, headers=chair)
    assert no_reason.status_code == 422
    expert = bearer(client, world.wild_expert)
    assert client.post(f"/api/v1/assignments/{world.wild_id}/waiver", json={"reason": "x"},
                       headers=expert).status_code == 403
    waived = client.post(f"/api/v1/assignments/{world.wild_id}/waiver",
                         json={"reason": "该专家为本类别资深评委，评分有据"}, headers=chair)
    assert waived.status_code == 201 and waived.get_json()["direction"] == "high"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "rating.flag_waived")).one()
    assert event.actor == "chair1" and event.detail["reason"] == "该专家为本类别资深评委，评分有据"
    assert sign(client, chair).status_code == 201


def test_explanations_are_the_authors_own_and_only_for_flagged_submitted_ratings(client, session, make_user):
    world = wild_rating(client, session, make_user)
    other = bearer(client, world.normal_expert)
    stolen = client.post(f"/api/v1/assignments/{world.wild_id}/explanation", json={"text": "x"}, headers=other)
    assert stolen.status_code == 404 and "王专家" not in stolen.get_data(as_text=True)
    unflagged = client.post(f"/api/v1/assignments/{world.normal_id}/explanation", json={"text": "x"}, headers=other)
    assert unflagged.status_code == 409 and unflagged.get_json()["error"] == "not_flagged"


def test_flags_are_raised_when_the_round_enters_review(session, make_user):
    from helpers.review import scored_round
    round_, works, experts = scored_round(session, make_user, key=KEY, state=RoundState.scoring)
    # a rating written straight into the database (an import, an older version): no hook has seen it
    late = make_user("late1", role="expert")
    wild = Assignment(round_id=round_.id, expert_id=late.id, work_id=works[-1].id, status="submitted",
                      version=1, submitted_at=utcnow())
    session.add(wild)
    session.flush()
    session.add_all(Rating(assignment_id=wild.id, criterion=k, value=10.0, version=1)
                    for k in ("thought", "artistry", "production", "innovation"))
    session.commit()
    assert session.exec(select(AbnormalFlag)).all() == []
    set_state(session=session, round_=round_, state="review", actor="t")
    session.commit()
    assert [f.assignment_id for f in session.exec(select(AbnormalFlag))] == [wild.id]


def test_a_reopened_rating_stops_being_flagged(client, session, make_user, chair):
    world = wild_rating(client, session, make_user)
    assert client.post(f"/api/v1/assignments/{world.wild_id}/allow-reopen", headers=chair).status_code == 200
    expert = bearer(client, world.wild_expert)
    assert client.post(f"/api/v1/assignments/{world.wild_id}/reopen", headers=expert).status_code == 200
    session.expire_all()
    assert session.exec(select(AbnormalFlag)).one().active is False
    assert client.get(f"/api/v1/rounds/{KEY}/abnormal", headers=chair).get_json()["unexplained"] == []


def test_the_expert_sees_the_request_and_answers_on_the_form(client, session, make_user, login):
    world = wild_rating(client, session, make_user)
    login(world.wild_expert)
    home = client.get("/").get_data(as_text=True)
    assert f'data-explanation-requested="{world.wild_id}"' in home
    form = client.get(f"/assignments/{world.wild_id}").get_data(as_text=True)
    assert f'data-explanation-request="{world.wild_id}"' in form and "data-explanation-form" in form
    answered = client.post(f"/assignments/{world.wild_id}/explanation",
                           data={"text": "评分依据见评语", "csrf_token": csrf_token(client, "/")})
    assert answered.status_code == 303
    assert session.exec(select(AbnormalFlag)).one().explanation == "评分依据见评语"
    assert f'data-explanation-requested="{world.wild_id}"' not in client.get("/").get_data(as_text=True)


def test_the_chair_page_lists_flags_and_takes_a_waiver(client, session, make_user, login):
    world = wild_rating(client, session, make_user)
    make_user("chair2", role="chair")
    login("chair2")
    page = client.get(f"/review/{KEY}/abnormal").get_data(as_text=True)
    assert f'data-flag="{world.wild_id}"' in page and f'data-unexplained="{world.wild_id}"' in page
    token = csrf_token(client, f"/review/{KEY}/abnormal")
    empty = client.post(f"/review/{KEY}/abnormal/{world.wild_id}/waive", data={"reason": "", "csrf_token": token})
    # refused in place: the list again (422), the refusal beside that flag's form, nothing waived
    assert empty.status_code == 422 and "data-waive-message" in empty.get_data(as_text=True)
    assert session.exec(select(AbnormalFlag)).one().waiver_reason is None
    client.post(f"/review/{KEY}/abnormal/{world.wild_id}/waive", data={"reason": "已当面核实", "csrf_token": token})
    session.expire_all()
    assert session.exec(select(AbnormalFlag)).one().waiver_reason == "已当面核实"
    assert "data-unexplained" not in client.get(f"/review/{KEY}/abnormal").get_data(as_text=True)
