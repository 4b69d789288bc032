"""Who is asking, and may they: session login for pages, bearer tokens for the API.

``role_required`` is the one check every view uses. Unauthenticated API calls get 401 JSON,
pages redirect to the login form; a wrong role gets 403 either way.

A session cookie (signed, not stored on the server) carries the user's id, their session epoch,
when they logged in and when they were last seen; nothing derived from the password. It counts
only while the epoch is the user's current one (logout, a password change or reset replaces it
in the database, so the cookie dies on every app server at once), the user has been seen within
``SESSION_IDLE_MINUTES`` and logged in within ``SESSION_MAX_HOURS``.
"""
from __future__ import annotations

import functools
import hmac
import time
from typing import Callable

from flask import Flask, abort, current_app, g, jsonify, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from ..accounts.queries import user_for_token
from .errors import wants_json
from .refused import Refused
from .db import get_session
from .models import Role, User

SEEN_EVERY = 60  # seconds: "last seen" is rewritten at most this often (the cookie is re-sent then)


def _now() -> int:
    """Seconds since the epoch (one place, so tests can move the clock)."""
    return int(time.time())


def _is_api() -> bool:
    return request.path.startswith("/api/")


def start_session(user: User) -> None:
    """Log ``user`` in on this browser: a new session (the old one's content, CSRF token included, is dropped)."""
    lang = session.get("lang")
    session.clear()
    now = _now()
    session.update(user_id=user.id, epoch=user.session_epoch, iat=now, seen=now)
    if lang:
        session["lang"] = lang
    session.permanent = True


def end_browser_session() -> None:
    """Forget the login on this browser (the language stays)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _session_user() -> User | None:
    """The user of the session cookie while its epoch is current and it is neither idle nor too old."""
    user_id, epoch = session.get("user_id"), session.get("epoch")
    logged_in, seen = session.get("iat"), session.get("seen")
    if not isinstance(user_id, int) or not isinstance(epoch, str) or not epoch \
            or not isinstance(logged_in, int) or not isinstance(seen, int):
        return None
    now = _now()
    if now - logged_in > current_app.config["SESSION_MAX_HOURS"] * 3600 \
            or now - seen > current_app.config["SESSION_IDLE_MINUTES"] * 60:
        return None
    candidate = get_session().get(User, user_id)
    if candidate is None or not candidate.active or not hmac.compare_digest(epoch, candidate.session_epoch):
        return None
    if now - seen >= SEEN_EVERY:
        session["seen"] = now
    return candidate


def current_user() -> User | None:
    """The user behind this request (bearer token for the API, session cookie for pages)."""
    if "user" in g:
        return g.user
    user = None
    header = request.headers.get("Authorization", "")
    if _is_api():
        if header.lower().startswith("bearer "):
            user = user_for_token(session=get_session(), token=header[7:].strip())
    elif session.get("user_id") is not None:
        user = _session_user()
        if user is None:  # ended: forget it, so that no later setting or clock brings it back
            end_browser_session()
    g.user = user
    return user


def role_required(*roles: Role | str, json: bool = False) -> Callable:
    """Let the view run only for a logged-in user whose role is in ``roles`` (any role if none).

    The API answers 401/403 as JSON; so do a page's script calls (they ask for JSON) and views
    that only ever answer JSON (``json=True``); a page gets the login redirect or the 403 page."""
    allowed = {Role(r) for r in roles}

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if _is_api():
                    response = jsonify(error="unauthorized",
                                       message="Send 'Authorization: Bearer TOKEN' (POST /api/v1/tokens).")
                    response.status_code = 401
                    response.headers["WWW-Authenticate"] = "Bearer"
                    return response
                if json or wants_json():  # a page's script call: JSON, and what waits on the device keeps waiting
                    raise Refused(401, "unauthorized", "登录已失效，请重新登录；未保存的修改仍保留在本设备上。",
                                  "Log in again; your changes wait on this device.")
                return redirect(url_for("accounts.login", next=request.full_path))
            if allowed and user.role not in allowed:
                if (json or wants_json()) and not _is_api():
                    raise Refused(403, "forbidden", "您的角色无权进行此操作。", "Your role may not do this.")
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


login_required = role_required()


def init_app(app: Flask) -> None:
    """CSRF protection on every form; the bearer-token API is exempt (it sends no cookies)."""
    csrf = CSRFProtect(app)
    app.extensions["tuiyou.csrf"] = csrf
    app.context_processor(lambda: {"current_user": current_user()})
