"""Admin pages for rounds (list, create, change state) and entries (search, filter, paginate)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_
from sqlmodel import select

from scoring.rules.config import load_rules
from scoring.rules.states import BACKWARD, FORWARD, TransitionError

from .access import current_user, role_required
from .db import get_session
from .i18n import localized
from .models import Role, Round, Work
from .queries import get_round, list_rounds, work_counts
from .round_admin import create_round, set_state
from .rounds import round_deadlines

bp = Blueprint("admin", __name__, url_prefix="/admin")

PAGE_SIZE = 50
FLAGS = {"uhd": Work.uhd, "aigc": Work.aigc, "single_episode": Work.single_episode,
         "recommended": Work.recommended}


@bp.get("/rounds")
@role_required(Role.admin)
def rounds():
    """Every round with its state, entries, window and deadlines."""
    db = get_session()
    all_rounds = list_rounds(session=db)
    rules = load_rules()
    return render_template("admin/rounds.html", rounds=all_rounds, counts=work_counts(session=db),
                           deadlines={r.id: round_deadlines(r, rules) for r in all_rounds},
                           forward=FORWARD, backward=BACKWARD)


@bp.post("/rounds")
@role_required(Role.admin)
def create():
    """Create a round from the form (key, stage, unit)."""
    db = get_session()
    try:
        round_ = create_round(session=db, key=request.form.get("key", ""),
                              stage=request.form.get("stage", "national"),
                              unit=request.form.get("unit") or None, actor=current_user().username)
    except ValueError as exc:
        db.rollback()
        flash(_("无法创建轮次：%(reason)s", reason=str(exc)), "error")
        return redirect(url_for("admin.rounds")), 303
    db.commit()
    flash(_("已创建轮次 %(key)s", key=round_.key), "info")
    return redirect(url_for("admin.rounds")), 303


@bp.post("/rounds/<key>/state")
@role_required(Role.admin)
def change_state(key: str):
    """Move a round to another state (stepping back needs a reason)."""
    db = get_session()
    round_ = get_round(session=db, key=key)
    if round_ is None:
        return render_template("admin/message.html", message=_("轮次不存在")), 404
    try:
        set_state(session=db, round_=round_, state=request.form.get("state", ""),
                  actor=current_user().username, reason=request.form.get("reason"))
    except TransitionError as exc:
        db.rollback()
        flash(localized(exc), "error")
        return redirect(url_for("admin.rounds")), 303
    db.commit()
    flash(_("轮次 %(key)s 状态已更新", key=key), "info")
    return redirect(url_for("admin.rounds")), 303


@bp.get("/works")
@role_required(Role.admin)
def works():
    """Entries: search by title, filter by round, category, unit and flag, 50 a page."""
    db = get_session()
    args = request.args
    query = select(Work, Round.key).join(Round, Round.id == Work.round_id)
    if args.get("round"):
        query = query.where(Round.key == args["round"])
    if args.get("q"):
        needle = "%" + args["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Work.title.ilike(needle, escape="\\"),
                                Work.title_normalized.ilike(needle, escape="\\")))
    if args.get("category"):
        query = query.where(Work.category == args["category"])
    if args.get("unit"):
        query = query.where(Work.unit == args["unit"])
    if args.get("flag") in FLAGS:
        query = query.where(FLAGS[args["flag"]] == True)  # noqa: E712 (SQL expression)
    total = db.exec(select(func.count()).select_from(query.subquery())).one()
    try:
        page = max(1, int(args.get("page", "1")))
    except ValueError:
        page = 1
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = db.exec(query.order_by(Round.key, Work.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    units = list(db.exec(select(Work.unit).distinct().order_by(Work.unit)))
    filters = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("admin/works.html", rows=rows, total=total, page=page, pages=pages,
                           filters=filters, categories=load_rules().category_names, units=units,
                           rounds=list_rounds(session=db), flags=list(FLAGS))
