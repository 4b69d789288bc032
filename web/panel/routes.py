"""Panel practice pages: the expert's written explanation of an abnormal rating (on the scoring
form), the chair's list of abnormal ratings (畸高/畸低) with a written waiver for each, and the
signing page where panel members sign the sealed result and everyone sees who has signed."""
from __future__ import annotations

import json

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from scoring.normalize import DEFAULT_METHOD, METHODS
from scoring.rules.abnormal import load_abnormal_rule

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.i18n import localized
from ..core.models import Role
from ..rating.queries import assignment_for_expert
from ..review.queries import result_versions, round_is_locked
from ..rounds.queries import get_round
from ..exports.fonts import FontMissing
from . import operations, queries
from .announcement import announcement, render as render_announcement

bp = Blueprint("panel", __name__, template_folder="templates")
CHAIR = (Role.chair, Role.admin)


def _round(key: str):
    round_ = get_round(session=get_session(), key=key)
    if round_ is None:
        abort(404)
    return round_


@bp.post("/assignments/<int:assignment_id>/explanation")
@role_required(Role.expert)
def explain(assignment_id: int):
    """The expert's explanation form on the scoring page: record it, back to the form."""
    db, user = get_session(), current_user()
    row = assignment_for_expert(session=db, expert=user, assignment_id=assignment_id)
    if row is None:
        abort(404)
    try:
        operations.explain(session=db, expert=user, assignment=row.assignment, round_=row.round,
                           text=request.form.get("text", ""))
    except operations.PanelRefused as exc:
        db.rollback()
        flash(localized(exc), "error-here")  # shown in the explanation box (panel/_explain.html)
    else:
        db.commit()
        flash(_("说明已提交，评审组组长可以看到。您的评分没有改变。"), "info-here")
    return redirect(url_for("rating.form", assignment_id=assignment_id) + "#explanation"), 303


def _abnormal_page(round_, *, refused: dict | None = None, status: int = 200):
    """The round's abnormal ratings; ``refused`` maps a flag to the refused waiver's reason and message."""
    db = get_session()
    rows = queries.flag_rows(session=db, round_=round_)
    return render_template("panel/abnormal.html", round=round_, rows=rows, rule=load_abnormal_rule(),
                           unexplained=set(queries.unexplained(session=db, round_=round_)), refused=refused or {},
                           method=DEFAULT_METHOD, methods=list(METHODS), default_method=DEFAULT_METHOD,
                           locked=round_is_locked(round_), tab="abnormal", show_method=False), status


@bp.get("/review/<key>/abnormal")
@role_required(*CHAIR)
def abnormal(key: str):
    """Every abnormal rating of the round with its explanation or waiver; what blocks sign-off."""
    return _abnormal_page(_round(key))


@bp.post("/review/<key>/abnormal/<int:assignment_id>/waive")
@role_required(*CHAIR)
def waive(key: str, assignment_id: int):
    """The chair's written waiver of one flag; back to that flag on the list (its anchor), never to the top.

    A refusal answers the list again with the reason typed kept and the refusal beside it."""
    db, round_ = get_session(), _round(key)
    flag = queries.flag_of(session=db, assignment_id=assignment_id)
    if flag is None or flag.round_id != round_.id:
        abort(404)
    reason = request.form.get("reason", "")
    try:
        operations.waive(session=db, chair=current_user(), flag=flag, round_=round_, reason=reason)
    except operations.PanelRefused as exc:
        db.rollback()
        return _abnormal_page(round_, refused={assignment_id: {"reason": reason, "message": localized(exc)}},
                              status=exc.status if 400 <= exc.status < 500 else 422)
    db.commit()
    return redirect(url_for("panel.abnormal", key=key, _anchor=f"flag-{assignment_id}")), 303


def _sealed_entries(round_) -> list[dict]:
    versions = result_versions(session=get_session(), round_=round_)
    if round_.state.value != "signed" or not versions:
        return []
    content = json.loads(versions[-1].content)
    return [{"title": e["title"], "category": e["category"]} for e in content["entries"] if e["included"]]


def _signing_page(round_, *, dissent: str = "", refusal: str | None = None, status: int = 200):
    """The signing page of ``round_``; after a refused signature, the member's dissent and the reason."""
    db, user = get_session(), current_user()
    signed, waiting = queries.signatures(session=db, round_=round_)
    versions = result_versions(session=db, round_=round_)
    return render_template("panel/sign.html", round=round_, signed=signed, waiting=waiting,
                           can_sign=user.role == Role.expert and any(w.user_id == user.id for w in waiting)
                           and round_.state.value == "signed",
                           sha=versions[-1].content_sha256 if versions and round_.state.value == "signed" else None,
                           entries=_sealed_entries(round_), dissent=dissent, refusal=refusal), status


@bp.get("/panel/<key>/sign")
@role_required(Role.expert, *CHAIR)
def signing(key: str):
    """Who has signed the sealed result, when, and who dissented; a panel member's signing form."""
    db, round_, user = get_session(), _round(key), current_user()
    member = queries.is_member(session=db, round_=round_, user=user)
    if user.role == Role.expert and not member:
        abort(403)
    return _signing_page(round_)


@bp.post("/panel/<key>/sign")
@role_required(Role.expert)
def sign(key: str):
    """A panel member signs with their password and an optional dissent.

    A refusal (a wrong password) answers the page again with what the member typed kept."""
    db, round_ = get_session(), _round(key)
    dissent = request.form.get("dissent")
    try:
        operations.member_sign(session=db, round_=round_, member=current_user(),
                               password=request.form.get("password", ""), dissent=dissent)
    except operations.PanelRefused as exc:
        db.rollback()
        if exc.code == "not_on_panel":
            abort(403)
        return _signing_page(round_, dissent=dissent or "", refusal=localized(exc), status=422)
    db.commit()
    flash(_("已签署。"), "info")
    return redirect(url_for("panel.signing", key=key)), 303


@bp.get("/review/<key>/announcement.<any(csv, xlsx, pdf):fmt>")
@role_required(*CHAIR)
def announcement_download(key: str, fmt: str):
    """The public announcement list (公示名单) of a signed round as a file."""
    db, round_ = get_session(), _round(key)
    doc = announcement(session=db, round_=round_)
    if doc is None:
        flash(_("本轮尚未签署，暂无可公示的名单。"), "error")
        return redirect(url_for("panel.signing", key=key)), 303
    try:
        rendered = render_announcement(doc, fmt)
    except FontMissing as exc:
        return render_template("message.html", message=str(exc)), 503
    return Response(rendered.body, mimetype=rendered.mimetype, headers={"Content-Disposition": rendered.disposition})
