"""An expert declares works they have a conflict with on /me/conflicts: finds them by title or
number among the open rounds (title and category only), declares with a reason, withdraws; the
draw and manual changes then never give them that work."""
from __future__ import annotations

import re

from sqlmodel import select

from helpers.assignment import CATEGORIES, build_round, draw_on_page
from testkit import PASSWORD, csrf_token
from web.core.models import (Assignment, AssignmentDraw, AuditEvent, Conflict, DrawJob, Round, RoundState, SubmitterType,
                        Work)

PAGE = "/me/conflicts"


def _post(client, **data):
    return client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), **data})


def _flash(client) -> str:
    return client.get(PAGE).get_data(as_text=True)


def _expert(make_user, login, client, name="wang"):
    user = make_user(name, role="expert", display_name="王专家", organisation="独立评论人", categories=CATEGORIES)
    login(name)
    return user


def test_search_finds_open_works_by_title_or_number_and_shows_nothing_but_title_and_category(
        client, login, make_user, session):
    round_ = build_round(session, works=12)
    closed = Round(key="2024Q4", year=2024, quarter=4, state=RoundState.signed)
    session.add(closed)
    session.flush()
    session.add(Work(round_id=round_.id, title="山河人间_100%", category="网络剧", submitter="秘密出品方",
                     submitter_type=SubmitterType.individual, copyright_holder="秘密版权方", unit="浙江省广播电视局"))
    session.add(Work(round_id=closed.id, title="山河人间（旧）", category="网络剧", submitter="x"))
    session.commit()
    _expert(make_user, login, client)
    html = client.get(PAGE + "?q=山河").get_data(as_text=True)
    results = html.split('id="work-results"')[1].split("</table>")[0]
    assert "山河人间_100%" in results and "网络剧" in results and "2025Q1" in results
    assert "旧" not in results, "a closed round's works are not offered"
    for secret in ("秘密出品方", "秘密版权方", "浙江省广播电视局"):
        assert secret not in html
    for literal in ("_1", "0%25"):  # _ and % are themselves, not LIKE wildcards
        rows = client.get(f"{PAGE}?q={literal}").get_data(as_text=True).split('id="work-results"')[1]
        titles = re.findall(r'<td class="title">([^<]*)</td>', rows.split("</tbody>")[0])
        assert titles == ["山河人间_100%"], literal
    some = session.exec(select(Work).where(Work.round_id == round_.id, Work.id >= 10)  # two digits: a search
                        .order_by(Work.id)).first()                                       # needs two characters
    by_number = client.get(f"{PAGE}?q={some.id}").get_data(as_text=True).split('id="work-results"')[1]
    assert f'<td class="num">{some.id}</td><td class="title">{some.title}</td>' in by_number
    assert "没有找到该作品" in client.get(PAGE + "?q=不存在的片名").get_data(as_text=True)
    session.add_all([Work(round_id=round_.id, title=f"第{some.id}号房间之{i}", category="短视频", submitter="x")
                     for i in range(25)])
    session.commit()
    crowded = client.get(f"{PAGE}?q={some.id}").get_data(as_text=True).split('id="work-results"')[1]
    titles = re.findall(r'<td class="title">([^<]*)</td>', crowded)
    assert len(titles) == 20 and titles[0] == some.title, "the numbered work first, even among many title matches"


def test_declare_a_work_with_a_reason_and_withdraw_it(client, login, make_user, session):
    round_ = build_round(session, works=8)
    me = _expert(make_user, login, client)
    work = session.exec(select(Work).where(Work.round_id == round_.id)).first()
    _post(client, work_id=str(work.id), reason="")
    assert "请说明回避理由" in _flash(client)
    _post(client, work_id=str(work.id), reason="参与该剧剧本创作")
    html = _flash(client)
    assert "已保存回避申报" in html
    row = session.exec(select(Conflict).where(Conflict.user_id == me.id)).one()
    assert (row.work_id, row.kind, row.reason) == (work.id, "declared", "参与该剧剧本创作")
    listed = html.split('id="my-conflicts"')[1]
    assert f"作品 {work.id}《{work.title}》" in listed and work.category in listed
    assert "已申报" in client.get(f"{PAGE}?q={work.title}").get_data(as_text=True).split('id="work-results"')[1]
    _post(client, work_id=str(work.id), reason="again")
    assert f"已申报回避作品 {work.id}" in _flash(client)
    _post(client, work_id="999999", reason="x")
    assert "作品不存在，或不是您擅长类别中征集或评审中的作品" in _flash(client)
    audit = session.exec(select(AuditEvent).where(AuditEvent.action == "conflict.declared")).one()
    assert audit.detail["work_id"] == work.id and audit.actor == "wang"
    _post(client, withdraw=str(row.id))
    session.expire_all()
    assert session.exec(select(Conflict).where(Conflict.user_id == me.id)).all() == []
    _post(client, withdraw="abc")
    assert "该申报不存在" in _flash(client)


def test_an_assigned_work_is_recused_on_its_form_not_declared(client, login, make_user, session):
    round_ = build_round(session, works=8)
    me = _expert(make_user, login, client)
    work = session.exec(select(Work).where(Work.round_id == round_.id)).first()
    session.add(Assignment(round_id=round_.id, expert_id=me.id, work_id=work.id))
    session.commit()
    _post(client, work_id=str(work.id), reason="亲属参演")
    assert "请在该作品的评分页面申请回避" in _flash(client)
    assert session.exec(select(Conflict)).all() == []


def test_the_draw_and_manual_changes_never_give_a_declared_work(client, login, make_user, session, app):
    round_ = build_round(session, works=40, experts=10)
    me = make_user("wang", role="expert", display_name="王专家", organisation="独立评论人", categories=CATEGORIES)
    make_user("chair", role="chair")
    chair = app.test_client()
    chair.post("/login", data={"username": "chair", "password": PASSWORD, "csrf_token": csrf_token(chair)})
    # a control draw: which works would this seed give the expert?
    assert draw_on_page(chair, per_work="3", seed="77")["state"] == "done"
    session.expire_all()
    mine = sorted(a.work_id for a in session.exec(select(Assignment).where(Assignment.expert_id == me.id)))
    assert mine, "the control draw gives the expert some works"
    for model in (DrawJob, AssignmentDraw, Assignment):
        for row in session.exec(select(model)).all():
            session.delete(row)
        session.commit()
    login("wang")
    _post(client, work_id=str(mine[0]), reason="参与创作")
    assert session.exec(select(Conflict).where(Conflict.user_id == me.id)).one().work_id == mine[0]
    assert draw_on_page(chair, per_work="3", seed="77")["state"] == "done"
    session.expire_all()
    pairs = {(a.expert_id, a.work_id) for a in session.exec(select(Assignment))}
    assert (me.id, mine[0]) not in pairs
    assert sum(1 for _, w in pairs if w == mine[0]) == 3, "the work still gets its K experts"
    # a manual addition of the pair is refused with the reason
    page = "/admin/rounds/2025Q1/assignment"
    chair.post(page + "/add", data={"csrf_token": csrf_token(chair, page), "work_id": str(mine[0]),
                                    "expert": "wang", "reason": "补充"})
    html = chair.get(page).get_data(as_text=True)
    assert "专家申报回避的作品" in html
    assert (me.id, mine[0]) not in {(a.expert_id, a.work_id) for a in session.exec(select(Assignment))}
