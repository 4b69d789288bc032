"""The chair draws experts for a round in headless Chromium, follows the draw's progress, reads the
report, and opens the replacement of a recused expert; screenshots at a desktop and a tablet width.

Screenshots go to the test's tmp dir; with TUIYOU_SAVE_SCREENSHOTS=1 to docs/screenshots/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import select

from helpers.assignment import build_round, hold_draw_after_first_category
from helpers.browser import logged_in_page, until
from web.core.models import Assignment, AssignmentStatus, Conflict

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _shot(page, tmp_path, name):
    folder = DOCS if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=False)


def test_chair_draws_and_reads_the_report(live_server, browser, make_user, session, tmp_path, monkeypatch):
    build_round(session, works=40, experts=16, capacity=20)
    go_on = hold_draw_after_first_category(monkeypatch)
    make_user("chair", role="chair", display_name="评审组组长 李教授")
    page = logged_in_page(browser, live_server, "chair")
    page.goto(f"{live_server}/admin/assignment")
    page.click("text=2025Q1")
    page.fill("input[name=per_work]", "3")
    page.fill("input[name=seed]", "777")
    page.click("#draw-form button[type=submit]")
    page.wait_for_selector("#draw-job[data-state=running]")
    until(page, lambda: page.inner_text("#job-categories").strip() == "1 / 4")
    assert page.inner_text("#job-stage") == "按类别抽取" and page.inner_text("#job-seed") == "777"
    assert page.is_disabled("#draw-form button[type=submit]")
    first = float(page.inner_text("#job-elapsed"))
    until(page, lambda: float(page.inner_text("#job-elapsed")) > first)  # the clock moves while it runs
    _shot(page, tmp_path, "assignment-progress.png")
    go_on.set()
    page.wait_for_selector("#draw-seed")  # the page reloads itself once the draw is done
    assert page.inner_text("#draw-seed") == "777"
    assert page.inner_text("#coverage").replace(" ", "") == "40/40"
    assert page.get_attribute("#draw-job", "data-state") == "done"
    assert "已完成随机抽取（种子 777）" in page.inner_text("#job-summary")
    assert "随机种子 777" in page.inner_text("#job-lines")
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
    page.context.close()


def test_expert_finds_and_declares_a_work(live_server, browser, make_user, session, tmp_path):
    from helpers.assignment import CATEGORIES
    from web.core.models import Work

    build_round(session, works=12, experts=4)
    work = session.exec(select(Work).order_by(Work.id)).first()
    make_user("wang", role="expert", display_name="王专家", organisation="独立评论人", categories=CATEGORIES)
    page = logged_in_page(browser, live_server, "wang")
    page.goto(f"{live_server}/me/conflicts")
    page.fill("#work-search input[name=q]", work.title[:4])
    page.click("#work-search button[type=submit]")
    page.wait_for_selector("#work-results")
    row = page.locator("#work-results tr", has_text=work.title)
    row.locator("input[name=reason]").fill("参与该片剧本创作")
    row.locator("button[type=submit]").click()
    page.wait_for_selector("#my-conflicts")
    assert "已保存回避申报" in page.inner_text("main")
    assert f"《{work.title}》" in page.inner_text("#my-conflicts")
    page.goto(f"{live_server}/me/conflicts?q={work.title[:4]}")
    _shot(page, tmp_path, "conflicts-works.png")
    page.context.close()
