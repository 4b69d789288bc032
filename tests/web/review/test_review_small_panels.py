"""Issue 22 on the chair's pages: the method each category was fitted with and why, bands and
probabilities that agree, no impossible numbers, and the robust down-weight badge's threshold."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from sqlmodel import select

from scoring.rules.shortlist import INTERVAL_Z, Candidate, Policy, propose
from scoring.totals import CriterionScale
from web.core.models import Assignment, AssignmentStatus, DisseminationCase, Rating, utcnow
from web.review.rankings import DOWNWEIGHT_BADGE, RatingInput, RoundRanking, compute_ranking
from web.rounds.operations import create_round, set_state

from helpers.review import scored_round

CASE_SCALES = [CriterionScale(k, 0, 10, 0.5, w) for k, w in (("theme", .3), ("creativity", .3), ("reach", .2),
                                                              ("exemplary", .2))]
WORK_SCALES = [CriterionScale(k, 0, 10, 0.5, w) for k, w in (("thought", .35), ("artistry", .3),
                                                              ("production", .2), ("innovation", .15))]


def cases_ratings(seed=0, n_cases=6, n_experts=20, per_case=5) -> tuple[RatingInput, dict]:
    """The demo's dissemination-case round: 6 cases, 20 experts with one or two ratings each."""
    rng = np.random.default_rng(seed)
    quality, severity = rng.normal(7.2, 1.0, n_cases), rng.normal(0, 0.7, n_experts)
    load = np.zeros(n_experts)
    out = RatingInput([], [], [], [], [])
    assignment = 0
    for case in range(n_cases):
        chosen = np.argsort(load + rng.random(n_experts) * 0.5)[:per_case]
        load[chosen] += 1
        for expert in chosen:
            assignment += 1
            for scale in CASE_SCALES:
                value = float(np.clip(np.round((quality[case] + severity[expert] + rng.normal(0, 0.5)) * 2) / 2, 0, 10))
                out.assignment_id.append(assignment), out.expert_id.append(int(expert) + 1)
                out.item_id.append(case + 1), out.criterion.append(scale.key), out.value.append(value)
    items = {case + 1: (f"案例{case + 1}", "优秀传播案例") for case in range(n_cases)}
    return out, items


def _consistent(row, *, bar=None):
    """The issue's rule: band wholly above the cut -> P >= 95%, wholly below -> P <= 5%."""
    p = row.p_shortlist
    if row.se is None:
        assert p is None, row
        return
    assert 0 <= p <= 1
    if bar is None:
        cut = row.cut
        if row.rank_high <= cut:
            assert p >= 0.95, row
        if row.rank_low > cut:
            assert p <= 0.05, row
    else:
        if row.score - INTERVAL_Z * row.se >= bar:
            assert p >= 0.95 - 1e-9, row
        if row.score + INTERVAL_Z * row.se < bar:
            assert p <= 0.05 + 1e-9, row


@pytest.mark.parametrize("seed", range(4))
def test_the_cases_round_is_fitted_by_what_its_ratings_support_and_says_why(seed):
    ratings, items = cases_ratings(seed)
    ranking = compute_ranking(ratings, items, method="affine", scales=CASE_SCALES, slots=None, threshold=8.0)
    (category,) = ranking.categories
    assert category["method_used"] in ("additive_random", "raw") and category["code"]
    assert "typical rater gave" in category["reason"] or "groups" in category["reason"]
    for row in ranking.rows:
        assert 0 <= row.score <= 10 and row.method_used == category["method_used"]
        assert row.se is None or 0 < row.se <= 10
        _consistent(row, bar=8.0)
    for r in ranking.raters:
        for key in ("bias_low", "bias_high"):
            assert r[key] is None or -10 <= r[key] <= 10
        for key in ("scale_low", "scale_high"):
            assert r[key] is None or math.exp(-5) <= r[key] <= math.exp(5)
        if r["n"] == 1:
            assert r["note"] == "one_rating"
    # the straddle flag of the proposal is exactly "interval across the bar and P strictly between"
    candidates = [Candidate(key=r.item_id, category=r.category, score=r.score,
                            se=r.se if r.se is not None else math.nan, rank=r.rank, rank_low=r.rank_low,
                            rank_high=r.rank_high, p_top=r.p_shortlist if r.p_shortlist is not None else math.nan)
                  for r in ranking.rows]
    for entry in propose(candidates, Policy(slots=None, bar=8.0)).entries:
        p = entry.candidate.p_top
        assert entry.straddles_cut == (math.isfinite(p) and 0.05 < p < 0.95), entry


def test_the_same_round_fitted_as_asked_would_have_shown_the_issue_s_numbers():
    # the defence: without the checks the affine slopes come from one or two ratings each
    from scoring.normalize import normalize
    from scoring.totals import weighted_totals

    ratings, _ = cases_ratings(0)
    totals = weighted_totals(ratings.item_id, ratings.expert_id, ratings.criterion, ratings.value, scales=CASE_SCALES)
    alone = normalize(totals.work_id, totals.rater_id, totals.total, fallback=False)
    checked = normalize(totals.work_id, totals.rater_id, totals.total)
    assert alone.raters.bias_se is None and checked.raters.bias_se is not None
    assert checked.categories[0].method_used != "affine"


@pytest.mark.parametrize("seed", range(3))
def test_quarter_probabilities_agree_with_the_rank_bands(seed):
    rng = np.random.default_rng(seed)
    ratings = RatingInput([], [], [], [], [])
    n_works, n_experts, assignment = 24, 8, 0
    quality = rng.normal(7, 1, n_works)
    bias = rng.normal(0, 0.6, n_experts)
    for w in range(n_works):
        for e in rng.choice(n_experts, 4, replace=False):
            assignment += 1
            for scale in WORK_SCALES:
                value = float(np.clip(np.round((quality[w] + bias[e] + rng.normal(0, 0.6)) * 2) / 2, 0, 10))
                ratings.assignment_id.append(assignment), ratings.expert_id.append(int(e) + 1)
                ratings.item_id.append(w + 1), ratings.criterion.append(scale.key), ratings.value.append(value)
    items = {w + 1: (f"作品{w + 1}", "网络剧" if w % 2 else "网络电影") for w in range(n_works)}
    slots = {"网络剧": 3, "网络电影": 2}
    ranking = compute_ranking(ratings, items, method="affine", scales=WORK_SCALES, slots=slots, threshold=6.0)
    assert {c["method_used"] for c in ranking.categories} == {"affine"}
    for row in ranking.rows:
        assert row.cut == min(slots[row.category], sum(1 for r in ranking.rows if r.category == row.category
                                                             and r.score >= 6.0))
        _consistent(row)
    by_category = {}
    for r in ranking.rows:
        by_category.setdefault(r.category, []).append(Candidate(
            key=r.item_id, category=r.category, score=r.score, se=r.se, rank=r.rank,
            rank_low=r.rank_low, rank_high=r.rank_high, p_top=r.p_shortlist))
    proposal = propose([c for cs in by_category.values() for c in cs], Policy(slots=slots, min_score=6.0))
    for entry in proposal.entries:
        p = entry.candidate.p_top
        assert entry.straddles_cut == (0.05 < p < 0.95), entry


def test_a_cached_ranking_of_the_old_layout_is_computed_afresh():
    with pytest.raises(TypeError, match="layout"):
        RoundRanking.from_json({"method": "affine", "params": {}, "rows": [], "raters": []})


def _case_round(session, make_user, seed=0):
    ratings, items = cases_ratings(seed)
    people = {e: make_user(f"case_expert{e:02d}", role="expert") for e in sorted(set(ratings.expert_id))}
    round_ = create_round(session=session, key="2025-传播案例", actor="t")
    cases = {i: DisseminationCase(round_id=round_.id, name=title, unit="某台") for i, (title, _) in items.items()}
    session.add_all(cases.values())
    session.flush()
    made = {}
    for a, e, i, key, value in zip(ratings.assignment_id, ratings.expert_id, ratings.item_id, ratings.criterion,
                                   ratings.value):
        if a not in made:
            made[a] = Assignment(round_id=round_.id, expert_id=people[e].id, status=AssignmentStatus.submitted,
                                 version=1, submitted_at=utcnow(), case_id=cases[i].id)
            session.add(made[a])
            session.flush()
        session.add(Rating(assignment_id=made[a].id, criterion=key, value=value, version=1))
    for target in ("intake", "scoring", "review"):
        set_state(session=session, round_=round_, state=target, actor="t")
    session.commit()
    return round_


def test_chair_pages_of_a_small_case_round_show_the_method_and_no_impossible_number(client, session, make_user,
                                                                                  login):
    round_ = _case_round(session, make_user)
    make_user("chair1", role="chair")
    login("chair1")
    pages = {name: client.get(f"/review/{round_.key}/{name}").get_data(as_text=True)
             for name in ("rankings", "diagnostics", "shortlist")}
    for name, page in pages.items():
        assert 'data-method-notes' in page and 'data-method-used="additive_random"' in page, name
        assert "随机效应" in page, name
        # no 1e14, no inf or nan, and no interval or number beyond the scale
        assert not re.search(r"\de\+\d|\binf\b|\bnan\b|Infinity", page, re.IGNORECASE), name
        numbers = [float(x) for x in re.findall(r"(?<![\w.#-])[+-]?\d+\.\d\d(?!\d)", page)]
        assert all(abs(x) <= 150 for x in numbers), name
    # a rater with one rating: "–" and the reason, not a residual sd of 0.00
    assert "data-not-estimable" in pages["diagnostics"] and "只评了 1 件" in pages["diagnostics"]
    # the shortlist of a bar: the score interval is shown, and a flag only where P is strictly between
    shortlist = pages["shortlist"]
    assert "90% 得分区间" in shortlist
    for row in re.findall(r'<tr id="entry-.*?</tr>', shortlist, re.S):
        flagged = "data-straddles" in row
        p = re.search(r'<td class="num">(\d+)%</td>', row)
        if flagged:
            assert p and 5 <= int(p.group(1)) <= 95


def test_the_down_weight_badge_shows_only_below_its_threshold_with_the_weight(client, session, make_user, login):
    round_, works, people = scored_round(session, make_user, experts=8, per_work=5, seed=7)
    # one careless 0 on a work the others rate around 9: the robust fit sets it aside
    target = works[0]
    careless = session.exec(select(Assignment).where(Assignment.work_id == target.id)).first()
    for rating in session.exec(select(Rating).where(Rating.assignment_id == careless.id)):
        rating.value = 0.0
    session.commit()
    make_user("chair2", role="chair")
    login("chair2")
    page = client.get(f"/review/{round_.key}/works/{target.id}").get_data(as_text=True)
    badges = re.findall(r"data-downweighted[^>]*>[^<]*稳健降权 ([\d.]+)", page)
    assert badges and all(float(w) < DOWNWEIGHT_BADGE for w in badges)
    # every row with a weight at or above the threshold has no badge
    for row in re.findall(r'<tr id="rating-.*?</tr>', page, re.S):
        weights = re.findall(r'<td class="num">(\d\.\d\d)</td>\s*<td>', row)
        if weights and float(weights[-1]) >= DOWNWEIGHT_BADGE:
            assert "data-downweighted" not in row


def test_a_stored_proposal_keeps_an_unknown_standard_error_unknown(session, make_user):
    """Issue 22: a work rated once has no standard error under the raw mean; the stored entry says
    null (it said 0.0, "known exactly"), and the API's entry too."""
    from web.core.models import ShortlistEntry, User
    from web.review import services

    round_, works, _people = scored_round(session, make_user, works_per_category={"网络剧": 4}, experts=4,
                                          per_work=1, seed=5)
    chair = session.exec(select(User).where(User.username == "ex5_0")).one()
    ranking = services.ranking_for(session=session, round_=round_, method="raw")
    assert any(row.se is None for row in ranking.rows)
    services.propose_and_save(session=session, round_=round_, method="raw", actor=chair)
    session.commit()
    stored = {e.work_id: e.se for e in session.exec(select(ShortlistEntry))}
    for row in ranking.rows:
        assert stored[row.item_id] == row.se  # None stays None; a known SE is kept as it is
    view = services.shortlist_view(session=session, round_=round_)
    assert view.ranking is not None and any(e["se"] is None for e in view.entries)
