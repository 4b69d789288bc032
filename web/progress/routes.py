"""The scoring progress board (评分进度) for the chair and the admin, while a round is in scoring
or later: the page, the part it polls (ETag: 304 while nothing changed), and a per-expert
reminder text the secretariat can copy."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, make_response, render_template, request

from ..core.access import role_required
from ..core.db import get_session
from ..core.models import Role, utcnow
from ..rounds.queries import round_or_404
from . import queries, reminders
from ..core.timefmt import clock_text
from .settings import SHOWN_STATES, idle_minutes, poll_seconds

bp = Blueprint("progress", __name__, url_prefix="/rounds", template_folder="templates")
STAFF = (Role.chair, Role.admin)


def round_in_progress(key: str):
    """The round, or 404 when there is none or it has not reached scoring."""
    round_ = round_or_404(session=get_session(), key=key)
    if round_.state not in SHOWN_STATES:
        abort(404)
    return round_


def current_board(round_) -> queries.Board:
    """The board as of now."""
    return queries.board(session=get_session(), round_=round_, idle=dt.timedelta(minutes=idle_minutes()),
                         now=utcnow())


@bp.get("/<key>/progress")
@role_required(*STAFF)
def board(key: str):
    """The board: per category, per expert, the works lacking ratings, the flags waiting."""
    round_ = round_in_progress(key)
    shown = current_board(round_)
    response = make_response(render_template("progress/board.html", round=round_, board=shown, clock=clock_text,
                                             poll_seconds=poll_seconds(), etag=shown.etag()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<key>/progress/live")
@role_required(*STAFF)
def live(key: str):
    """The board's changing part, for the page's polling: 304 while its ETag still matches."""
    round_ = round_in_progress(key)
    shown = current_board(round_)
    etag = shown.etag()
    if etag in request.if_none_match:
        response = make_response("", 304)
    else:
        response = make_response(render_template("progress/_board.html", round=round_, board=shown,
                                                 clock=clock_text))
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/<key>/progress/experts/<username>/reminder")
@role_required(*STAFF)
def reminder(key: str, username: str):
    """A reminder the secretariat can copy and send to one expert (Chinese)."""
    round_ = round_in_progress(key)
    shown = current_board(round_)
    expert = next((e for e in shown.experts if e.username == username), None)
    if expert is None:
        abort(404)
    titles = queries.open_titles(session=get_session(), round_=round_, expert_id=expert.expert_id)
    text = reminders.reminder_text(round_, expert, titles, waiting=expert.unexplained)
    return render_template("progress/reminder.html", round=round_, expert=expert, text=text, clock=clock_text)
