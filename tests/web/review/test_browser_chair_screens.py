"""The chair's screens on the demo at 1024×768 and on a 768×1024 tablet (issue 23): tables that
read without one character per line, the sign-off reachable from the top of the shortlist, a
waiver that keeps the chair's place, work titles as links, plain words, Chinese chart labels."""
from __future__ import annotations

import re

import pytest

from seed.demo import DEMO_PASSWORD
from testkit import browser_log_in

pytestmark = pytest.mark.browser
REVIEW = "2025Q3"     # the demo's round in review: a proposal to sign, 15 abnormal ratings unexplained
SIGNED = "2025Q2"     # the demo's signed round
SIZES = [{"width": 1024, "height": 768}, {"width": 768, "height": 1024}]

# How many lines an element's text takes (distinct line tops of its text's boxes).
LINES = """e => { const r = document.createRange(); r.selectNodeContents(e);
  return new Set(Array.from(r.getClientRects()).filter(b => b.width > 0).map(b => Math.round(b.top))).size; }"""


def _chair(browser, live_server, viewport):
    context = browser.new_context(viewport=viewport, has_touch=viewport["width"] < 1024, locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, live_server, "chair", password=DEMO_PASSWORD)
    return page


def _one_line_each(page, selector: str) -> None:
    cells = page.locator(selector)
    assert cells.count() > 0, selector
    wrapped = [t for t, n in cells.evaluate_all(f"es => es.map(e => [e.innerText, ({LINES})(e)])") if n > 1]
    assert not wrapped, f"{selector} wrap: {wrapped[:8]}"


def _fits(page, table: str) -> None:
    """Neither the page nor the table scrolls sideways: every column kept is in sight."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    hidden = page.locator(table).evaluate_all(
        "ts => ts.map(t => t.getBoundingClientRect().right - document.documentElement.clientWidth)")
    assert max(hidden) <= 1, f"{table} runs {max(hidden):.0f}px past the window"


@pytest.mark.parametrize("viewport", SIZES, ids=["1024", "768"])
def test_the_shortlist_and_abnormal_tables_read_on_a_tablet(demo, browser, live_server, viewport):
    page = _chair(browser, live_server, viewport)
    page.goto(f"{live_server}/review/{REVIEW}/shortlist")
    with page.expect_navigation():   # a stored proposal: each row gains its move-in/out control
        page.click("form[action$='/shortlist'] button[type=submit]")
    assert page.locator("details.override-form").count() > 0
    _one_line_each(page, "table.shortlist th")
    _one_line_each(page, "table.shortlist td.title a")
    _fits(page, "table.shortlist")
    page.goto(f"{live_server}/review/{REVIEW}/abnormal")
    _one_line_each(page, "table.abnormal th")
    _one_line_each(page, "table.abnormal td.work a")
    _one_line_each(page, "table.abnormal td.expert")
    _fits(page, "table.abnormal")
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES, ids=["1024", "768"])
def test_the_signoff_is_reachable_from_the_top_of_the_shortlist(demo, browser, live_server, viewport):
    page = _chair(browser, live_server, viewport)
    page.goto(f"{live_server}/review/{REVIEW}/shortlist")
    link = page.locator("a[data-signoff-link]")
    box = link.bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"], "the link is on the first screen"
    link.click()
    password = page.locator(".signoff input[name=password]")
    box = password.bounding_box()
    assert 0 <= box["y"] <= viewport["height"] - box["height"], "the sign-off form is in view"
    page.context.close()


@pytest.mark.parametrize("viewport", SIZES, ids=["1024", "768"])
def test_a_waiver_keeps_the_chairs_place(demo, browser, live_server, viewport):
    page = _chair(browser, live_server, viewport)
    page.goto(f"{live_server}/review/{REVIEW}/abnormal")
    waivable = page.locator("[data-flag]:has(form.waive-form)")
    before = waivable.count()
    assert before >= 6
    flag = waivable.nth(5).get_attribute("data-flag")
    row = page.locator(f'[data-flag="{flag}"]')
    row.locator("input[name=reason]").fill("该专家为该类别资深评委，评分与其评语一致，予以豁免。")
    row.locator("button[type=submit]").click()
    row.locator(".waiver").wait_for()
    assert row.locator("form.waive-form").count() == 0
    assert page.evaluate("window.scrollY") > 0, "not back at the top of the page"
    box = row.locator(".waiver").bounding_box()
    assert 0 <= box["y"] <= viewport["height"] - 20, "the waived rating is still in view"
    assert page.evaluate(f"""document.querySelector('[data-flag="{flag}"]').contains(document.activeElement)"""), \
        "the focus stays on the waived rating"
    assert "予以豁免" in row.inner_text()
    assert waivable.count() == before - 1
    page.reload()
    assert "予以豁免" in page.locator(f'[data-flag="{flag}"]').inner_text(), "the waiver was stored"
    page.context.close()


def test_a_refused_waiver_says_why_in_place(demo, browser, live_server):
    page = _chair(browser, live_server, SIZES[1])
    page.goto(f"{live_server}/review/{REVIEW}/abnormal")
    row = page.locator("[data-flag]:has(form.waive-form)").nth(3)
    row.locator("input[name=reason]").evaluate("e => { e.required = false; e.value = '   '; }")
    row.locator("button[type=submit]").click()
    row.locator("[data-waive-message]").wait_for()
    assert row.locator("form.waive-form").count() == 1, "nothing waived without a reason"
    assert row.locator("[data-waive-message]").inner_text().strip()
    page.context.close()


def test_the_abnormal_list_links_each_work(demo, browser, live_server):
    page = _chair(browser, live_server, SIZES[0])
    page.goto(f"{live_server}/review/{REVIEW}/abnormal")
    links = page.locator("[data-flag] td.work a")
    assert links.count() == page.locator("[data-flag]").count() > 0
    href = links.first.get_attribute("href")
    assert re.search(rf"/review/{REVIEW}/works/\d+", href), href
    page.context.close()


def test_plain_words_and_chinese_chart_labels(demo, browser, live_server):
    page = _chair(browser, live_server, SIZES[0])
    for path in (f"/review/{REVIEW}/shortlist", f"/review/{REVIEW}/abnormal", f"/review/{SIGNED}/shortlist",
                 f"/review/{SIGNED}/rankings", f"/review/{REVIEW}/diagnostics"):
        page.goto(f"{live_server}{path}")
        # a status code in the words, not inside a digest (a SHA-256 holds "423" about one time in 65)
        text = re.sub(r"\b[0-9a-f]{16,}\b", "", page.inner_text("main"))
        for jargon in ("423", "config/", ".toml"):
            assert jargon not in text, f"{path} shows {jargon!r}"
    labels = page.locator("svg.chart text.axis").evaluate_all("ts => ts.map(t => t.textContent)")
    assert labels and not [t for t in labels if re.search(r"\b(bias|scale)\b", t)], labels
    page.context.close()
