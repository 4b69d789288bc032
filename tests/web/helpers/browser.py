"""What the browser tests share: a logged-in page at a viewport, waiting on a page's state."""
from __future__ import annotations

from testkit import PASSWORD, browser_log_in

LAPTOP = {"width": 1280, "height": 900}


def logged_in_page(browser, base: str, username: str, *, viewport: dict = LAPTOP, password: str = PASSWORD,
                   touch: bool = False):
    """A new browser context at ``viewport`` (zh-CN), ``username`` logged in through the form; the page.
    Closing ``page.context`` ends it."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", has_touch=touch)
    page = context.new_page()
    browser_log_in(page, base, username, password=password)
    return page


def until(page, condition, timeout_ms: int = 20000) -> None:
    """Poll ``condition()`` (the pages' CSP forbids the string predicates of wait_for_function)."""
    for _ in range(timeout_ms // 100):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError("the page never reached the expected state")
