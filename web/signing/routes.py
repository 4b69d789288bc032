"""The members' signing page: who has signed the sealed result, when, and who dissented; a panel
member signs it there (the chair's sign-off is on the shortlist page, web.review)."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.errors import on_refusal
from ..core.models import Role
from ..rounds.queries import round_or_404
from . import operations, queries
from .queries import result_versions

bp = Blueprint("signing", __name__, template_folder="templates")
CHAIR = (Role.chair, Role.admin)


def _round(key: str):
    return round_or_404(session=get_session(), key=key)


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
    return render_template("signing/sign.html", round=round_, signed=signed, waiting=waiting,
                           can_sign=user.role == Role.expert and any(w.user_id == user.id for w in waiting)
                           and round_.state.value == "signed",
                           sha=versions[-1].content_sha256 if versions and round_.state.value == "signed" else None,
                           entries=_sealed_entries(round_), dissent=dissent, refusal=refusal), status


@bp.get("/panel/<key>/sign")
@role_required(Role.expert, *CHAIR)
def signatures(key: str):
    """Who has signed the sealed result, when, and who dissented; a panel member's signing form."""
    db, round_, user = get_session(), _round(key), current_user()
    member = queries.is_member(session=db, round_=round_, user=user)
    if user.role == Role.expert and not member:
        abort(403)
    return _signing_page(round_)


def _signature_refused(refused, key: str):
    """Off the panel: the forbidden page; otherwise (a wrong password) the page again with the
    dissent the member typed kept and the reason beside the form."""
    if refused.code == "not_on_panel":
        return render_template("errors/error.html", status=403, message=refused.message), 403
    if refused.status == 404:  # no such round: the error page, not the signing page
        return None
    return _signing_page(_round(key), dissent=request.form.get("dissent") or "", refusal=refused.message,
                         status=422)


@bp.post("/panel/<key>/sign")
@on_refusal(page=_signature_refused)
@role_required(Role.expert)
def member_signature(key: str):
    """A panel member signs with their password and an optional dissent."""
    db, round_ = get_session(), _round(key)
    operations.member_signature(session=db, round_=round_, member=current_user(),
                                password=request.form.get("password", ""), dissent=request.form.get("dissent"))
    flash(_("已签署。"), "info")
    return redirect(url_for("signing.signatures", key=key)), 303
