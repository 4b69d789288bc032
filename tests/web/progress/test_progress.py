"""The scoring progress board (评分进度, issue 24): its counts per category and per expert, the
works lacking ratings, stalled experts, the API exactly as DESIGN.md states it, access by role,
the ETag of its polling (304 while nothing changed), and the reminder text."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from helpers.review import scored_round
from web.core.models import Assignment, AssignmentStatus, Work, utcnow
from web.rounds.operations import create_round
from helpers.api import bearer

KEY = "2025Q1"


@pytest.fixture
def day(session, make_user):
    """A round in scoring: 14 works rated by 4 of 6 experts each; some forms taken back to
    pending, saved, recused; one work with no assignment at all."""
    from web.core.models import RoundState
    round_, works, people = scored_round(session, make_user, state=RoundState.scoring)
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)))
    first = people[0]
    mine = [f for f in forms if f.expert_id == first.id]
    mine[0].status, mine[0].version, mine[0].submitted_at = AssignmentStatus.pending, 0, None
    mine[1].status, mine[1].submitted_at = AssignmentStatus.in_progress, None
    mine[1].updated_at = utcnow() - dt.timedelta(hours=2)
    mine[2].status, mine[2].recuse_reason, mine[2].submitted_at = AssignmentStatus.recused, "同单位", None
    for form in mine:
        if form.status == AssignmentStatus.submitted:
            form.updated_at = utcnow() - dt.timedelta(hours=3)
    session.add_all(mine)
    lonely = Work(round_id=round_.id, title="无人评审的作品", title_normalized="x", category="网络剧", submitter="某台")
    session.add(lonely)
    session.commit()
    make_user("chair1", role="chair")
    make_user("admin1", role="admin")
    return round_, works + [lonely], people, mine


def test_the_api_answers_the_fields_design_states(client, session, day):
    round_, works, people, mine = day
    answer = client.get(f"/api/v1/rounds/{KEY}/progress", headers=bearer(client, "chair1"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert set(body) == {"round", "categories", "experts"} and body["round"] == KEY
    assert {tuple(sorted(c)) for c in body["categories"]} == {
        ("category", "ratings_needed", "ratings_submitted", "works", "works_missing_ratings")}
    assert {tuple(sorted(e)) for e in body["experts"]} == {
        ("assigned", "last_save", "recused", "saved", "submitted", "username")}
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id)))
    category_of = {w.id: w.category for w in works}
    for row in body["categories"]:
        of = [f for f in forms if category_of[f.work_id] == row["category"]]
        assert row["works"] == sum(1 for w in works if w.category == row["category"])
        assert row["ratings_needed"] == sum(f.status != AssignmentStatus.recused for f in of)
        assert row["ratings_submitted"] == sum(f.status == AssignmentStatus.submitted for f in of)
    drama = next(r for r in body["categories"] if r["category"] == "网络剧")
    # the works of the first expert's pending and saved forms (a recusal lowers the need, it does not
    # leave a gap: a replacement is a new assignment), and the one nobody rates
    lacking = {f.work_id for f in mine[:2] if category_of[f.work_id] == "网络剧"} | {works[-1].id}
    assert drama["works_missing_ratings"] == len(lacking)
    row = next(e for e in body["experts"] if e["username"] == people[0].username)
    assert (row["assigned"], row["saved"], row["recused"]) == (len(mine), 1, 1)
    assert row["submitted"] == len(mine) - 3
    assert dt.datetime.fromisoformat(row["last_save"]) > utcnow() - dt.timedelta(hours=2, minutes=1)
    assert client.get(f"/api/v1/rounds/{KEY}/progress", headers=bearer(client, "admin1")).status_code == 200


def test_the_api_refuses_experts_strangers_and_rounds_not_yet_scoring(client, session, make_user, day):
    assert client.get(f"/api/v1/rounds/{KEY}/progress").status_code == 401
    assert client.get(f"/api/v1/rounds/{KEY}/progress", headers=bearer(client, day[2][0].username)).status_code == 403
    create_round(session=session, key="2025Q2", actor="t")
    session.commit()
    chair = bearer(client, "chair1")
    refused = client.get("/api/v1/rounds/2025Q2/progress", headers=chair)
    assert refused.status_code == 409 and refused.get_json()["error"] == "not_scoring"
    assert client.get("/api/v1/rounds/2030Q1/progress", headers=chair).status_code == 404


def test_the_page_shows_stalled_experts_lacking_works_and_polls_with_an_etag(app, client, session, login, day):
    round_, works, people, mine = day
    login("chair1")
    page = client.get(f"/rounds/{KEY}/progress")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "无人评审的作品" in html and "无评审专家" in html
    assert f'data-expert="{people[0].username}" class="stalled"' in html  # open forms, last save 2 h ago
    assert f'data-expert="{people[1].username}" class="stalled"' not in html  # nothing open
    app.config["PROGRESS_IDLE_MINUTES"] = 180
    assert f'data-expert="{people[0].username}" class="stalled"' not in \
        client.get(f"/rounds/{KEY}/progress").get_data(as_text=True)
    live = client.get(f"/rounds/{KEY}/progress/live")
    assert live.status_code == 200 and live.headers["ETag"]
    unchanged = client.get(f"/rounds/{KEY}/progress/live", headers={"If-None-Match": live.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    mine[1].status, mine[1].submitted_at = AssignmentStatus.submitted, utcnow()  # a submit lands
    session.add(mine[1])
    session.commit()
    moved = client.get(f"/rounds/{KEY}/progress/live", headers={"If-None-Match": live.headers["ETag"]})
    assert moved.status_code == 200 and moved.headers["ETag"] != live.headers["ETag"]


def test_only_chair_and_admin_see_the_board_and_the_round_pages_link_it(client, session, login, day):
    round_, _works, people, _mine = day
    login(people[1].username)
    assert client.get(f"/rounds/{KEY}/progress").status_code == 403
    assert client.get(f"/rounds/{KEY}/progress/live").status_code == 403
    client.post("/logout", data={})
    create_round(session=session, key="2025Q2", actor="t")
    session.commit()
    for who in ("chair1", "admin1"):
        client.get("/logout")
        login(who)
        assert client.get("/rounds/2025Q2/progress").status_code == 404  # not in scoring yet
        board = f'href="/rounds/{KEY}/progress"'
        assert board in client.get("/review/").get_data(as_text=True)
        if who == "admin1":
            assert board in client.get("/admin/rounds").get_data(as_text=True)


def test_the_reminder_names_what_is_open_in_chinese(client, login, day):
    _round, works, people, mine = day
    login("admin1")
    page = client.get(f"/rounds/{KEY}/progress/experts/{people[0].username}/reminder")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"尊敬的{people[0].display_name}专家" in text
    assert f"共分配 {len(mine)} 件（其中回避 1 件），已提交 {len(mine) - 3} 件，尚有 2 件未完成" in text
    titles = {w.id: w.title for w in works}
    assert titles[mine[0].work_id] in text and titles[mine[1].work_id] in text
    assert titles[mine[2].work_id] not in text  # recused
    assert client.get(f"/rounds/{KEY}/progress/experts/nobody/reminder").status_code == 404


@pytest.mark.parametrize("shown", [1, 3, 100])
def test_the_lacking_list_is_the_first_of_all_works_in_order_and_counts_them_all(session, day, monkeypatch,
                                                                                  shown):
    """Unassigned works first, then the most ratings missing, then category, title and id; only
    the first ``LACKING_SHOWN`` become the list, the count covers every lacking work."""
    from web.progress import queries

    round_, works, people, mine = day
    # more variety: one work loses every assignment (recused), another gets one more submitted
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)))
    by_work: dict[int, list[Assignment]] = {}
    for form in forms:
        by_work.setdefault(form.work_id, []).append(form)
    emptied = works[3].id
    for form in by_work[emptied]:
        form.status, form.recuse_reason, form.submitted_at = AssignmentStatus.recused, "同单位", None
    for form in by_work[works[5].id][:2]:
        form.status, form.version, form.submitted_at = AssignmentStatus.pending, 0, None
    session.add_all(forms)
    session.commit()

    monkeypatch.setattr(queries, "LACKING_SHOWN", shown)
    board = queries.board(session=session, round_=round_, idle=dt.timedelta(minutes=30), now=utcnow())

    expected = []
    for work in session.exec(select(Work).where(Work.round_id == round_.id)):
        states = [f.status for f in by_work.get(work.id, [])]
        needed = sum(s != AssignmentStatus.recused for s in states)
        submitted = sum(s == AssignmentStatus.submitted for s in states)
        if submitted < needed or needed == 0:
            expected.append(queries.LackingWork(work.id, work.title, work.category, needed, submitted))
    expected.sort(key=lambda w: (not w.unassigned, -w.missing, w.category, w.title, w.item_id))
    assert len(expected) >= 4 and any(w.unassigned for w in expected) and len({w.missing for w in expected}) >= 2
    assert board.lacking == expected[:shown]
    assert board.lacking_total == board.totals["works_missing_ratings"] == len(expected)
    assert [w.item_id for w in expected[:2]] == sorted([emptied, works[-1].id], key=lambda i: (
        next(w.category for w in expected if w.item_id == i), next(w.title for w in expected if w.item_id == i), i))
