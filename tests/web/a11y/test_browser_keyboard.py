"""Keyboard only (issue 23): an expert opens a work, scores every criterion, submits, and recuses
from another; a chair signs off. Every control is reached with Tab and worked with Enter or
Space, each focused control shows a visible focus style, and the score buttons announce their
criterion and value (accessible names)."""
from __future__ import annotations

import pytest

from helpers.signing import KEY
from helpers.rating import scoring_scene
from helpers.review import scored_round
from testkit import PASSWORD

pytestmark = pytest.mark.browser
DESK = {"width": 1024, "height": 768}
LABELS = {"thought": "思想精深", "artistry": "艺术精湛", "production": "制作精良", "innovation": "创新创造"}
VALUES = {"thought": "8.5", "artistry": "7", "production": "9", "innovation": "6.5"}

FOCUS_SHOWN = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
  return outline || (s.boxShadow && s.boxShadow !== 'none'); }"""


def _tab_to(page, selector: str, *, limit: int = 400) -> None:
    """Press Tab until ``selector`` has the focus; every control passed on the way shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            assert page.evaluate(FOCUS_SHOWN), f"no visible focus on {selector}"
            return
        shown = page.evaluate(FOCUS_SHOWN)
        assert shown is None or shown, "a control takes the focus without showing it: " + \
            page.evaluate("document.activeElement.outerHTML.slice(0, 160)")
    raise AssertionError(f"{selector} is never reached with Tab")


def _keyboard_log_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    _tab_to(page, "input[name=username]")
    page.keyboard.type(username)
    _tab_to(page, "input[name=password]")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _language_name(page, criterion: str) -> str:
    return LABELS[criterion] if criterion in LABELS else criterion


def test_an_expert_scores_submits_and_recuses_by_keyboard(live_server, browser, session, make_user):
    scene = scoring_scene(session, make_user, works=2)
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    base = live_server
    _keyboard_log_in(page, base, "zhang")
    first, second = scene.mine[0].id, scene.mine[1].id
    _tab_to(page, f'a[data-assignment-id="{first}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#scoring[data-ready=true]")

    for n, (criterion, value) in enumerate(VALUES.items()):
        name = f"{_language_name(page, criterion)} {value}"
        button = page.get_by_role("button", name=name, exact=True)
        assert button.count() == 1, f"a score button announces {name!r}"
        _tab_to(page, f'[data-criterion="{criterion}"] [data-value="{value}"]')
        page.keyboard.press("Space" if n % 2 else "Enter")
        page.wait_for_selector(f'[data-criterion="{criterion}"] [data-value="{value}"][aria-pressed="true"]')
    page.wait_for_selector('[data-save-state="saved"][data-pending="0"]', timeout=15000)
    _tab_to(page, '[data-action="submit"]')
    page.keyboard.press("Enter")
    page.wait_for_selector('#scoring[data-editable="false"]', timeout=10000)
    assert page.evaluate("document.activeElement.matches('[data-confirmation]')"), "the focus is on the confirmation"

    page.keyboard.press("Shift+Tab")  # back up to the list, by keyboard
    _tab_to(page, "a.back")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, f'a[data-assignment-id="{second}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("#scoring[data-ready=true]")
    _tab_to(page, '[data-action="recuse"]')
    page.keyboard.press("Enter")
    assert page.locator("[data-recuse-dialog]").evaluate("d => d.open")
    _tab_to(page, "[data-recuse-reason]", limit=5)
    page.keyboard.type("曾在该作品出品方任职")
    _tab_to(page, "[data-recuse-confirm]", limit=5)
    page.keyboard.press("Enter")
    page.wait_for_selector('#scoring[data-status="recused"]', timeout=10000)
    page.context.close()


def test_a_chair_signs_off_by_keyboard(live_server, browser, session, make_user):
    scored_round(session, make_user, key=KEY)
    make_user("chair1", role="chair", display_name="李组长")
    page = browser.new_context(viewport=DESK, locale="zh-CN").new_page()
    base = live_server
    _keyboard_log_in(page, base, "chair1")
    page.goto(f"{base}/review/{KEY}/shortlist")   # typed into the address bar
    _tab_to(page, "form[action$='/shortlist'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _tab_to(page, "a[data-signoff-link]")
    page.keyboard.press("Enter")
    _tab_to(page, ".signoff input[name=password]", limit=3)
    page.keyboard.type(PASSWORD)
    _tab_to(page, 'button[data-action="signoff"]', limit=5)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector('[data-shortlist-state="signed"]')
    page.context.close()
