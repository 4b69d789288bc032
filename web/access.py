"""Who is asking, and may they: session login for pages, bearer tokens for the API.

``role_required`` is the one check every view uses. Unauthenticated API calls get 401 JSON,
pages redirect to the login form; a wrong role gets 403 either way.
"""
from __future__ import annotations

import functools
from typing import Callable

from flask import Flask, abort, g, jsonify, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect

from .accounts.queries import user_for_token
from .db import get_session
from .models import Role, User


def _is_api() -> bool:
    return request.path.startswith("/api/")


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
        candidate = get_session().get(User, session["user_id"])
        if candidate and candidate.active and session.get("pw") == candidate.password_hash[-16:]:
            user = candidate
    g.user = user
    return user


def role_required(*roles: Role | str) -> Callable:
    """Let the view run only for a logged-in user whose role is in ``roles`` (any role if none)."""
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
                return redirect(url_for("accounts.login", next=request.full_path))
            if allowed and user.role not in allowed:
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
