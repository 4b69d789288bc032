"""The shortlist proposal rule: slots, min_score, the dissemination bar (none is valid), the
provincial 50% cap, annual eligibility, and the straddling flags."""
from __future__ import annotations

import math

from scoring.rules.shortlist import Candidate, Policy, propose


def ranked(scores, *, category="网络剧", se=0.05, band=0, start_key=1, **extra):
    out = []
    for i, score in enumerate(scores):
        rank = i + 1
        out.append(Candidate(key=start_key + i, category=category, score=score, se=se, rank=rank,
                             rank_low=max(1, rank - band), rank_high=rank + band, **extra))
    return out


def chosen(proposal):
    return [e.candidate.key for e in proposal.entries if e.proposed]


def test_slots_then_min_score():
    candidates = ranked([9.0, 8.5, 8.0, 7.0, 5.5])
    assert chosen(propose(candidates, Policy(slots={"网络剧": 3}, min_score=6.0))) == [1, 2, 3]
    assert chosen(propose(candidates, Policy(slots={"网络剧": 9}, min_score=6.0))) == [1, 2, 3, 4]
    reasons = {e.candidate.key: e.reason for e in propose(candidates, Policy(slots={"网络剧": 3}, min_score=6.0)).entries}
    assert reasons == {1: "in_slots", 2: "in_slots", 3: "in_slots", 4: "beyond_slots", 5: "below_min_score"}


def test_a_category_without_slots_proposes_nothing():
    proposal = propose(ranked([9.0], category="网络电影"), Policy(slots={"网络剧": 3}))
    assert chosen(proposal) == [] and proposal.entries[0].reason == "no_slots"


def test_dissemination_bar_and_none_is_a_valid_answer():
    cases = ranked([8.6, 8.1, 7.9], category="优秀传播案例")
    assert chosen(propose(cases, Policy(slots=None, bar=8.0))) == [1, 2]
    weak = propose(ranked([7.5, 6.0], category="优秀传播案例"), Policy(slots=None, bar=8.0))
    assert chosen(weak) == [] and weak.notes == ["none_above_bar"]
    assert {e.reason for e in weak.entries} == {"below_bar"}


def test_provincial_cap_is_half_of_received():
    candidates = ranked([9, 8.9, 8.8, 8.7], category="网络剧") + \
        ranked([9, 8.8, 8.6, 8.4], category="网络纪录片", start_key=10)
    probabilities = {1: .99, 2: .9, 3: .6, 4: .4, 10: .99, 11: .95, 12: .5, 13: .45}
    candidates = [Candidate(**{**c.__dict__, "p_top": probabilities[c.key]}) for c in candidates]
    proposal = propose(candidates, Policy(slots={"网络剧": 4, "网络纪录片": 4}, cap_share=0.5, received=10))
    assert proposal.cap == 5 and len(chosen(proposal)) == 5 and proposal.capped == 3
    assert sorted(chosen(proposal)) == [1, 2, 3, 10, 11]  # the three least certain were dropped
    # the cap is a rule over all categories: a capped work keeps its own band's flag (here none
    # reaches across its category's cut), its reason says why it is out
    assert [e.straddles_cut for e in proposal.entries if e.reason == "capped"] == [False] * 3
    exact = propose(candidates, Policy(slots={"网络剧": 2, "网络纪录片": 2}, cap_share=0.5, received=8))
    assert len(chosen(exact)) == 4 and exact.capped == 0  # exactly half is allowed


def test_annual_only_eligible_candidates():
    candidates = ranked([9.5, 9.0, 8.0])
    candidates[0] = Candidate(**{**candidates[0].__dict__, "eligible": False, "ineligible_reason": "quarter_not_signed"})
    proposal = propose(candidates, Policy(slots={"网络剧": 2}, min_score=7.0))
    assert chosen(proposal) == [2, 3]
    assert proposal.entries[0].reason == "ineligible" and not proposal.entries[0].straddles_cut


def with_p(candidates, probabilities):
    return [Candidate(**{**c.__dict__, "p_top": probabilities[c.key]}) for c in candidates]


def test_straddling_the_cut():
    # cut after rank 2: rank 2 (band 1-3) and rank 3 (band 2-4) cross it; rank 1 (1-2) and 5 (4-6) do not
    candidates = with_p(ranked([9.0, 8.0, 7.9, 7.8, 5.0], band=1), {1: .97, 2: .6, 3: .4, 4: .04, 5: 0.0})
    entries = {e.candidate.key: e for e in propose(candidates, Policy(slots={"网络剧": 2})).entries}
    assert [k for k, e in entries.items() if e.straddles_cut] == [2, 3]
    # rank 4 (band 3-5) does not reach the cut at 2; rank 1's band reaches rank 2 only: neither is flagged
    assert not entries[4].straddles_cut and not entries[1].straddles_cut


def test_the_flag_needs_the_probability_strictly_between_5_and_95_percent():
    candidates = ranked([9.0, 8.0, 7.9], band=1)
    for p, flagged in ((0.05, False), (0.0501, True), (0.9499, True), (0.95, False), (math.nan, False)):
        entries = propose(with_p(candidates, {1: 1.0, 2: p, 3: 0.3}), Policy(slots={"网络剧": 2})).entries
        assert entries[1].straddles_cut is flagged, p


def test_a_bar_is_straddled_by_the_score_interval():
    # cases: P(score >= bar) from score and se; the 90% interval (score ± 1.645 se) reaches across 8.0
    near = with_p(ranked([8.1, 7.6], se=0.2, category="优秀传播案例"), {1: 0.69, 2: 0.023})
    flags = [e.straddles_cut for e in propose(near, Policy(slots=None, bar=8.0)).entries]
    assert flags == [True, False]  # 7.6 + 1.645 * 0.2 < 8: wholly below the bar


def test_unknown_standard_error_has_no_probability_and_no_flag():
    candidate = ranked([7.0], se=math.nan)
    assert not propose(candidate, Policy(slots=None, bar=6.0)).entries[0].straddles_cut
