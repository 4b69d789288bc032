"""Accessibility as a checked property (issue 23): axe-core on every kind of page of the demo that
each role reaches by links (the login, offline and error pages too), at 768×1024 and 1024×768, with
the WCAG 2.0/2.1/2.2 A and AA rules and axe's best practices: no violation of any impact.

One page of each kind is checked (its route, its query's names and the state of the round or
assignment it shows: helpers/a11y.py), not every URL: one work's drill-down stands for all works.
So that a page cannot be skipped unseen, every GET route of the app is either a page some role's
crawl must reach (``PAGES``) or named here as not a page (``NOT_PAGES``), every page template is
either rendered by some role's crawl (``TEMPLATES``) or named with the reason it is not; and a
violation put into a page deep in the crawl, at one viewport only, is found there."""
from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from flask import template_rendered
from sqlmodel import Session, select

from helpers.a11y import MAX_PAGES, VIEWPORTS, audit_kinds, route_kinds
from seed.demo import DEMO_PASSWORD
from testkit import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WEB = Path(__file__).resolve().parents[3] / "web"

# The routes each role's crawl must reach (by links from its home page, or in ``ALSO``).
PAGES = {
    "expert01": {"accounts.login", "accounts.password", "home.index", "rating.form", "rating.offline",
                 "assignment.my_conflicts"},
    "chair": {"accounts.password", "home.index", "progress.board", "progress.reminder", "review.index",
              "review.rankings", "review.diagnostics", "review.sensitivity", "review.shortlist", "review.abnormal",
              "review.work", "signing.signatures"},
    "admin": {"accounts.password", "home.index", "rounds.rounds", "intake.imports", "intake.works",
              "intake.recommend_form", "assignment.index", "assignment.pool", "assignment.round_page",
              "assignment.replace_page", "conduct.year", "conduct.round_view", "progress.board",
              "progress.reminder", "review.index", "review.rankings", "review.diagnostics", "review.sensitivity",
              "review.shortlist", "review.abnormal", "review.work", "signing.signatures"},
}
# Pages no link leads to, checked too: the service worker's offline page and the error page (404);
# for the admin also the recusal replacement page of an assignment the test recuses (``_recused``).
ALSO = {"expert01": ("/offline", "/no-such-page"), "chair": (), "admin": ()}
# GET routes that are not pages for a person to read, and why.
NOT_PAGES = {
    "static": "CSS, scripts, fonts and images",
    "rating.service_worker": "the service worker's script",
    "rating.csrf": "a fresh CSRF token as JSON for the form's script",
    "progress.live": "the board's changing part, fetched by the board's script into the checked board",
    "assignment.job": "a draw job's state as JSON, polled by the checked round page",
    "intake.template": "the import template (XLSX)",
    "exports.download": "shortlist and rankings files (CSV, XLSX, PDF)",
    "exports.announcement_download": "the announcement's files (CSV, XLSX, PDF)",
    "conduct.index": "redirects to the latest year's review (conduct.year)",
    "conduct.round_xlsx": "the conduct review's XLSX",
    "conduct.year_xlsx": "the conduct review's XLSX",
}
# The templates each role's crawl renders as whole pages (partials and layouts are inside them).
TEMPLATES = {
    "expert01": {"accounts/login.html", "accounts/password.html", "home/index.html", "rating/form.html",
                 "rating/offline.html", "assignment/my_conflicts.html", "errors/error.html"},
    "chair": {"accounts/password.html", "home/index.html", "progress/board.html", "progress/reminder.html",
              "review/index.html", "review/rankings.html", "review/diagnostics.html", "review/sensitivity.html",
              "review/shortlist.html", "review/abnormal.html", "review/work.html", "signing/sign.html"},
    "admin": {"accounts/password.html", "home/index.html", "rounds/rounds.html", "intake/imports.html",
              "intake/works.html", "intake/recommend.html", "assignment/index.html", "assignment/pool.html",
              "assignment/round.html", "assignment/replace.html", "conduct/report.html", "progress/board.html",
              "progress/reminder.html", "review/index.html", "review/rankings.html", "review/diagnostics.html",
              "review/sensitivity.html", "review/shortlist.html", "review/abnormal.html", "review/work.html",
              "signing/sign.html"},
}
NOT_PAGE_TEMPLATES = {
    "base.html": "the layout every page extends",
    "review/locked.html": "the answer (423) to a form posted to a signed round; tests/web/review checks it",
    "message.html": "a few pages' 404 and 503 answers: checked by test_the_message_page_passes_axe",
}


def _rendered(app) -> set[str]:
    """The names of the templates ``app`` renders from now on (the live server runs in this process)."""
    names: set[str] = set()

    def record(sender, template, context, **extra):
        names.add(template.name)

    template_rendered.connect(record, app, weak=False)
    return names


def _recused(app) -> str:
    """The recusal replacement page of one assignment recused in a round in scoring. The round
    page links to it from that assignment's row, but which rows the crawl's round page lists
    first depends on the database's order, so the page is checked directly (``also``)."""
    from web.core.models import Assignment, AssignmentStatus, Round, RoundState, User
    from web.rating.operations import recuse

    with Session(app.extensions["tuiyou.engine"]) as session:
        round_ = session.exec(select(Round).where(Round.state == RoundState.scoring).order_by(Round.id)).first()
        assignment = session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                           Assignment.status == AssignmentStatus.pending)
                                  .order_by(Assignment.id)).first()
        recuse(session=session, expert=session.get(User, assignment.expert_id), assignment=assignment,
               round_=round_, reason="与申报单位有合作关系")
        session.commit()
        return f"/admin/rounds/{round_.key}/assignment/{assignment.id}/replace"


# A role's axe runs (most of its crawl's time: axe at two sizes on each of the admin's ~50 kinds)
# can be shared out over several tests: each part crawls every page, so each proves the reach, and
# runs axe on the kinds whose stable hash falls to it. Each extra part costs a crawl (and on
# PostgreSQL a demo build), and since the long tests run first (tests/conftest.py) one part per
# role no longer leaves a core idle at the end. With the admin in one part (and the compiled
# templates kept, tests/conftest.py) the whole run took 508 CPU-s of the machine, Chromium's
# included, against 552 (docs/benchmarks.md, the test suite's time).
PARTS = {"expert01": 1, "chair": 1, "admin": 1}
SHARES = [(username, part) for username, parts in PARTS.items() for part in range(parts)]


def _share(part: int, parts: int):
    return lambda kind: zlib.crc32(repr(kind).encode()) % parts == part


@pytest.mark.parametrize("username, part", SHARES, ids=[f"{u}-{p + 1}of{PARTS[u]}" for u, p in SHARES])
def test_axe_finds_nothing_on_any_kind_of_page(demo, app, live_server, browser, username, part):
    also = ALSO[username] + ((_recused(app),) if username == "admin" else ())
    rendered = _rendered(app)
    result = audit_kinds(browser, live_server, username, DEMO_PASSWORD, VIEWPORTS, kind=route_kinds(app),
                         with_login=username == "expert01", also=also, select=_share(part, PARTS[username]))
    assert len(result.pages) < MAX_PAGES, "the crawl was cut short: raise MAX_PAGES or merge kinds"
    reached = {getattr(kind, "endpoint", None) for kind in result.pages}
    assert PAGES[username] <= reached, f"not reached: {sorted(PAGES[username] - reached)}"
    assert reached - {None} <= PAGES[username], f"a page not in PAGES: {sorted(reached - {None} - PAGES[username])}"
    assert TEMPLATES[username] <= rendered, f"not rendered: {sorted(TEMPLATES[username] - rendered)}"
    assert not result.findings, f"{len(result.findings)} axe violations:\n" + "\n".join(map(str, result.findings))


def test_every_get_route_is_a_page_some_crawl_reaches_or_named_as_not_a_page(app):
    routes = {rule.endpoint for rule in app.url_map.iter_rules()
              if "GET" in rule.methods and not rule.endpoint.startswith("api.")}
    pages = set().union(*PAGES.values())
    assert not pages & set(NOT_PAGES)
    assert routes - set(NOT_PAGES) - pages == set(), "a new page: add it to PAGES (and make the crawl reach it)"
    assert (pages | set(NOT_PAGES)) - routes == set(), "a route named here is gone"


def test_every_page_template_is_rendered_by_some_crawl_or_named_as_not_a_page():
    templates = {path.relative_to(next(p for p in path.parents if p.name == "templates")).as_posix()
                 for path in WEB.rglob("templates/**/*.html") if not path.name.startswith("_")}
    checked = set().union(*TEMPLATES.values())
    assert templates - checked - set(NOT_PAGE_TEMPLATES) == set(), "a new page template: add it to TEMPLATES"
    assert (checked | set(NOT_PAGE_TEMPLATES)) - templates == set(), "a template named here is gone"


# A violation only a 768-wide screen shows (the image is hidden wider, by a constructed style sheet:
# the pages' CSP allows no inline style), put on every expert's scoring form, which the crawl reaches
# only through the home page's links.
NARROW_ONLY = """
addEventListener("DOMContentLoaded", () => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync("@media (min-width: 801px) { #injected-violation { display: none; } }");
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
});
"""


def test_the_crawl_finds_a_violation_put_deep_in_it_at_the_one_size_that_shows_it(demo, app, live_server,
                                                                                   browser):
    @app.after_request
    def unlabelled_image(response):
        from flask import request

        if request.endpoint == "rating.form" and response.mimetype == "text/html":
            response.set_data(response.get_data(as_text=True).replace(
                "</main>", '<img id="injected-violation" src="/static/none.png"></main>', 1))
        return response

    # Axe on the forms only: the other pages' checks are test_axe_finds_nothing_on_any_kind_of_page's.
    result = audit_kinds(browser, live_server, "expert01", DEMO_PASSWORD, VIEWPORTS, kind=route_kinds(app),
                         init_script=NARROW_ONLY, select=lambda kind: getattr(kind, "endpoint", "") == "rating.form")
    forms = [path for kind, path in result.pages.items() if getattr(kind, "endpoint", "") == "rating.form"]
    injected = [(f.page, f.rule) for f in result.findings if "#injected-violation" in f.targets]
    assert forms and injected == [(f"768x1024 {form}", "image-alt") for form in forms], result.findings


def test_the_message_page_passes_axe(app, make_user, live_server, browser):
    make_user("wang", role="admin")
    result = audit_kinds(browser, live_server, "wang", PASSWORD, VIEWPORTS, kind=route_kinds(app), start=(),
                         also=("/admin/rounds/无此轮次/recommend",))
    assert not result.findings, "\n".join(map(str, result.findings))
