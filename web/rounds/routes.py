"""Admin pages for rounds: the list with states and deadlines, creating a round, changing its state."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from scoring.rules.config import load_rules
from scoring.rules.states import BACKWARD, FORWARD

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.errors import Refused, on_refusal
from ..core.models import Role
from .keys import round_deadlines
from .operations import create_round, set_state
from .queries import get_round, list_rounds, work_counts

bp = Blueprint("rounds", __name__, url_prefix="/admin", template_folder="templates")


@bp.get("/rounds")
@role_required(Role.admin)
def rounds():
    """Every round with its state, entries, window and deadlines."""
    db = get_session()
    all_rounds = list_rounds(session=db)
    rules = load_rules()
    return render_template("rounds/rounds.html", rounds=all_rounds, counts=work_counts(session=db),
                           deadlines={r.id: round_deadlines(r, rules) for r in all_rounds},
                           forward=FORWARD, backward=BACKWARD)


@bp.post("/rounds")
@on_refusal(lambda: url_for("rounds.rounds"))
@role_required(Role.admin)
def create():
    """Create a round from the form (key, stage, unit)."""
    db = get_session()
    try:
        round_ = create_round(session=db, key=request.form.get("key", ""),
                              stage=request.form.get("stage", "national"),
                              unit=request.form.get("unit") or None, actor=current_user().username)
    except ValueError as exc:  # the key, stage or unit the rules refuse
        raise Refused(422, "bad_round", _("无法创建轮次：%(reason)s", reason=str(exc)),
                      f"cannot create the round: {exc}") from None
    flash(_("已创建轮次 %(key)s", key=round_.key), "info")
    return redirect(url_for("rounds.rounds")), 303


@bp.post("/rounds/<key>/state")
@on_refusal(lambda key: url_for("rounds.rounds"))
@role_required(Role.admin)
def change_state(key: str):
    """Move a round to another state (stepping back needs a reason)."""
    db = get_session()
    round_ = get_round(session=db, key=key)
    if round_ is None:
        return render_template("message.html", message=_("轮次不存在")), 404
    set_state(session=db, round_=round_, state=request.form.get("state", ""), actor=current_user().username,
              reason=request.form.get("reason"))
    flash(_("轮次 %(key)s 状态已更新", key=key), "info")
    return redirect(url_for("rounds.rounds")), 303
