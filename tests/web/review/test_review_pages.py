"""The chair console's pages: access by role, what each page shows, overrides need a reason,
the sign-off form seals the round, and every page write to a signed round answers 423."""
from __future__ import annotations


import pytest
from sqlmodel import select

from helpers.review import scored_round
from testkit import PASSWORD, csrf_token
from web.core.models import AuditEvent, Round, RoundState, ShortlistEntry

KEY = "2025Q1"
PAGES = [f"/review/{KEY}/rankings", f"/review/{KEY}/diagnostics", f"/review/{KEY}/sensitivity",
         f"/review/{KEY}/shortlist", "/review/", f"/review/{KEY}/export.csv"]


@pytest.fixture
def scored(session, make_user):
    return scored_round(session, make_user)


@pytest.fixture
def chair(client, make_user, login):
    make_user("chair1", role="chair", display_name="李组长")
    login("chair1")
    return client


@pytest.mark.parametrize("role,expected", [(None, 302), ("expert", 403), ("chair", 200), ("admin", 200)])
def test_access_by_role(client, make_user, login, scored, role, expected):
    if role:
        make_user(f"u_{role}", role=role)
        login(f"u_{role}")
    for page in PAGES + [f"/review/{KEY}/works/{scored[1][0].id}"]:
        assert client.get(page).status_code == expected, page


def test_rankings_page_lists_every_category_with_bands(chair, scored):
    page = chair.get(f"/review/{KEY}/rankings?method=additive").get_data(as_text=True)
    assert page.count("data-work-id=") == 14 and "网络剧作品01" in page and "网络纪录片" in page
    assert '<svg class="chart"' in page and 'value="additive" selected' in page
    only = chair.get(f"/review/{KEY}/rankings?category=网络纪录片").get_data(as_text=True)
    assert only.count("data-work-id=") == 6
    assert chair.get(f"/review/{KEY}/rankings?method=nonsense").status_code == 400
    assert 'style="' not in page and "<script" not in page


def test_the_rankings_tables_are_rendered_once_per_result_language_and_category(app, chair, scored):
    from flask import template_rendered

    rendered = []

    def seen(sender, template, context, **extra):
        if template.name == "review/_ranking_tables.html":
            rendered.append(template.name)

    path = f"/review/{KEY}/rankings?method=additive"
    with template_rendered.connected_to(seen, app):
        chair.get(path)  # the round's first: computed in the request
        first = chair.get(path).get_data(as_text=True)  # the stored result, read once by this process
        made = len(rendered)
        assert chair.get(path).get_data(as_text=True) == first and len(rendered) == made
        english = chair.get(f"{path}&lang=en").get_data(as_text=True)
        assert len(rendered) == made + 1 and "名次" in first and "名次" not in english
        assert english.count("data-work-id=") == first.count("data-work-id=") == 14
        drama = chair.get(f"{path}&category=网络纪录片").get_data(as_text=True)
        assert drama.count("data-work-id=") == 6 and len(rendered) == made + 2
        for n in range(30):  # made-up categories: no table, and one kept text for all of them
            assert chair.get(f"{path}&category=电视剧{n}").get_data(as_text=True).count("data-work-id=") == 0
        assert len(rendered) == made + 3


def test_drill_down_shows_every_rating_and_criterion(chair, scored):
    work = scored[1][0]
    page = chair.get(f"/review/{KEY}/works/{work.id}").get_data(as_text=True)
    assert page.count("data-assignment-id=") == 4 and "思想精深" in page and "标准化残差" in page
    assert chair.get(f"/review/{KEY}/works/999999").status_code == 404


def test_diagnostics_page(chair, scored):
    page = chair.get(f"/review/{KEY}/diagnostics").get_data(as_text=True)
    assert "Krippendorff" in page and page.count("data-expert-id=") == 6 and "完成率" in page
    assert "不连通" not in page


def test_override_without_reason_is_refused_then_with_reason_applied(chair, session, scored):
    token = csrf_token(chair, f"/review/{KEY}/shortlist")
    assert chair.post(f"/review/{KEY}/shortlist", data={"method": "raw", "csrf_token": token}).status_code == 303
    entry = session.exec(select(ShortlistEntry).where(ShortlistEntry.included == False)).first()  # noqa: E712
    url = f"/review/{KEY}/shortlist/entries/{entry.id}"
    refused = chair.post(url, data={"included": "1", "reason": "", "csrf_token": token}, follow_redirects=True)
    assert "须填写书面理由" in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(ShortlistEntry, entry.id).included is False
    chair.post(url, data={"included": "1", "reason": "弘扬主旋律", "csrf_token": token})
    session.expire_all()
    assert session.get(ShortlistEntry, entry.id).included is True
    page = chair.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert "弘扬主旋律" in page and 'data-action="shortlist.override"' in page


def test_signoff_form_then_every_page_write_is_423(chair, session, scored):
    token = csrf_token(chair, f"/review/{KEY}/shortlist")
    wrong = chair.post(f"/review/{KEY}/signoff", data={"password": "x", "csrf_token": token}, follow_redirects=True)
    assert "密码不正确" in wrong.get_data(as_text=True)
    assert chair.post(f"/review/{KEY}/signoff", data={"password": PASSWORD, "csrf_token": token}).status_code == 303
    session.expire_all()
    assert session.exec(select(Round)).one().state == RoundState.signed
    page = chair.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert 'data-shortlist-state="signed"' in page and "data-sha256" in page and 'name="password"' not in page
    entry = session.exec(select(ShortlistEntry)).first()
    for path, data in ((f"/review/{KEY}/shortlist", {"method": "raw"}),
                       (f"/review/{KEY}/signoff", {"password": PASSWORD}),
                       (f"/review/{KEY}/shortlist/entries/{entry.id}", {"included": "1", "reason": "x"})):
        response = chair.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 423, path
        assert "已签署" in response.get_data(as_text=True)
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist.signed")).one()


def test_english_pages_render(chair, scored):
    page = chair.get(f"/review/{KEY}/shortlist?lang=en").get_data(as_text=True)
    assert "Shortlist" in page
