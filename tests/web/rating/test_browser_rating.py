"""The expert's day in headless Chromium on a touch tablet: score by tapping, go offline, reload
offline (service worker), come back, find every change on the server exactly once; the 409
flow; submit; recuse; screenshots of the list and the form in both orientations."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from helpers.rating import SECRETS, device_queue, scoring_scene, server_side, tap, token, wait_saved
from testkit import browser_log_in

pytestmark = pytest.mark.browser
# docs/screenshots/ only when asked (TUIYOU_SAVE_SCREENSHOTS=1), so a test run leaves the tree clean
SHOTS = (Path(__file__).resolve().parents[3] / "docs" / "screenshots"
         if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir()) / "tuiyou-screenshots")
TAPS = {"thought": "8.5", "artistry": "7", "production": "9", "innovation": "6.5"}


def _state(page) -> tuple[str, str]:
    indicator = page.locator("[data-save-state]")
    return indicator.get_attribute("data-save-state"), indicator.get_attribute("data-pending")


def _log_in(page, base: str) -> None:
    browser_log_in(page, base, "zhang", tap=True)


def test_an_experts_day_offline_and_back(live_server, tablet, app, client, session, make_user, tmp_path):
    scene = scoring_scene(session, make_user, works=3)
    page, base = tablet, live_server
    SHOTS.mkdir(parents=True, exist_ok=True)
    _log_in(page, base)
    links = page.locator("a[data-assignment-id]")
    assert links.count() == 3
    page.screenshot(path=str(SHOTS / "rating-list-landscape.png"), full_page=True)
    first = int(links.first.get_attribute("data-assignment-id"))
    links.first.tap()
    page.wait_for_url(f"{base}/assignments/{first}")
    body = page.inner_text("main")
    assert all(secret not in page.content() for secret in SECRETS) and "山河人间" in body

    # Score every criterion by tapping: one version per change, "saved" shown.
    for criterion, value in TAPS.items():
        tap(page, criterion, value)
    wait_saved(page)
    box = page.locator('[data-criterion="thought"] [data-value="5"]').bounding_box()
    assert box["height"] >= 44 and box["width"] >= 40, "finger-sized targets"
    assignment, history = server_side(app, first)
    assert assignment.version == 4 and history[4] == {k: float(v) for k, v in TAPS.items()}
    assert device_queue(page) == 0, "every acknowledged change left the device, none stored twice"
    page.screenshot(path=str(SHOTS / "rating-form-landscape.png"))
    page.screenshot(path=str(tmp_path / "form-full.png"), full_page=True)

    # Offline: changes wait on the device, survive a reload, then sync exactly once.
    page.wait_for_selector("#scoring[data-offline-ready=true]", timeout=10000)
    page.context.set_offline(True)
    tap(page, "thought", "9.5")
    tap(page, "innovation", "7")
    page.wait_for_selector('[data-save-state="offline"][data-pending="2"]', timeout=10000)
    page.reload(timeout=10000)
    page.wait_for_selector('[data-save-state="offline"][data-pending="2"]', timeout=10000)
    assert page.locator('[data-criterion="thought"] [data-value="9.5"]').get_attribute("aria-pressed") == "true"
    assert page.locator('[data-criterion="innovation"] [data-value="7"]').get_attribute("aria-pressed") == "true"
    assert server_side(app, first)[0].version == 4, "nothing reached the server while offline"
    page.screenshot(path=str(tmp_path / "offline.png"))
    page.context.set_offline(False)
    wait_saved(page, timeout=20000)
    assignment, history = server_side(app, first)
    assert assignment.version == 6, "each waiting change applied exactly once"
    assert history[5]["thought"] == 9.5 and history[5]["innovation"] == 6.5
    assert history[6] == {"thought": 9.5, "artistry": 7.0, "production": 9.0, "innovation": 7.0}
    assert device_queue(page) == 0

    # 409: another tablet saved in between; the form shows both values and the expert chooses.
    auth = token(client)
    other = client.put(f"/api/v1/assignments/{first}/scores", json={"scores": {"artistry": 5}, "version": 6},
                       headers=auth)
    assert other.get_json() == {"version": 7}
    tap(page, "artistry", "8")
    page.wait_for_selector("[data-conflict]:not([hidden])", timeout=10000)
    conflict = page.inner_text("[data-conflict]")
    assert "8" in conflict and "5" in conflict
    assert _state(page)[0] == "error"
    page.screenshot(path=str(SHOTS / "rating-conflict.png"))
    page.locator('[data-resolve="mine"]').tap()
    wait_saved(page)
    assignment, history = server_side(app, first)
    assert assignment.version == 8 and history[8]["artistry"] == 8.0 and history[7]["artistry"] == 5.0

    # Submit: the form becomes read-only.
    page.locator('[data-action="submit"]').tap()
    page.wait_for_selector('#scoring[data-editable="false"]', timeout=10000)
    assert server_side(app, first)[0].status.value == "submitted"
    assert page.locator('[data-criterion="thought"] [data-value="3"]').is_disabled()

    # Recuse from another work with a reason.
    second = scene.mine[1].id if scene.mine[1].id != first else scene.mine[0].id
    page.goto(f"{base}/assignments/{second}")
    page.locator('[data-action="recuse"]').tap()
    page.fill("[data-recuse-reason]", "曾在该作品出品方任职")
    page.locator("[data-recuse-confirm]").tap()
    page.wait_for_selector('#scoring[data-status="recused"]', timeout=10000)
    assert server_side(app, second)[0].recuse_reason == "曾在该作品出品方任职"


def test_list_and_form_in_portrait(live_server, browser, session, make_user):
    scene = scoring_scene(session, make_user, works=4)
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True, locale="zh-CN")
    page = context.new_page()
    try:
        _log_in(page, live_server)
        page.screenshot(path=str(SHOTS / "rating-list-portrait.png"), full_page=True)
        page.goto(f"{live_server}/assignments/{scene.mine[0].id}")
        tap(page, "thought", "8")
        wait_saved(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768, "no sideways scrolling in portrait"
        page.screenshot(path=str(SHOTS / "rating-form-portrait.png"))
    finally:
        context.close()


def test_the_indicator_never_says_saved_while_a_change_is_only_in_memory(live_server, tablet, session, make_user):
    """A tap turns "saved" into "saving" in the same moment its button lights up: a check that waits
    for "saved" after a tap can never see the state from before it (the cause of a flaky run)."""
    scene = scoring_scene(session, make_user, works=1)
    page = tablet
    _log_in(page, live_server)
    page.goto(f"{live_server}/assignments/{scene.mine[0].id}")
    tap(page, "thought", "8")
    wait_saved(page)
    pressed, state = page.evaluate("""async () => {
        document.querySelector('[data-criterion="artistry"] [data-value="6"]').click();
        await Promise.resolve();  // the tap's handler runs as soon as the form has started
        return [document.querySelector('[data-criterion="artistry"] [data-value="6"]').getAttribute('aria-pressed'),
                document.querySelector('[data-save-state]').dataset.saveState];
    }""")
    assert (pressed, state) == ("true", "saving")
    wait_saved(page)
    assert device_queue(page) == 0
