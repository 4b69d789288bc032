"""The shortlist proposal (section 四, 五): which works (or dissemination cases) a category proposes.

Plain Python over dataclasses. The rules:

* a category proposes at most its ``slots`` (config/stages.toml), best first, and never a work
  whose normalized score is below ``min_score``;
* a dissemination-case round has no slots: a case is proposed only when its score reaches the
  absolute ``bar`` (config/criteria.toml), and proposing none is a valid answer (宁缺毋滥);
* a provincial round proposes, in all, at most ``recommend_cap`` (50%) of the entries it
  received; when the per-category proposals add up to more, the least certain ones (lowest
  probability of belonging, then lowest score) are dropped and marked ``capped``;
* an annual round proposes only candidates that come from a signed quarterly selection
  (``eligible``); others are listed with the reason and never proposed;
* a work ``straddles`` the cut (the chair should look at it) exactly when its band reaches
  across the cut and its probability of belonging lies strictly between 5% and 95%. With slots
  the band is the rank band and the cut lies after the last proposed work; with only a bar
  (dissemination cases) the band is the score's 90% interval (score ± 1.645 se) and the cut is
  the bar. Both the band and the probability come from the same uncertainty
  (web/review/rankings.py: the probability is the share of the band's own draws inside the
  cut, or P(score >= bar)), so a band wholly above the cut has at least 95% and one wholly
  below at most 5%. Without a standard error there is no probability, and no flag.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .quota import max_recommendable

__all__ = ["Candidate", "Policy", "Proposal", "ProposedEntry", "propose", "INTERVAL_Z", "P_LOW", "P_HIGH",
           "straddles"]

#: Half-width, in standard errors, of the score interval tested against a bar (90%).
INTERVAL_Z = 1.6449
#: A probability of belonging strictly between these is uncertain enough to flag.
P_LOW, P_HIGH = 0.05, 0.95


@dataclass(frozen=True)
class Candidate:
    """One ranked work (or case) of a round, as the proposal sees it."""

    key: int
    category: str
    score: float
    se: float
    rank: int
    rank_low: int
    rank_high: int
    p_top: float = float("nan")
    eligible: bool = True
    ineligible_reason: str = ""


@dataclass(frozen=True)
class Policy:
    """How a round proposes: slots per category, a floor, or an absolute bar, and a total cap."""

    slots: dict[str, int] | None = None  # None: no slot limit (dissemination cases)
    min_score: float | None = None
    bar: float | None = None
    cap_share: float | None = None  # provincial stage: share of ``received`` that may go onward
    received: int = 0


@dataclass(frozen=True)
class ProposedEntry:
    """A candidate with the proposal's decision and why."""

    candidate: Candidate
    proposed: bool
    straddles_cut: bool
    reason: str  # in_slots, below_min_score, below_bar, beyond_slots, no_slots, capped, ineligible


@dataclass(frozen=True)
class Proposal:
    entries: list[ProposedEntry]
    cap: int | None = None
    capped: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def proposed(self) -> list[ProposedEntry]:
        """The entries the proposal puts on the list."""
        return [e for e in self.entries if e.proposed]


def _threshold(policy: Policy) -> float | None:
    values = [v for v in (policy.min_score, policy.bar) if v is not None]
    return max(values) if values else None


def straddles(candidate: Candidate, *, cut: int | None, bar: float | None) -> bool:
    """Whether the candidate's band reaches across the cut and P(belongs) is strictly between 5% and 95%.

    ``cut``: the rank after which the category's proposal ends (slots); ``bar``: the score a
    candidate must reach when there are no slots. A nan probability (no standard error) is no flag.
    """
    p = candidate.p_top
    if not (candidate.eligible and math.isfinite(p) and P_LOW < p < P_HIGH):
        return False
    if cut is not None:
        return candidate.rank_low <= cut < candidate.rank_high
    if bar is None or not math.isfinite(candidate.se):
        return False
    half = INTERVAL_Z * candidate.se
    return candidate.score - half < bar <= candidate.score + half


def _category(candidates: list[Candidate], policy: Policy) -> list[ProposedEntry]:
    threshold = _threshold(policy)
    slots = None if policy.slots is None else policy.slots.get(candidates[0].category, 0)
    ordered = sorted(candidates, key=lambda c: (c.rank, -c.score, c.key))
    decisions: list[tuple[Candidate, bool, str]] = []
    taken = 0
    for candidate in ordered:
        if not candidate.eligible:
            decisions.append((candidate, False, "ineligible"))
        elif policy.bar is not None and candidate.score < policy.bar:
            decisions.append((candidate, False, "below_bar"))
        elif policy.min_score is not None and candidate.score < policy.min_score:
            decisions.append((candidate, False, "below_min_score"))
        elif slots is not None and slots == 0:
            decisions.append((candidate, False, "no_slots"))
        elif slots is not None and taken >= slots:
            decisions.append((candidate, False, "beyond_slots"))
        else:
            taken += 1
            decisions.append((candidate, True, "in_slots"))
    # the cut lies after the last proposed work (slots), or at the bar (cases)
    cut = taken if slots is not None else None
    bar = threshold if slots is None else None
    return [ProposedEntry(candidate, proposed, straddles(candidate, cut=cut, bar=bar), reason)
            for candidate, proposed, reason in decisions]


def propose(candidates: list[Candidate], policy: Policy) -> Proposal:
    """The proposed shortlist of ``candidates`` under ``policy`` (every candidate is listed)."""
    by_category: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_category.setdefault(candidate.category, []).append(candidate)
    entries = [e for name in sorted(by_category) for e in _category(by_category[name], policy)]
    notes: list[str] = []
    if policy.bar is not None and entries and not any(e.proposed for e in entries):
        notes.append("none_above_bar")
    if policy.cap_share is None:
        return Proposal(entries, notes=notes)
    cap = max_recommendable(policy.received, policy.cap_share)
    proposed = [e for e in entries if e.proposed]
    excess = len(proposed) - cap
    if excess <= 0:
        return Proposal(entries, cap=cap, notes=notes)

    def certainty(entry: ProposedEntry):
        p = entry.candidate.p_top
        return (p if math.isfinite(p) else 1.0, entry.candidate.score, -entry.candidate.key)

    dropped = {id(e) for e in sorted(proposed, key=certainty)[:excess]}
    # a capped entry keeps its own flag: the cap is a rule over all categories, its reason is shown
    entries = [replace(e, proposed=False, reason="capped") if id(e) in dropped else e for e in entries]
    notes.append("capped")
    return Proposal(entries, cap=cap, capped=excess, notes=notes)
