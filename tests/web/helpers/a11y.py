"""Accessibility checks with axe-core (the copy the PyPI package ``axe-playwright-python`` ships):
crawl every page a role can reach by links from its home page, run axe on each with the WCAG 2.0,
2.1 and 2.2 A/AA rules and axe's best practices, and list what it finds.

Used by tests/web/a11y/test_a11y.py and by ``benchmarks/a11y_count.py`` (the counts before and after).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
VIEWPORTS = {"768x1024": {"width": 768, "height": 1024}, "1024x768": {"width": 1024, "height": 768}}
# Links that are not pages: files, the language switch (the same page again), leaving.
SKIP = re.compile(r"\.(csv|xlsx|pdf|json|js)(\?|$)|/logout|[?&]lang=|/api/|/export|/announcement\.")
MAX_PAGES = 150


@dataclass(frozen=True)
class Finding:
    page: str
    rule: str
    impact: str
    nodes: int
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}: {self.rule} ({self.impact}, {self.nodes}×) {', '.join(self.targets[:3])}"


def shape(path: str) -> str:
    """A page's kind: its path with record ids as N and its query's names (one page of each kind is
    enough: one work's drill-down, one expert's reminder stands for all; each round's pages are
    visited, rounds differ by state)."""
    parts = urlsplit(path)
    names = sorted({q.split("=")[0] for q in parts.query.split("&") if q})
    path = re.sub(r"/experts/[^/]+", "/experts/X", parts.path)  # one expert's reminder stands for all
    return re.sub(r"/\d+(?=/|$)", "/N", path) + ("?" + "&".join(names) if names else "")


def crawl(page, base: str, start: str = "/") -> list[str]:
    """Every page of a different kind reachable by a link from ``start`` (same site, GET, no file)."""
    seen_shapes, queue, pages = set(), [start], []
    while queue and len(pages) < MAX_PAGES:
        path = queue.pop(0)
        if shape(path) in seen_shapes:
            continue
        seen_shapes.add(shape(path))
        answer = page.goto(base + path)
        if answer is None or answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
            continue
        if urlsplit(page.url).path == "/login" and path != "/login":
            continue
        pages.append(path)
        for href in page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))"):
            url = urlsplit(urljoin(base + path, href))
            if url.netloc != urlsplit(base).netloc or SKIP.search(href):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if shape(target) not in seen_shapes:
                queue.append(target)
    return pages


def axe_findings(page, path: str) -> list[Finding]:
    """axe-core's violations on the page now open (every impact)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]})
    return [Finding(path, v["id"], v.get("impact") or "", len(v["nodes"]),
                    tuple(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                          for n in v["nodes"]))
            for v in results.response["violations"]]


def audit(browser, base: str, username: str, password: str, viewports: dict[str, dict], *,
          with_login: bool = False) -> tuple[list[str], list[Finding]]:
    """Log ``username`` in, crawl, run axe on each page at each viewport (resized in place, the
    page's media queries applied); the pages and the findings, each labelled with its viewport."""
    from testkit import browser_log_in

    first = next(iter(viewports.values()))
    context = browser.new_context(viewport=first, locale="zh-CN", has_touch=True)
    page = context.new_page()
    findings: list[Finding] = []

    def check(path: str) -> None:
        for size, viewport in viewports.items():
            page.set_viewport_size(viewport)
            findings.extend(Finding(f"{size} {path}", f.rule, f.impact, f.nodes, f.targets)
                            for f in axe_findings(page, path))

    try:
        if with_login:
            page.goto(base + "/login")
            check("/login")
        browser_log_in(page, base, username, password=password)
        pages = crawl(page, base)
        for path in pages:
            page.goto(base + path)
            page.wait_for_load_state("load")
            check(path)
        return pages, findings
    finally:
        context.close()
