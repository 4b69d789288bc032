"""Typed ranking rows (issue 20) and the chair's pages served from the stored result (issue 24):
rows are ``RankedItem`` named tuples with an O(1) lookup, cached column-wise under a new layout;
the shortlist and diagnostics pages derive nothing in a request once a result is stored (the
proposal, reliability and outliers are derived once, with the result); a long shortlist is
shown per category as its head, every entry reachable on the category's pages with its form."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict

import pytest
from sqlmodel import select

from helpers.api import bearer
from helpers.review import scored_round
from scoring.normalize import DEFAULT_METHOD
from web.core.models import Assignment, AssignmentStatus, RankingCache, Rating, User, Work
from web.review import derived, panel_stats, queries, routes, services
from web.review.rankings import LAYOUT, ROW_FIELDS, RankedItem, RoundRanking

KEY = "2025Q1"


@pytest.fixture
def chair(client, make_user, login):
    make_user("chair1", role="chair", display_name="李组长")
    login("chair1")
    return client


def _rank(session, round_, method="raw"):
    return services.ranking_for(session=session, round_=round_, method=method)


def test_rows_are_typed_records_with_attribute_access(session, make_user):
    round_, works, _ = scored_round(session, make_user)
    ranking = _rank(session, round_)
    assert ranking.rows and all(type(row) is RankedItem for row in ranking.rows)
    row = ranking.rows[0]
    assert row.item_id in {w.id for w in works} and row.category in ("网络剧", "网络纪录片")
    assert isinstance(row.rank, int) and row.rank_low <= row.rank <= row.rank_high
    assert not hasattr(row, "__dict__")  # a named tuple: no per-row dict
    with pytest.raises(TypeError):
        row["item_id"]  # noqa: B018 — the dict access of before is gone, loudly
    assert ranking.rows == sorted(ranking.rows, key=lambda r: (r.category, r.rank, r.item_id))


def test_the_lookup_of_a_row_is_by_index_not_by_scan(session, make_user):
    round_, works, _ = scored_round(session, make_user)
    ranking = _rank(session, round_)
    index = ranking.row_by_id
    assert isinstance(index, dict) and set(index) == {r.item_id for r in ranking.rows}
    ranking.rows = None  # a scan would now fail; the index answers
    assert all(ranking.row(w.id) is index[w.id] for w in works)
    assert ranking.row(10**9) is None


def test_the_cache_stores_rows_column_wise_under_a_new_layout(session, make_user):
    round_, _works, _ = scored_round(session, make_user)
    ranking = _rank(session, round_)
    data = json.loads(json.dumps(ranking.to_json()))
    assert LAYOUT == 3 and data["layout"] == 3
    assert list(data["rows"]) == list(ROW_FIELDS) and len(data["rows"]["item_id"]) == len(ranking.rows)
    again = RoundRanking.from_json(data)
    assert again.rows == ranking.rows and all(type(r) is RankedItem for r in again.rows)
    assert again.derived == json.loads(json.dumps(ranking.derived))


def test_an_entry_cached_by_the_previous_layout_is_computed_afresh(session, make_user):
    round_, _works, _ = scored_round(session, make_user)
    _rank(session, round_)
    session.commit()
    entry = session.exec(select(RankingCache).where(RankingCache.round_id == round_.id)).one()
    old = json.loads(entry.payload)
    old["layout"] = 2
    old["rows"] = [dict(zip(ROW_FIELDS, values)) for values in zip(*old["rows"].values())]  # as layout 2 stored them
    entry.payload = json.dumps(old, ensure_ascii=False)
    session.add(entry)
    session.commit()
    with pytest.raises(TypeError, match="layout"):
        RoundRanking.from_json(old)
    assert queries.stored_ranking(session=session, round_=round_, method="raw") is None
    latest = services.latest_ranking(session=session, round_=round_, method="raw")  # computed and stored again
    assert latest.ranking.layout == 3 and not latest.updating
    session.commit()
    assert json.loads(session.exec(select(RankingCache.payload).where(RankingCache.round_id == round_.id)).one()
                      )["layout"] == 3


def test_what_the_pages_derive_is_stored_with_the_result(session, make_user):
    round_, _works, _ = scored_round(session, make_user)
    ranking = _rank(session, round_)
    proposal = services.proposal_for(session=session, round_=round_, ranking=ranking)
    stored = derived.decisions_for(ranking, policy=services.policy_for(round_, received=14), ineligible={})
    assert stored == derived.decisions_of(proposal)
    assert [r.__dict__ for r in derived.reliability(ranking)] == \
        [r.__dict__ for r in panel_stats.reliability(ranking)]
    assert derived.outliers(ranking) == panel_stats.outlier_ratings(ranking)


def test_a_proposal_derived_under_another_policy_is_proposed_again(session, make_user):
    round_, _works, _ = scored_round(session, make_user)
    ranking = _rank(session, round_)
    policy = services.policy_for(round_, received=14)
    changed = type(policy)(slots={name: 1 for name in policy.slots}, min_score=policy.min_score)
    decisions = derived.decisions_for(ranking, policy=changed, ineligible={})
    assert sum(d.proposed for d in decisions) <= 2  # one slot per category: not the stored decisions
    assert decisions == derived.decisions_of(derived.propose_now(ranking, policy=changed, ineligible={}))


class _Counted:
    """Counts the calls of the functions that compute or derive."""

    def __init__(self, monkeypatch):
        self.calls: Counter = Counter()
        for module, name in ((services, "compute_ranking_of"), (services, "compute_ranking"),
                             (derived, "propose_now"), (derived, "derive"), (panel_stats, "reliability"),
                             (panel_stats, "outlier_ratings"), (queries, "rating_input")):
            self._wrap(monkeypatch, module, name)

    def _wrap(self, monkeypatch, module, name):
        real = getattr(module, name)

        def counted(*args, **kwargs):
            self.calls[name] += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def _change_a_rating(session, work):
    form = session.exec(select(Assignment).where(Assignment.work_id == work.id)).first()
    form.version += 1
    session.add(form)
    session.add_all(Rating(assignment_id=form.id, criterion=c, value=1.0, version=form.version)
                    for c in ("thought", "artistry", "production", "innovation"))
    session.commit()


@pytest.mark.parametrize("saved", [False, True])
def test_shortlist_and_diagnostics_pages_do_not_recompute_once_a_result_is_stored(
        chair, session, make_user, monkeypatch, saved):
    round_, works, _ = scored_round(session, make_user)
    pages = [f"/review/{KEY}/shortlist?method=raw", f"/review/{KEY}/diagnostics?method=raw",
             f"/review/{KEY}/rankings?method=raw", f"/api/v1/rounds/{KEY}/shortlist?method=raw",
             f"/api/v1/rounds/{KEY}/rankings?method=raw"]
    if saved:
        chair.post(f"/review/{KEY}/shortlist", data={"method": "raw",
                                                     "csrf_token": _token(chair, f"/review/{KEY}/shortlist")})
    else:
        assert chair.get(pages[0]).status_code == 200  # the first request of the round stores a result
    headers = bearer(chair, "chair1")
    counted = _Counted(monkeypatch)
    for page in pages:
        assert chair.get(page, headers=headers).status_code == 200, page
    assert not counted.calls, counted.calls
    _change_a_rating(session, works[0])  # the stored result is now older than the ratings
    for page in pages[:3]:
        body = chair.get(page).get_data(as_text=True)
        assert 'data-updating="1"' in body and "正在更新" in body, page
    for page in pages[3:]:
        response = chair.get(page, headers=headers)
        assert response.status_code == 200 and response.headers.get("X-Tuiyou-Updating", "1") == "1", page
    assert not counted.calls, counted.calls


def _token(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_the_completion_tables_count_as_before(session, make_user):
    round_, works, people = scored_round(session, make_user, experts=5, per_work=3)
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id)))
    forms[0].status, forms[1].status, forms[2].status = (AssignmentStatus.recused, AssignmentStatus.in_progress,
                                                         AssignmentStatus.pending)
    session.add_all(forms[:3])
    session.commit()
    by_expert, by_category = queries.completion(session=session, round_=round_)
    users = {u.id: u.display_name or u.username for u in session.exec(select(User))}
    category = {w.id: w.category for w in session.exec(select(Work))}
    expect_e, expect_c = defaultdict(Counter), defaultdict(Counter)
    for f in forms:
        for counter in (expect_e[users[f.expert_id]], expect_c[category[f.work_id]]):
            counter["total"] += 1
            counter[f.status.value] += 1
    for table, expected in ((by_expert, expect_e), (by_category, expect_c)):
        assert [c.label for c in table] == sorted(expected)
        for c in table:
            e = expected[c.label]
            assert (c.total, c.submitted, c.in_progress, c.recused) == \
                (e["total"], e["submitted"], e["in_progress"], e["recused"])


def test_a_long_shortlist_shows_the_head_per_category_and_every_entry_on_its_pages(
        chair, session, make_user, monkeypatch):
    round_, works, _ = scored_round(session, make_user, works_per_category={"网络剧": 14, "网络纪录片": 9},
                                    experts=6, per_work=3)
    monkeypatch.setattr(routes, "PAGE_ALL_UP_TO", 10)  # "long": more entries than this
    monkeypatch.setattr(routes, "SHORTLIST_WINDOW", 1)
    monkeypatch.setattr(routes, "SHORTLIST_PAGE", 4)
    chair.post(f"/review/{KEY}/shortlist", data={"method": "raw", "csrf_token": _token(chair, f"/review/{KEY}/shortlist")})
    view = services.shortlist_view(session=session, round_=round_)
    drama = [e for e in view.entries if e["category"] == "网络剧"]
    last_in = max(i for i, e in enumerate(drama) if e["included"] or e["proposed"])
    assert last_in + 2 < len(drama)  # some entries lie beyond the head
    far = drama[-1]
    page = chair.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    for hook in ('data-shortlist-state="proposed"', 'data-category="网络剧"', 'data-category="网络纪录片"',
                 f'id="entry-{drama[0]["entry_id"]}"', 'data-included="true"', 'data-action="signoff"',
                 'data-signoff-link', 'data-method-used='):
        assert hook in page, hook
    assert f'data-work-id="{far["item_id"]}"' not in page and "data-hidden=" in page
    assert f'data-work-id="{drama[last_in + 1]["item_id"]}"' in page  # the window after the last one in
    assert page.count("data-work-id=") < len(view.entries)
    # the category's own pages list every entry, each with its override form
    listed = []
    for number in range(1, 5):
        body = chair.get(f"/review/{KEY}/shortlist?category=网络剧&page={number}").get_data(as_text=True)
        assert 'data-category="网络纪录片"' not in body and 'data-pages="4"' in body
        listed += re.findall(r'data-work-id="(\d+)"', body)
        assert body.count('name="reason"') == len(re.findall(r'data-work-id="(\d+)"', body))
    assert listed == [str(e["item_id"]) for e in drama]
    for hostile in ("x", "0", "-1", "²", "1.5", "9" * 5000, "%00", "%ED%A0%80"):
        assert chair.get(f"/review/{KEY}/shortlist?category=网络剧&page={hostile}").status_code == 400, hostile
    assert chair.get(f"/review/{KEY}/shortlist?category=%ED%A0%80=x&page=1").status_code == 200
    # moving the far entry in (with a reason) puts it on the head page, where the redirect points
    response = chair.post(f"/review/{KEY}/shortlist/entries/{far['entry_id']}",
                          data={"included": "1", "reason": "地方特色突出",
                                "csrf_token": _token(chair, f"/review/{KEY}/shortlist?category=网络剧&page=4")})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#entry-{far['entry_id']}")
    page = chair.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert f'id="entry-{far["entry_id"]}"' in page and "地方特色突出" in page


def test_a_short_shortlist_lists_every_entry(chair, session, make_user):
    scored_round(session, make_user)
    page = chair.get(f"/review/{KEY}/shortlist?method=raw").get_data(as_text=True)
    assert page.count("data-work-id=") == 14 and "data-hidden=" not in page and "data-pages=" not in page
