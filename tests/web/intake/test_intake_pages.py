"""Admin pages for rounds, imports and entries: access by role, CSRF, reports, no 500s."""
from __future__ import annotations

import io

import openpyxl
import pytest
from sqlmodel import select

from helpers.intake import Q1_DAY, csv_bytes, work_row
from testkit import csrf_token
from web.core.models import AuditEvent, Round, RoundState, Work
from web.rounds.operations import create_round, set_state

ROUTES = [("get", "/admin/rounds"), ("get", "/admin/imports"), ("get", "/admin/imports/template.xlsx"),
          ("get", "/admin/works")]


@pytest.mark.parametrize("role,expected", [(None, 302), ("expert", 403), ("chair", 403), ("admin", 200)])
@pytest.mark.parametrize("method,route", ROUTES)
def test_access_by_role(client, make_user, login, role, expected, method, route):
    if role:
        make_user(f"u_{role}", role=role)
        login(f"u_{role}")
    response = getattr(client, method)(route)
    assert response.status_code == expected


@pytest.mark.parametrize("role,expected", [(None, 302), ("expert", 403), ("chair", 403)])
@pytest.mark.parametrize("route", ["/admin/rounds", "/admin/rounds/2025Q1/state", "/admin/imports"])
def test_posts_are_refused_for_other_roles(app, client, make_user, login, role, expected, route):
    app.config["WTF_CSRF_ENABLED"] = False  # the role check, not CSRF, must refuse
    if role:
        make_user(f"u_{role}", role=role)
        login(f"u_{role}")
    assert client.post(route, data={"key": "2025Q3", "state": "intake"}).status_code == expected


@pytest.fixture
def admin(client, make_user, login, app):
    app.config["TODAY"] = Q1_DAY
    make_user("secretariat", role="admin", display_name="秘书处")
    login("secretariat")
    return client


def test_forms_need_csrf(admin):
    assert admin.post("/admin/rounds", data={"key": "2025Q1"}).status_code == 400


def test_create_round_and_change_state_with_audit(admin, session):
    token = csrf_token(admin, "/admin/rounds")
    response = admin.post("/admin/rounds", data={"key": "2025Q1", "stage": "national", "csrf_token": token})
    assert response.status_code == 303
    page = admin.get("/admin/rounds").get_data(as_text=True)
    assert "2025Q1" in page and "2025-03-31" in page and "2024-12-01" in page  # deadlines from the calendar
    for state in ("intake", "scoring", "review"):
        assert admin.post("/admin/rounds/2025Q1/state", data={"state": state, "csrf_token": token}).status_code == 303
    # stepping back needs a reason
    admin.post("/admin/rounds/2025Q1/state", data={"state": "scoring", "csrf_token": token})
    assert session.exec(select(Round)).one().state == RoundState.review
    assert "须填写理由" in admin.get("/admin/rounds").get_data(as_text=True)
    admin.post("/admin/rounds/2025Q1/state", data={"state": "scoring", "reason": "复核发现漏评",
                                                   "csrf_token": token})
    session.expire_all()
    assert session.exec(select(Round)).one().state == RoundState.scoring
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "round.state")).all()
    assert [e.detail["to"] for e in events] == ["intake", "scoring", "review", "scoring"]
    assert events[-1].detail["reason"] == "复核发现漏评" and events[-1].actor == "secretariat"


def test_bad_round_input_never_500s(admin):
    token = csrf_token(admin, "/admin/rounds")
    assert admin.post("/admin/rounds", data={"key": "第一季度", "csrf_token": token}).status_code == 303
    assert "无法创建轮次" in admin.get("/admin/rounds").get_data(as_text=True)
    assert admin.post("/admin/rounds", data={"key": "2025Q1", "stage": "bogus", "csrf_token": token}).status_code == 303
    assert admin.post("/admin/rounds/nope/state", data={"state": "intake", "csrf_token": token}).status_code == 404
    assert admin.get("/admin/works?page=abc&flag=zzz").status_code == 200


@pytest.fixture
def q1(session):
    round_ = create_round(session=session, key="2025Q1", actor="admin")
    set_state(session=session, round_=round_, state=RoundState.intake, actor="admin")
    session.commit()
    return round_


def upload(client, data: bytes, name="works.csv", **fields):
    token = csrf_token(client, "/admin/imports")
    form = {"round": "2025Q1", "csrf_token": token, "file": (io.BytesIO(data), name), **fields}
    return client.post("/admin/imports", data=form, content_type="multipart/form-data")


def test_upload_renders_every_failing_row_as_a_table(admin, session, q1):
    rows = [work_row(1), work_row(2, category="网络小说"), work_row(3, copyright_holder="")]
    response = upload(admin, csv_bytes(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<td class=\"num\">3</td><td>作品类型</td>" in page and "<td class=\"num\">4</td><td>版权方</td>" in page
    assert "全部未写入" in page
    assert session.exec(select(Work)).all() == []


def test_upload_imports_and_accept_valid(admin, session, q1):
    response = upload(admin, csv_bytes([work_row(1), work_row(2, copyright_holder="")]), accept_valid="1")
    assert response.status_code == 422 and "已导入 1 行，拒绝 1 行" in response.get_data(as_text=True)
    ok = upload(admin, csv_bytes([work_row(5)]), name="more.csv")
    assert ok.status_code == 200 and "已导入 1 行" in ok.get_data(as_text=True)
    assert len(session.exec(select(Work)).all()) == 2


def test_upload_refusals_are_clear(admin, session, q1, app):
    assert upload(admin, b"", name="").status_code == 400
    response = upload(admin, b"\x00\x01garbage", name="x.csv")
    assert response.status_code == 422 and "不是表格" in response.get_data(as_text=True)
    app.config["TODAY"] = "2025-04-05"
    late = upload(admin, csv_bytes([work_row(1)]))
    assert late.status_code == 422 and "逾期理由" in late.get_data(as_text=True)
    assert upload(admin, csv_bytes([work_row(1)]), late_reason="系统故障").status_code == 200


def test_template_downloads_are_real_workbooks(admin):
    for query, first in (("", "作品名称"), ("?kind=cases", "案例名称")):
        response = admin.get("/admin/imports/template.xlsx" + query)
        assert response.status_code == 200 and "spreadsheetml" in response.mimetype
        sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
        assert sheet.cell(1, 1).value == first and sheet.cell(2, 1).value


def test_entries_search_filter_and_paginate(admin, session, q1):
    rows = [work_row(n, uhd="是" if n % 3 == 0 else "否", category="短视频" if n % 2 else "网络剧",
                     license_no="" if n % 2 else f"（浙）网剧审字（2024）第{n:03d}号") for n in range(1, 121)]
    assert upload(admin, csv_bytes(rows)).status_code == 200
    page = admin.get("/admin/works").get_data(as_text=True)
    assert "（120）" in page and "第 1 / 3 页" in page
    assert "第 3 / 3 页" in admin.get("/admin/works?page=3").get_data(as_text=True)
    assert "（60）" in admin.get("/admin/works?category=短视频").get_data(as_text=True)
    assert "（40）" in admin.get("/admin/works?flag=uhd").get_data(as_text=True)
    assert "（20）" in admin.get("/admin/works?flag=uhd&category=网络剧").get_data(as_text=True)
    found = admin.get("/admin/works?q=00007号").get_data(as_text=True)
    assert "（1）" in found and work_row(7)["title"] in found
    assert "（0）" in admin.get("/admin/works?q=%25_").get_data(as_text=True)


def test_import_report_speaks_english_when_asked(admin, session):
    create_round(session=session, key="2025Q1", actor="t")
    session.commit()
    token = csrf_token(admin, "/admin/imports")
    bad = csv_bytes([work_row(1, category="网络小说")])
    response = admin.post("/admin/imports?lang=en", data={"round": "2025Q1", "csrf_token": token,
                                                          "file": (io.BytesIO(bad), "works.csv")},
                          content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "Nothing imported" in page
    assert "unknown category" in page.lower() and "网络小说" in page
    chinese = admin.post("/admin/imports?lang=zh_CN", data={"round": "2025Q1", "csrf_token": token,
                                                            "file": (io.BytesIO(bad), "works.csv")},
                         content_type="multipart/form-data").get_data(as_text=True)
    assert "未导入" in chinese and "unknown category" not in chinese.lower()


def test_page_messages_name_the_state_label_and_the_page_field(admin, session, q1, app):
    app.config["TODAY"] = "2025-04-05"
    late = upload(admin, csv_bytes([work_row(1)])).get_data(as_text=True)
    assert "“逾期理由”一栏" in late and "--late-reason" not in late
    token = csrf_token(admin, "/admin/imports")
    english = admin.post("/admin/imports?lang=en", content_type="multipart/form-data", data={
        "round": "2025Q1", "csrf_token": token, "file": (io.BytesIO(csv_bytes([work_row(1)])), "w.csv")})
    assert english.status_code == 422 and "the “Late reason” field" in english.get_data(as_text=True)
    admin.get("/admin/imports?lang=zh_CN")
    app.config["TODAY"] = Q1_DAY
    set_state(session=session, round_=q1, state=RoundState.scoring, actor="admin")
    session.commit()
    page = upload(admin, csv_bytes([work_row(1)])).get_data(as_text=True)
    assert "处于“专家评分”状态" in page and "“scoring”" not in page


def test_command_line_late_message_names_the_flag(app, runner, session, q1, tmp_path):
    app.config["TODAY"] = "2025-04-05"
    path = tmp_path / "works.csv"
    path.write_bytes(csv_bytes([work_row(1)]))
    result = runner.invoke(args=["import-works", str(path), "--round", "2025Q1"])
    assert result.exit_code == 1 and "--late-reason" in result.output and "一栏" not in result.output
