"""Accessibility checks with axe-core (the copy the PyPI package ``axe-playwright-python`` ships):
crawl every kind of page a role can reach by links from its home page, run axe on one page of each
kind with the WCAG 2.0, 2.1 and 2.2 A/AA rules and axe's best practices, at each viewport, and list
what it finds.

A page's *kind* decides what one axe run stands for. Inside the suite it is the page's route (its
Flask endpoint), the names of its query and the state of the round or assignment it shows
(``route_kinds``): one work's drill-down stands for every work of rounds in that state, one expert's
reminder for all. Without the app (``benchmarks/a11y_count.py`` against a running server) it is
the path's shape (``shape``).

Used by tests/web/a11y/test_a11y.py and by ``benchmarks/a11y_count.py`` (the counts before and after).
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from functools import cache
from typing import Callable, Hashable
from urllib.parse import unquote, urljoin, urlsplit

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
VIEWPORTS = {"768x1024": {"width": 768, "height": 1024}, "1024x768": {"width": 1024, "height": 768}}
# Links that are not pages: files, the language switch (the same page again), leaving.
SKIP = re.compile(r"\.(csv|xlsx|pdf|json|js)(\?|$)|/logout|[?&]lang=|/api/|/export|/announcement\.")
# A guard against a crawl that never ends; a test asserts the crawl stopped well before it.
MAX_PAGES = 150
_RUN = "options => axe.run(document, options)"


@dataclass(frozen=True)
class Finding:
    page: str
    rule: str
    impact: str
    nodes: int
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page}: {self.rule} ({self.impact}, {self.nodes}×) {', '.join(self.targets[:3])}"


@dataclass(frozen=True)
class PageKind:
    """What one checked page stands for: the route, its query's names, the state of its record."""

    endpoint: str
    query: tuple[str, ...] = ()
    state: str = ""


def _query_names(query: str) -> tuple[str, ...]:
    return tuple(sorted({q.split("=")[0] for q in query.split("&") if q}))


def shape(path: str) -> str:
    """A page's kind without the app: its path with record ids as N and its query's names (one
    work's drill-down, one expert's reminder stands for all; each round's pages are visited)."""
    parts = urlsplit(path)
    names = _query_names(parts.query)
    path = re.sub(r"/experts/[^/]+", "/experts/X", parts.path)  # one expert's reminder stands for all
    return re.sub(r"/\d+(?=/|$)", "/N", path) + ("?" + "&".join(names) if names else "")


def route_kinds(app) -> Callable[[str], Hashable]:
    """The kind of the page at a path of ``app``: ``PageKind(endpoint, query names, state)``, where
    the state is the round's (``<key>``) or the assignment's (``<assignment_id>``), since the
    templates show different forms by state. A path no route matches is a kind of its own."""
    from sqlalchemy import text
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    engine = app.extensions["tuiyou.engine"]

    @cache
    def state_of(table: str, column: str, value) -> str:
        with engine.connect() as connection:
            found = connection.execute(text(f"SELECT {'state' if table == 'round' else 'status'} "
                                            f"FROM {table} WHERE {column} = :value"), {"value": value}).scalar()
        return str(found or "")

    def kind(path: str) -> Hashable:
        parts = urlsplit(path)
        try:
            endpoint, args = adapter.match(unquote(parts.path), method="GET")
        except HTTPException:  # not found, or a redirect to the slash-ended path: see where it lands
            return ("unrouted", path)
        state = (state_of("round", "key", args["key"]) if "key" in args
                 else state_of("assignment", "id", args["assignment_id"]) if "assignment_id" in args else "")
        return PageKind(endpoint, _query_names(parts.query), state)

    return kind


def _local(base: str, url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class _Checker:
    """Runs axe on the page now open at every viewport: axe injected once per document, the
    viewport resized in place (the page's media queries applied, no second navigation), the
    current size first so a page costs one resize."""

    def __init__(self, page, viewports: dict[str, dict]):
        from axe_playwright_python.sync_playwright import Axe

        self.page, self.viewports = page, viewports
        self.current = next(iter(viewports))
        self.script = Axe().axe_script
        self.options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}

    def __call__(self, path: str) -> list[Finding]:
        self.page.evaluate(self.script)
        findings = []
        for size in sorted(self.viewports, key=lambda s: s != self.current):
            if size != self.current:
                self.page.set_viewport_size(self.viewports[size])
                self.current = size
            result = self.page.evaluate(_RUN, self.options)
            findings += [Finding(f"{size} {path}", v["id"], v.get("impact") or "", len(v["nodes"]),
                                 tuple(" ".join(n["target"]) if isinstance(n["target"], list) else str(n["target"])
                                       for n in v["nodes"]))
                         for v in result["violations"]]
        return findings


def crawl(page, base: str, check: Callable[[str], list], kind: Callable[[str], Hashable] = shape,
          start: tuple[str, ...] = ("/",)) -> tuple[dict, list]:
    """Visit one page of every kind reachable by links from ``start`` (same site, GET, no file),
    breadth first, and ``check`` it where it is, before following its links.

    A link whose kind was already checked is not opened; a redirect's target counts under its own
    kind. Returns ``{kind: path}`` of the checked pages and what ``check`` found on them.
    """
    seen, checked, found = set(), {}, []
    queue = deque(start)
    while queue and len(checked) < MAX_PAGES:
        path = queue.popleft()
        if kind(path) in seen:
            continue
        seen.add(kind(path))
        answer = page.goto(base + path)
        if answer is None or answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
            continue
        landed = _local(base, page.url)
        if urlsplit(landed).path == "/login" and path != "/login":
            continue
        if kind(landed) != kind(path):
            if kind(landed) in seen:
                continue
            seen.add(kind(landed))
        checked[kind(landed)] = landed
        found += check(landed)
        for href in page.locator("a[href]").evaluate_all("as => as.map(a => a.getAttribute('href'))"):
            url = urljoin(base + landed, href)
            if urlsplit(url).netloc != urlsplit(base).netloc or SKIP.search(href):
                continue
            if kind(_local(base, url)) not in seen:
                queue.append(_local(base, url))
    return checked, found


@dataclass
class Audit:
    """One role's crawl: the page checked for each kind (``{kind: path}``) and what axe found."""

    pages: dict
    findings: list[Finding]


def audit_kinds(browser, base: str, username: str, password: str, viewports: dict[str, dict], *,
                with_login: bool = False, kind: Callable[[str], Hashable] = shape,
                start: tuple[str, ...] = ("/",), also: tuple[str, ...] = (),
                init_script: str | None = None, select: Callable[[Hashable], bool] = lambda kind: True) -> Audit:
    """Log ``username`` in, crawl one page of each kind, run axe on each at each viewport; each
    finding is labelled with its viewport. With ``with_login`` the login page is checked first;
    ``also`` are pages no link leads to (an error page: any status), checked after the crawl.
    ``init_script`` runs in every document before the page's own scripts. Axe runs only on the
    kinds ``select`` accepts (the crawl and ``pages`` still cover every kind): a long crawl's
    checks can be shared out over several tests."""
    from testkit import browser_log_in

    context = browser.new_context(viewport=next(iter(viewports.values())), locale="zh-CN", has_touch=True)
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    axe = _Checker(page, viewports)

    def check(path: str) -> list[Finding]:
        return axe(path) if select(kind(path)) else []

    try:
        pages, findings = {}, []
        if with_login:
            page.goto(base + "/login")
            pages[kind("/login")] = "/login"
            findings += check("/login")
        browser_log_in(page, base, username, password=password)
        crawled, found = crawl(page, base, check, kind, start)
        pages.update(crawled)
        findings += found
        for path in also:
            answer = page.goto(base + path)
            assert answer is not None and "text/html" in answer.headers.get("content-type", ""), path
            pages.setdefault(kind(path), path)
            findings += check(path)
        return Audit(pages, findings)
    finally:
        context.close()


def audit(browser, base: str, username: str, password: str, viewports: dict[str, dict], *,
          with_login: bool = False) -> tuple[list[str], list[Finding]]:
    """``audit_kinds`` by path shape: the pages and the findings (for a server without its app)."""
    result = audit_kinds(browser, base, username, password, viewports, with_login=with_login)
    return list(result.pages.values()), result.findings
