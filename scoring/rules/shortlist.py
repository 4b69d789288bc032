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
* a work whose rank band reaches across its category's cut, or whose score interval reaches
  across the threshold, ``straddles`` the cut: the chair should look at it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .quota import max_recommendable

__all__ = ["Candidate", "Policy", "Proposal", "ProposedEntry", "propose", "INTERVAL_Z"]

#: Half-width, in standard errors, of the score interval tested against a threshold (90%).
INTERVAL_Z = 1.6449


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


def _crosses(candidate: Candidate, threshold: float | None) -> bool:
    if threshold is None or not math.isfinite(candidate.se):
        return threshold is not None and not math.isfinite(candidate.se)
    half = INTERVAL_Z * candidate.se
    return candidate.score - half < threshold <= candidate.score + half


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
    cut = taken  # the cut lies after the last proposed work
    entries = []
    for candidate, proposed, reason in decisions:
        band_crosses = candidate.rank_low <= cut < candidate.rank_high if cut > 0 else False
        if not candidate.eligible:
            straddles = False
        elif proposed:
            straddles = candidate.rank_high > cut or _crosses(candidate, threshold)
        else:
            straddles = (band_crosses and reason not in ("below_bar", "below_min_score")) \
                or _crosses(candidate, threshold)
        entries.append(ProposedEntry(candidate, proposed, straddles, reason))
    return entries


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
    entries = [replace(e, proposed=False, reason="capped", straddles_cut=True) if id(e) in dropped else e
               for e in entries]
    notes.append("capped")
    return Proposal(entries, cap=cap, capped=excess, notes=notes)
