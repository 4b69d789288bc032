"""Login-failure limits per account and per address (Flask-Limiter).

Only failed attempts count (``deduct_when``); past the limit a login answers 429. Counters
live in ``TUIYOU_RATELIMIT_STORAGE_URI`` (``memory://`` for one process; a shared
``redis://`` URL when several app servers run). Each app gets its own limiter, so two apps
in one process (the tests) never share counters.
"""
from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LOGIN_ENDPOINTS = ("accounts.login", "api.issue_token")


def login_account_key() -> str:
    """The account a login names, from the form or the JSON body."""
    body = request.get_json(silent=True) if request.is_json else None
    name = body.get("username") if isinstance(body, dict) else None
    name = name if isinstance(name, str) else request.form.get("username", "")
    return "account:" + name.strip().lower()


def login_failed(response) -> bool:
    """Only failed logins use up the allowance."""
    return response.status_code == 401


def init_app(app: Flask) -> None:
    """Create the app's limiter and put both limits on every login endpoint."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["tuiyou.limiter"] = limiter
    for endpoint in LOGIN_ENDPOINTS:
        view = app.view_functions[endpoint]
        view = limiter.limit(app.config["LOGIN_LIMIT_PER_ACCOUNT"], key_func=login_account_key,
                             deduct_when=login_failed, methods=["POST"])(view)
        view = limiter.limit(app.config["LOGIN_LIMIT_PER_ADDRESS"], deduct_when=login_failed,
                             methods=["POST"])(view)
        app.view_functions[endpoint] = view
