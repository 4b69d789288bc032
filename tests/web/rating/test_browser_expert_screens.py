"""The expert's screens on a tablet (768×1024, touch), each rough edge of issue 23 as a check:
the dissent kept after a wrong password, confirmations in view with the focus on them, the
recusal reason asked for in place, a Chinese offline page, the status badge after an offline
reload, the task list grouped by round, and the language kept through login."""
from __future__ import annotations

import pytest

from helpers.signing import KEY, bearer, wild_rating
from helpers.rating import scoring_scene, tap
from helpers.review import scored_round
from seed.demo import DEMO_PASSWORD
from testkit import PASSWORD, browser_log_in

pytestmark = pytest.mark.browser
TABLET = {"width": 768, "height": 1024}
TAPS = {"thought": "8.5", "artistry": "7", "production": "9", "innovation": "6.5"}


@pytest.fixture
def expert_page(browser):
    """A touch page at 768×1024 (portrait tablet)."""
    context = browser.new_context(viewport=TABLET, has_touch=True, locale="zh-CN")
    yield context.new_page()
    context.close()


def _in_view_and_focused(page, selector: str) -> None:
    """The element is visible inside the viewport and holds the keyboard focus."""
    element = page.locator(selector)
    element.wait_for()
    box = element.bounding_box()
    height = page.viewport_size["height"]
    assert box is not None and box["y"] >= 0 and box["y"] + min(box["height"], 40) <= height, \
        f"{selector} is out of sight (top at {box and box['y']:.0f}px of a {height}px viewport)"
    assert page.evaluate("s => document.activeElement === document.querySelector(s)", selector), \
        f"the focus is not on {selector}"


def test_a_wrong_password_keeps_the_dissent(browser, live_server, client, session, make_user, expert_page):
    _round, _works, experts = scored_round(session, make_user, key=KEY)
    make_user("chair1", role="chair", display_name="李组长")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=bearer(client, "chair1")).status_code == 201
    page = expert_page
    browser_log_in(page, live_server, experts[0].username)
    page.goto(f"{live_server}/panel/{KEY}/sign")
    dissent = "网络剧作品03与往季入选作品题材重复，建议替换。"
    page.fill("#sign-password", "wrong-password")
    page.fill("#sign-dissent", dissent)
    with page.expect_navigation():
        page.locator("[data-sign-form] button[type=submit]").tap()
    assert page.locator(f'[data-unsigned="{experts[0].id}"]').count() == 1
    assert page.input_value("#sign-dissent") == dissent, "the member's dissent survives a wrong password"
    assert "密码" in page.inner_text("[data-sign-form]"), "the refusal is said beside the form"


def test_confirmations_are_in_view_and_the_recusal_reason_is_asked_in_place(live_server, expert_page, session,
                                                                             make_user):
    scene = scoring_scene(session, make_user, works=3)
    page = expert_page
    browser_log_in(page, live_server, "zhang", tap=True)
    page.goto(f"{live_server}/assignments/{scene.mine[0].id}")
    for criterion, value in TAPS.items():
        tap(page, criterion, value)
    page.wait_for_selector('[data-save-state="saved"][data-pending="0"]', timeout=15000)
    page.locator('[data-action="submit"]').tap()
    page.wait_for_selector('#scoring[data-editable="false"]', timeout=10000)
    _in_view_and_focused(page, '[data-confirmation="status"]')
    assert "已提交" in page.inner_text('[data-confirmation="status"]')

    page.goto(f"{live_server}/assignments/{scene.mine[1].id}")
    page.locator('[data-action="recuse"]').tap()
    page.locator("[data-recuse-confirm]").tap()
    dialog = page.locator("[data-recuse-dialog]")
    assert dialog.evaluate("d => d.open"), "an empty reason keeps the dialog open"
    assert "请填写回避理由" in dialog.inner_text()
    assert page.evaluate("document.activeElement === document.querySelector('[data-recuse-reason]')")
    page.fill("[data-recuse-reason]", "曾在该作品出品方任职")
    page.locator("[data-recuse-confirm]").tap()
    page.wait_for_selector('#scoring[data-status="recused"]', timeout=10000)
    _in_view_and_focused(page, '[data-confirmation="status"]')
    assert "您已回避" in page.inner_text('[data-confirmation="status"]')


def test_the_explanation_confirmation_is_in_view(browser, live_server, client, session, make_user, expert_page):
    world = wild_rating(client, session, make_user)
    page = expert_page
    browser_log_in(page, live_server, world.wild_expert)
    page.goto(f"{live_server}/assignments/{world.wild_id}#explanation")
    page.fill("#explanation-text", "该片多处史实与公开资料不符，故思想性与制作各项打分偏低。")
    with page.expect_navigation():
        page.locator("[data-explanation-form] button[type=submit]").tap()
    _in_view_and_focused(page, '[data-confirmation="explanation"]')
    assert "说明已提交" in page.inner_text('[data-confirmation="explanation"]')


def test_a_work_never_opened_online_shows_a_chinese_offline_page(live_server, expert_page, session, make_user):
    scene = scoring_scene(session, make_user, works=2)
    page = expert_page
    browser_log_in(page, live_server, "zhang", tap=True)
    page.goto(f"{live_server}/assignments/{scene.mine[0].id}")
    page.wait_for_selector("#scoring[data-offline-ready=true]", timeout=10000)
    page.context.set_offline(True)
    try:
        page.goto(f"{live_server}/assignments/{scene.mine[1].id}", timeout=10000)
        text = page.inner_text("body")
        assert "离线" in text and "联网" in text, text
        assert page.locator("html").get_attribute("lang") == "zh-CN"
        assert page.locator('a[href="/"]').count() >= 1, "a way back to the task list"
    finally:
        page.context.set_offline(False)


def test_the_badge_matches_the_scores_restored_after_an_offline_reload(live_server, expert_page, session,
                                                                       make_user):
    scene = scoring_scene(session, make_user, works=1)
    page = expert_page
    browser_log_in(page, live_server, "zhang", tap=True)
    page.goto(f"{live_server}/assignments/{scene.mine[0].id}")
    page.wait_for_selector("#scoring[data-offline-ready=true]", timeout=10000)
    assert page.inner_text("[data-status-badge]") == "未开始"
    page.context.set_offline(True)
    try:
        tap(page, "thought", "8")
        page.wait_for_selector('[data-save-state="offline"][data-pending="1"]', timeout=10000)
        page.reload(timeout=10000)
        page.wait_for_selector('[data-save-state="offline"][data-pending="1"]', timeout=10000)
        assert page.inner_text("[data-status-badge]") == "评分中"
    finally:
        page.context.set_offline(False)


def test_the_task_list_is_grouped_by_round(demo, live_server, expert_page):
    page = expert_page
    browser_log_in(page, live_server, "expert01", password=DEMO_PASSWORD)
    groups = page.locator("details[data-round-group]")
    assert groups.count() >= 2, "one group per round"
    states = groups.evaluate_all("gs => gs.map(g => [g.dataset.roundGroup, g.dataset.roundState, g.open])")
    assert len({key for key, _state, _open in states}) == len(states), "each round once"
    takes_scores = [i for i, (_k, state, _o) in enumerate(states) if state == "scoring"]
    assert takes_scores and takes_scores == list(range(len(takes_scores))), f"open rounds first: {states}"
    assert all(is_open for _k, state, is_open in states if state == "scoring")
    assert all(not is_open for _k, state, is_open in states if state == "signed"), f"signed folded: {states}"
    assert any(state == "signed" for _k, state, _o in states), states
    every = page.locator("a[data-assignment-id]").count()
    grouped = page.locator("details[data-round-group] a[data-assignment-id]").count()
    assert every == grouped > 0, "every assignment sits in its round's group"


@pytest.mark.parametrize("how", ["query", "switcher"])
def test_the_language_chosen_on_the_login_page_is_kept(live_server, expert_page, session, make_user, how):
    """English chosen on the login page stays after login; the switcher keeps where the login leads."""
    scene = scoring_scene(session, make_user, works=1)
    page = expert_page
    form = f"/assignments/{scene.mine[0].id}"
    if how == "query":
        page.goto(f"{live_server}/login?lang=en")
    else:
        page.goto(f"{live_server}/login?next={form}")
        with page.expect_navigation():
            page.locator("a.lang").tap()
    assert page.locator("html").get_attribute("lang") == "en"
    page.fill("input[name=username]", "zhang")
    page.fill("input[name=password]", PASSWORD)
    page.locator("button[type=submit]").tap()
    landing = f"{live_server}/" if how == "query" else f"{live_server}{form}"
    page.wait_for_url(landing)
    assert page.locator("html").get_attribute("lang") == "en"
    if how == "query":
        assert "My assignments" in page.inner_text("main")
