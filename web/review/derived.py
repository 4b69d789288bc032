"""What the chair's pages derive from a computed ranking, derived once per stored result.

The shortlist page's proposal (before the chair saves it), the diagnostics page's reliability
table and the model's outlying ratings follow from the ranking (the proposal also from the
round's policy and, in an annual round, which works may be proposed). They are derived when a
ranking is computed for the store (``services.compute_ranking_of``: the background recompute,
or the first request of a round and method) and stored beside it in the same cached payload
(``RoundRanking.derived``), so a page serving a stored result never derives them; a process
parses them once with the result (``queries.stored_ranking``).

The proposal records the inputs it was derived from besides the ranking (the policy and the
annual eligibility). A page compares them with the round's as they are now and uses the stored
decisions only when they agree; otherwise (the config or the round's entries changed, or a
quarter behind an annual round was signed or re-opened since) it proposes afresh
(:func:`decisions_for`), which is what the page did on every request before.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from typing import NamedTuple

from scoring.rules.shortlist import Policy, Proposal, propose

from ..signing import snapshot
from . import panel_stats
from .rankings import RoundRanking, collector_paused


class Decision(NamedTuple):
    """The proposal's decision on one ranked item."""

    item_id: int
    proposed: bool
    straddles_cut: bool
    reason: str  # in_slots, below_min_score, below_bar, beyond_slots, no_slots, capped, ineligible


DECISION_FIELDS = Decision._fields


def proposal_inputs(policy: Policy, ineligible: dict[int, str]) -> dict:
    """What a proposal depends on besides the ranking, as JSON reads it back (so a stored record
    and one made now compare equal)."""
    record = {"policy": snapshot.policy_record(policy),
              "ineligible": {str(k): v for k, v in sorted(ineligible.items())}}
    return json.loads(json.dumps(record))


def decisions_of(proposal: Proposal) -> list[Decision]:
    """The proposal's decisions, in its order (by category, then rank)."""
    return [Decision(e.candidate.key, e.proposed, e.straddles_cut, e.reason) for e in proposal.entries]


def propose_now(ranking: RoundRanking, *, policy: Policy, ineligible: dict[int, str]) -> Proposal:
    """The proposal of the rules over this ranking (what the sign-off and a saved proposal use)."""
    return propose(snapshot.candidates(ranking.rows, ineligible), policy)


@collector_paused()
def derive(ranking: RoundRanking, *, policy: Policy, ineligible: dict[int, str]) -> dict:
    """Everything the pages derive from ``ranking``, as stored beside it (JSON-able)."""
    decisions = decisions_of(propose_now(ranking, policy=policy, ineligible=ineligible))
    columns = list(zip(*decisions)) if decisions else [() for _ in DECISION_FIELDS]
    return {"proposal": {"inputs": proposal_inputs(policy, ineligible),
                         **{name: list(values) for name, values in zip(DECISION_FIELDS, columns)}},
            "reliability": [asdict(r) for r in panel_stats.reliability(ranking)] if ranking.rows else [],
            "outliers": panel_stats.outlier_ratings(ranking)}


def decisions_for(ranking: RoundRanking, *, policy: Policy, ineligible: dict[int, str]) -> list[Decision]:
    """The proposal's decisions over ``ranking``: the stored ones when they were derived from the
    same policy and eligibility, else proposed now."""
    stored = ranking.derived.get("proposal")
    if stored is not None and stored["inputs"] == proposal_inputs(policy, ineligible):
        return list(map(Decision._make, zip(*(stored[name] for name in DECISION_FIELDS))))
    return decisions_of(propose_now(ranking, policy=policy, ineligible=ineligible))


def reliability(ranking: RoundRanking) -> list[panel_stats.Reliability]:
    """The reliability table: stored with the result, else computed from it."""
    stored = ranking.derived.get("reliability")
    if stored is not None:
        return [panel_stats.Reliability(**r) for r in stored]
    return panel_stats.reliability(ranking) if ranking.rows else []


def outliers(ranking: RoundRanking) -> list[dict]:
    """The model's outlying ratings (|z| > 3): stored with the result, else found in it."""
    stored = ranking.derived.get("outliers")
    return stored if stored is not None else panel_stats.outlier_ratings(ranking)
