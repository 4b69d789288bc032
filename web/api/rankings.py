"""``/api/v1/rounds/{key}/rankings``: normalized scores, ranks and bands per category (chair, admin)."""
from __future__ import annotations

from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, ConfigDict, Field

from scoring.normalize import METHODS
from scoring.rules.config import load_rules

from ..core.db import get_session
from ..core.models import Role
from ..review.services import latest_ranking, parse_method
from ..review.queries import CASES_CATEGORY
from ..core.schemas import ApiError, Choices, Query, Refused, Reply
from .blueprint import bp, round_or_404
from .registry import Memoized, operation

Method = Annotated[str, Choices(lambda: ["", *METHODS])]
"""A normalization method (``additive``, ``affine``, …); empty for the default."""


def _categories() -> list[str]:
    return [*load_rules().category_names, CASES_CATEGORY]


class RankingQuery(Query):
    """Which method, and which category (every category when none is named)."""

    codes: ClassVar = {"method": "unknown_method", "category": "unknown_category"}

    method: Method | None = Field(default=None, description="empty or absent: the default method")
    category: Annotated[str, Choices(lambda: ["", *_categories()])] | None = Field(
        default=None, description="empty or absent: every category")

    @classmethod
    def refusal(cls, error: dict[str, Any]) -> Refused:
        """An unknown category's refusal lists the known ones."""
        refused = super().refusal(error)
        if refused.code == "unknown_category":
            return Refused(refused.status, refused.code, refused.message, known=_categories())
        return refused


class RankingRow(Reply):
    """One ranked item, as in ``tuiyou analyze``, plus its title: ranks within its category (1 best,
    ties share the lower number), the band, and the probability of making the shortlist."""

    # read from the ranking's typed rows (``RankedItem``) as they are, in one validation of the list
    model_config = ConfigDict(**Reply.model_config, from_attributes=True)

    work_id: int = Field(validation_alias=AliasChoices("work_id", "item_id"),
                         description="the work's id (the case's id in a dissemination round)")
    category: str
    score: float | None
    se: float | None
    rank: int
    rank_low: int
    rank_high: int
    n_ratings: int
    title: str
    raw_mean: float | None
    p_shortlist: float | None
    disagreement: bool


@bp.get("/rounds/<key>/rankings")
@operation("Rankings per category (chair, admin): rows as in `tuiyou analyze`, plus title", query=RankingQuery,
           roles=(Role.chair, Role.admin), answers={
               200: ("The rows, by category then rank; the header X-Tuiyou-Method names the method, "
                     "X-Tuiyou-Computed-At when they were computed (the latest result: never computed in the "
                     "request once the round has one), X-Tuiyou-Updating 1 while the ratings have changed "
                     "since and a recompute is queued",
                     list[RankingRow]),
               304: ("Not modified: the request's If-None-Match holds this answer's ETag (the same stored "
                     "result and category)", None),
               422: ("Unknown method or category (`unknown_category` lists the known ones)", ApiError)})
def rankings(key: str, query: RankingQuery):
    """Rows as in ``tuiyou analyze`` plus title (and raw mean, P(shortlist)); every category unless one is named."""
    db = get_session()
    round_ = round_or_404(db, key)
    method = parse_method(query.method)
    latest = latest_ranking(session=db, round_=round_, method=method)
    ranking = latest.ranking
    rows = (lambda: ranking.by_category.get(query.category, [])) if query.category else (lambda: ranking.rows)
    return Memoized(ranking.memo, query.category or None, rows), 200, \
        {"X-Tuiyou-Method": method, "X-Tuiyou-Computed-At": latest.computed_at.isoformat(),
         "X-Tuiyou-Updating": "1" if latest.updating else "0"}
