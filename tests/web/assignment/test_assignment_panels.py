"""Issue 22: the draw of a dissemination-case round (and of any small category) is a panel: K
experts who each rate every case, conflict-free, reproducible from the seed; the CLI, the page
and the API report how well the rater effects can be estimated, from the same function."""
from __future__ import annotations

import math
import re
from collections import Counter

from sqlmodel import select

from helpers.assignment import build_round, live_pairs
from testkit import PASSWORD
from web.assignment.operations import run_draw
from web.assignment.queries import round_report
from web.core.models import Assignment, AssignmentDraw, DisseminationCase, RoundState
from web.rounds.operations import create_round, set_state

UNIT = "某网络视听平台"


def _cases_round(session, make_user, *, n_cases=6, n_experts=9, capacity=None):
    experts = [make_user(f"ce{i:02d}", role="expert", organisation=UNIT if i == 0 else f"单位{i}",
                         categories=["网络剧"]) for i in range(n_experts)]
    for expert in experts:
        expert.capacity = capacity
        session.add(expert)
    round_ = create_round(session=session, key="2025-传播案例", actor="t")
    cases = [DisseminationCase(round_id=round_.id, name=f"案例{i}", unit=UNIT if i == 0 else f"申报单位{i}")
             for i in range(n_cases)]
    session.add_all(cases)
    set_state(session=session, round_=round_, state=RoundState.intake, actor="t")
    session.commit()
    return round_, cases, experts


def _case_pairs(session, round_):
    return {(a.expert_id, a.case_id) for a in session.exec(select(Assignment).where(Assignment.round_id == round_.id))}


def test_cli_draws_a_case_round_as_a_complete_panel_and_reports_it(runner, session, make_user):
    round_, cases, experts = _cases_round(session, make_user)
    result = runner.invoke(args=["assign", "--round", "2025-传播案例", "--per-work", "5", "--seed", "77"])
    assert result.exit_code == 0, result.output
    pairs = _case_pairs(session, round_)
    panel = {e for e, _ in pairs}
    assert len(panel) == 5 and Counter(e for e, _ in pairs) == {e: len(cases) for e in panel}
    assert experts[0].id not in panel, "the expert of the unit that submitted case 0 is not on the panel"
    assert all(a.work_id is None for a in session.exec(select(Assignment)))
    assert "优秀传播案例 设计：完全设计" in result.output and "每名专家评审 6–6 部" in result.output
    assert "efficiency of work comparisons 1.00" in result.output
    assert f"SE of the difference of two experts' biases {math.sqrt(2 / 6):.2f} sigma" in result.output
    assert "1 experts with a conflict left off" in result.output
    # the seed reproduces it
    for a in session.exec(select(Assignment)):
        session.delete(a)
    session.commit()
    again = runner.invoke(args=["assign", "--round", "2025-传播案例", "--per-work", "5", "--seed", "77"])
    assert again.exit_code == 0 and _case_pairs(session, round_) == pairs


def test_page_and_api_figures_are_the_draws(app, client, session, make_user, login):
    round_, cases, _ = _cases_round(session, make_user, capacity=4)  # 6 cases, capacity 4: incomplete
    outcome = run_draw(session=session, round_=round_, per_work=4, seed=5, actor="t")
    session.commit()
    drawn = outcome.result.report.categories[0]
    assert drawn.panel is not None and drawn.figures.design in ("balanced", "near_balanced")
    assert Counter(c for _, c in _case_pairs(session, round_)) == {c.id: 4 for c in cases}
    computed = round_report(session=session, round_=round_, per_work=4).categories[0]
    assert computed.figures == drawn.figures
    make_user("boss", role="admin")
    login("boss")
    html = client.get(f"/admin/rounds/{round_.key}/assignment").get_data(as_text=True)
    row = re.search(r'<tr data-category="优秀传播案例" data-design="(\w+)">(.*?)</tr>', html, re.S)
    assert row and row.group(1) == drawn.figures.design
    cells = dict(re.findall(r'data-figure="([\w-]+)">([^<]*)', row.group(2)))
    f = drawn.figures
    assert cells["ratings-per-rater"].strip() == f"{f.ratings_per_rater_min}–{f.ratings_per_rater_max}"
    assert cells["efficiency"] == f"{f.efficiency:.2f}" and cells["rater-se"] == f"{f.rater_se:.2f}σ"
    assert "小类别专家组" in row.group(2)
    token = client.post("/api/v1/tokens", json={"username": "boss", "password": PASSWORD}).get_json()["token"]
    api = client.get(f"/api/v1/rounds/{round_.key}/assignment-report", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 200 and api.get_json()["categories"][0]["design"]["efficiency"] == f.efficiency


def test_small_work_categories_of_a_quarter_get_panels(session):
    """Every expert of these pools has a conflict with some work of each category (six organisations
    submit everything), so no complete panel exists: the fewest experts that can serve it, connected."""
    round_ = build_round(session, works=40, experts=24, seed=4)  # about ten works in each of four categories
    outcome = run_draw(session=session, round_=round_, per_work=3, seed=8, actor="t")
    session.commit()
    pairs = live_pairs(session, round_)
    for c in outcome.result.report.categories:
        assert c.panel is not None and c.panel.experts == c.experts < c.pool, c
        assert c.panel.conflicted > 0 and c.figures.efficiency is not None
        assert c.figures.ratings_per_rater_median >= 4 and c.figures.single_rating_raters == 0
    stored = session.exec(select(AssignmentDraw)).one().report
    assert [c["panel"]["experts"] for c in stored["categories"]] == [c.experts for c in outcome.result.report.categories]
    assert len(pairs) == 40 * 3
