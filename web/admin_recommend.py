"""Admin page for a provincial round's recommendation (notice, section 四).

A provincial bureau forwards, in principle, at most 50% of the entries it received in the
quarter (``stage.provincial.recommend_cap`` in config/stages.toml); going over needs a
written reason, which the audit log keeps. The page shows the received count and the limit,
the entries with the current choice ticked, and records a new choice through
:func:`web.round_admin.recommend`, the same path as ``tuiyou round recommend``.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlmodel import select

from scoring.rules.config import load_rules
from scoring.rules.quota import max_recommendable

from .access import current_user, role_required
from .db import get_session
from .i18n import localized
from .models import Role, RoundState, Stage, Work
from .queries import get_round
from .round_admin import QuotaError, recommend

bp = Blueprint("admin_recommend", __name__, url_prefix="/admin/rounds")


def _page(round_, *, chosen: set[int] | None = None, reason: str = "", error: str | None = None,
          status: int = 200):
    """The form; ``chosen`` defaults to the recommendation on record."""
    db = get_session()
    works = list(db.exec(select(Work).where(Work.round_id == round_.id).order_by(Work.category, Work.id)))
    if chosen is None:
        chosen = {w.id for w in works if w.recommended}
    stage = load_rules().stages["provincial"]
    limit = max_recommendable(len(works), stage.recommend_cap) if stage.recommend_cap else None
    return render_template(
        "admin/recommend.html", round=round_, works=works, chosen=chosen, limit=limit,
        cap=stage.recommend_cap, overridable=stage.cap_overridable, reason=reason, error=error,
        locked=round_.state == RoundState.signed,
    ), status


def _provincial_round(key: str):
    round_ = get_round(session=get_session(), key=key)
    if round_ is None:
        return None, (render_template("admin/message.html", message=_("轮次不存在")), 404)
    if round_.stage != Stage.provincial:
        message = _("%(key)s 是总局评审轮次，只有省级初审轮次需要推荐（中央直属单位直接申报）。", key=key)
        return None, (render_template("admin/message.html", message=message), 404)
    return round_, None


@bp.get("/<key>/recommend")
@role_required(Role.admin)
def form(key: str):
    """The entries of provincial round ``key`` with the current recommendation ticked."""
    round_, failure = _provincial_round(key)
    if failure:
        return failure
    return _page(round_)


@bp.post("/<key>/recommend")
@role_required(Role.admin)
def save(key: str):
    """Record the ticked entries as the round's recommendation (replacing the earlier one)."""
    round_, failure = _provincial_round(key)
    if failure:
        return failure
    reason = request.form.get("reason", "").strip()
    raw_ids = request.form.getlist("work")
    bad = [value for value in raw_ids if not (value.isascii() and value.isdigit())]
    if bad:
        return _page(round_, chosen=set(), reason=reason, status=422,
                     error=_("作品编号无效：%(values)s", values="、".join(bad[:5])))
    chosen = {int(value) for value in raw_ids}
    db = get_session()
    try:
        decision = recommend(session=db, round_=round_, work_ids=sorted(chosen), reason=reason or None,
                             actor=current_user().username)
    except QuotaError as exc:
        db.rollback()
        return _page(round_, chosen=chosen, reason=reason, error=localized(exc.decision), status=422)
    except ValueError as exc:
        db.rollback()
        return _page(round_, chosen=chosen, reason=reason, status=422,
                     error=_("无法保存推荐：%(reason)s", reason=str(exc)))
    db.commit()
    flash(localized(decision), "info")
    return redirect(url_for("admin_recommend.form", key=key)), 303
