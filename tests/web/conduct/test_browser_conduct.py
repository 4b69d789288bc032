"""The conduct review (履职评价) in headless Chromium at 1024×768 on the demo's year: the chart and
the table render without sideways scrolling, the page loads no script of its own, and the XLSX
link downloads.

Screenshots go to the test's tmp dir; with TUIYOU_SAVE_SCREENSHOTS=1 also to docs/screenshots/.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from testkit import browser_log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def _save(png: bytes, name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(png)
    if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_bytes(png)


def test_conduct_page_at_1024(browser, live_server, session, tmp_path):
    from seed.demo import DEMO_PASSWORD, build_demo

    build_demo(session)
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser_log_in(page, live_server, "admin", password=DEMO_PASSWORD)
    page.click("text=履职评价")  # from the admin navigation
    assert page.url.endswith("/admin/conduct/year/2025")
    assert page.locator("h1").first.inner_text().startswith("专家履职评价")
    assert page.locator("svg.chart circle.dot").count() >= 10
    assert page.locator("[data-conduct-table] tbody tr").count() >= 10
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the conduct page scrolls sideways by {overflow}px at 1024px"
    assert [e for e in errors if "Content Security Policy" in e or "Refused" in e] == []  # nothing blocked by the CSP
    _save(page.screenshot(full_page=False), "conduct-1024.png", tmp_path)
    (tmp_path / "conduct-1024-full.png").write_bytes(page.screenshot(full_page=True))  # for a look; not in docs
    with page.expect_download() as download:
        page.click('a[data-export="xlsx"]')
    assert download.value.suggested_filename == "conduct-2025.xlsx"
    page.click("text=2025Q2")
    assert page.url.endswith("/admin/conduct/2025Q2")
    assert page.locator("[data-conduct-table] tbody tr").count() >= 10
    context.close()
