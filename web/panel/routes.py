"""The public announcement list (公示名单) of a signed round, as CSV, XLSX or PDF."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..core.access import role_required
from ..core.db import get_session
from ..core.models import Role
from ..rounds.queries import round_or_404
from ..exports.fonts import FontMissing
from .announcement import announcement, render as render_announcement

bp = Blueprint("panel", __name__, template_folder="templates")
CHAIR = (Role.chair, Role.admin)


def _round(key: str):
    return round_or_404(session=get_session(), key=key)


@bp.get("/review/<key>/announcement.<any(csv, xlsx, pdf):fmt>")
@role_required(*CHAIR)
def announcement_download(key: str, fmt: str):
    """The public announcement list (公示名单) of a signed round as a file."""
    db, round_ = get_session(), _round(key)
    doc = announcement(session=db, round_=round_)
    if doc is None:
        flash(_("本轮尚未签署，暂无可公示的名单。"), "error")
        return redirect(url_for("signing.signatures", key=key)), 303
    try:
        rendered = render_announcement(doc, fmt)
    except FontMissing as exc:
        return render_template("message.html", message=str(exc)), 503
    return Response(rendered.body, mimetype=rendered.mimetype, headers={"Content-Disposition": rendered.disposition})
