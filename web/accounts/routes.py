"""Login, logout and the password page (session cookie, CSRF-protected forms)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..core.access import current_user, end_browser_session, login_required, start_session
from ..core.errors import Refused, on_refusal
from ..core.audit import record_event
from ..core.db import get_session
from .operations import change_own_password, end_sessions
from .passwords import MIN_PASSWORD_LENGTH
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
                     detail={"address": request.remote_addr})  # kept: the answer commits it
        flash(_("用户名或密码不正确。"), "error")
        return render_template("accounts/login.html", next=request.form.get("next", ""),
                               username=username), 401
    start_session(user)
    record_event(db, "login", actor=user.username)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    """End the session: every session and API token of the user, on every app server."""
    user = current_user()
    if user is not None:
        db = get_session()
        end_sessions(session=db, user=user, actor=user.username, why="logout")
    end_browser_session()
    flash(_("您已退出登录。"), "info")
    return redirect(url_for("accounts.login"))


_PROBLEMS = {"current": lambda: _("当前密码不正确，密码未修改。"),
             "repeat": lambda: _("两次输入的新密码不一致，密码未修改。"),
             "same": lambda: _("新密码不能与当前密码相同。")}


def _password_refused(refused: Refused):
    flash(refused.message, "error")
    return render_template("accounts/password.html", min_length=MIN_PASSWORD_LENGTH), refused.status


@bp.route("/account/password", methods=["GET", "POST"])
@on_refusal(page=_password_refused)
@login_required
def password():
    """Change one's own password; every other session and token of the user ends with it."""
    if request.method == "GET":
        return render_template("accounts/password.html", min_length=MIN_PASSWORD_LENGTH)
    db, user = get_session(), current_user()
    try:
        change_own_password(session=db, user=user, current=request.form.get("current", ""),
                            new=request.form.get("new", ""), repeated=request.form.get("repeat", ""))
    except ValueError as exc:
        g.password_refused = str(exc) == "current"  # counts as a failed login of this account (web.core.limits)
        problem = _PROBLEMS.get(str(exc))
        raise Refused(422, f"password_{exc}" if problem else "weak_password",
                      problem() if problem else _("新密码不符合要求：%(why)s", why=str(exc))) from None
    start_session(user)  # this browser stays logged in with the new epoch; every other session has ended
    flash(_("密码已修改。其他设备上的登录和 API 令牌均已失效。"), "info")
    return redirect(url_for("home.index")), 303
