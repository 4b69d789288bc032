"""Small categories drawn as panels (issue 22): a complete design when capacity allows, a BIBD
where capacity forbids and one exists, the closest balanced design otherwise, conflicts never
violated, the seed reproducing it, and the report's figures (reference values from the
block-design formulas: efficiency 1 and rater SE sqrt(2/v) for a complete design, λv/(rk) for
a BIBD; John & Williams, Cyclic and Computer Generated Designs, 1995, §2.3)."""
from __future__ import annotations

import math
from collections import Counter
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.rules.assignment import InfeasibleAssignment, draw_assignment
from scoring.rules.assignment_panel import pair_bound
from scoring.rules.assignment_report import design_figures
from scoring.rules.conflicts import ConflictRules, Expert, Recusal, Work
from tests.rules.assignment_oracle import min_max_load, violations

CASES = "优秀传播案例"


def cases(n: int, category: str = CASES, start: int = 0) -> list[Work]:
    return [Work(id=start + i, category=category, submitter=f"单位{start + i}") for i in range(n)]


def experts(n: int, *, capacity=None, category: str = CASES) -> list[Expert]:
    return [Expert(id=f"e{i:02d}", categories=(category,), organisation=f"专家单位{i}", capacity=capacity)
            for i in range(n)]


def incidence(result, works):
    by_expert: dict = {}
    for e, w in result.pairs:
        by_expert.setdefault(e, set()).add(w)
    return by_expert


def concurrences(result, works) -> list[int]:
    """λ of every pair of works: how many experts rate both."""
    blocks = incidence(result, works).values()
    return [sum(1 for b in blocks if a in b and c in b) for a, c in combinations([w.id for w in works], 2)]


def report_of(result, category=CASES):
    return next(c for c in result.report.categories if c.category == category)


def test_complete_design_when_capacity_allows():
    works, pool = cases(12), experts(20)
    result = draw_assignment(pool, works, per_work=5, seed=3, small_category_max=30)
    blocks = incidence(result, works)
    assert len(blocks) == 5 and all(b == {w.id for w in works} for b in blocks.values())
    c = report_of(result)
    f = c.figures
    assert (f.design, f.ratings_per_rater_min, f.ratings_per_rater_max, f.single_rating_raters) == ("complete", 12, 12, 0)
    assert (f.pair_min, f.pair_max, f.efficiency) == (5, 5, 1.0)
    assert f.rater_se == pytest.approx(math.sqrt(2 / 12), abs=1e-4)
    assert c.panel is not None and c.panel.experts == 5 and c.connected
    assert any("complete" in line and "panel of 5" in line for line in result.report.lines("en"))
    assert any("完全设计" in line and "小类别专家组 5 人" in line for line in result.report.lines("zh"))


def test_without_the_setting_the_category_is_drawn_sparsely():
    works, pool = cases(12), experts(20)
    result = draw_assignment(pool, works, per_work=5, seed=3)
    assert report_of(result).panel is None
    assert report_of(result).figures.ratings_per_rater_max <= 3  # 60 ratings spread over 20 experts


@pytest.mark.parametrize("v, k, cap, lam", [(7, 3, 3, 1), (9, 4, 3, 1), (6, 5, 3, 2), (6, 5, 5, 4), (10, 6, 4, 2),
                                             (11, 5, 5, 2)])
def test_bibd_where_capacity_forbids_a_complete_design(v, k, cap, lam):
    """Each work equally often (k), each pair of works together equally often (λ), each block ``cap`` works."""
    works, pool = cases(v), experts(24, capacity=cap)
    for seed in (1, 2):
        result = draw_assignment(pool, works, per_work=k, seed=seed, small_category_max=30)
        assert Counter(w for _, w in result.pairs) == {w.id: k for w in works}
        assert {len(b) for b in incidence(result, works).values()} == {cap}
        assert set(concurrences(result, works)) == {lam}
        f = report_of(result).figures
        assert f.design == "balanced" and (f.pair_min, f.pair_max) == (lam, lam)
        assert f.efficiency == pytest.approx(lam * v / (k * cap), abs=1e-4)  # λv/(rk)
        assert report_of(result).panel.pair_bound_reached


def test_closest_balanced_design_where_no_bibd_exists():
    """12 works, 5 ratings each, capacity 10: 6 experts × 10; mean λ = 6·45/66 is not whole, so λ ∈ {4, 5}."""
    works, pool = cases(12), experts(20, capacity=10)
    result = draw_assignment(pool, works, per_work=5, seed=7, small_category_max=30)
    assert Counter(w for _, w in result.pairs) == {w.id: 5 for w in works}
    blocks = incidence(result, works)
    assert len(blocks) == 6 and {len(b) for b in blocks.values()} == {10}
    lam = concurrences(result, works)
    assert set(lam) == {4, 5}
    assert sum(x * x for x in lam) == pair_bound(np.full(6, 10), 12)  # the least Σλ² any such design has
    assert report_of(result).figures.design == "near_balanced" and report_of(result).panel.pair_bound_reached


def test_an_expert_with_a_conflict_is_not_put_on_the_complete_panel():
    works = cases(6)
    pool = experts(7)
    # five of the seven experts belong to the unit that submitted one case each
    pool = [Expert(x.id, x.categories, organisation=works[i].submitter if i < 2 else x.organisation)
            for i, x in enumerate(pool)]
    rules = ConflictRules(same_organisation=True)
    for seed in range(4):
        result = draw_assignment(pool, works, per_work=5, seed=seed, rules=rules, small_category_max=30)
        assert violations(pool, works, list(result.pairs), 5, rules) == []
        blocks = incidence(result, works)
        assert set(blocks) == {"e02", "e03", "e04", "e05", "e06"}, "the five without a conflict form the panel"
        assert report_of(result).figures.design == "complete" and report_of(result).panel.conflicted == 2


def test_too_few_experts_without_a_conflict_give_an_incomplete_design_for_that_case_only():
    """3 experts can rate all six cases, 3 have a conflict with case 0 and 3 with case 1: each case still
    gets 5 ratings, none conflicted, from the fewest experts possible: 7 (case 0 and case 1 each need two
    of the experts conflicted with the other), who rate 4 or 5 cases each."""
    works = cases(6)
    pool = [Expert(x.id, x.categories, organisation=works[i // 3].submitter if i < 6 else x.organisation)
            for i, x in enumerate(experts(9))]
    rules = ConflictRules(same_organisation=True)
    result = draw_assignment(pool, works, per_work=5, seed=5, rules=rules, small_category_max=30)
    assert violations(pool, works, list(result.pairs), 5, rules) == []
    assert Counter(w for _, w in result.pairs) == {w.id: 5 for w in works}
    f = report_of(result).figures
    assert len(incidence(result, works)) == 7 and report_of(result).panel.experts == 7
    assert f.design == "near_balanced" and (f.ratings_per_rater_min, f.ratings_per_rater_max) == (4, 5)
    assert f.efficiency > 0.9 and report_of(result).connected


def test_recusals_and_declared_works_are_conflicts_of_the_panel_too():
    works, pool = cases(8), experts(9)
    pool[0] = Expert(pool[0].id, pool[0].categories, declared_work_ids=(works[3].id,))
    recusals = [Recusal(pool[1].id, works[5].id, "亲属")]
    for seed in range(3):
        result = draw_assignment(pool, works, per_work=5, seed=seed, recusals=recusals, small_category_max=30)
        assert violations(pool, works, list(result.pairs), 5, ConflictRules(), recusals) == []
        assert {e for e, _ in result.pairs}.isdisjoint({"e00", "e01"})


def test_the_seed_reproduces_the_panel_and_another_seed_draws_another():
    works, pool = cases(10), experts(20)
    first = draw_assignment(pool, works, per_work=5, seed=11, small_category_max=30)
    again = draw_assignment(pool, works, per_work=5, seed=11, small_category_max=30)
    other = draw_assignment(pool, works, per_work=5, seed=12, small_category_max=30)
    assert first.pairs == again.pairs and first.report.categories == again.report.categories
    assert {e for e, _ in first.pairs} != {e for e, _ in other.pairs}
    capped = experts(24, capacity=4)  # an incomplete design: the seed fixes it too
    a = draw_assignment(capped, works, per_work=4, seed=5, small_category_max=30)
    b = draw_assignment(capped, works, per_work=4, seed=5, small_category_max=30)
    assert a.pairs == b.pairs


def test_a_rerun_gives_a_late_case_to_the_same_panel():
    works, pool = cases(8), experts(20)
    first = draw_assignment(pool, works, per_work=5, seed=2, small_category_max=30)
    panel = {e for e, _ in first.pairs}
    late = works + cases(1, start=100)
    result = draw_assignment(pool, late, per_work=5, seed=9, existing=first.pairs, small_category_max=30)
    assert {e for e, w in result.new} == panel and {w for _, w in result.new} == {100}
    assert report_of(result).figures.design == "complete"


def test_panels_that_would_starve_another_category_are_dropped():
    """e1, e2 must rate all 40 works of the large category; a panel would take them for the small one."""
    small, large = cases(6, "网络剧"), cases(40, "网络电影", start=50)
    pool = [Expert("e1", ("网络剧", "网络电影"), capacity=40), Expert("e2", ("网络剧", "网络电影"), capacity=40)] + \
        [Expert(f"s{i}", ("网络剧",), capacity=5) for i in range(3)]
    result = draw_assignment(pool, small + large, per_work=2, seed=1, small_category_max=30)
    assert result.report.panels_dropped and all(c.panel is None for c in result.report.categories)
    assert violations(pool, small + large, list(result.pairs), 2, ConflictRules()) == []
    assert any("drawn sparsely" in line for line in result.report.lines("en"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 12), st.integers(2, 12), st.integers(1, 4), st.one_of(st.none(), st.integers(1, 12)),
       st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_panels_keep_every_constraint_or_the_instance_is_infeasible(n_works, n_experts, per_work, capacity,
                                                                     conflicted, seed):
    works = cases(n_works)
    pool = [Expert(x.id, x.categories, organisation=works[i % n_works].submitter if i < conflicted else x.organisation,
                   capacity=capacity) for i, x in enumerate(experts(n_experts))]
    rules = ConflictRules(same_organisation=True)
    try:
        result = draw_assignment(pool, works, per_work=per_work, seed=seed, rules=rules, small_category_max=30)
    except InfeasibleAssignment:
        assert min_max_load(pool, works, per_work, rules) is None
        return
    assert violations(pool, works, list(result.pairs), per_work, rules) == []
    assert Counter(w for _, w in result.pairs) == {w.id: per_work for w in works}


def test_design_figures_reference_values():
    fano = [(0, 1, 2), (0, 3, 4), (0, 5, 6), (1, 3, 5), (1, 4, 6), (2, 3, 6), (2, 4, 5)]
    e = np.array([j for j, block in enumerate(fano) for _ in block])
    w = np.array([i for block in fano for i in block])
    f = design_figures(e, w, 7)
    assert (f.design, f.pair_min, f.pair_max) == ("balanced", 1, 1)
    assert f.efficiency == pytest.approx(7 / 9, abs=1e-4)  # λv/(rk) = 1·7/(3·3)
    # raters of the Fano plane: the dual design is again a (7,3,1) BIBD, so the rater side is as efficient:
    # var(b_i - b_j) = 2σ²/(k·E) with k = 3 ratings each and E = 7/9
    assert f.rater_se == pytest.approx(math.sqrt(2 / (3 * 7 / 9)), abs=1e-4)
    one_each = design_figures(np.arange(6), np.repeat(np.arange(3), 2), 3)  # every rater rates one work
    assert one_each.single_rating_raters == 6 and one_each.efficiency is None and one_each.rater_se is None
    parts = design_figures(np.array([0, 0, 1, 1]), np.array([0, 1, 2, 3]), 4)  # two separate groups
    assert parts.efficiency is None and parts.pair_min == 0
    assert design_figures(np.zeros(0), np.zeros(0), 5).design == "none"
