"""The provincial quota (section 四): a provincial bureau recommends, in principle, at most
``stage.provincial.recommend_cap`` (50%) of the entries it received in the quarter.

Central units (中央直属单位) submit directly to the national stage and have no cap.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .config import Stage


def max_recommendable(received: int, cap: float) -> int:
    """Most entries that may go onward: floor(cap × received)."""
    if received < 0:
        raise ValueError(f"received must not be negative, got {received}")
    if not 0 < cap <= 1:
        raise ValueError(f"cap must be a share in (0, 1], got {cap}")
    # The small tolerance keeps 0.5 × 10 at 5 despite binary floating point.
    return math.floor(cap * received + 1e-9)


@dataclass(frozen=True)
class QuotaDecision:
    """Whether a recommendation of ``chosen`` out of ``received`` entries may be recorded."""

    received: int
    chosen: int
    limit: int | None  # None: no cap at this stage
    allowed: bool
    over_cap: bool
    needs_reason: bool
    zh: str
    en: str


def check_recommendation(*, received: int, chosen: int, stage: Stage,
                         reason: str | None = None) -> QuotaDecision:
    """Check ``chosen`` recommendations against the stage's cap; over it only with a reason."""
    if chosen < 0 or chosen > received:
        raise ValueError(f"cannot recommend {chosen} of {received} entries")
    if stage.recommend_cap is None:
        return QuotaDecision(received, chosen, None, True, False, False,
                             f"{stage.label}不设推荐比例上限", f"{stage.label_en} has no cap")
    limit = max_recommendable(received, stage.recommend_cap)
    share = f"{stage.recommend_cap:.0%}"
    if chosen <= limit:
        return QuotaDecision(received, chosen, limit, True, False, False,
                             f"推荐 {chosen} 部，未超过收到的 {received} 部申报作品的 {share}（{limit} 部）",
                             f"{chosen} recommended, within {share} of the {received} entries received ({limit})")
    has_reason = bool(reason and reason.strip())
    allowed = stage.cap_overridable and has_reason
    if not stage.cap_overridable:
        tail_zh, tail_en = "，不允许超出", "; the cap cannot be exceeded"
    elif has_reason:
        tail_zh, tail_en = "，已填写书面理由", "; a written reason was given"
    else:
        tail_zh, tail_en = "，原则上不得超出，如确需超出须填写书面理由", \
            "; exceeding it \"in principle\" needs a written reason"
    return QuotaDecision(received, chosen, limit, allowed, True, stage.cap_overridable and not has_reason,
                         f"推荐 {chosen} 部，超过收到的 {received} 部申报作品的 {share}（{limit} 部）{tail_zh}",
                         f"{chosen} recommended, more than {share} of the {received} entries received "
                         f"({limit}){tail_en}")
