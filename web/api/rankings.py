"""``/api/v1/rounds/{key}/rankings``: normalized scores, ranks and bands per category (chair, admin)."""
from __future__ import annotations

from flask import jsonify, request

from scoring.rules.config import load_rules

from ..core.access import role_required
from ..core.db import get_session
from ..core.models import Role
from ..review.console import parse_method, ranking_for
from ..review.operations import ReviewError
from ..review.queries import CASES_CATEGORY
from .blueprint import bp, error, round_or_404

ROW_FIELDS = ("work_id", "category", "score", "se", "rank", "rank_low", "rank_high", "n_ratings", "title",
              "raw_mean", "p_shortlist", "disagreement")


@bp.get("/rounds/<key>/rankings")
@role_required(Role.chair, Role.admin)
def rankings(key: str):
    """Rows as in ``tuiyou analyze`` plus title (and raw mean, P(shortlist)); every category unless one is named."""
    db = get_session()
    round_ = round_or_404(db, key)
    try:
        method = parse_method(request.args.get("method"))
    except ReviewError as exc:
        return error(exc.status, exc.code, exc.en)
    category = (request.args.get("category") or "").strip()
    if category and category not in (*load_rules().category_names, CASES_CATEGORY):
        return error(422, "unknown_category", f"unknown category {category!r}",
                     known=[*load_rules().category_names, CASES_CATEGORY])
    ranking = ranking_for(session=db, round_=round_, method=method)
    db.commit()  # the cache row, when this call computed it
    rows = [{**row, "work_id": row["item_id"]} for row in ranking.rows
            if not category or row["category"] == category]
    response = jsonify([{name: row[name] for name in ROW_FIELDS} for row in rows])
    response.headers["X-Tuiyou-Method"] = method
    return response
