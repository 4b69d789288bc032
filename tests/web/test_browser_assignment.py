"""The chair draws experts for a round in headless Chromium, reads the report, and opens the
replacement of a recused expert; screenshots at a desktop and a tablet width."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from assignment_support import build_round
from testkit import PASSWORD
from web.models import Assignment, AssignmentStatus, Conflict

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("TUIYOU_SCREENSHOTS") or "")


def _shot(page, tmp_path, name):
    page.screenshot(path=str((SHOTS if str(SHOTS) not in ("", ".") else tmp_path) / name), full_page=False)


def test_chair_draws_and_reads_the_report(live_server, browser, make_user, session, tmp_path):
    build_round(session, works=40, experts=16, capacity=20)
    make_user("chair", role="chair", display_name="评审组组长 李教授")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "chair")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/admin/assignment")
    page.click("text=2025Q1")
    page.fill("input[name=per_work]", "3")
    page.fill("input[name=seed]", "777")
    page.click("#draw-form button[type=submit]")
    page.wait_for_selector("#draw-seed")
    assert page.inner_text("#draw-seed") == "777"
    assert page.inner_text("#coverage").replace(" ", "") == "40/40"
    assert "已完成随机抽取（种子 777）" in page.inner_text("main")
    _shot(page, tmp_path, "assignment-report.png")

    first = session.exec(select(Assignment).order_by(Assignment.id)).first()
    first.status, first.recuse_reason = AssignmentStatus.recused, "曾参与该作品策划"
    session.add(Conflict(user_id=first.expert_id, work_id=first.work_id, kind="recused"))
    session.commit()
    page.reload()
    page.click("text=推荐替补")
    page.wait_for_selector("#candidates")
    _shot(page, tmp_path, "assignment-replace.png")
    page.click("#candidates button[type=submit] >> nth=0")
    page.wait_for_selector("#assignment-report")
    assert "已保存调整" in page.inner_text("main")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/admin/rounds/2025Q1/assignment?lang=en")
    assert "Assignment report" in page.inner_text("main")
    _shot(page, tmp_path, "assignment-report-en-tablet.png")
    context.close()
