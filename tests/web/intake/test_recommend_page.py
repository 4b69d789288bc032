"""The provincial recommendation page: the 50% cap at exactly half and one over, the written
reason, access by role, CSRF, and pages that refuse national rounds."""
from __future__ import annotations


import pytest
from sqlmodel import select

from helpers.intake import dump_database
from testkit import browser_log_in, csrf_token
from web.core.models import AuditEvent, Round, RoundState, Work
from web.rounds.operations import create_round, set_state

PAGE = "/admin/rounds/2025Q1-浙江/recommend"


@pytest.fixture
def provincial(session):
    round_ = create_round(session=session, key="2025Q1-浙江", stage="provincial", unit="浙江省广播电视局", actor="t")
    works = [Work(round_id=round_.id, title=f"钱塘潮涌第{n}部", title_normalized=f"钱塘潮涌第{n}部", category="网络剧",
                  submitter=f"机构{n}", copyright_holder=f"机构{n}", unit="浙江省广播电视局") for n in range(1, 11)]
    session.add_all(works)
    session.commit()
    return [w.id for w in works]


@pytest.fixture
def admin(client, make_user, login):
    make_user("secretariat", role="admin")
    login("secretariat")
    return client


def recommended(session) -> list[int]:
    session.expire_all()
    return sorted(w.id for w in session.exec(select(Work).where(Work.recommended == True)))  # noqa: E712


@pytest.mark.parametrize("role,expected", [(None, 302), ("expert", 403), ("chair", 403), ("admin", 200)])
def test_access_by_role(client, make_user, login, provincial, role, expected):
    if role:
        make_user(f"u_{role}", role=role)
        login(f"u_{role}")
    assert client.get(PAGE).status_code == expected


def test_page_shows_received_count_limit_and_entries(admin, provincial):
    page = admin.get(PAGE).get_data(as_text=True)
    assert "收到申报作品 10 部" in page and "至多 5 部" in page and "50%" in page
    assert page.count('name="work"') == 10 and "钱塘潮涌第7部" in page
    assert "推荐作品" in admin.get("/admin/rounds").get_data(as_text=True)


def test_exactly_half_is_saved_and_audited(admin, session, provincial):
    token = csrf_token(admin, PAGE)
    response = admin.post(PAGE, data={"work": [str(i) for i in provincial[:5]], "csrf_token": token})
    assert response.status_code == 303
    assert recommended(session) == provincial[:5]
    page = admin.get(PAGE).get_data(as_text=True)
    assert "推荐 5 部，未超过" in page and page.count("checked") == 5
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.recommended")).one()
    assert event.actor == "secretariat" and event.detail["recommended"] == provincial[:5]


def test_one_over_needs_a_reason_and_changes_nothing(app, admin, session, provincial):
    token = csrf_token(admin, PAGE)
    admin.post(PAGE, data={"work": [str(i) for i in provincial[:5]], "csrf_token": token})
    before = dump_database(app.extensions["tuiyou.engine"])
    response = admin.post(PAGE, data={"work": [str(i) for i in provincial[:6]], "csrf_token": token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "超过收到的 10 部申报作品的 50%（5 部）" in page and "书面理由" in page
    assert page.count("checked") == 6  # the choice is kept on the form for the reason to be added
    assert dump_database(app.extensions["tuiyou.engine"]) == before
    reasoned = admin.post(PAGE, data={"work": [str(i) for i in provincial[:6]], "csrf_token": token,
                                      "reason": "本季度精品集中，经局务会研究同意"})
    assert reasoned.status_code == 303
    assert recommended(session) == provincial[:6]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.recommended")
                         .order_by(AuditEvent.id.desc())).first()
    assert event.detail["over_cap"] and event.detail["reason"].startswith("本季度")


def test_english_message_for_the_cap(admin, provincial):
    token = csrf_token(admin, PAGE)
    response = admin.post(PAGE + "?lang=en", data={"work": [str(i) for i in provincial[:6]], "csrf_token": token})
    assert response.status_code == 422
    assert "more than 50% of the 10 entries received (5)" in response.get_data(as_text=True)


@pytest.mark.parametrize("values,message", [(["abc"], "作品编号无效：abc"), (["²"], "作品编号无效：²"), (["99999"], "99999 are not entries")])
def test_bad_work_ids_are_named(app, admin, provincial, values, message):
    token = csrf_token(admin, PAGE)
    before = dump_database(app.extensions["tuiyou.engine"])
    response = admin.post(PAGE, data={"work": values, "csrf_token": token})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert dump_database(app.extensions["tuiyou.engine"]) == before


def test_needs_csrf(admin, session, provincial):
    assert admin.post(PAGE, data={"work": [str(provincial[0])]}).status_code == 400
    assert recommended(session) == []


def test_national_and_unknown_rounds_have_no_page(admin, session):
    create_round(session=session, key="2025Q1", actor="t")
    session.commit()
    national = admin.get("/admin/rounds/2025Q1/recommend")
    assert national.status_code == 404 and "中央直属单位直接申报" in national.get_data(as_text=True)
    assert admin.get("/admin/rounds/2030Q9/recommend").status_code == 404


def test_signed_round_is_read_only(admin, session, provincial):
    r = session.exec(select(Round).where(Round.key == "2025Q1-浙江")).one()
    for state in ("intake", "scoring", "review"):
        set_state(session=session, round_=r, state=state, actor="t")
    r.state = RoundState.signed  # as the chair's sign-off leaves it
    session.add(r)
    session.commit()
    page = admin.get(PAGE).get_data(as_text=True)
    assert "推荐结果不可更改" in page and "保存推荐结果" not in page
    token = csrf_token(admin, "/admin/rounds")
    refused = admin.post(PAGE, data={"work": [str(provincial[0])], "csrf_token": token})
    assert refused.status_code == 422 and "signed" in refused.get_data(as_text=True)


@pytest.mark.browser
def test_tablet_counts_ticks_against_the_cap_and_saves_with_a_reason(live_server, tablet, make_user, session,
                                                                      provincial):
    make_user("secretariat", role="admin")
    page = tablet
    browser_log_in(page, live_server, "secretariat", tap=True)
    page.goto(f"{live_server}{PAGE}")
    boxes = page.locator('input[name="work"]')
    assert boxes.count() == 10
    assert boxes.first.bounding_box()["height"] >= 24
    for i in range(5):
        page.locator(f"label[for=work-{provincial[i]}]").tap()  # the title is a touch target too
    assert page.inner_text("#chosen-count") == "5" and page.locator("#over-cap").is_hidden()
    boxes.nth(5).tap()
    assert page.inner_text("#chosen-count") == "6" and page.locator("#over-cap").is_visible()
    with page.expect_navigation():
        page.locator("#recommend-form button[type=submit]").tap()
    assert "须填写书面理由" in page.inner_text("[role=alert]")
    assert page.locator('input[name="work"]:checked').count() == 6, "the ticks survive the refusal"
    page.fill("textarea[name=reason]", "本季度精品集中，经局务会研究同意")
    with page.expect_navigation():
        page.locator("#recommend-form button[type=submit]").tap()
    assert "已填写书面理由" in page.inner_text("main")
    assert recommended(session) == sorted(provincial[:6])
