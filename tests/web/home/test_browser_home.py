"""The login page and the first page in headless Chromium at a tablet viewport."""
from __future__ import annotations

import pytest

from testkit import PASSWORD
from web.core.models import Assignment, Round, Work

pytestmark = pytest.mark.browser


def test_expert_logs_in_on_a_tablet_and_sees_progress(live_server, tablet, make_user, session, tmp_path):
    expert = make_user("zhang", role="expert", display_name="张晓明", categories=["网络剧"])
    round_ = Round(key="2025Q1", year=2025, quarter=1)
    session.add(round_)
    session.flush()
    works = [Work(round_id=round_.id, title=f"山河人间{i}", category="网络剧", submitter="某公司") for i in range(3)]
    session.add_all(works)
    session.flush()
    session.add_all(Assignment(round_id=round_.id, expert_id=expert.id, work_id=w.id,
                               status="submitted" if i == 0 else "pending") for i, w in enumerate(works))
    session.commit()

    page = tablet
    page.goto(f"{live_server}/login")
    assert page.title().startswith("登录")
    page.tap("input[name=username]")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    button = page.locator("button[type=submit]")
    box = button.bounding_box()
    assert box["height"] >= 44, "touch targets are at least 44 px high"
    button.tap()
    page.wait_for_url(f"{live_server}/")
    body = page.inner_text("main")
    assert "我的评审任务" in body and "已完成 1 / 3" in body and "山河人间2" in body
    assert "某公司" not in body, "experts never see the submitter"
    page.screenshot(path=str(tmp_path / "home.png"))
    page.goto(f"{live_server}/?lang=en")
    assert "My assignments" in page.inner_text("main")
