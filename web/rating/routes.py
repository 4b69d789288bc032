"""The expert's scoring form, its same-origin JSON calls (cookie + CSRF header) and ``/sw.js``."""
from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.errors import Refused, on_refusal
from ..core.models import Role
from ..core.schemas import accepts
from . import flags, services
from .operations import can_edit, can_recuse, can_reopen
from .flags import open_flags_of_expert
from .queries import (assignment_for_expert, assignment_scores, current_comment, highlights,
                      own_scale)
from .schemas import Recusal, ScoreSave

bp = Blueprint("rating", __name__, template_folder="templates")


@bp.errorhandler(CSRFError)
def csrf_refused(_error):
    """The form's calls get JSON for a stale CSRF token (an HTML page before): the form asks
    ``/rating/csrf`` for a fresh one and tries once more, or, when that answers 401, asks the
    expert to log in again while the changes wait on the device."""
    return Refused(400, "csrf", "表单的安全令牌已过期，请重新获取后再试。",
                   "The form's CSRF token has expired; fetch a new one.").response()


@bp.get("/assignments/<int:assignment_id>")
@role_required(Role.expert)
def form(assignment_id: int):
    """The blind scoring form of one of the expert's works."""
    db, user = get_session(), current_user()
    row = assignment_for_expert(session=db, expert=user, assignment_id=assignment_id)
    if row is None:
        abort(404)
    criteria = services.criteria_for(row)
    scores = assignment_scores(session=db, assignment=row.assignment)
    state = {"version": row.assignment.version, "scores": scores,
             "comment": current_comment(session=db, assignment=row.assignment),
             "confidence": row.assignment.confidence,
             "highlights": highlights(session=db, assignment=row.assignment)}
    return render_template(
        "rating/form.html", row=row, criteria=criteria, scores=scores, state=state,
        state_json=json.dumps(state, ensure_ascii=False), editable=can_edit(row.assignment, row.round),
        can_reopen=can_reopen(row.assignment, row.round), can_recuse=can_recuse(row.assignment, row.round),
        can_explain=flags.can_explain(row.assignment, row.round),
        own=own_scale(session=db, expert=user, row=row, weights={c.key: c.weight for c in criteria.criteria}),
        flag=open_flags_of_expert(session=db, expert=user).get(row.assignment.id))


@bp.put("/assignments/<int:assignment_id>/scores")
@role_required(Role.expert, json=True)
@accepts(ScoreSave)
def save(assignment_id: int, body: ScoreSave):
    """The form's autosave: the same action as ``PUT /api/v1/assignments/{id}/scores``."""
    return services.response(services.save(get_session(), current_user(), assignment_id, body,
                                         request.headers.get("Idempotency-Key")))


@bp.post("/assignments/<int:assignment_id>/submit")
@role_required(Role.expert, json=True)
def submit(assignment_id: int):
    """The form's submit button."""
    return services.response(services.submit(get_session(), current_user(), assignment_id))


@bp.post("/assignments/<int:assignment_id>/recuse")
@role_required(Role.expert, json=True)
@accepts(Recusal)
def recuse(assignment_id: int, body: Recusal):
    """The form's recuse dialog."""
    return services.response(services.recuse(get_session(), current_user(), assignment_id, body))


@bp.post("/assignments/<int:assignment_id>/reopen")
@role_required(Role.expert, json=True)
def reopen(assignment_id: int):
    """The form's reopen button (when the chair allowed it)."""
    return services.response(services.reopen(get_session(), current_user(), assignment_id))


def _explanation_refused(refused, assignment_id: int):
    """A refused explanation: its reason shown in the explanation box (rating/_explain.html), not at the top."""
    flash(refused.message, "error-here")
    return redirect(url_for("rating.form", assignment_id=assignment_id) + "#explanation"), 303


@bp.post("/assignments/<int:assignment_id>/explanation")
@on_refusal(page=_explanation_refused)
@role_required(Role.expert)
def explain(assignment_id: int):
    """The expert's explanation form on the scoring page: record it, back to the form."""
    db, user = get_session(), current_user()
    row = assignment_for_expert(session=db, expert=user, assignment_id=assignment_id)
    if row is None:
        abort(404)
    flags.explain(session=db, expert=user, assignment=row.assignment, round_=row.round,
                       text=request.form.get("text", ""))
    flash(_("说明已提交，评审组组长可以看到。您的评分没有改变。"), "info-here")  # in the explanation box
    return redirect(url_for("rating.form", assignment_id=assignment_id) + "#explanation"), 303


@bp.get("/rating/csrf")
@role_required(Role.expert, json=True)
def csrf():
    """A fresh CSRF token for a form that was opened long ago (or offline) and now syncs."""
    return jsonify(token=generate_csrf())


@bp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that its scope is the whole site."""
    path = Path(current_app.static_folder) / "sw.js"
    response = current_app.response_class(path.read_bytes(), mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline():
    """What the service worker shows for a page it never kept: what the expert can do offline."""
    response = current_app.make_response(render_template("rating/offline.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response
