"""Login and logout pages (session cookie, CSRF-protected forms)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..audit import record_event
from ..db import get_session
from .queries import authenticate

bp = Blueprint("accounts", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes home."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; on POST check the password and start a session."""
    if request.method == "GET":
        return render_template("accounts/login.html", next=request.args.get("next", ""))
    username = request.form.get("username", "")
    db = get_session()
    user = authenticate(session=db, username=username, password=request.form.get("password", ""))
    if user is None:
        record_event(db, "login.failed", actor=username.strip().lower()[:100],
                     detail={"address": request.remote_addr})
        db.commit()
        flash(_("用户名或密码不正确。"), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""),
                               username=username), 401
    session.clear()
    session["user_id"], session["pw"] = user.id, user.password_hash[-16:]
    session.permanent = True
    record_event(db, "login", actor=user.username)
    db.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """End the session."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("accounts.login"))
