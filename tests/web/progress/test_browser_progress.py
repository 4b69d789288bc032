"""The progress board (评分进度) in headless Chromium: the demo's day at 1024×768 and 768×1024
without sideways scrolling, and its polling updating a number in place — no reload, the reader's
scroll position kept — when a form is submitted elsewhere.

Screenshots go to the test's tmp dir; with TUIYOU_SAVE_SCREENSHOTS=1 also to docs/screenshots/.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlmodel import select

from helpers.review import scored_round
from testkit import browser_log_in
from web.core.models import Assignment, AssignmentStatus, RoundState, utcnow

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _until(page, expression: str, timeout: float = 15.0):
    """Poll ``expression`` in the page until it is truthy (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = page.evaluate(expression)
        if value:
            return value
        page.wait_for_timeout(100)
    raise AssertionError(f"still false after {timeout} s: {expression}")


def _save(png: bytes, name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(png)
    if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_bytes(png)


@pytest.mark.parametrize("width,height", [(1024, 768), (768, 1024)])
def test_the_demo_day_reads_at_tablet_and_laptop_sizes(browser, live_server, session, tmp_path, width, height):
    from seed.demo import DEMO_PASSWORD, build_demo

    build_demo(session)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser_log_in(page, live_server, "admin", password=DEMO_PASSWORD)
    page.goto(f"{live_server}/admin/rounds")
    page.click('a[href="/rounds/2025Q1/progress"]')  # linked from the admin's rounds page
    assert page.locator("h1").first.inner_text().startswith("评分进度")
    assert int(page.locator('[data-total="ratings_submitted"]').inner_text()) > 0
    assert int(page.locator('[data-total="works_missing_ratings"]').inner_text()) > 0
    assert page.locator("tr.stalled").count() >= 1  # the demo's idle experts
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the board scrolls sideways by {overflow}px at {width}px"
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []
    _save(page.screenshot(full_page=False), f"progress-{width}x{height}.png", tmp_path)
    (tmp_path / f"progress-{width}-full.png").write_bytes(page.screenshot(full_page=True))
    page.locator("tr.stalled a", has_text="提醒").first.click()
    assert "尊敬的" in page.locator("textarea[data-reminder]").input_value()
    if width == 1024:
        _save(page.screenshot(full_page=False), "progress-reminder-1024.png", tmp_path)


def test_polling_updates_a_number_without_reload_and_keeps_the_place(app, browser, live_server, session,
                                                                    make_user):
    app.config["PROGRESS_POLL_SECONDS"] = 1
    round_, _works, _people = scored_round(session, make_user, state=RoundState.scoring,
                                           works_per_category={"网络剧": 30, "网络纪录片": 30})
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)))
    for form in forms[:10]:
        form.status, form.submitted_at = AssignmentStatus.in_progress, None
    session.add_all(forms[:10])
    session.commit()
    make_user("chair1", role="chair")
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, live_server, "chair1")
    page.goto(f"{live_server}/rounds/{round_.key}/progress")
    before = int(page.locator('[data-total="ratings_submitted"]').inner_text())
    page.evaluate("window.__sameDocument = true")
    page.mouse.wheel(0, 600)
    _until(page, "window.scrollY > 0")
    place = page.evaluate("window.scrollY")
    polls = int(page.evaluate("document.getElementById('progress-board').dataset.polls || '0'"))
    _until(page, f"Number(document.getElementById('progress-board').dataset.polls || 0) > {polls}")
    # a poll answered 304: nothing changed, nothing replaced
    assert int(page.locator('[data-total="ratings_submitted"]').inner_text()) == before
    for form in forms[:3]:  # three forms submitted on the experts' tablets
        form.status, form.submitted_at = AssignmentStatus.submitted, utcnow()
    session.add_all(forms[:3])
    session.commit()
    _until(page, f"document.querySelector('[data-total=\"ratings_submitted\"]').textContent.trim() === '{before + 3}'")
    assert page.evaluate("window.__sameDocument") is True  # no reload
    assert page.evaluate("window.scrollY") == place
