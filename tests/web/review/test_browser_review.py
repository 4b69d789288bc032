"""The chair console in headless Chromium at 1280×800 and 1024×768: rankings, drill-down,
diagnostics and shortlist render without horizontal overflow, and the PDF's first page renders.

Screenshots go to the test's tmp dir; with TUIYOU_SAVE_SCREENSHOTS=1 also to docs/screenshots/.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from helpers.review import scored_round
from testkit import PASSWORD, browser_log_in, require_tool

pytestmark = pytest.mark.browser
KEY = "2025Q1"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
SIZES = [(1280, 800), (1024, 768)]


def _save(png: bytes, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    path.write_bytes(png)
    if os.environ.get("TUIYOU_SAVE_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        (DOCS / name).write_bytes(png)
    return path


@pytest.mark.parametrize("width,height", SIZES)
def test_console_pages_render(browser, live_server, session, make_user, tmp_path, width, height):
    _round, works, _experts = scored_round(session, make_user, works_per_category={
        "网络剧": 12, "网络纪录片": 10, "短视频": 8}, experts=8, per_work=4)
    make_user("chair1", role="chair", display_name="李组长")
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    browser_log_in(page, live_server, "chair1")
    pages = {"rankings": f"/review/{KEY}/rankings", "work": f"/review/{KEY}/works/{works[0].id}",
             "diagnostics": f"/review/{KEY}/diagnostics", "shortlist": f"/review/{KEY}/shortlist"}
    for name, path in pages.items():
        page.goto(live_server + path)
        assert page.locator("h1").first.is_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at {width}px"
        _save(page.screenshot(full_page=False), f"review-{name}-{width}.png", tmp_path)
    # the chair signs through the page; the sealed shortlist shows its hash
    page.goto(f"{live_server}/review/{KEY}/shortlist")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[data-action="signoff"]')
    assert page.locator("[data-sha256]").inner_text().strip().__len__() == 64
    assert page.locator('[data-shortlist-state="signed"]').count() == 1
    if width == 1280:
        _save(page.screenshot(full_page=False), "review-signed-1280.png", tmp_path)
        response = page.request.get(f"{live_server}/review/{KEY}/export.pdf")
        assert response.status == 200
        pdf = tmp_path / "shortlist.pdf"
        pdf.write_bytes(response.body())
        pdftoppm = require_tool("pdftoppm")
        subprocess.run([pdftoppm, "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "pdf")],
                       check=True)
        first = next(tmp_path.glob("pdf*.png"))
        _save(first.read_bytes(), "review-pdf-page1.png", tmp_path)
    context.close()
