"""Export downloads for the chair's browser (cookie login): the same files as the API's
``/api/v1/rounds/{key}/shortlist.csv|.xlsx|.pdf`` and ``announcement.csv|.xlsx|.pdf``."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.access import role_required
from ..core.db import get_session
from ..core.inputs import record_id
from ..core.models import Role
from ..rounds.queries import round_or_404
from .announcement import announcement
from .announcement import render as render_announcement
from .build import SCOPES, export_document, render
from .fonts import FontMissing

bp = Blueprint("exports", __name__, url_prefix="/review", template_folder="templates")


@bp.get("/<key>/export.<any(csv, xlsx, pdf):fmt>")
@role_required(Role.chair, Role.admin)
def download(key: str, fmt: str):
    """The shortlist (``?scope=rankings``: the full rankings; ``?version=N``: a signed version) as a file."""
    db = get_session()
    round_ = round_or_404(session=db, key=key)
    scope = request.args.get("scope", "shortlist")
    version = request.args.get("version", "")
    if scope not in SCOPES or (version and record_id(version) is None):
        abort(404)
    doc = export_document(session=db, round_=round_, scope=scope, version=record_id(version) if version else None)
    if doc is None:
        abort(404)
    try:
        rendered = render(doc, fmt)
    except FontMissing as exc:
        return render_template("message.html", message=str(exc)), 503
    return Response(rendered.body, mimetype=rendered.mimetype, headers={"Content-Disposition": rendered.disposition})


@bp.get("/<key>/announcement.<any(csv, xlsx, pdf):fmt>")
@role_required(Role.chair, Role.admin)
def announcement_download(key: str, fmt: str):
    """The public announcement list (公示名单) of a signed round as a file."""
    db = get_session()
    round_ = round_or_404(session=db, key=key)
    doc = announcement(session=db, round_=round_)
    if doc is None:
        flash(_("本轮尚未签署，暂无可公示的名单。"), "error")
        return redirect(url_for("signing.signatures", key=key)), 303
    try:
        rendered = render_announcement(doc, fmt)
    except FontMissing as exc:
        return render_template("message.html", message=str(exc)), 503
    return Response(rendered.body, mimetype=rendered.mimetype, headers={"Content-Disposition": rendered.disposition})
