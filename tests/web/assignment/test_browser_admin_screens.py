"""The admin's screens (issue 23): the draw's outcome and the report below it agree at every
moment, and the import page offers only rounds that still take entries."""
from __future__ import annotations

import pytest

from helpers.assignment import build_round, hold_draw_after_first_category
from helpers.browser import logged_in_page
from helpers.e2e import cli, ok
from seed.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser
DESK = {"width": 1024, "height": 768}


def test_the_report_is_refreshed_with_the_draws_outcome(live_server, browser, make_user, session, monkeypatch):
    build_round(session, works=40, experts=16, capacity=20)
    go_on = hold_draw_after_first_category(monkeypatch)
    make_user("admin1", role="admin")
    page = logged_in_page(browser, live_server, "admin1", viewport=DESK)
    page.goto(f"{live_server}/admin/rounds/2025Q1/assignment")
    assert "尚未进行随机抽取" in page.inner_text("#assignment-report")
    page.fill("input[name=per_work]", "3")
    page.fill("input[name=seed]", "4242")
    page.click("#draw-form button[type=submit]")
    page.wait_for_selector("#draw-job[data-state=running]")
    go_on.set()
    # From the moment the outcome ("新分配 N 条") shows, the report below shows that draw too.
    seen = None
    for _ in range(600):
        seen = page.evaluate("""() => ({
            outcome: !document.getElementById('job-report').hidden,
            state: document.getElementById('draw-job').dataset.state + ' ' + document.getElementById('draw-job').innerText,
            report: document.getElementById('assignment-report').innerText})""")
        if seen["outcome"]:
            assert "尚未进行随机抽取" not in seen["report"], "the outcome shows above a report of no draw"
            assert "4242" in seen["report"]
            break
        page.wait_for_timeout(50)
    assert seen and seen["outcome"], "the draw never finished on the page"
    assert "新分配 " in page.inner_text("#job-summary")
    assert page.inner_text("#coverage").replace(" ", "") == "40/40"
    assert not page.is_disabled("#draw-form button[type=submit]"), "another draw may be started"
    page.context.close()


def test_the_import_page_offers_only_rounds_that_take_entries(demo, app, runner, live_server, browser):
    ok(cli(app, runner, "round", "create", "2025Q4"))   # a draft: the one round of the demo that takes entries
    page = logged_in_page(browser, live_server, "admin", viewport=DESK, password=DEMO_PASSWORD)
    page.goto(f"{live_server}/admin/imports")
    offered = page.locator("select[name=round] option").evaluate_all("os => os.map(o => o.textContent)")
    assert [label.split(" · ")[0] for label in offered] == ["2025Q4"], offered
    page.context.close()
