"""An expert's tablet whose session ended keeps every change it queued offline and syncs it after
logging in again (issue 19 item 4): headless Chromium on a touch tablet, the session ended while
the tablet was offline — by the expert logging out on another device, or by the idle limit with
the page's CSRF token expired too (the form once asked for a fresh token forever then)."""
from __future__ import annotations

import time

import pytest

from helpers.rating import device_queue, scoring_scene, server_side, tap
from testkit import PASSWORD, browser_log_in, csrf_token

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("ended_by", ["logout elsewhere", "idle, CSRF token expired"])
def test_changes_queued_while_the_session_ended_sync_after_logging_in_again(live_server, tablet, app, session,
                                                                              make_user, ended_by):
    scene = scoring_scene(session, make_user, works=1)
    assignment_id = scene.mine[0].id
    page, base = tablet, live_server
    browser_log_in(page, base, "zhang", tap=True)
    page.goto(f"{base}/assignments/{assignment_id}")
    page.wait_for_selector("#scoring[data-ready=true]", timeout=10000)
    tap(page, "thought", "8")
    page.wait_for_selector('[data-save-state="saved"][data-pending="0"]', timeout=15000)
    page.wait_for_selector("#scoring[data-offline-ready=true]", timeout=10000)
    assert server_side(app, assignment_id)[0].version == 1

    # Offline in the review room: two changes wait on the device.
    page.context.set_offline(True)
    tap(page, "artistry", "7")
    tap(page, "production", "9")
    page.wait_for_selector('[data-save-state="offline"][data-pending="2"]', timeout=10000)

    if ended_by == "logout elsewhere":
        # the expert logs out on their laptop: every session of theirs ends, the tablet's too
        laptop = app.test_client()
        laptop.post("/login", data={"username": "zhang", "password": PASSWORD, "csrf_token": csrf_token(laptop)})
        assert laptop.post("/logout", data={"csrf_token": csrf_token(laptop, "/")}).status_code == 302
    else:
        # a long break: the session idles out and the form's CSRF token expires (limits shrunk to a second)
        app.config.update(SESSION_IDLE_MINUTES=1 / 60, WTF_CSRF_TIME_LIMIT=1)
        time.sleep(2.5)
    token_requests: list[str] = []
    page.on("request", lambda r: token_requests.append(r.url) if r.url.endswith("/rating/csrf") else None)

    # Back online: the server refuses the session; the changes stay on the device, none applied.
    page.context.set_offline(False)
    page.wait_for_selector("[data-message] a[data-relogin]", timeout=20000)
    page.wait_for_timeout(1000)
    assert len(token_requests) <= 1, "one try for a fresh CSRF token, not a loop"
    app.config.update(SESSION_IDLE_MINUTES=60, WTF_CSRF_TIME_LIMIT=3600)
    assert page.locator("[data-save-state]").get_attribute("data-save-state") == "error"
    assert page.locator("[data-save-state]").get_attribute("data-pending") == "2"
    assert device_queue(page) == 2
    assert server_side(app, assignment_id)[0].version == 1, "nothing was applied without a session"

    # The link logs in again and comes back to the form, which sends what waited, exactly once.
    page.locator("[data-message] a[data-relogin]").tap()
    page.wait_for_url(f"{base}/login?next=*")
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").tap()
    page.wait_for_url(f"{base}/assignments/{assignment_id}")
    page.wait_for_selector("#scoring[data-ready=true]", timeout=10000)  # the markup says "saved" before the script runs
    page.wait_for_selector('[data-save-state="saved"][data-pending="0"]', timeout=20000)
    assignment, history = server_side(app, assignment_id)
    version = assignment.version
    assert version == 3, "each waiting change applied exactly once"
    assert history[3] == {"thought": 8.0, "artistry": 7.0, "production": 9.0}
    assert device_queue(page) == 0
