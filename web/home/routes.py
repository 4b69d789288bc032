"""The first page after login: the rounds, and for an expert their assignments."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from scoring.rules.config import load_rules

from ..core.access import current_user, login_required
from ..core.db import get_session
from ..core.models import AssignmentStatus, Role
from ..rating.flags import open_flags_of_expert
from ..signing.queries import rounds_to_sign
from ..rating.queries import expert_assignments, progress
from ..rounds.keys import round_deadlines
from ..rounds.queries import list_rounds, work_counts

bp = Blueprint("home", __name__, template_folder="templates")
# The expert's rounds on the list: those taking scores first, a signed one last (and folded).
_ROUND_ORDER = {"scoring": 0, "intake": 1, "review": 2, "draft": 3, "signed": 4}


def _by_round(rows: list) -> list[tuple]:
    """``(round, rows, progress)`` per round, open rounds first, the newest first among equals."""
    groups: dict[int, list] = {}
    for row in rows:
        groups.setdefault(row.round.id, []).append(row)
    ordered = sorted(groups.values(), key=lambda g: g[0].round.key, reverse=True)
    ordered.sort(key=lambda g: _ROUND_ORDER.get(g[0].round.state.value, 3))
    return [(g[0].round, g, progress(g)) for g in ordered]


@bp.get("/")
@login_required
def index():
    """Rounds with state and deadlines; an expert also sees their own assignments, filterable."""
    db, user = get_session(), current_user()
    rounds = list_rounds(session=db)
    rules = load_rules()
    assignments = expert_assignments(session=db, expert=user) if user.role == Role.expert else []
    category = request.args.get("category", "")
    status = request.args.get("status", "")
    shown = [row for row in assignments
             if (not category or row.work.category == category)
             and (not status or row.assignment.status.value == status)]
    return render_template(
        "home/index.html", rounds=rounds, counts=work_counts(session=db),
        deadlines={r.id: round_deadlines(r, rules) for r in rounds},
        assignments=assignments, shown=shown, groups=_by_round(shown), progress=progress(assignments),
        categories=sorted({row.work.category for row in assignments}),
        statuses=[s.value for s in AssignmentStatus], category=category, status=status,
        flags=open_flags_of_expert(session=db, expert=user) if user.role == Role.expert else {},
        to_sign=rounds_to_sign(session=db, expert=user) if user.role == Role.expert else [])
