"""``/api/v1/rounds``: the rounds with their states, and an admin's change of state."""
from __future__ import annotations

from flask import jsonify, request

from scoring.rules.states import TransitionError

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.models import Role
from ..rounds.operations import set_state
from ..rounds.queries import list_rounds, work_counts
from .blueprint import bp, error, round_or_404

# A refused change: 422 when the request itself is incomplete, 409 when the round's state forbids it.
_STATUS = {"unknown_state": 422, "reason_required": 422}


@bp.get("/rounds")
@role_required()
def rounds():
    """Every round with its state and number of works."""
    db = get_session()
    counts = work_counts(session=db)
    return jsonify([{"key": r.key, "year": r.year, "quarter": r.quarter, "kind": r.kind.value,
                     "stage": r.stage.value, "unit": r.unit, "state": r.state.value,
                     "works": counts.get(r.id, 0)} for r in list_rounds(session=db)])


@bp.post("/rounds/<key>/state")
@role_required(Role.admin)
def change_state(key: str):
    """Move a round to ``{"state", "reason"}`` (draft, intake, scoring, review; never signed: 409 pointing to the sign-off)."""
    db = get_session()
    round_ = round_or_404(db, key)
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    state, reason = body.get("state"), body.get("reason")
    if not isinstance(state, str) or (reason is not None and not isinstance(reason, str)):
        return error(422, "bad_request", 'Send JSON {"state": "intake|scoring|review|draft", "reason": "..."}.')
    previous = round_.state.value
    try:
        set_state(session=db, round_=round_, state=state, actor=current_user().username, reason=reason)
    except TransitionError as exc:
        db.rollback()
        return error(_STATUS.get(exc.code, 409), exc.code, exc.en, message_zh=exc.zh)
    db.commit()
    return jsonify({"round": key, "from": previous, "state": round_.state.value})
