"""The round's assignment page, the replacement page, the pool page and the expert's
declarations: roles, CSRF, refusals as messages, and numbers that match the database."""
from __future__ import annotations

import io
import re
from collections import Counter

from sqlmodel import select

from helpers.assignment import build_round, draw_on_page
from testkit import csrf_token
from web.core.models import Assignment, AssignmentDraw, AssignmentStatus, AuditEvent, Conflict, RoundState, User


def _post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def test_draw_from_the_page_and_read_the_report(client, login, make_user, session):
    round_ = build_round(session)
    make_user("chair", role="chair")
    login("chair")
    page = "/admin/rounds/2025Q1/assignment"
    assert client.get(page).status_code == 200
    status = draw_on_page(client, per_work="3", seed="424242")
    assert status["state"] == "done" and status["seed"] == "424242"
    html = client.get(page).get_data(as_text=True)
    assert "424242" in html and "tuiyou assign --round 2025Q1 --per-work 3 --seed 424242" in html
    rows = session.exec(select(Assignment).where(Assignment.round_id == round_.id)).all()
    assert re.search(r'id="assignment-count">%d<' % len(rows), html)
    assert re.search(r'id="coverage">60 / 60<', html)
    histogram = Counter(Counter(a.expert_id for a in rows).values())
    table = html.split('id="load-histogram"')[1].split("</table>")[0]
    for load, n in histogram.items():
        assert f'<td class="num">{load}</td><td class="num">{n}</td>' in table
    assert session.exec(select(AssignmentDraw)).one().seed == 424242


def test_infeasible_and_closed_rounds_are_refused_with_a_message(client, login, make_user, session):
    round_ = build_round(session, experts=5)
    make_user("admin", role="admin")
    login("admin")
    page = "/admin/rounds/2025Q1/assignment"
    status = draw_on_page(client, per_work="5", seed="1")
    assert status["state"] == "failed" and "无法分配，未写入任何数据" in status["message"]
    html = client.get(page).get_data(as_text=True)
    assert "无法分配，未写入任何数据" in html
    assert session.exec(select(Assignment)).all() == []
    round_.state = RoundState.review
    session.add(round_)
    session.commit()
    html = client.get(page).get_data(as_text=True)
    assert 'id="draw-form"' not in html
    _post(client, page + "/draw", page, per_work="2", seed="1")
    assert "只有征集（intake）或评审（scoring）阶段可以分配" in client.get(page).get_data(as_text=True)
    assert session.exec(select(Assignment)).all() == []


def test_experts_cannot_open_assignment_pages(client, login, make_user, session):
    build_round(session)
    make_user("someone", role="expert")
    login("someone")
    assert client.get("/admin/rounds/2025Q1/assignment").status_code == 403
    assert client.get("/admin/experts").status_code == 403


def test_replace_a_recused_expert_from_the_page(client, login, make_user, session):
    round_ = build_round(session, capacity=30)
    make_user("chair", role="chair")
    login("chair")
    page = "/admin/rounds/2025Q1/assignment"
    assert draw_on_page(client, per_work="3", seed="5")["state"] == "done"
    assignment = session.exec(select(Assignment).order_by(Assignment.id)).first()
    assignment.status, assignment.recuse_reason = AssignmentStatus.recused, "曾参与该作品策划"
    session.add(Conflict(user_id=assignment.expert_id, work_id=assignment.work_id, kind="recused"))
    session.commit()
    replace = f"{page}/{assignment.id}/replace"
    html = client.get(replace).get_data(as_text=True)
    first = re.search(r'name="expert" value="([^"]+)"', html).group(1)
    assert _post(client, replace, replace, expert=first, reason="回避替补").status_code == 303
    session.expire_all()
    new = session.exec(select(Assignment).where(Assignment.work_id == assignment.work_id,
                                                Assignment.status == AssignmentStatus.pending)).all()
    assert first in {session.get(User, a.expert_id).username for a in new}
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.replaced")).one()


def test_pool_page_import_errors_and_password(client, login, make_user, session):
    make_user("admin", role="admin")
    login("admin")
    bad = "username,name,categories\nwu,吴,网络歌剧\n".encode()
    response = client.post("/admin/experts/import", data={"csrf_token": csrf_token(client, "/admin/experts"),
                                                           "file": (io.BytesIO(bad), "e.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "网络歌剧" in response.get_data(as_text=True)
    good = "username,name,categories,capacity\nwu,吴文博,网络剧,12\n".encode()
    client.post("/admin/experts/import", data={"csrf_token": csrf_token(client, "/admin/experts"),
                                               "file": (io.BytesIO(good), "e.csv")},
                content_type="multipart/form-data")
    html = client.get("/admin/experts").get_data(as_text=True)
    assert "吴文博" in html and "尚未设置密码" in html
    _post(client, "/admin/experts/wu/password", "/admin/experts", password="qinghe-mingyue-9")
    assert "尚未设置密码" not in client.get("/admin/experts").get_data(as_text=True)


def test_expert_declares_and_withdraws_conflicts(client, login, make_user, session):
    me = make_user("expert1", role="expert")
    login("expert1")
    page = "/me/conflicts"
    assert client.get(page).status_code == 200
    _post(client, page, page, organisation="山河文化", reason="曾任职")
    _post(client, page, page, person="张三")
    _post(client, page, page, organisation="甲", person="乙")  # both at once: refused
    rows = session.exec(select(Conflict).where(Conflict.user_id == me.id)).all()
    assert sorted((r.organisation or "", r.person or "") for r in rows) == [("", "张三"), ("山河文化", "")]
    _post(client, page, page, withdraw=str(rows[0].id))
    session.expire_all()
    assert len(session.exec(select(Conflict).where(Conflict.user_id == me.id)).all()) == 1


def test_pool_page_marks_an_expert_unavailable_in_a_round(client, login, make_user, session):
    from web.core.models import ExpertAbsence

    build_round(session)
    make_user("admin", role="admin")
    login("admin")
    _post(client, "/admin/experts/availability", "/admin/experts", round="2025Q1", expert="2025q1-e03",
          reason="出差", available="0")
    html = client.get("/admin/experts").get_data(as_text=True)
    assert "2025q1-e03" in html.split('id="absences"')[1] and "出差" in html
    assert session.exec(select(ExpertAbsence)).one().reason == "出差"
    _post(client, "/admin/experts/availability", "/admin/experts", round="2025Q1", expert="2025q1-e03",
          available="1")
    assert session.exec(select(ExpertAbsence)).all() == []
    _post(client, "/admin/experts/availability", "/admin/experts", round="2025Q1", expert="nobody", available="0")
    assert "专家或轮次不存在" in client.get("/admin/experts").get_data(as_text=True)
