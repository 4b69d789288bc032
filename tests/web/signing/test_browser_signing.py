"""Panel practice on a tablet (768×1024, headless Chromium): the expert explains an abnormal
rating on the scoring form, and signs the sealed result with a dissent on the signing page.

Screenshots go to the test's tmp dir; with TUIYOU_SAVE_SCREENSHOTS=1 also to docs/screenshots/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from helpers.signing import KEY, bearer, wild_rating
from helpers.review import scored_round
from testkit import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
TABLET = {"width": 768, "height": 1024}


def _save(png: bytes, name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(png)
    if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_bytes(png)


def _login(browser, live_server, username):
    page = browser.new_context(viewport=TABLET, locale="zh-CN", has_touch=True).new_page()
    browser_log_in(page, live_server, username)
    return page


def _no_sideways_scroll(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a tablet"


def test_the_expert_explains_an_abnormal_rating_on_a_tablet(browser, live_server, client, session, make_user,
                                                             tmp_path):
    world = wild_rating(client, session, make_user)
    page = _login(browser, live_server, world.wild_expert)
    assert page.locator(f'[data-explanation-requested="{world.wild_id}"]').is_visible()
    _save(page.screenshot(full_page=False), "panel-explanation-home-768.png", tmp_path)
    page.click(f'[data-explanation-requested="{world.wild_id}"]')
    box = page.locator(f'[data-explanation-request="{world.wild_id}"]')
    box.scroll_into_view_if_needed()
    page.fill("#explanation-text", "该片多处史实与公开资料不符，故思想性与制作各项打分偏低。")
    page.click("[data-explanation-form] button[type=submit]")
    assert page.locator("[data-explained]").is_visible()
    page.locator(f'[data-explanation-request="{world.wild_id}"]').scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    _save(page.screenshot(full_page=False), "panel-explanation-768.png", tmp_path)


def test_a_member_signs_with_a_dissent_on_a_tablet(browser, live_server, client, session, make_user, tmp_path):
    _round, _works, experts = scored_round(session, make_user, key=KEY)
    make_user("chair1", role="chair", display_name="李组长")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=bearer(client, "chair1")).status_code == 201
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=bearer(client, experts[1].username)).status_code == 201
    page = _login(browser, live_server, experts[0].username)
    page.click(f'[data-sign-round="{KEY}"]')
    page.fill("#sign-password", "wrong-password")
    page.click("[data-sign-form] button[type=submit]")
    assert page.locator(f'[data-unsigned="{experts[0].id}"]').count() == 1
    page.fill("#sign-password", PASSWORD)
    page.fill("#sign-dissent", "网络剧作品03与往季入选作品题材重复，建议替换。")
    page.click("[data-sign-form] button[type=submit]")
    row = page.locator(f'[data-signed="{experts[0].id}"]')
    assert row.is_visible() and "题材重复" in row.inner_text()
    _no_sideways_scroll(page)
    _save(page.screenshot(full_page=True), "panel-signing-768.png", tmp_path)
